/**
 * TF.js graph model → ONNX converter (README.md in sandbox/face): read a graph model and its weight
 * shards, translate its ops to ONNX opset 13 nodes, serialise a ModelProto with our own protobuf writer.
 */
export { convertTfjsModel, type ConvertedModel, type ConvertOptions } from './convert.ts';
export { encodeModel, IR_VERSION, OPSET, type OnnxAttr, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-model.ts';
export { ProtoWriter } from './protobuf-writer.ts';
export { decodeWeights, halfToFloat, parseModelJson, readTfjsModel, type TfjsModel, type TfjsModelJson } from './tfjs-graph.ts';
