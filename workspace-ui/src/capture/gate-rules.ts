/**
 * The browser's face-quality gate, as pure rules over what MediaPipe's FaceDetector found (no DOM,
 * no MediaPipe here: unit-tested in tests/unit/workspace-ui). The server checks again inside the
 * grid domain with its own engine; this gate tells the person holding the camera what to fix
 * before anything is sent.
 */

/** A detection in image pixels: box, score and the six BlazeFace keypoints (right eye, left eye, nose tip, mouth, right ear, left ear; the subject's sides). */
export interface GateFace {
  readonly box: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly score: number;
  readonly keypoints: readonly { readonly x: number; readonly y: number }[];
}

export type GateProblem = 'no-face' | 'several-faces' | 'too-small' | 'not-frontal' | 'blurred';

export type GateResult =
  | { readonly ok: true; readonly faces: 1; readonly eyeDistance: number; readonly yaw: number; readonly roll: number; readonly sharpness: number }
  | { readonly ok: false; readonly problem: GateProblem; readonly faces: number; readonly measured?: { readonly eyeDistance: number; readonly yaw: number; readonly roll: number; readonly sharpness?: number } };

export interface GateLimits {
  /** A detection counts as a face from this score. */
  readonly minScore: number;
  /** A second face counts when its box is at least this share of the largest face's width. */
  readonly secondFaceRatio: number;
  /** Pixels between the eye centres. */
  readonly minEyeDistance: number;
  /** Largest turn (nose off the eyes' midpoint along the eye line), degrees. A tilted head (roll) is not refused: the grid worker aligns the face on its eyes. */
  readonly maxYaw: number;
  /** Variance of the Laplacian of the grey face crop (0…255 scale). */
  readonly minSharpness: number;
}

/** Close to the grid worker's own gates (sandbox/face: eyes ≥ 28 px, |yaw| ≤ 30°, sharpness ≥ 20). */
export const DEFAULT_GATE_LIMITS: GateLimits = { minScore: 0.5, secondFaceRatio: 0.4, minEyeDistance: 28, maxYaw: 30, minSharpness: 20 };

/** Turn and tilt estimated from the keypoints, degrees. */
export function poseOf(face: GateFace): { eyeDistance: number; yaw: number; roll: number } {
  const [right, left, nose] = face.keypoints;
  if (!right || !left || !nose) return { eyeDistance: 0, yaw: 90, roll: 90 };
  const dx = left.x - right.x;
  const dy = left.y - right.y;
  const eyeDistance = Math.hypot(dx, dy);
  if (eyeDistance === 0) return { eyeDistance, yaw: 90, roll: 90 };
  const roll = (Math.atan2(dy, dx) * 180) / Math.PI;
  // The nose's offset from the eyes' midpoint along the eye line, as a share of half the eye distance: sin(yaw), roughly.
  const mid = { x: (left.x + right.x) / 2, y: (left.y + right.y) / 2 };
  const along = ((nose.x - mid.x) * dx + (nose.y - mid.y) * dy) / eyeDistance;
  const yaw = (Math.asin(Math.max(-1, Math.min(1, along / (eyeDistance / 2)))) * 180) / Math.PI;
  return { eyeDistance, yaw, roll };
}

/** Variance of the 4-neighbour Laplacian over a grey image (values 0…255, row-major). */
export function laplacianVariance(grey: ArrayLike<number>, width: number, height: number): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const v = 4 * (grey[i] ?? 0) - (grey[i - 1] ?? 0) - (grey[i + 1] ?? 0) - (grey[i - width] ?? 0) - (grey[i + width] ?? 0);
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/** Decides the gate: exactly one face, large enough, frontal enough, sharp enough. `sharpnessOf` measures the kept face. */
export function judge(faces: readonly GateFace[], sharpnessOf: (face: GateFace) => number, limits: GateLimits = DEFAULT_GATE_LIMITS): GateResult {
  const counted = faces.filter((f) => f.score >= limits.minScore).sort((a, b) => b.box.w - a.box.w);
  const main = counted[0];
  if (!main) return { ok: false, problem: 'no-face', faces: 0 };
  const others = counted.slice(1).filter((f) => f.box.w >= limits.secondFaceRatio * main.box.w);
  if (others.length > 0) return { ok: false, problem: 'several-faces', faces: 1 + others.length };
  const pose = poseOf(main);
  if (pose.eyeDistance < limits.minEyeDistance) return { ok: false, problem: 'too-small', faces: 1, measured: pose };
  if (Math.abs(pose.yaw) > limits.maxYaw) return { ok: false, problem: 'not-frontal', faces: 1, measured: pose };
  const sharpness = sharpnessOf(main);
  if (sharpness < limits.minSharpness) return { ok: false, problem: 'blurred', faces: 1, measured: { ...pose, sharpness } };
  return { ok: true, faces: 1, eyeDistance: pose.eyeDistance, yaw: pose.yaw, roll: pose.roll, sharpness };
}

/** GB 11643: 18 characters, a real birth date, the ISO 7064 MOD 11-2 check character. */
export function isValidIdNumber(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id) || id.startsWith('000000')) return false;
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1850 || y > 2150 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return false;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * (weights[i] ?? 0);
  return '10X98765432'.charAt(sum % 11) === id.charAt(17);
}
