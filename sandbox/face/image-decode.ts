import sharp from 'sharp';
import { LabError, t } from '../errors/index.ts';

/** A decoded image: 8-bit RGB, interleaved, rows top to bottom, EXIF orientation applied. */
export interface RgbImage { readonly data: Uint8Array; readonly width: number; readonly height: number }

export interface DecodeLimits { readonly maxBytes: number; readonly maxPixels: number }

/**
 * Decodes a photo with sharp: EXIF rotation applied, alpha dropped, sRGB. Throws LAB-E141 for a file or
 * an image over the limits (the pixel limit is checked by libvips from the header, before decoding) and
 * LAB-E140 for anything libvips cannot read as an image, truncated files included.
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits): Promise<RgbImage> {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) {
    throw new LabError('LAB-E140', { detail: t('文件为空', 'the file is empty') });
  }
  if (bytes.byteLength > limits.maxBytes) {
    throw new LabError('LAB-E141', {
      detail: t(`文件 ${bytes.byteLength} 字节，上限 ${limits.maxBytes} 字节`, `the file has ${bytes.byteLength} bytes; the limit is ${limits.maxBytes}`),
    });
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'truncated', sequentialRead: true })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new LabError('LAB-E140', { detail: t(`不支持的通道数 ${info.channels}`, `unsupported channel count ${info.channels}`) });
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (cause) {
    if (cause instanceof LabError) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/pixel limit/i.test(message)) {
      throw new LabError('LAB-E141', {
        detail: t(`像素数超过上限 ${limits.maxPixels}`, `more pixels than the limit of ${limits.maxPixels}`),
        cause,
      });
    }
    throw new LabError('LAB-E140', { detail: t('无法解码为图片', 'cannot be decoded as an image'), cause });
  }
}

/** Scale and padding that map the letterboxed square back to the image. */
export interface Letterbox { readonly scale: number; readonly padX: number; readonly padY: number }

/**
 * Resizes the whole image into a `size`×`size` square, aspect kept, centred on black (libvips' resampling,
 * which filters properly when shrinking a large photo).
 */
export async function letterbox(img: RgbImage, size: number): Promise<{ pixels: Uint8Array; box: Letterbox }> {
  const scale = size / Math.max(img.width, img.height);
  const w = Math.max(1, Math.min(size, Math.round(img.width * scale)));
  const h = Math.max(1, Math.min(size, Math.round(img.height * scale)));
  const left = Math.floor((size - w) / 2);
  const top = Math.floor((size - h) / 2);
  const out = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'fill' })
    .extend({ top, bottom: size - h - top, left, right: size - w - left, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  return { pixels: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), box: { scale: w / img.width, padX: left, padY: top } };
}

/** A region of the image shrunk by an integer-ish factor with libvips (used before warping a large face). */
export async function shrinkRegion(
  img: RgbImage, region: { left: number; top: number; width: number; height: number }, factor: number,
): Promise<RgbImage> {
  const width = Math.max(1, Math.round(region.width / factor));
  const height = Math.max(1, Math.round(region.height / factor));
  const out = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract(region)
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), width, height };
}
