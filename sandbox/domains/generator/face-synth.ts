import { cosineInt8, SYNTHETIC_DIMENSION, SYNTHETIC_MODEL_ID, SYNTHETIC_THRESHOLD } from '../../crypto/face-match/templates.ts';
import type { CityPlan } from './city-plan.ts';
import { Rng, seedKey, type SeedKey } from './prng.ts';

/**
 * Synthetic face templates (model `synthetic-128`, int8, 128 values) for S5 at city scale.
 *
 * - Each person has a face *identity*: 128 values uniform in [−1, 1) from the stream
 *   (seed, "faces", N) at the person's index — a pure function of (seed, N, person), so any other
 *   person's face can be recomputed without remembering it.
 * - The registry's reference photo gets identity + 0.25 × noise (the ID-card capture).
 * - A grid visit's field capture (from the stream at its visit id): no photo → unusable
 *   `no-photo`; 4 % of photos unusable (no-face, several-faces, too-small, not-frontal, blurred);
 *   of the rest, 1.5 % were presented by someone else (another person's identity: an impostor),
 *   4 % are poor captures of the right person (noise 1.8–3.0), the others good captures (noise
 *   0.35–0.8). Cosine to the person's own reference: good ≈ 0.75–0.93, poor ≈ 0.3–0.5, impostor ≈ 0 ± 0.1.
 * - Every pair of a probe with its card holder's reference is kept at least SYNTHETIC_MARGIN from
 *   the threshold (the noise is drawn again when it lands closer), so the encrypted comparison,
 *   whose decision margin is 0.001 at 128 dimensions (docs/protocols.md), decides every generated
 *   pair exactly as plaintext cosine does.
 */
export const SYNTHETIC_MARGIN = 0.02;
export const UNUSABLE_REASONS = ['no-photo', 'no-face', 'several-faces', 'too-small', 'not-frontal', 'blurred'] as const;
export type UnusableReason = (typeof UNUSABLE_REASONS)[number];

export const FACE_RATES = { unusable: 0.04, impostor: 0.015, poor: 0.04 } as const;
const CAPTURE_REASONS: readonly UnusableReason[] = ['no-face', 'no-face', 'several-faces', 'too-small', 'not-frontal', 'blurred', 'blurred'];

const keys = new WeakMap<CityPlan, SeedKey>();
function faceKey(plan: CityPlan): SeedKey {
  let k = keys.get(plan);
  if (!k) { k = seedKey(plan.seed, 'faces', plan.persons); keys.set(plan, k); }
  return k;
}

const D = SYNTHETIC_DIMENSION;

/**
 * Sets `out` to (or, with `add`, adds to it) k × a vector of D values uniform on 256 levels in
 * (−1, 1): one 32-bit draw gives four. Cheaper than D float draws: this runs for every visit.
 */
function draw(r: Rng, out: Float64Array, k: number, add: number): void {
  const s = k / 128;
  for (let i = 0; i < D; i += 4) {
    const x = r.u32();
    out[i] = add * out[i]! + ((x & 255) - 127.5) * s;
    out[i + 1] = add * out[i + 1]! + (((x >>> 8) & 255) - 127.5) * s;
    out[i + 2] = add * out[i + 2]! + (((x >>> 16) & 255) - 127.5) * s;
    out[i + 3] = add * out[i + 3]! + ((x >>> 24) - 127.5) * s;
  }
}

/** quantizeTemplate for the generator's own finite vectors (no checks): ±127 at the largest component. */
function quantize(v: Float64Array): Int8Array {
  let max = 0;
  for (let i = 0; i < D; i++) { const a = Math.abs(v[i]!); if (a > max) max = a; }
  const out = new Int8Array(D);
  const k = max === 0 ? 0 : 127 / max;
  // floor(x + ½) = Math.round(x) for x in [−127, 127], without Math.round's slow path
  for (let i = 0; i < D; i++) out[i] = ((v[i]! * k + 128.5) | 0) - 128;
  return out;
}

/** identity(person) into `out`. */
function face(plan: CityPlan, person: number, out: Float64Array): Float64Array {
  draw(Rng.at(faceKey(plan), person, 0), out, 1, 0);
  return out;
}

const scratch = new Float64Array(D);
const base = new Float64Array(D);

/** The reference template of a person (0-based index), as the registry stores it. */
export function referenceTemplate(plan: CityPlan, person: number): Int8Array {
  face(plan, person, scratch);
  draw(Rng.at(faceKey(plan), person, 1), scratch, 0.25, 1);
  return quantize(scratch);
}

export interface VisitCapture {
  readonly template: Int8Array | null;
  readonly unusable: UnusableReason | null;
}

/**
 * The field capture of visit `visitId` of person `person`; `reference` is the person's reference
 * template when the registry has one (the pair is then kept away from the threshold).
 */
export function visitCapture(plan: CityPlan, visitId: number, person: number, hasPhoto: boolean, reference: Int8Array | null): VisitCapture {
  if (!hasPhoto) return { template: null, unusable: 'no-photo' };
  const rng = Rng.at(faceKey(plan), visitId, 2);
  if (rng.chance(FACE_RATES.unusable)) return { template: null, unusable: CAPTURE_REASONS[rng.int(CAPTURE_REASONS.length)] ?? 'blurred' };
  const impostor = plan.persons > 1 && rng.chance(FACE_RATES.impostor);
  const poor = !impostor && rng.chance(FACE_RATES.poor);
  const who = impostor ? (person + 1 + rng.int(plan.persons - 1)) % plan.persons : person;
  face(plan, who, base);
  let noise = poor ? 1.8 + 1.2 * rng.float() : 0.35 + 0.45 * rng.float();
  for (let attempt = 0; ; attempt++) {
    scratch.set(base);
    draw(rng, scratch, noise, 1);
    const template = quantize(scratch);
    if (!reference || Math.abs(cosineInt8(template, reference) - SYNTHETIC_THRESHOLD) >= SYNTHETIC_MARGIN) return { template, unusable: null };
    // Too close to the threshold: draw again; after a few tries move the noise away from it.
    if (attempt >= 4) noise = poor ? noise * 1.15 : noise * 0.8;
  }
}

/** A template as a bytea literal in COPY text (`\\x` + hex). */
export function byteaCopyText(template: Int8Array): string {
  return `\\\\x${Buffer.from(template.buffer, template.byteOffset, template.byteLength).toString('hex')}`;
}

export { SYNTHETIC_MODEL_ID, SYNTHETIC_THRESHOLD };
