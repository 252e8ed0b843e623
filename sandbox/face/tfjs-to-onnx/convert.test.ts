import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../errors/index.ts';
import { convertTfjsModel, halfToFloat, parseModelJson, ProtoWriter, type TfjsModel } from './index.ts';

// A tiny reference implementation of the TF ops (NHWC, TensorFlow's SAME padding), to check the
// converted graph against.
type T4 = { shape: [number, number, number, number]; data: Float32Array };
const at = (t: T4, n: number, y: number, x: number, c: number): number => {
  const [, h, w, ch] = t.shape;
  return y < 0 || x < 0 || y >= h || x >= w ? 0 : (t.data[((n * h + y) * w + x) * ch + c] ?? 0);
};
function samePad(inSize: number, k: number, s: number): { out: number; before: number } {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}
function refConv(x: T4, f: { shape: number[]; data: Float32Array }, stride: number, depthwise: boolean, bias?: Float32Array): T4 {
  const [n, h, w, ci] = x.shape;
  const [kh = 1, kw = 1, , m = 1] = f.shape;
  const py = samePad(h, kh, stride), px = samePad(w, kw, stride);
  const co = depthwise ? ci * m : m;
  const out: T4 = { shape: [n, py.out, px.out, co], data: new Float32Array(n * py.out * px.out * co) };
  for (let b = 0; b < n; b++) for (let oy = 0; oy < py.out; oy++) for (let ox = 0; ox < px.out; ox++) for (let o = 0; o < co; o++) {
    let s = bias?.[o] ?? 0;
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const iy = oy * stride + ky - py.before, ix = ox * stride + kx - px.before;
      if (depthwise) {
        const c = Math.floor(o / m), mm = o % m;
        s += at(x, b, iy, ix, c) * (f.data[((ky * kw + kx) * ci + c) * m + mm] ?? 0);
      } else {
        for (let c = 0; c < ci; c++) s += at(x, b, iy, ix, c) * (f.data[((ky * kw + kx) * ci + c) * co + o] ?? 0);
      }
    }
    out.data[((b * py.out + oy) * px.out + ox) * co + o] = s;
  }
  return out;
}
const relu = (t: T4): T4 => ({ shape: t.shape, data: t.data.map((v) => Math.max(0, v)) });

/** Deterministic pseudo-random floats. */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}
const toHalf = (v: number): number => {
  // float32 → float16 (round to nearest; the test values are small normal numbers)
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0] ?? 0;
  const sign = (u >> 16) & 0x8000, exp = ((u >> 23) & 0xff) - 127 + 15, mant = u & 0x7fffff;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | Math.round(mant / 8192);
};

const enc = (s: string): string => Buffer.from(s).toString('base64');
const ints = (...v: number[]) => ({ list: { i: v.map(String) } });

/** A graph model: conv (fused BiasAdd+Relu, stride 2) → depthwise (×2) → Mul/Add per channel → clip → outputs. */
type W = { shape: number[]; data: Float32Array };
function tinyModel(): { model: TfjsModel; weights: Record<'convW' | 'convB' | 'dwW' | 'scale' | 'shift' | 'fcW' | 'fcB', W> } {
  const weights: Record<'convW' | 'convB' | 'dwW' | 'scale' | 'shift' | 'fcW' | 'fcB', W> = {
    convW: { shape: [3, 3, 3, 4], data: rand(108, 1) },
    convB: { shape: [4], data: rand(4, 2) },
    dwW: { shape: [3, 3, 4, 2], data: rand(72, 3) },
    scale: { shape: [8], data: rand(8, 4) },
    shift: { shape: [8], data: rand(8, 5) },
    fcW: { shape: [8, 5], data: rand(40, 6) },
    fcB: { shape: [5], data: rand(5, 7) },
  };
  // convW stored as float16 (quantised), the rest float32; int32 for the reshape shape and the mean axes.
  const halfW = Uint16Array.from(weights.convW.data, toHalf);
  weights.convW.data = Float32Array.from(halfW, halfToFloat);
  const f32 = (k: keyof typeof weights) => new Uint8Array(weights[k].data.buffer.slice(0));
  const i32 = (v: number[]) => new Uint8Array(Int32Array.from(v).buffer);
  const parts = [new Uint8Array(halfW.buffer), f32('convB'), f32('dwW'), f32('scale'), f32('shift'), i32([1, -1]), i32([1, 2]), f32('fcW'), f32('fcB'), new Uint8Array(Float32Array.of(0.15).buffer)];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { bytes.set(p, o); o += p.length; }
  const json = {
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'input', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '7' }, { size: '6' }, { size: '3' }] } } } },
        ...['convW', 'convB', 'dwW', 'scale', 'shift', 'flatShape', 'axes', 'fcW', 'fcB', 'six'].map((name) => ({ name, op: 'Const' })),
        { name: 'conv', op: '_FusedConv2D', input: ['input', 'convW', 'convB'], attr: { strides: ints(1, 2, 2, 1), padding: { s: enc('SAME') }, data_format: { s: enc('NHWC') }, fused_ops: { list: { s: [enc('BiasAdd'), enc('Relu')] } }, dilations: ints(1, 1, 1, 1) } },
        { name: 'dw', op: 'DepthwiseConv2dNative', input: ['conv', 'dwW'], attr: { strides: ints(1, 1, 1, 1), padding: { s: enc('SAME') }, data_format: { s: enc('NHWC') } } },
        { name: 'mul', op: 'Mul', input: ['dw', 'scale'] },
        { name: 'add', op: 'AddV2', input: ['mul', 'shift'] },
        { name: 'min', op: 'Minimum', input: ['add', 'six'] },
        { name: 'flat', op: 'Reshape', input: ['min', 'flatShape'] },
        { name: 'mean', op: 'Mean', input: ['min', 'axes'], attr: { keep_dims: { b: false } } },
        { name: 'fc', op: '_FusedMatMul', input: ['mean', 'fcW', 'fcB'], attr: { fused_ops: { list: { s: [enc('BiasAdd')] } }, transpose_a: { b: false }, transpose_b: { b: false } } },
        { name: 'prob', op: 'Softmax', input: ['fc'] },
      ],
    },
    weightsManifest: [{
      paths: ['w.bin'],
      weights: [
        { name: 'convW', shape: [3, 3, 3, 4], dtype: 'float32' as const, quantization: { dtype: 'float16' as const } },
        { name: 'convB', shape: [4], dtype: 'float32' as const },
        { name: 'dwW', shape: [3, 3, 4, 2], dtype: 'float32' as const },
        { name: 'scale', shape: [8], dtype: 'float32' as const },
        { name: 'shift', shape: [8], dtype: 'float32' as const },
        { name: 'flatShape', shape: [2], dtype: 'int32' as const },
        { name: 'axes', shape: [2], dtype: 'int32' as const },
        { name: 'fcW', shape: [8, 5], dtype: 'float32' as const },
        { name: 'fcB', shape: [5], dtype: 'float32' as const },
        { name: 'six', shape: [], dtype: 'float32' as const },
      ],
    }],
  };
  return { model: { json: parseModelJson(json), weights: bytes }, weights };
}

describe('tfjs-to-onnx', () => {
  it('protobuf writer: varints, negative int64 as ten bytes, packed fields', () => {
    expect([...new ProtoWriter().int(1, 300).finish()]).toEqual([0x08, 0xac, 0x02]);
    const neg = new ProtoWriter().int(1, -1).finish();
    expect(neg.length).toBe(11);
    expect([...neg.slice(1)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect([...new ProtoWriter().packedInts(4, [1, 2, 150]).finish()]).toEqual([0x22, 0x04, 0x01, 0x02, 0x96, 0x01]);
    expect([...new ProtoWriter().string(2, 'ab').finish()]).toEqual([0x12, 0x02, 0x61, 0x62]);
  });

  it('float16 decoding', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325, 5);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 9);
  });

  it('a small graph converts and runs in ONNX Runtime exactly like the reference ops (batch of 2)', async () => {
    const { model, weights } = tinyModel();
    const converted = convertTfjsModel(model, { outputs: ['flat', 'prob', 'mean'] });
    expect(converted.ops).toMatchObject({ _FusedConv2D: 1, DepthwiseConv2dNative: 1, Mul: 1, AddV2: 1, Minimum: 1, Reshape: 1, Mean: 1, _FusedMatMul: 1, Softmax: 1 });
    const session = await ort.InferenceSession.create(converted.onnx);
    const x: T4 = { shape: [2, 7, 6, 3], data: rand(2 * 7 * 6 * 3, 9) };
    const res = await session.run({ input: new ort.Tensor('float32', x.data, x.shape) });

    // reference
    const c = relu(refConv(x, weights.convW, 2, false, weights.convB.data));
    const d = refConv(c, weights.dwW, 1, true);
    const e = { shape: d.shape, data: d.data.map((v, i) => Math.min(v * (weights.scale.data[i % 8] ?? 0) + (weights.shift.data[i % 8] ?? 0), 0.15)) };
    const [n, h, w, ch] = e.shape;
    const mean = new Float32Array(n * ch);
    for (let b = 0; b < n; b++) for (let k = 0; k < ch; k++) {
      let s = 0;
      for (let i = 0; i < h * w; i++) s += e.data[(b * h * w + i) * ch + k] ?? 0;
      mean[b * ch + k] = s / (h * w);
    }
    const prob = new Float32Array(n * 5);
    for (let b = 0; b < n; b++) {
      const z = Array.from({ length: 5 }, (_, j) => {
        let s = weights.fcB.data[j] ?? 0;
        for (let k = 0; k < ch; k++) s += (mean[b * ch + k] ?? 0) * (weights.fcW.data[k * 5 + j] ?? 0);
        return s;
      });
      const mx = Math.max(...z);
      const ex = z.map((v) => Math.exp(v - mx));
      const sum = ex.reduce((a, v) => a + v, 0);
      ex.forEach((v, j) => { prob[b * 5 + j] = v / sum; });
    }

    const close = (got: unknown, want: Float32Array) => {
      expect(got).toBeInstanceOf(Float32Array);
      const g = got as Float32Array;
      expect(g.length).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((g[i] ?? 0) - (want[i] ?? 0)));
      expect(worst).toBeLessThan(1e-5);
    };
    expect(res.flat?.dims).toEqual([2, h * w * ch]);
    close(res.flat?.data, e.data); // NHWC flatten order, as TensorFlow
    close(res.mean?.data, mean);
    close(res.prob?.data, prob);
    await session.release();
  });

  it('an unsupported op is refused with LAB-E143 naming the node', () => {
    const { model } = tinyModel();
    const json = structuredClone(model.json);
    json.modelTopology.node.push({ name: 'weird', op: 'FFT', input: ['dw'] });
    expect(() => convertTfjsModel({ json, weights: model.weights }, { outputs: ['weird'] })).toThrowError(LabError);
    try {
      convertTfjsModel({ json, weights: model.weights }, { outputs: ['weird'] });
    } catch (e) {
      expect((e as LabError).code).toBe('LAB-E143');
      expect((e as LabError).message).toContain('weird (FFT)');
    }
  });
});
