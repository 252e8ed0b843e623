/**
 * Geometry on the raw RGB buffer: the least-squares similarity transform between two point sets, a
 * bilinear warp, the Laplacian variance (sharpness) and the head-pose estimates from the six keypoints.
 */
import type { RgbImage } from './image-decode.ts';

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty (rotation, uniform scale, translation). */
export interface Similarity { readonly a: number; readonly b: number; readonly tx: number; readonly ty: number }

/** The similarity mapping `from` onto `to` with least squared error (Umeyama, no reflection). */
export function fitSimilarity(from: readonly (readonly [number, number])[], to: readonly (readonly [number, number])[]): Similarity {
  const n = Math.min(from.length, to.length);
  let fx = 0, fy = 0, gx = 0, gy = 0;
  for (let i = 0; i < n; i++) {
    const p = from[i], q = to[i];
    if (!p || !q) continue;
    fx += p[0]; fy += p[1]; gx += q[0]; gy += q[1];
  }
  fx /= n; fy /= n; gx /= n; gy /= n;
  let sxx = 0, dot = 0, cross = 0;
  for (let i = 0; i < n; i++) {
    const p = from[i], q = to[i];
    if (!p || !q) continue;
    const x = p[0] - fx, y = p[1] - fy, u = q[0] - gx, v = q[1] - gy;
    sxx += x * x + y * y;
    dot += x * u + y * v;
    cross += x * v - y * u;
  }
  const a = sxx > 0 ? dot / sxx : 1;
  const b = sxx > 0 ? cross / sxx : 0;
  return { a, b, tx: gx - (a * fx - b * fy), ty: gy - (b * fx + a * fy) };
}

export const applySimilarity = (s: Similarity, x: number, y: number): [number, number] => [s.a * x - s.b * y + s.tx, s.b * x + s.a * y + s.ty];

export const similarityScale = (s: Similarity): number => Math.hypot(s.a, s.b);

/**
 * Fills a `size`×`size` RGB crop (interleaved, 0…255 floats) whose pixel (u, v) samples the image at
 * `outToImg(u + 0.5, v + 0.5) − 0.5`, bilinear; outside the image the nearest edge pixel repeats.
 */
export function warpBilinear(img: RgbImage, outToImg: Similarity, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  const { data, width, height } = img;
  const maxX = width - 1, maxY = height - 1;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      let x = outToImg.a * (u + 0.5) - outToImg.b * (v + 0.5) + outToImg.tx - 0.5;
      let y = outToImg.b * (u + 0.5) + outToImg.a * (v + 0.5) + outToImg.ty - 0.5;
      x = x < 0 ? 0 : x > maxX ? maxX : x;
      y = y < 0 ? 0 : y > maxY ? maxY : y;
      const x0 = Math.floor(x), y0 = Math.floor(y);
      const x1 = x0 < maxX ? x0 + 1 : x0, y1 = y0 < maxY ? y0 + 1 : y0;
      const fx = x - x0, fy = y - y0;
      const i00 = (y0 * width + x0) * 3, i01 = (y0 * width + x1) * 3, i10 = (y1 * width + x0) * 3, i11 = (y1 * width + x1) * 3;
      const o = (v * size + u) * 3;
      for (let c = 0; c < 3; c++) {
        const top = (data[i00 + c] ?? 0) * (1 - fx) + (data[i01 + c] ?? 0) * fx;
        const bottom = (data[i10 + c] ?? 0) * (1 - fx) + (data[i11 + c] ?? 0) * fx;
        out[o + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

/**
 * Variance of the 4-neighbour Laplacian of the grey crop over its central region (`inner` of the side),
 * where the face is after alignment. Blur lowers it; it also depends on contrast, so the threshold is loose.
 */
export function laplacianVariance(rgb: Float32Array, size: number, inner = 0.6): number {
  const grey = new Float32Array(size * size);
  for (let i = 0; i < size * size; i++) {
    grey[i] = 0.299 * (rgb[3 * i] ?? 0) + 0.587 * (rgb[3 * i + 1] ?? 0) + 0.114 * (rgb[3 * i + 2] ?? 0);
  }
  const lo = Math.max(1, Math.floor((size * (1 - inner)) / 2));
  const hi = Math.min(size - 1, size - lo);
  let n = 0, sum = 0, sumSq = 0;
  for (let y = lo; y < hi; y++) {
    for (let x = lo; x < hi; x++) {
      const i = y * size + x;
      const l = (grey[i - 1] ?? 0) + (grey[i + 1] ?? 0) + (grey[i - size] ?? 0) + (grey[i + size] ?? 0) - 4 * (grey[i] ?? 0);
      n++; sum += l; sumSq += l * l;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

export interface PoseEstimate { readonly yaw: number; readonly pitch: number; readonly roll: number; readonly eyeDistance: number }

const DEG = 180 / Math.PI;

/**
 * Rough head pose from the six keypoints (right eye, left eye, nose, mouth, right ear, left ear), in degrees.
 * Roll: angle of the eye line. Yaw: the nose's offset from the midpoint of the ears over half the ear
 * distance is ≈ tan(yaw) for a head seen as a cylinder. Pitch: where the nose tip falls between the eye line
 * and the mouth, against `frontalNoseRatio` (its value on frontal faces), scaled the same way.
 */
export function estimatePose(kp: readonly (readonly [number, number])[], frontalNoseRatio = 0.55): PoseEstimate {
  const at = (i: number): readonly [number, number] => kp[i] ?? [0, 0];
  const [re, le, nose, mouth, rear, lear] = [at(0), at(1), at(2), at(3), at(4), at(5)];
  const ex = le[0] - re[0], ey = le[1] - re[1];
  const eyeDistance = Math.hypot(ex, ey);
  const roll = Math.atan2(ey, ex);
  const c = Math.cos(-roll), s = Math.sin(-roll);
  const rot = (p: readonly [number, number]): [number, number] => [c * p[0] - s * p[1], s * p[0] + c * p[1]];
  const [nx, ny] = rot(nose);
  const [mx, my] = rot([(re[0] + le[0]) / 2, (re[1] + le[1]) / 2]);
  const [, mouthY] = rot(mouth);
  const [rx] = rot(rear);
  const [lx] = rot(lear);
  const halfEars = Math.abs(lx - rx) / 2;
  const earMid = (lx + rx) / 2;
  const yaw = halfEars > 1e-6 ? Math.atan((nx - earMid) / halfEars) * DEG : 90;
  const eyeToMouth = mouthY - my;
  const ratio = Math.abs(eyeToMouth) > 1e-6 ? (ny - my) / eyeToMouth : 0;
  const pitch = Math.atan((ratio - frontalNoseRatio) / 0.5) * DEG;
  void mx;
  return { yaw, pitch, roll: roll * DEG, eyeDistance };
}
