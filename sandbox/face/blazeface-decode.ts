/**
 * BlazeFace output decoding (MediaPipe's SSD anchors and weighted non-maximum suppression), in the
 * detector's input pixels.
 */

export interface Detection {
  readonly score: number;
  /** Box centre and size, input pixels. */
  readonly cx: number; readonly cy: number; readonly w: number; readonly h: number;
  /** Six keypoints, input pixels: right eye, left eye, nose tip, mouth, right ear, left ear. */
  readonly keypoints: [number, number][];
}

export const KEYPOINTS = 6;

/** Anchor centres in input pixels, layer by layer, row-major, `perCell` anchors at each cell. */
export function generateAnchors(inputSize: number, strides: readonly number[], perCell: readonly number[]): Float32Array {
  const out: number[] = [];
  strides.forEach((stride, layer) => {
    const cells = Math.ceil(inputSize / stride);
    const n = perCell[layer] ?? 1;
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let k = 0; k < n; k++) out.push(stride * (x + 0.5), stride * (y + 0.5));
      }
    }
  });
  return Float32Array.from(out);
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-Math.max(-80, Math.min(80, x))));

/**
 * Candidates above `minScore`: `logits` one per anchor, `regs` 4 + 2·6 per anchor (dx, dy, w, h, then the
 * keypoint offsets, all relative to the anchor centre, in input pixels).
 */
export function decodeCandidates(logits: Float32Array, regs: Float32Array, anchors: Float32Array, minScore: number): Detection[] {
  const stride = 4 + 2 * KEYPOINTS;
  const n = logits.length;
  const out: Detection[] = [];
  for (let i = 0; i < n; i++) {
    const score = sigmoid(logits[i] ?? -80);
    if (score < minScore) continue;
    const ax = anchors[2 * i] ?? 0;
    const ay = anchors[2 * i + 1] ?? 0;
    const r = i * stride;
    const keypoints: [number, number][] = [];
    for (let k = 0; k < KEYPOINTS; k++) keypoints.push([ax + (regs[r + 4 + 2 * k] ?? 0), ay + (regs[r + 5 + 2 * k] ?? 0)]);
    out.push({ score, cx: ax + (regs[r] ?? 0), cy: ay + (regs[r + 1] ?? 0), w: regs[r + 2] ?? 0, h: regs[r + 3] ?? 0, keypoints });
  }
  return out;
}

export function iou(a: Detection, b: Detection): number {
  const ax0 = a.cx - a.w / 2, ax1 = a.cx + a.w / 2, ay0 = a.cy - a.h / 2, ay1 = a.cy + a.h / 2;
  const bx0 = b.cx - b.w / 2, bx1 = b.cx + b.w / 2, by0 = b.cy - b.h / 2, by1 = b.cy + b.h / 2;
  const iw = Math.max(0, Math.min(ax1, bx1) - Math.max(ax0, bx0));
  const ih = Math.max(0, Math.min(ay1, by1) - Math.max(ay0, by0));
  const inter = iw * ih;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * MediaPipe's weighted NMS: the best remaining candidate takes every candidate overlapping it by at least
 * `minIou`, and its box and keypoints become their score-weighted mean; its score stays the best one's.
 */
export function weightedNms(candidates: readonly Detection[], minIou = 0.3): Detection[] {
  let rest = [...candidates].sort((a, b) => b.score - a.score);
  const out: Detection[] = [];
  while (rest.length > 0) {
    const top = rest[0];
    if (!top) break;
    const group: Detection[] = [];
    const keep: Detection[] = [];
    for (const c of rest) (iou(top, c) >= minIou ? group : keep).push(c);
    rest = keep;
    let sw = 0, cx = 0, cy = 0, w = 0, h = 0;
    const kp = Array.from({ length: KEYPOINTS }, () => [0, 0] as [number, number]);
    for (const g of group) {
      sw += g.score; cx += g.score * g.cx; cy += g.score * g.cy; w += g.score * g.w; h += g.score * g.h;
      g.keypoints.forEach((p, k) => { const q = kp[k]; if (q) { q[0] += g.score * p[0]; q[1] += g.score * p[1]; } });
    }
    out.push({ score: top.score, cx: cx / sw, cy: cy / sw, w: w / sw, h: h / sw, keypoints: kp.map(([x, y]) => [x / sw, y / sw]) });
  }
  return out;
}
