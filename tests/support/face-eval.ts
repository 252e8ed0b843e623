/**
 * Face accuracy on photos shipped inside npm packages (never committed): the labelled faces of
 * tests/fixtures/face-labels.json, each cut out of its photo and varied the way a second capture varies
 * (scale, small rotation, brightness, JPEG quality, crop shift). Genuine pairs: two captures of the same
 * labelled identity; impostor pairs: captures of two different identities. Shared by the accuracy test
 * (sandbox/face/face-accuracy.test.ts) and the benchmark (tests/bench/face.bench.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { faceSimilarity, type FaceEngine } from '../../sandbox/face/index.ts';

export interface LabelledFace {
  /** Path from the repository root, inside node_modules. */
  readonly file: string;
  /** The face's detector box in the photo, pixels [x, y, w, h] (after EXIF rotation). */
  readonly box: readonly [number, number, number, number];
  readonly identity: string;
}

export interface FaceLabels { readonly source: string; readonly faces: readonly LabelledFace[] }

const root = fileURLToPath(new URL('../../', import.meta.url));

export function readFaceLabels(): FaceLabels {
  return JSON.parse(readFileSync(new URL('../fixtures/face-labels.json', import.meta.url), 'utf8')) as FaceLabels;
}

/** One simulated capture of a labelled face: how it differs from the plain cut-out. */
export interface CaptureVariant {
  readonly name: string;
  /** Context around the face box, as a multiple of its width (the crop's side). */
  readonly context: number;
  /** Crop centre shift, fractions of the face width. */
  readonly shift: readonly [number, number];
  /** Output side of the capture, pixels. */
  readonly side: number;
  readonly rotate: number;
  readonly brightness: number;
  readonly jpegQuality: number;
}

export const CAPTURE_VARIANTS: readonly CaptureVariant[] = [
  { name: 'plain', context: 2.2, shift: [0, 0], side: 480, rotate: 0, brightness: 1, jpegQuality: 92 },
  { name: 'small-dark-shifted', context: 2.6, shift: [0.12, -0.08], side: 300, rotate: 0, brightness: 0.7, jpegQuality: 80 },
  { name: 'rotated-bright', context: 2.2, shift: [-0.1, 0.06], side: 520, rotate: 7, brightness: 1.3, jpegQuality: 85 },
  { name: 'large-jpeg35', context: 1.9, shift: [0.05, 0.1], side: 760, rotate: -5, brightness: 1, jpegQuality: 35 },
];

/** A JPEG capture of `face` under `v`, made with sharp from the package photo. */
export async function captureOf(face: LabelledFace, v: CaptureVariant): Promise<Uint8Array> {
  const photo = readFileSync(`${root}${face.file}`);
  const meta = await sharp(photo).rotate().metadata();
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  const [x, y, w, h] = face.box;
  const side = Math.round(w * v.context);
  const cx = x + w / 2 + v.shift[0] * w, cy = y + h / 2 + v.shift[1] * w;
  const left = Math.max(0, Math.round(cx - side / 2)), top = Math.max(0, Math.round(cy - side / 2));
  const region = { left, top, width: Math.min(side, width - left), height: Math.min(side, height - top) };
  let img = sharp(photo).rotate().extract(region).resize(v.side, v.side, { fit: 'inside' });
  if (v.rotate !== 0) img = sharp(await img.toBuffer()).rotate(v.rotate, { background: { r: 128, g: 128, b: 128 } });
  if (v.brightness !== 1) img = img.modulate({ brightness: v.brightness });
  return new Uint8Array(await img.jpeg({ quality: v.jpegQuality }).toBuffer());
}

export interface Capture { readonly identity: string; readonly face: number; readonly variant: string; readonly template: Float32Array | undefined; readonly reason?: string }

/** Every labelled face under every variant, analysed by `engine` (unusable captures keep their reason). */
export async function captureAll(engine: FaceEngine, labels: FaceLabels, variants = CAPTURE_VARIANTS): Promise<Capture[]> {
  const jobs: { identity: string; face: number; variant: string; bytes: Uint8Array }[] = [];
  for (const [i, f] of labels.faces.entries()) {
    for (const v of variants) jobs.push({ identity: f.identity, face: i, variant: v.name, bytes: await captureOf(f, v) });
  }
  const results = await engine.analyseMany(jobs.map((j) => j.bytes));
  return jobs.map((j, k) => {
    const r = results[k];
    const base = { identity: j.identity, face: j.face, variant: j.variant };
    if (r?.kind === 'face') return { ...base, template: r.template };
    return { ...base, template: undefined, reason: r?.kind === 'unusable' ? r.reason : r?.kind === 'rejected' ? r.error.code : 'missing' };
  });
}

export interface PairScores {
  readonly genuine: number[];
  readonly impostor: number[];
  /** Genuine pairs from one photo under two capture variants (a subset of `genuine`). */
  readonly genuineSamePhoto: number[];
  /** Genuine pairs from two different photos of the same labelled person (a subset of `genuine`). */
  readonly genuineCrossPhoto: number[];
}

/** Cosine similarities of all usable capture pairs: same identity (other capture) vs different identity. */
export function pairScores(captures: readonly Capture[]): PairScores {
  const ok = captures.filter((c): c is Capture & { template: Float32Array } => c.template !== undefined);
  const genuine: number[] = [], impostor: number[] = [], genuineSamePhoto: number[] = [], genuineCrossPhoto: number[] = [];
  for (let i = 0; i < ok.length; i++) {
    for (let j = i + 1; j < ok.length; j++) {
      const a = ok[i], b = ok[j];
      if (!a || !b) continue;
      const s = faceSimilarity(a.template, b.template);
      if (a.identity === b.identity) {
        genuine.push(s);
        (a.face === b.face ? genuineSamePhoto : genuineCrossPhoto).push(s);
      } else impostor.push(s);
    }
  }
  return { genuine, impostor, genuineSamePhoto, genuineCrossPhoto };
}

/** False match rate (impostors at or above the threshold) and false non-match rate (genuine below it). */
export function ratesAt(scores: Pick<PairScores, 'genuine' | 'impostor'>, threshold: number): { fmr: number; fnmr: number } {
  const fm = scores.impostor.filter((s) => s >= threshold).length;
  const fnm = scores.genuine.filter((s) => s < threshold).length;
  return { fmr: scores.impostor.length ? fm / scores.impostor.length : 0, fnmr: scores.genuine.length ? fnm / scores.genuine.length : 0 };
}

/** ROC rows at the given thresholds. */
export function rocTable(scores: Pick<PairScores, 'genuine' | 'impostor'>, thresholds: readonly number[]): { threshold: number; fmr: number; fnmr: number }[] {
  return thresholds.map((threshold) => ({ threshold, ...ratesAt(scores, threshold) }));
}
