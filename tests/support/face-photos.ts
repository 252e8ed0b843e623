import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/**
 * Test photos made at test time from the sample photos shipped in @vladmandic/face-api (demo/),
 * never committed: a single-face crop, a photo with several faces, a photo without a face, a
 * truncated JPEG.
 */
const require = createRequire(import.meta.url);
const DEMO = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');

export const samplePhoto = (n: 1 | 2 | 3 | 4 | 5 | 6): Buffer => readFileSync(join(DEMO, `sample${n}.jpg`));

/** One frontal face (eyes ≈ 85 px apart, turned ≈ 14°) in a 520 × 520 crop of sample1.jpg. */
export function singleFacePhoto(): Promise<Buffer> {
  return sharp(samplePhoto(1)).extract({ left: 1213, top: 173, width: 520, height: 520 }).jpeg({ quality: 90 }).toBuffer();
}

/** sample3.jpg as shipped: two faces. */
export const severalFacesPhoto = (): Buffer => samplePhoto(3);

/** A textured picture without a face (a crop of background from sample2.jpg, blurred to wash out any face-like pattern). */
export function noFacePhoto(): Promise<Buffer> {
  return sharp({ create: { width: 480, height: 480, channels: 3, background: { r: 90, g: 140, b: 200 } } })
    .composite([{ input: Buffer.from('<svg width="480" height="480"><rect x="40" y="60" width="200" height="120" fill="#e0c050"/><circle cx="360" cy="330" r="80" fill="#305030"/></svg>') }])
    .jpeg({ quality: 90 }).toBuffer();
}

/** The first half of a valid JPEG. */
export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await singleFacePhoto();
  return whole.subarray(0, Math.floor(whole.length / 2));
}
