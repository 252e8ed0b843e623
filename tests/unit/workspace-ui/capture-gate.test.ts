import { describe, expect, it } from 'vitest';
import { isValidIdNumber as serverCheck, makeIdNumber } from '../../../sandbox/domains/generator/id-number.ts';
import { blazeFaceMetadata, faceDetectorModel, withTfliteMetadata } from '../../../workspace-ui/scripts/face-detector-model.ts';
import { DEFAULT_GATE_LIMITS, isValidIdNumber, judge, laplacianVariance, poseOf, type GateFace } from '../../../workspace-ui/src/capture/gate-rules.ts';

/** A face at (cx, cy): eyes `eye` px apart, the nose `turn` × half that off the eyes' midpoint, the whole rotated by `roll` degrees. */
function face(opts: { cx?: number; cy?: number; eye?: number; turn?: number; roll?: number; score?: number; width?: number } = {}): GateFace {
  const { cx = 200, cy = 200, eye = 80, turn = 0, roll = 0, score = 0.9, width = 160 } = opts;
  const r = (roll * Math.PI) / 180;
  const at = (x: number, y: number) => ({ x: cx + x * Math.cos(r) - y * Math.sin(r), y: cy + x * Math.sin(r) + y * Math.cos(r) });
  return {
    box: { x: cx - width / 2, y: cy - width / 2, w: width, h: width }, score,
    keypoints: [at(-eye / 2, 0), at(eye / 2, 0), at(turn * eye / 2, eye * 0.5), at(0, eye * 0.9), at(-eye, 0.1), at(eye, 0.1)],
  };
}
const sharp = () => 100;

describe('face gate rules (browser)', () => {
  it('passes exactly one large, frontal, sharp face', () => {
    expect(judge([face()], sharp)).toMatchObject({ ok: true, faces: 1 });
  });
  it('names what to fix', () => {
    expect(judge([], sharp)).toEqual({ ok: false, problem: 'no-face', faces: 0 });
    expect(judge([face({ score: 0.3 })], sharp)).toMatchObject({ problem: 'no-face' });
    expect(judge([face(), face({ cx: 500, width: 120 })], sharp)).toMatchObject({ problem: 'several-faces', faces: 2 });
    expect(judge([face({ eye: 20, width: 40 })], sharp)).toMatchObject({ problem: 'too-small' });
    expect(judge([face({ turn: 0.8 })], sharp)).toMatchObject({ problem: 'not-frontal' });
    expect(judge([face({ turn: -0.8 })], sharp)).toMatchObject({ problem: 'not-frontal' });
    expect(judge([face()], () => 5)).toMatchObject({ problem: 'blurred' });
  });
  it('ignores a small face in the background and a tilted head', () => {
    expect(judge([face(), face({ cx: 600, width: 40, eye: 15 })], sharp)).toMatchObject({ ok: true });
    expect(judge([face({ roll: 45 })], sharp)).toMatchObject({ ok: true });
  });
  it('estimates the turn independently of the tilt', () => {
    const straight = poseOf(face({ turn: 0.3 }));
    const tilted = poseOf(face({ turn: 0.3, roll: 40 }));
    expect(tilted.yaw).toBeCloseTo(straight.yaw, 6);
    expect(tilted.roll).toBeCloseTo(40, 6);
    expect(straight.yaw).toBeCloseTo(17.46, 1);
    expect(straight.eyeDistance).toBeCloseTo(80, 6);
    expect(DEFAULT_GATE_LIMITS.maxYaw).toBe(30);
  });
  it('measures sharpness as the Laplacian variance: 0 on a flat picture, high on fine detail', () => {
    const w = 32;
    expect(laplacianVariance(new Array(w * w).fill(128), w, w)).toBe(0);
    const checker = Array.from({ length: w * w }, (_, i) => ((i % w) + Math.floor(i / w)) % 2 ? 255 : 0);
    expect(laplacianVariance(checker, w, w)).toBeGreaterThan(100_000);
  });
  it('checks ID numbers exactly as the server does (GB 11643)', () => {
    let n = 0;
    for (const region of ['440106', '110101', '510104']) {
      for (const birth of ['19000229', '19040229', '19880512', '20001231', '20240230']) {
        for (const seq of [1, 2, 37, 998]) {
          const id = makeIdNumber(region, birth, seq);
          const variants = [id, id.slice(0, 17) + (id.endsWith('X') ? '0' : 'X'), id.slice(0, 17), id.toLowerCase(), `${id.slice(0, 10)}13${id.slice(12)}`];
          for (const v of variants) { expect(isValidIdNumber(v), v).toBe(serverCheck(v)); n++; }
        }
      }
    }
    expect(n).toBe(300);
    expect(isValidIdNumber(makeIdNumber('440106', '19880512', 37))).toBe(true);
  });
});

/** Reads a uoffset field of a flatbuffer table: the absolute position it points to. */
function field(b: DataView, table: number, slot: number): number | undefined {
  const vt = table - b.getInt32(table, true);
  if (4 + slot * 2 >= b.getUint16(vt, true)) return undefined;
  const off = b.getUint16(vt + 4 + slot * 2, true);
  return off ? table + off + b.getUint32(table + off, true) : undefined;
}
const tables = (b: DataView, v: number) => Array.from({ length: b.getUint32(v, true) }, (_, i) => { const s = v + 4 + 4 * i; return s + b.getUint32(s, true); });
const text = (bytes: Uint8Array, b: DataView, p: number) => Buffer.from(bytes.subarray(p + 4, p + 4 + b.getUint32(p, true))).toString('utf8');

describe('face detector model: TFLite metadata completed at build time', () => {
  const model = faceDetectorModel();
  const b = new DataView(model.buffer, model.byteOffset, model.byteLength);
  const root = b.getUint32(0, true);

  it('is still a TFLite model whose subgraph and buffers are unchanged', () => {
    expect(Buffer.from(model.subarray(4, 8)).toString()).toBe('TFL3');
    const subgraph = tables(b, field(b, root, 2) ?? 0)[0] ?? 0;
    const tensors = tables(b, field(b, subgraph, 0) ?? 0);
    expect(text(model, b, field(b, tensors[0] ?? 0, 3) ?? 0)).toBe('input');
    expect(tensors.length).toBeGreaterThan(100);
  });

  it('carries a TFLITE_METADATA buffer with RGB input normalised by mean 127.5 and std 127.5', () => {
    const entries = tables(b, field(b, root, 6) ?? 0).map((m) => {
      const vt = m - b.getInt32(m, true);
      return { name: text(model, b, field(b, m, 0) ?? 0), buffer: b.getUint32(m + b.getUint16(vt + 6, true), true) };
    });
    const meta = entries.find((e) => e.name === 'TFLITE_METADATA');
    const buffers = tables(b, field(b, root, 4) ?? 0);
    expect(meta?.buffer).toBe(buffers.length - 1);
    const data = field(b, buffers[buffers.length - 1] ?? 0, 0) ?? 0;
    expect((data + 4) % 16).toBe(0);
    const bytes = model.subarray(data + 4, data + 4 + b.getUint32(data, true));
    expect(Buffer.from(bytes)).toEqual(Buffer.from(blazeFaceMetadata()));
    const m = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(Buffer.from(bytes.subarray(4, 8)).toString()).toBe('M001');
    const mroot = m.getUint32(0, true);
    const input = tables(m, field(m, tables(m, field(m, mroot, 3) ?? 0)[0] ?? 0, 2) ?? 0)[0] ?? 0;
    const unit = tables(m, field(m, input, 4) ?? 0)[0] ?? 0;
    const norm = field(m, unit, 1) ?? 0;
    expect(m.getFloat32((field(m, norm, 0) ?? 0) + 4, true)).toBe(127.5);
    expect(m.getFloat32((field(m, norm, 1) ?? 0) + 4, true)).toBe(127.5);
  });

  it('replaces its own metadata when run on its own output', () => {
    const twice = withTfliteMetadata(model, blazeFaceMetadata());
    const t = new DataView(twice.buffer, twice.byteOffset, twice.byteLength);
    const names = tables(t, field(t, t.getUint32(0, true), 6) ?? 0).map((e) => text(twice, t, field(t, e, 0) ?? 0));
    expect(names.filter((n) => n === 'TFLITE_METADATA')).toHaveLength(1);
  });
});
