/**
 * Small convolutional classifiers built in code for the compression and attribution tests:
 * conv - batch norm - ReLU - conv - ReLU - global average pooling - linear, and a residual
 * variant whose second convolution's output is added to the first's.
 */
import onnxProto from 'onnx-proto';

import { sequence } from './tiny-models.js';
import { tensorValueInfo } from '../../src/runtime/onnx/proto.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function tensor(name: string, dims: number[], values: Float32Array): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(values.slice().buffer) };
}

const ints = (name: string, values: number[]): onnxProto.onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: values,
});

function conv(
  input: string,
  weight: string,
  bias: string,
  output: string,
): onnxProto.onnx.INodeProto {
  return {
    opType: 'Conv',
    name: output,
    input: [input, weight, bias],
    output: [output],
    attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])],
  };
}

/** Options of {@link convClassifier}. */
export interface ConvModelOptions {
  /** The second convolution's output is added to the first block's (a residual). */
  residual?: boolean;
  /** Opset to declare (default 17). */
  opset?: number;
  /** Filters of the first and second convolutions (default 6 and 5; equal when residual). */
  filters?: [number, number];
}

/**
 * A classifier of `[batch, 2, 6, 6]` images into 3 classes, its feature map `features`
 * `[batch, F2, 6, 6]` averaged and scored by a Gemm (transB = 1). Weights are deterministic.
 */
export function convClassifier(options: ConvModelOptions = {}): Uint8Array {
  const [f1, f2] = options.residual ? [4, 4] : (options.filters ?? [6, 5]);
  const scaled = (n: number, seed: number, scale: number) =>
    sequence(n, seed).map((v) => v * scale);
  const initializer = [
    tensor('w1', [f1, 2, 3, 3], scaled(f1 * 18, 3, 0.6)),
    tensor('b1', [f1], scaled(f1, 5, 0.2)),
    tensor(
      'bn_scale',
      [f1],
      sequence(f1, 7).map((v) => 1 + 0.5 * v),
    ),
    tensor('bn_bias', [f1], scaled(f1, 11, 0.1)),
    tensor('bn_mean', [f1], scaled(f1, 13, 0.1)),
    tensor(
      'bn_var',
      [f1],
      sequence(f1, 17).map((v) => 1 + 0.4 * v),
    ),
    tensor('w2', [f2, f1, 3, 3], scaled(f2 * f1 * 9, 19, 0.4)),
    tensor('b2', [f2], scaled(f2, 23, 0.1)),
    tensor('fc_w', [3, f2], scaled(3 * f2, 29, 1.5)),
    tensor('fc_b', [3], scaled(3, 31, 0.1)),
  ];
  const node: onnxProto.onnx.INodeProto[] = [
    conv('input', 'w1', 'b1', 'c1'),
    {
      opType: 'BatchNormalization',
      name: 'bn',
      input: ['c1', 'bn_scale', 'bn_bias', 'bn_mean', 'bn_var'],
      output: ['n1'],
    },
    { opType: 'Relu', name: 'r1', input: ['n1'], output: ['a1'] },
    conv('a1', 'w2', 'b2', 'c2'),
  ];
  if (options.residual) {
    node.push({ opType: 'Add', name: 'add', input: ['c2', 'a1'], output: ['s2'] });
    node.push({ opType: 'Relu', name: 'r2', input: ['s2'], output: ['features'] });
  } else {
    node.push({ opType: 'Relu', name: 'r2', input: ['c2'], output: ['features'] });
  }
  node.push(
    { opType: 'GlobalAveragePool', name: 'pool', input: ['features'], output: ['pooled'] },
    { opType: 'Flatten', name: 'flatten', input: ['pooled'], output: ['flat'] },
    {
      opType: 'Gemm',
      name: 'fc',
      input: ['flat', 'fc_w', 'fc_b'],
      output: ['logits'],
      attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    },
  );
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'ortlab-tests',
    opsetImport: [{ domain: '', version: options.opset ?? 17 }],
    graph: {
      name: 'conv_classifier',
      node,
      initializer,
      input: [tensorValueInfo('input', ['batch', 2, 6, 6])],
      output: [tensorValueInfo('logits', ['batch', 3])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
