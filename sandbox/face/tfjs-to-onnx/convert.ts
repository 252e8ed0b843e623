/**
 * TF.js graph model → ONNX (opset 13). TensorFlow's graph is NHWC; inside the ONNX graph tensors are
 * NCHW (ONNX Conv's layout): the NHWC input is transposed once, conv weights are transposed (HWIO → OIHW,
 * depthwise HWCM → (C·M)1HW with group = C), per-channel constants are reshaped to [C,1,1] for
 * broadcasting, and a tensor is transposed back to NHWC before a Reshape (so the flatten order is
 * TensorFlow's) and before it leaves the graph.
 */
import { LabError, t } from '../../errors/index.ts';
import { encodeModel, type OnnxAttr, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-model.ts';
import {
  attrBool, attrFloat, attrInts, attrString, attrStrings, decodeWeights, type TfConst, type TfjsModel, type TfNode,
} from './tfjs-graph.ts';

export interface ConvertOptions {
  /** TF node names to expose as graph outputs (ONNX output names are the same); default: every sink node. */
  readonly outputs?: readonly string[];
  /** Graph name written into the model. */
  readonly name?: string;
}

export interface ConvertedModel {
  readonly onnx: Uint8Array;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly string[];
  /** TF op types met, with counts (for the docs and the tests). */
  readonly ops: Readonly<Record<string, number>>;
}

/** A tensor inside the ONNX graph: `nchw` for 4-D image tensors, `plain` for anything else (TF's own order). */
type Value =
  | { readonly kind: 'const'; readonly c: TfConst }
  | { readonly kind: 'tensor'; readonly name: string; readonly layout: 'nchw' | 'plain'; readonly rank: number };

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/** NHWC axis → its position in NCHW. */
const AXIS_TO_NCHW = [0, 2, 3, 1];

const fail = (node: TfNode, en: string, zh: string): never => {
  throw new LabError('LAB-E143', { detail: t(`${node.name}（${node.op}）：${zh}`, `${node.name} (${node.op}): ${en}`) });
};

/** Strips `^control` inputs and the `:0` output suffix. */
const inputName = (s: string): string | undefined => (s.startsWith('^') ? undefined : s.replace(/:0$/, ''));

export function convertTfjsModel(model: TfjsModel, options: ConvertOptions = {}): ConvertedModel {
  const nodes = model.json.modelTopology.node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const weights = decodeWeights(model);
  const consumers = new Set(nodes.flatMap((n) => (n.input ?? []).map(inputName).filter((x): x is string => x !== undefined)));
  const outputs = options.outputs ?? nodes.filter((n) => n.op !== 'Const' && !consumers.has(n.name)).map((n) => n.name);

  // Only what the outputs need.
  const needed = new Set<string>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const name = stack.pop() ?? '';
    if (needed.has(name)) continue;
    const node = byName.get(name);
    if (!node) throw new LabError('LAB-E143', { detail: t(`图中没有节点 ${name}`, `no node ${name} in the graph`) });
    needed.add(name);
    for (const i of node.input ?? []) {
      const n = inputName(i);
      if (n !== undefined) stack.push(n);
    }
  }

  const onnxNodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const inputs: OnnxValueInfo[] = [];
  const values = new Map<string, Value>();
  const ops: Record<string, number> = {};
  let uid = 0;
  const fresh = (base: string): string => `${base}__${uid++}`;

  const floatInit = (base: string, dims: readonly number[], data: Float32Array): string => {
    const name = fresh(base);
    inits.push({ name, type: 'float', dims, data });
    return name;
  };
  const int64Init = (base: string, values_: readonly number[]): string => {
    const name = fresh(base);
    inits.push({ name, type: 'int64', dims: [values_.length], data: BigInt64Array.from(values_.map((v) => BigInt(v))) });
    return name;
  };
  const emit = (op: string, ins: readonly string[], outName: string, attrs?: OnnxAttr[]): string => {
    onnxNodes.push({ name: outName, op, inputs: ins, outputs: [outName], ...(attrs ? { attrs } : {}) });
    return outName;
  };

  const valueOf = (node: TfNode, i: number): Value => {
    const raw = node.input?.filter((x) => !x.startsWith('^'))[i];
    const name = raw === undefined ? undefined : inputName(raw);
    const v = name === undefined ? undefined : values.get(name);
    if (!v) return fail(node, `input ${i} missing`, `缺少第 ${i} 个输入`);
    return v;
  };
  const tensorOf = (node: TfNode, i: number): Extract<Value, { kind: 'tensor' }> => {
    const v = valueOf(node, i);
    if (v.kind !== 'tensor') return fail(node, `input ${i} must be computed, not a constant`, `第 ${i} 个输入不能是常量`);
    return v;
  };
  const constOf = (node: TfNode, i: number): TfConst => {
    const v = valueOf(node, i);
    if (v.kind !== 'const') return fail(node, `input ${i} must be a constant`, `第 ${i} 个输入必须是常量`);
    return v.c;
  };
  /** A constant as an ONNX float initializer laid out to broadcast against a tensor of `layout`. */
  const constFor = (node: TfNode, c: TfConst, layout: 'nchw' | 'plain', rank: number): string => {
    const data = Float32Array.from(c.data);
    if (layout === 'plain' || c.shape.length === 0 || data.length === 1) {
      return floatInit(`${node.name}/const`, data.length === 1 && c.shape.length === 0 ? [] : c.shape, data);
    }
    if (rank !== 4 || c.shape.length > 4) return fail(node, 'constant cannot broadcast against an image tensor', '常量无法与图像张量广播');
    const s = [...Array<number>(4 - c.shape.length).fill(1), ...c.shape] as [number, number, number, number];
    const [n, h, w, ch] = s;
    const out = new Float32Array(data.length);
    for (let a = 0; a < n; a++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < ch; k++) {
      out[((a * ch + k) * h + y) * w + x] = data[((a * h + y) * w + x) * ch + k] ?? 0;
    }
    const dims = [n, ch, h, w];
    // Drop leading 1s so [C] becomes [C,1,1] (numpy-style broadcasting from the right).
    while (dims.length > 1 && dims[0] === 1) dims.shift();
    return floatInit(`${node.name}/const`, dims, out);
  };

  /** Conv-style spatial attributes from TF's NHWC lists. */
  const spatialAttrs = (node: TfNode, kernel?: readonly number[]): OnnxAttr[] => {
    if ((attrString(node, 'data_format') ?? 'NHWC') !== 'NHWC') fail(node, 'only NHWC graphs are supported', '只支持 NHWC 图');
    const strides = attrInts(node, 'strides') ?? [1, 1, 1, 1];
    const dil = attrInts(node, 'dilations') ?? [1, 1, 1, 1];
    const padding = attrString(node, 'padding') ?? 'VALID';
    const attrs: OnnxAttr[] = [{ name: 'strides', kind: 'ints', value: [strides[1] ?? 1, strides[2] ?? 1] }];
    if (node.op !== 'MaxPool' && node.op !== 'AvgPool') attrs.push({ name: 'dilations', kind: 'ints', value: [dil[1] ?? 1, dil[2] ?? 1] });
    if (kernel) attrs.push({ name: 'kernel_shape', kind: 'ints', value: [...kernel] });
    if (padding === 'SAME') attrs.push({ name: 'auto_pad', kind: 'string', value: 'SAME_UPPER' });
    else if (padding === 'EXPLICIT') {
      const p = attrInts(node, 'explicit_paddings') ?? [];
      attrs.push({ name: 'pads', kind: 'ints', value: [p[2] ?? 0, p[4] ?? 0, p[3] ?? 0, p[5] ?? 0] });
    } else if (padding !== 'VALID') fail(node, `padding ${padding}`, `不支持的填充 ${padding}`);
    return attrs;
  };

  /** Activations fused after BiasAdd in _Fused* ops. */
  const applyFused = (node: TfNode, x: string, fused: readonly string[]): string => {
    let out = x;
    const rest = fused.filter((f) => f !== 'BiasAdd');
    rest.forEach((f, k) => {
      const target = k === rest.length - 1 ? node.name : fresh(node.name);
      switch (f) {
        case 'Relu': out = emit('Relu', [out], target); break;
        case 'Relu6': out = emit('Clip', [out, floatInit('zero', [], Float32Array.of(0)), floatInit('six', [], Float32Array.of(6))], target); break;
        case 'Elu': out = emit('Elu', [out], target); break;
        case 'Sigmoid': out = emit('Sigmoid', [out], target); break;
        case 'LeakyRelu': out = emit('LeakyRelu', [out], target, [{ name: 'alpha', kind: 'float', value: attrFloat(node, 'leakyrelu_alpha') ?? 0.2 }]); break;
        default: fail(node, `fused op ${f}`, `不支持的融合操作 ${f}`);
      }
    });
    return out;
  };

  for (const node of nodes) {
    if (!needed.has(node.name)) continue;
    ops[node.op] = (ops[node.op] ?? 0) + 1;
    switch (node.op) {
      case 'Const': {
        const c = weights.get(node.name);
        if (!c) fail(node, 'constant not in the weights manifest', '常量不在权重清单中');
        else values.set(node.name, { kind: 'const', c });
        break;
      }
      case 'Placeholder': {
        const dims = (node.attr?.shape as { shape?: { dim?: { size?: string | number }[] } } | undefined)?.shape?.dim?.map((d) => Number(d.size ?? -1)) ?? [];
        const shape: (number | string)[] = dims.map((d, i) => (d < 0 || i === 0 ? 'N' : d));
        inputs.push({ name: node.name, dims: shape });
        if (shape.length === 4) {
          values.set(node.name, { kind: 'tensor', name: emit('Transpose', [node.name], fresh(`${node.name}/nchw`), [{ name: 'perm', kind: 'ints', value: NHWC_TO_NCHW }]), layout: 'nchw', rank: 4 });
        } else values.set(node.name, { kind: 'tensor', name: node.name, layout: 'plain', rank: shape.length });
        break;
      }
      case 'Conv2D': case '_FusedConv2D': case 'DepthwiseConv2dNative': case '_FusedDepthwiseConv2dNative': {
        const x = tensorOf(node, 0);
        if (x.layout !== 'nchw') fail(node, 'input is not an image tensor', '输入不是图像张量');
        const f = constOf(node, 1);
        const [kh, kw, ci, co] = f.shape as [number, number, number, number];
        const depthwise = node.op.includes('Depthwise');
        const outCh = depthwise ? ci * co : co;
        const w = new Float32Array(f.data.length);
        for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
          const src = ((y * kw + xx) * ci + i) * co + o;
          const dst = depthwise ? (((i * co + o) * 1) * kh + y) * kw + xx : ((o * ci + i) * kh + y) * kw + xx;
          w[dst] = f.data[src] ?? 0;
        }
        const wName = floatInit(`${node.name}/weights`, depthwise ? [outCh, 1, kh, kw] : [co, ci, kh, kw], w);
        const fused = node.op.startsWith('_Fused') ? attrStrings(node, 'fused_ops') : [];
        const ins = [x.name, wName];
        if (fused.includes('BiasAdd')) ins.push(floatInit(`${node.name}/bias`, [outCh], Float32Array.from(constOf(node, 2).data)));
        else if (fused.length > 0) fail(node, `fused ops ${fused.join(',')} without BiasAdd`, '融合操作缺少 BiasAdd');
        const attrs = spatialAttrs(node, [kh, kw]);
        if (depthwise) attrs.push({ name: 'group', kind: 'int', value: ci });
        const hasAct = fused.some((op) => op !== 'BiasAdd');
        const conv = emit('Conv', ins, hasAct ? fresh(node.name) : node.name, attrs);
        values.set(node.name, { kind: 'tensor', name: applyFused(node, conv, fused), layout: 'nchw', rank: 4 });
        break;
      }
      case 'MaxPool': case 'AvgPool': {
        const x = tensorOf(node, 0);
        if (x.layout !== 'nchw') fail(node, 'input is not an image tensor', '输入不是图像张量');
        const k = attrInts(node, 'ksize') ?? [1, 1, 1, 1];
        const out = emit(node.op === 'MaxPool' ? 'MaxPool' : 'AveragePool', [x.name], node.name, spatialAttrs(node, [k[1] ?? 1, k[2] ?? 1]));
        values.set(node.name, { kind: 'tensor', name: out, layout: 'nchw', rank: 4 });
        break;
      }
      case 'Add': case 'AddV2': case 'BiasAdd': case 'Sub': case 'Mul': case 'RealDiv': case 'Minimum': case 'Maximum': {
        const a = valueOf(node, 0), b = valueOf(node, 1);
        // Minimum/Maximum against a scalar is a Clip, which ONNX Runtime fuses into the convolution before it
        // (a Min/Max node would make it leave its blocked NCHWc layout and come back around each one).
        if ((node.op === 'Minimum' || node.op === 'Maximum') && (a.kind === 'const') !== (b.kind === 'const')) {
          const x = a.kind === 'tensor' ? a : b.kind === 'tensor' ? b : undefined;
          const c = a.kind === 'const' ? a.c : b.kind === 'const' ? b.c : undefined;
          if (x && c && c.data.length === 1) {
            const bound = floatInit(`${node.name}/bound`, [], Float32Array.of(c.data[0] ?? 0));
            const ins = node.op === 'Minimum' ? [x.name, '', bound] : [x.name, bound];
            values.set(node.name, { ...x, name: emit('Clip', ins, node.name) });
            break;
          }
        }
        const like = a.kind === 'tensor' ? a : b.kind === 'tensor' ? b : undefined;
        if (!like) return fail(node, 'both inputs constant', '两个输入都是常量');
        if (a.kind === 'tensor' && b.kind === 'tensor' && (a.layout !== b.layout || a.rank !== b.rank)) fail(node, 'inputs of different layouts', '输入布局不同');
        const name = (v: Value): string => (v.kind === 'tensor' ? v.name : constFor(node, v.c, like.layout, like.rank));
        const op = { Add: 'Add', AddV2: 'Add', BiasAdd: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div', Minimum: 'Min', Maximum: 'Max' }[node.op] ?? 'Add';
        values.set(node.name, { kind: 'tensor', name: emit(op, [name(a), name(b)], node.name), layout: like.layout, rank: like.rank });
        break;
      }
      case 'Relu': case 'Sigmoid': case 'Tanh': case 'Elu': case 'Relu6': case 'Identity': case 'Softmax': {
        const x = tensorOf(node, 0);
        let out: string;
        if (node.op === 'Relu6') out = emit('Clip', [x.name, floatInit('zero', [], Float32Array.of(0)), floatInit('six', [], Float32Array.of(6))], node.name);
        else if (node.op === 'Softmax') {
          if (x.layout !== 'plain') fail(node, 'softmax over an image tensor', '不支持对图像张量做 softmax');
          out = emit('Softmax', [x.name], node.name, [{ name: 'axis', kind: 'int', value: -1 }]);
        } else out = emit(node.op, [x.name], node.name);
        values.set(node.name, { ...x, name: out });
        break;
      }
      case 'Pad': case 'PadV2': {
        const x = tensorOf(node, 0);
        const p = constOf(node, 1);
        const pairs = Array.from({ length: p.shape[0] ?? 0 }, (_, i) => [p.data[2 * i] ?? 0, p.data[2 * i + 1] ?? 0] as const);
        const order = x.layout === 'nchw' ? NHWC_TO_NCHW : pairs.map((_, i) => i);
        const pads = [...order.map((i) => pairs[i]?.[0] ?? 0), ...order.map((i) => pairs[i]?.[1] ?? 0)];
        const ins = [x.name, int64Init(`${node.name}/pads`, pads)];
        if (node.op === 'PadV2') ins.push(floatInit(`${node.name}/value`, [], Float32Array.from(constOf(node, 2).data.slice(0, 1))));
        values.set(node.name, { ...x, name: emit('Pad', ins, node.name, [{ name: 'mode', kind: 'string', value: 'constant' }]) });
        break;
      }
      case 'Reshape': {
        const x = tensorOf(node, 0);
        const shape = Array.from(constOf(node, 1).data);
        // Keep the batch free: a leading 1 becomes 0 ("copy the input's first dimension").
        if (shape.length > 0 && shape[0] === 1) shape[0] = 0;
        const src = x.layout === 'nchw'
          ? emit('Transpose', [x.name], fresh(`${node.name}/nhwc`), [{ name: 'perm', kind: 'ints', value: NCHW_TO_NHWC }])
          : x.name;
        values.set(node.name, { kind: 'tensor', name: emit('Reshape', [src, int64Init(`${node.name}/shape`, shape)], node.name), layout: 'plain', rank: shape.length });
        break;
      }
      case 'Mean': {
        const x = tensorOf(node, 0);
        const axes = Array.from(constOf(node, 1).data).map((a) => (a < 0 ? a + x.rank : a));
        const keep = attrBool(node, 'keep_dims');
        let layout: 'nchw' | 'plain' = x.layout;
        let onnxAxes = axes;
        if (x.layout === 'nchw') {
          onnxAxes = axes.map((a) => AXIS_TO_NCHW[a] ?? a);
          if (!keep) {
            const spatialOnly = axes.includes(1) && axes.includes(2) && !axes.includes(0) && !axes.includes(3);
            if (!spatialOnly) fail(node, 'mean must reduce exactly the spatial axes', '平均只能沿空间维度');
            layout = 'plain';
          }
        }
        const out = emit('ReduceMean', [x.name], node.name, [
          { name: 'axes', kind: 'ints', value: onnxAxes }, { name: 'keepdims', kind: 'int', value: keep ? 1 : 0 },
        ]);
        values.set(node.name, { kind: 'tensor', name: out, layout, rank: keep ? x.rank : x.rank - axes.length });
        break;
      }
      case 'MatMul': case '_FusedMatMul': {
        const a = tensorOf(node, 0);
        if (a.layout !== 'plain' || a.rank !== 2) fail(node, 'matrix input must be 2-D', '矩阵输入必须是二维');
        if (attrBool(node, 'transpose_a')) fail(node, 'transpose_a', '不支持 transpose_a');
        const b = constOf(node, 1);
        const transB = attrBool(node, 'transpose_b');
        const fused = node.op === '_FusedMatMul' ? attrStrings(node, 'fused_ops') : [];
        const ins = [a.name, floatInit(`${node.name}/weights`, b.shape, Float32Array.from(b.data))];
        const nOut = transB ? b.shape[0] ?? 0 : b.shape[1] ?? 0;
        ins.push(fused.includes('BiasAdd')
          ? floatInit(`${node.name}/bias`, [nOut], Float32Array.from(constOf(node, 2).data))
          : floatInit(`${node.name}/bias`, [nOut], new Float32Array(nOut)));
        const hasAct = fused.some((op) => op !== 'BiasAdd');
        const gemm = emit('Gemm', ins, hasAct ? fresh(node.name) : node.name, transB ? [{ name: 'transB', kind: 'int', value: 1 }] : []);
        values.set(node.name, { kind: 'tensor', name: applyFused(node, gemm, fused), layout: 'plain', rank: 2 });
        break;
      }
      default:
        fail(node, 'operation not supported by the converter', '转换器不支持此操作');
    }
  }

  mergeClipChains(onnxNodes, inits, new Set(outputs));
  const used = new Set(onnxNodes.flatMap((n) => n.inputs));
  const liveInits = inits.filter((i) => used.has(i.name));

  const outInfos: OnnxValueInfo[] = [];
  for (const name of outputs) {
    const v = values.get(name);
    if (!v || v.kind !== 'tensor') throw new LabError('LAB-E143', { detail: t(`输出 ${name} 不是计算结果`, `output ${name} is not a computed tensor`) });
    if (v.layout === 'nchw') {
      // Leave the graph in TensorFlow's NHWC, under the TF name.
      let src = v.name;
      if (v.name === name) {
        // The TF name is taken by the NCHW tensor: rename it (and its uses) so the output can carry it.
        src = `${name}__nchw`;
        for (let k = 0; k < onnxNodes.length; k++) {
          const n = onnxNodes[k];
          if (!n) continue;
          onnxNodes[k] = {
            ...n,
            inputs: n.inputs.map((i) => (i === name ? src : i)),
            outputs: n.outputs.map((o) => (o === name ? src : o)),
            name: n.name === name ? src : n.name,
          };
        }
      }
      emit('Transpose', [src], name, [{ name: 'perm', kind: 'ints', value: NCHW_TO_NHWC }]);
    } else if (v.name !== name) emit('Identity', [v.name], name);
    outInfos.push({ name, dims: Array.from({ length: v.rank }, (_, i) => (i === 0 ? 'N' : `${name.replace(/[^A-Za-z0-9_]/g, '_')}_d${i}`)) });
  }

  const onnx = encodeModel({ name: options.name ?? 'converted', nodes: onnxNodes, initializers: liveInits, inputs, outputs: outInfos });
  return { onnx, inputs, outputs: [...outputs], ops };
}

/**
 * Relu → Clip(max) → Clip(min) (TensorFlow's relu6 as Relu, Minimum, Maximum) becomes one Clip, so ONNX
 * Runtime can fuse it into the convolution: a node whose only consumer is a Clip is folded into it when
 * it is a Relu (min 0) or a Clip with constant bounds.
 */
function mergeClipChains(nodes: OnnxNode[], inits: OnnxTensor[], keep: ReadonlySet<string>): void {
  const scalar = new Map<string, number>();
  for (const t of inits) if (t.type === 'float' && t.data.length === 1) scalar.set(t.name, t.data[0] ?? 0);
  const bounds = (n: OnnxNode): [number, number] | undefined => {
    if (n.op === 'Relu') return [0, Number.POSITIVE_INFINITY];
    if (n.op !== 'Clip') return undefined;
    const lo = n.inputs[1] ? scalar.get(n.inputs[1]) : Number.NEGATIVE_INFINITY;
    const hi = n.inputs[2] ? scalar.get(n.inputs[2]) : Number.POSITIVE_INFINITY;
    return lo === undefined || hi === undefined ? undefined : [lo, hi];
  };
  let changed = true;
  while (changed) {
    changed = false;
    const uses = new Map<string, number>();
    for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
    for (let k = 0; k < nodes.length; k++) {
      const clip = nodes[k];
      if (!clip || clip.op !== 'Clip') continue;
      const outer = bounds(clip);
      const srcName = clip.inputs[0] ?? '';
      const j = nodes.findIndex((n) => n.outputs[0] === srcName);
      const inner = j >= 0 ? nodes[j] : undefined;
      const innerBounds = inner ? bounds(inner) : undefined;
      if (!outer || !inner || !innerBounds || uses.get(srcName) !== 1 || keep.has(srcName)) continue;
      const lo = Math.max(outer[0], innerBounds[0]);
      const hi = Math.min(outer[1], innerBounds[1]);
      const name = `${clip.name}__merged`;
      const ins = [inner.inputs[0] ?? ''];
      const add = (tag: string, v: number): string => {
        const n = `${name}/${tag}`;
        inits.push({ name: n, type: 'float', dims: [], data: Float32Array.of(v) });
        scalar.set(n, v);
        return n;
      };
      ins.push(Number.isFinite(lo) ? add('min', lo) : '');
      if (Number.isFinite(hi)) ins.push(add('max', hi));
      nodes[k] = { ...clip, inputs: ins };
      nodes.splice(j, 1);
      changed = true;
      break;
    }
  }
}
