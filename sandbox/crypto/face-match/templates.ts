import { LabError, t } from '../../errors/index.ts';

/**
 * Face templates as the lab stores and compares them: int8 vectors of one model, compared by
 * cosine similarity. Cosine is scale-invariant, so a float embedding is quantised with its own
 * max-abs scale (the largest component becomes ±127) and the scale is not kept.
 *
 * This file loads no SEAL: the generator and the ground truth import it for the plaintext cosine
 * that defines pass / fail (docs/data.md, S5).
 */

/** The largest template dimension the encrypted comparison accepts (its decision margin grows with it). */
export const MAX_DIMENSION = 2048;
/** The synthetic model of the generated city: 128 dimensions (docs/data.md, "Face templates"). */
export const SYNTHETIC_MODEL_ID = 'synthetic-128';
export const SYNTHETIC_DIMENSION = 128;
/** Pass when cosine ≥ this, for the synthetic model (S5 ground truth). */
export const SYNTHETIC_THRESHOLD = 0.5;

const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function checkModelId(modelId: unknown): string {
  if (typeof modelId !== 'string' || !MODEL_ID.test(modelId)) {
    throw new LabError('LAB-E191', { detail: t('模型标识须为 1–64 个小写字母、数字或 . _ -', 'a model id is 1–64 lower-case letters, digits or . _ -'), field: 'modelId' });
  }
  return modelId;
}

export function checkDimension(dimension: unknown): number {
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 2 || dimension > MAX_DIMENSION) {
    throw new LabError('LAB-E191', { detail: t(`特征维度须为 2–${MAX_DIMENSION} 的整数`, `the template dimension must be an integer in 2–${MAX_DIMENSION}`), field: 'dimension' });
  }
  return dimension;
}

export function checkThreshold(threshold: unknown): number {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= -1 || threshold >= 1) {
    throw new LabError('LAB-E191', { detail: t('阈值须在 (−1, 1) 之内', 'the threshold must lie in (−1, 1)'), field: 'threshold' });
  }
  return threshold;
}

/** Quantises a float embedding to int8 with its own max-abs scale (±127 at the largest component). */
export function quantizeTemplate(v: ArrayLike<number>): Int8Array {
  let max = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isFinite(x)) throw new LabError('LAB-E191', { detail: t('特征向量含非有限值', 'the embedding holds a non-finite value'), field: 'template' });
    max = Math.max(max, Math.abs(x));
  }
  const out = new Int8Array(v.length);
  if (max === 0) return out;
  const k = 127 / max;
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i]! * k);
  return out;
}

export function squaredNorm(a: Int8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return s;
}

/**
 * Cosine of two int8 templates of the same length, in float64 (the integer dot product and
 * norms are exact). NaN when either is all zeros.
 */
export function cosineInt8(a: Int8Array, b: Int8Array): number {
  if (a.length !== b.length) throw new LabError('LAB-E191', { detail: t('两个模板的维度不同', 'the two templates differ in dimension'), field: 'template' });
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    dot += x * y; na += x * x; nb += y * y;
  }
  return na === 0 || nb === 0 ? Number.NaN : dot / Math.sqrt(na * nb);
}

/** The plaintext decision the encrypted comparison reproduces (outside its decision margin). */
export function plaintextDecision(probe: Int8Array, reference: Int8Array, threshold: number): 'pass' | 'fail' | 'unusable' {
  const c = cosineInt8(probe, reference);
  if (Number.isNaN(c)) return 'unusable';
  return c >= threshold ? 'pass' : 'fail';
}

/** int8 template → unit float vector (what is encoded into CKKS slots). */
export function unitVector(a: Int8Array): Float64Array {
  const n = Math.sqrt(squaredNorm(a));
  const out = new Float64Array(a.length);
  if (n === 0) return out;
  for (let i = 0; i < a.length; i++) out[i] = a[i]! / n;
  return out;
}

/** A template as stored (bytea): the int8 values as bytes. */
export const templateToBytes = (a: Int8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
export const templateFromBytes = (b: Uint8Array): Int8Array => new Int8Array(b.buffer, b.byteOffset, b.byteLength);
