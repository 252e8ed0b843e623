import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../errors/index.ts';
import { compareBatch } from './batch.ts';
import { planComparison } from './comparison-plan.ts';
import { FaceProbeHolder, FaceReferenceHolder, type Probe, type ReferenceTemplate } from './face-match.protocol.ts';
import { decodeFmMessage, encodeFmMessage, FM_SETUP } from './messages.ts';
import { cosineInt8, quantizeTemplate } from './templates.ts';

const MODEL = 'synthetic-128';
const TAU = 0.5;

/** A deterministic stream for the tests (xorshift32), uniform in [−1, 1). */
function stream(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 2 ** 31 - 1;
  };
}

function gallery(refs: Map<string, Int8Array>, model = MODEL) {
  return (keys: readonly string[]): (ReferenceTemplate | undefined)[] => keys.map((k) => {
    const template = refs.get(k);
    return template ? { modelId: model, template } : undefined;
  });
}

const codeOf = async (p: Promise<unknown> | (() => unknown)): Promise<string> => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e instanceof LabError ? e.code : `not a LabError: ${String(e)}`;
  }
  return 'no error';
};

/** A probe at (about) the given cosine to the reference: τ'·q̂ + √(1 − τ'²)·w, w ⟂ q̂, then int8. */
function probeAt(ref: Int8Array, cos: number, next: () => number): Int8Array {
  const d = ref.length;
  const q = Float64Array.from(ref);
  const nq = Math.hypot(...q);
  const w = Float64Array.from({ length: d }, () => next());
  let dot = 0;
  for (let i = 0; i < d; i++) dot += w[i]! * q[i]! / nq;
  for (let i = 0; i < d; i++) w[i]! -= dot * q[i]! / nq;
  const nw = Math.hypot(...w);
  return quantizeTemplate(Array.from({ length: d }, (_, i) => cos * q[i]! / nq + Math.sqrt(1 - cos * cos) * w[i]! / nw));
}

async function handshake(probes: Probe[], refs: Map<string, Int8Array>, dimension = 128) {
  const probe = await FaceProbeHolder.open({ jobId: 'job-1', modelId: MODEL, dimension, threshold: TAU });
  const reference = await FaceReferenceHolder.open({ lookup: gallery(refs) });
  const [setup] = probe.start(probes);
  const [accept] = await reference.handle(setup!);
  const probeMessages = await probe.handle(accept!);
  return { probe, reference, setup: setup!, accept: accept!, probeMessages };
}

describe('encrypted face comparison (CKKS)', () => {
  it('agrees with plaintext cosine on random pairs, near and far, and marks missing references unusable', async () => {
    const next = stream(7);
    const refs = new Map<string, Int8Array>();
    const probes: Probe[] = [];
    for (let i = 0; i < 150; i++) {
      const id = Array.from({ length: 128 }, next);
      const ref = quantizeTemplate(id);
      refs.set(`p${i}`, ref);
      // cosines spread over −0.3 … 1: impostors, poor captures, good captures
      const target = i % 3 === 0 ? 0.3 * next() : i % 3 === 1 ? 0.5 + 0.3 * next() : 0.85 + 0.1 * next();
      probes.push({ key: i % 25 === 0 ? `absent-${i}` : `p${i}`, template: probeAt(ref, target, next) });
    }
    const { outcomes } = await compareBatch({ jobId: 'job-rand', modelId: MODEL, dimension: 128, threshold: TAU, probes, lookup: gallery(refs) });
    const margin = planComparison(128).decisionMargin;
    let compared = 0;
    probes.forEach((p, i) => {
      const ref = refs.get(p.key);
      if (!ref) { expect(outcomes[i]).toBe('unusable'); return; }
      const c = cosineInt8(p.template, ref);
      if (Math.abs(c - TAU) <= margin) return; // inside the documented margin either answer is allowed
      compared++;
      expect(outcomes[i], `comparison ${i}, cos ${c}`).toBe(c >= TAU ? 'pass' : 'fail');
    });
    expect(compared).toBeGreaterThan(130);
    expect(outcomes.filter((o) => o === 'pass').length).toBeGreaterThan(40);
    expect(outcomes.filter((o) => o === 'fail').length).toBeGreaterThan(40);
  });

  it('decides adversarially near-threshold pairs exactly as plaintext just outside the decision margin', async () => {
    const next = stream(11);
    const margin = planComparison(128).decisionMargin;
    expect(margin).toBeLessThan(0.002);
    const refs = new Map<string, Int8Array>();
    const probes: Probe[] = [];
    const cosines: number[] = [];
    for (let i = 0; probes.length < 128 && i < 20_000; i++) {
      const ref = quantizeTemplate(Array.from({ length: 128 }, next));
      const side = probes.length % 2 === 0 ? 1 : -1;
      const probe = probeAt(ref, TAU + side * margin * (1.1 + 2 * Math.abs(next())), next);
      const c = cosineInt8(probe, ref);
      // keep pairs whose exact int8 cosine is between 1× and 4× the margin from τ, on either side
      if (Math.abs(c - TAU) <= margin * 1.0001 || Math.abs(c - TAU) > 4 * margin) continue;
      refs.set(`k${probes.length}`, ref);
      probes.push({ key: `k${probes.length}`, template: probe });
      cosines.push(c);
    }
    expect(probes.length).toBe(128);
    const { outcomes } = await compareBatch({ jobId: 'job-near', modelId: MODEL, dimension: 128, threshold: TAU, probes, lookup: gallery(refs) });
    outcomes.forEach((o, i) => expect(o, `cos ${cosines[i]}`).toBe(cosines[i]! >= TAU ? 'pass' : 'fail'));
  });

  it('compares like with like only: another model or dimension is unusable, and 1024-d templates work', async () => {
    const next = stream(3);
    const ref = quantizeTemplate(Array.from({ length: 1024 }, next));
    const same = probeAt(ref, 0.9, next);
    const other = probeAt(ref, 0.1, next);
    const lookup = (keys: readonly string[]): (ReferenceTemplate | undefined)[] => keys.map((k) => (
      k === 'a' || k === 'b' ? { modelId: 'face-1024', template: ref }
        : k === 'old-model' ? { modelId: 'face-512', template: ref.subarray(0, 512) }
          : k === 'wrong-dim' ? { modelId: 'face-1024', template: ref.subarray(0, 1000) } : undefined));
    const probes = [{ key: 'a', template: same }, { key: 'b', template: other }, { key: 'old-model', template: same }, { key: 'wrong-dim', template: same }, { key: 'none', template: same }];
    const { outcomes } = await compareBatch({ jobId: 'job-1024', modelId: 'face-1024', dimension: 1024, threshold: 0.4, probes, lookup });
    expect(outcomes).toEqual(['pass', 'fail', 'unusable', 'unusable', 'unusable']);
  });

  it('refuses malformed, truncated, tampered, replayed and foreign messages with clear errors', async () => {
    const next = stream(5);
    const refs = new Map<string, Int8Array>();
    const probes: Probe[] = [];
    for (let i = 0; i < 80; i++) {
      const ref = quantizeTemplate(Array.from({ length: 128 }, next));
      refs.set(`p${i}`, ref);
      probes.push({ key: `p${i}`, template: probeAt(ref, 0.8, next) });
    }
    const { probe, reference, setup, accept, probeMessages } = await handshake(probes, refs);
    expect(probeMessages).toHaveLength(2);
    const [b0, b1] = probeMessages as [Uint8Array, Uint8Array];

    // framing
    expect(await codeOf(() => decodeFmMessage(new Uint8Array([1, 2, 3])))).toBe('LAB-E192');
    expect(await codeOf(() => decodeFmMessage(b0.subarray(0, b0.length - 10)))).toBe('LAB-E192');
    expect(await codeOf(() => decodeFmMessage(Uint8Array.from([...b0, 0])))).toBe('LAB-E192');
    expect(await codeOf(() => decodeFmMessage(b0, 1000))).toBe('LAB-E196');
    const extra = withHeader(b0, (h) => ({ ...h, extra: 1 }));
    expect(await codeOf(reference.handle(extra))).toBe('LAB-E192');
    // a sealed key list moved to another batch number fails authentication
    const moved = withHeader(b1, (h) => ({ ...h, batch: 0, count: 64 }));
    expect(await codeOf(reference.handle(moved))).toBe('LAB-E192');
    // a flipped ciphertext byte in the sealed keys
    const flipped = Uint8Array.from(b0);
    const headLength = new DataView(flipped.buffer).getUint32(4, true);
    flipped[8 + headLength + 3]! ^= 1;
    expect(await codeOf(reference.handle(flipped))).toBe('LAB-E192');
    // wrong side, replayed setup, foreign session
    expect(await codeOf(probe.handle(b0))).toBe('LAB-E193');
    expect(await codeOf(reference.handle(setup))).toBe('LAB-E193');
    expect(await codeOf(probe.handle(accept))).toBe('LAB-E193');
    const foreign = withHeader(b0, (h) => ({ ...h, session: randomBytes(16).toString('hex') }));
    expect(await codeOf(reference.handle(foreign))).toBe('LAB-E193');

    // the real batch 0 once, then its replay
    const [r0] = await reference.handle(b0);
    expect(await codeOf(reference.handle(b0))).toBe('LAB-E193');
    await probe.handle(r0!);
    expect(await codeOf(probe.handle(r0!))).toBe('LAB-E193');
    // a truncated result
    const [r1] = await reference.handle(b1);
    expect(await codeOf(probe.handle(r1!.subarray(0, r1!.length - 1)))).toBe('LAB-E192');
    await probe.handle(r1!);
    expect(probe.result().every((o) => o === 'pass')).toBe(true);
  });

  it('refuses a peer whose parameters are not the lab\'s set, and invalid jobs and probes', async () => {
    const next = stream(9);
    const ref = quantizeTemplate(Array.from({ length: 128 }, next));
    const probe = await FaceProbeHolder.open({ jobId: 'job-p', modelId: MODEL, dimension: 128, threshold: TAU });
    const [setup] = probe.start([{ key: 'x', template: ref }]);
    const m = decodeFmMessage(setup!);
    if (m.kind !== FM_SETUP) throw new Error('expected a setup');
    const weak = encodeFmMessage({ ...m, params: { ...m.params, referenceScaleBits: 20 } });
    const reference = await FaceReferenceHolder.open({ lookup: () => [] });
    expect(await codeOf(reference.handle(weak))).toBe('LAB-E195');
    probe.close();
    reference.close();

    expect(await codeOf(FaceProbeHolder.open({ jobId: 'j', modelId: 'Bad Model', dimension: 128, threshold: TAU }))).toBe('LAB-E191');
    expect(await codeOf(FaceProbeHolder.open({ jobId: 'j', modelId: MODEL, dimension: 4096, threshold: TAU }))).toBe('LAB-E191');
    expect(await codeOf(FaceProbeHolder.open({ jobId: 'j', modelId: MODEL, dimension: 128, threshold: 1.5 }))).toBe('LAB-E191');
    const p2 = await FaceProbeHolder.open({ jobId: 'j', modelId: MODEL, dimension: 128, threshold: TAU });
    expect(await codeOf(() => p2.start([{ key: 'x', template: new Int8Array(128) }]))).toBe('LAB-E191');
    expect(await codeOf(() => p2.start([{ key: 'x', template: new Int8Array(64).fill(1) }]))).toBe('LAB-E191');
    expect(await codeOf(() => p2.start([]))).toBe('LAB-E191');
    p2.close();
  });

  it('wipes the keys on both sides when done and refuses to work after close', async () => {
    const next = stream(13);
    const ref = quantizeTemplate(Array.from({ length: 128 }, next));
    const refs = new Map([['a', ref]]);
    const { probe, reference, probeMessages } = await handshake([{ key: 'a', template: probeAt(ref, 0.2, next) }], refs);
    expect(probe.keyMaterialLive()).toBe(6);
    expect(reference.keyMaterialLive()).toBe(4);
    const [result] = await reference.handle(probeMessages[0]!);
    expect(reference.keyMaterialLive()).toBe(0);
    expect(reference.result()).toMatchObject({ comparisons: 1, missing: 0, modelId: MODEL });
    await probe.handle(result!);
    expect(probe.keyMaterialLive()).toBe(0);
    expect(probe.result()).toEqual(['fail']);
    expect(await codeOf(probe.handle(result!))).toBe('LAB-E194');
    expect(await codeOf(reference.handle(probeMessages[0]!))).toBe('LAB-E194');

    const early = await FaceProbeHolder.open({ jobId: 'j', modelId: MODEL, dimension: 128, threshold: TAU });
    early.close();
    expect(early.keyMaterialLive()).toBe(0);
    expect(await codeOf(() => early.start([{ key: 'a', template: ref }]))).toBe('LAB-E194');
  });

  it('states a flood that hides the error to 2^-40 and fits the modulus', () => {
    for (const d of [128, 512, 1024, 2048]) {
      const plan = planComparison(d);
      // statistical distance N·2B / 2^(f+1) ≤ 2^−40
      expect(13 + 1 + plan.errorBoundBits - (plan.floodBits + 1)).toBeLessThanOrEqual(-40);
      expect(plan.floodBits).toBeLessThan(156 - 2);
    }
    expect(planComparison(1024).decisionMargin).toBeLessThan(0.008);
  });
});

function withHeader(frame: Uint8Array, f: (h: Record<string, unknown>) => Record<string, unknown>): Uint8Array {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const len = v.getUint32(4, true);
  const header = JSON.parse(Buffer.from(frame.subarray(8, 8 + len)).toString('utf8')) as Record<string, unknown>;
  const head = Buffer.from(JSON.stringify(f(header)), 'utf8');
  const out = new Uint8Array(8 + head.length + frame.length - 8 - len);
  out.set(frame.subarray(0, 4), 0);
  new DataView(out.buffer).setUint32(4, head.length, true);
  out.set(head, 8);
  out.set(frame.subarray(8 + len), 8 + head.length);
  return out;
}
