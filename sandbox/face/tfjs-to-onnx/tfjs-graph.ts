/**
 * Reading a TensorFlow.js graph model: `model.json` (GraphDef nodes as JSON, base64 strings) and its
 * weight shards as described by `weightsManifest` (float32, int32, and float16 / uint8 / uint16 quantised).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { LabError, t } from '../../errors/index.ts';

const attrValue = z.object({
  s: z.string().optional(),
  i: z.union([z.string(), z.number()]).optional(),
  f: z.number().optional(),
  b: z.boolean().optional(),
  type: z.string().optional(),
  list: z.object({
    s: z.array(z.string()).optional(),
    i: z.array(z.union([z.string(), z.number()])).optional(),
    f: z.array(z.number()).optional(),
  }).passthrough().optional(),
}).passthrough();

const tfNode = z.object({
  name: z.string(),
  op: z.string(),
  input: z.array(z.string()).optional(),
  attr: z.record(z.string(), attrValue).optional(),
}).passthrough();

const weightEntry = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool']),
  quantization: z.object({
    dtype: z.enum(['float16', 'uint8', 'uint16']),
    scale: z.number().optional(),
    min: z.number().optional(),
  }).passthrough().optional(),
}).passthrough();

export const tfjsModelJson = z.object({
  format: z.string().optional(),
  modelTopology: z.object({ node: z.array(tfNode) }).passthrough(),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()), weights: z.array(weightEntry) })),
}).passthrough();

export type TfjsModelJson = z.infer<typeof tfjsModelJson>;
export type TfNode = z.infer<typeof tfNode>;
export type TfAttr = z.infer<typeof attrValue>;

export interface TfConst {
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
  readonly data: Float32Array | Int32Array;
}

export interface TfjsModel {
  readonly json: TfjsModelJson;
  /** The weight shards concatenated, group after group, in manifest order. */
  readonly weights: Uint8Array;
}

/** Reads `model.json` and its shards from disk. */
export function readTfjsModel(jsonPath: string): TfjsModel {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (cause) {
    throw new LabError('LAB-E143', { detail: t(`无法读取 ${jsonPath}`, `cannot read ${jsonPath}`), cause });
  }
  const json = parseModelJson(raw);
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => new Uint8Array(readFileSync(join(dirname(jsonPath), p)))));
  const weights = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
  let o = 0;
  for (const s of shards) { weights.set(s, o); o += s.length; }
  return { json, weights };
}

export function parseModelJson(raw: unknown): TfjsModelJson {
  const parsed = tfjsModelJson.safeParse(raw);
  if (!parsed.success) {
    throw new LabError('LAB-E143', { detail: t('不是 TF.js 图模型', 'not a TF.js graph model'), cause: parsed.error });
  }
  return parsed.data;
}

/** IEEE 754 half → single. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Every weight of the manifest, dequantised to float32 (int32 kept), by name. */
export function decodeWeights(model: TfjsModel): Map<string, TfConst> {
  const out = new Map<string, TfConst>();
  const view = new DataView(model.weights.buffer, model.weights.byteOffset, model.weights.byteLength);
  let offset = 0;
  for (const group of model.json.weightsManifest) {
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      const bytesPer = q ? (q.dtype === 'uint8' ? 1 : 2) : w.dtype === 'bool' ? 1 : 4;
      if (offset + n * bytesPer > model.weights.byteLength) {
        throw new LabError('LAB-E143', { detail: t(`权重 ${w.name} 超出权重文件`, `weight ${w.name} runs past the weight files`) });
      }
      if (w.dtype === 'int32' && !q) {
        const data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getInt32(offset + 4 * i, true);
        out.set(w.name, { shape: w.shape, dtype: 'int32', data });
      } else {
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          if (!q) data[i] = w.dtype === 'bool' ? view.getUint8(offset + i) : view.getFloat32(offset + 4 * i, true);
          else if (q.dtype === 'float16') data[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
          else {
            const v = q.dtype === 'uint8' ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true);
            data[i] = v * (q.scale ?? 1) + (q.min ?? 0);
          }
        }
        if (w.dtype === 'int32') out.set(w.name, { shape: w.shape, dtype: 'int32', data: Int32Array.from(data, Math.round) });
        else out.set(w.name, { shape: w.shape, dtype: 'float32', data });
      }
      offset += n * bytesPer;
    }
  }
  return out;
}

const b64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

export const attrString = (node: TfNode, key: string): string | undefined => {
  const s = node.attr?.[key]?.s;
  return s === undefined ? undefined : b64(s);
};
export const attrInts = (node: TfNode, key: string): number[] | undefined => node.attr?.[key]?.list?.i?.map(Number);
export const attrStrings = (node: TfNode, key: string): string[] => (node.attr?.[key]?.list?.s ?? []).map(b64);
export const attrBool = (node: TfNode, key: string): boolean => node.attr?.[key]?.b === true;
export const attrFloat = (node: TfNode, key: string): number | undefined => node.attr?.[key]?.f;
