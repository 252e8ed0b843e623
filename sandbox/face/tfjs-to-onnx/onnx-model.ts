/**
 * The part of ONNX's ModelProto we write (onnx/onnx.proto, IR version 7, default domain opset 13):
 * a graph of nodes with attributes, initializers as raw little-endian data, typed inputs and outputs.
 */
import { ProtoWriter } from './protobuf-writer.ts';

export type OnnxAttr =
  | { readonly name: string; readonly kind: 'int'; readonly value: number }
  | { readonly name: string; readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: 'float'; readonly value: number }
  | { readonly name: string; readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: 'string'; readonly value: string };

export interface OnnxNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: readonly OnnxAttr[];
}

export type OnnxTensor =
  | { readonly name: string; readonly type: 'float'; readonly dims: readonly number[]; readonly data: Float32Array }
  | { readonly name: string; readonly type: 'int64'; readonly dims: readonly number[]; readonly data: BigInt64Array };

export interface OnnxValueInfo {
  readonly name: string;
  /** A number is a fixed size, a string a symbolic one (e.g. the batch). */
  readonly dims: readonly (number | string)[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

/** TensorProto.DataType */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType */
const ATTR = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

export const IR_VERSION = 7;
export const OPSET = 13;

function tensorProto(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, t.type === 'float' ? FLOAT : INT64);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)));
  return w;
}

function attrProto(a: OnnxAttr): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  switch (a.kind) {
    case 'float': w.float(2, a.value); break;
    case 'int': w.int(3, a.value); break;
    case 'string': w.string(4, a.value); break;
    case 'floats': w.packedFloats(7, a.value); break;
    case 'ints': w.packedInts(8, a.value); break;
  }
  w.int(20, ATTR[a.kind]);
  return w;
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.op);
  for (const a of n.attrs ?? []) w.message(5, attrProto(a));
  return w;
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

/** Serialises a ModelProto holding `graph`. */
export function encodeModel(graph: OnnxGraph, producer = 'data-lab tfjs-to-onnx'): Uint8Array {
  const g = new ProtoWriter();
  for (const n of graph.nodes) g.message(1, nodeProto(n));
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, tensorProto(t));
  for (const i of graph.inputs) g.message(11, valueInfoProto(i));
  for (const o of graph.outputs) g.message(12, valueInfoProto(o));
  const model = new ProtoWriter();
  model.int(1, IR_VERSION);
  model.string(2, producer);
  model.message(7, g);
  model.message(8, new ProtoWriter().string(1, '').int(2, OPSET));
  return model.finish();
}
