/**
 * Small ONNX models built in code for the runtime tests: known weights, so every output can be
 * computed by hand.
 */
import onnxProto from 'onnx-proto';
import { tensorValueInfo } from '../../src/runtime/onnx/proto.js';

const { onnx } = onnxProto;

export const W = Float32Array.from([1, 0, -1, 2, 0.5, 1, 0, -2, 3, 1, 1, 0]); // [4, 3]
export const B = Float32Array.from([0.1, -0.2, 0.3]);

function floatTensor(
  name: string,
  dims: number[],
  values: Float32Array,
): onnxProto.onnx.ITensorProto {
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(values.slice().buffer),
  };
}

export interface TinyModelOptions {
  /** Keep the bias in a Constant node instead of an initializer. */
  biasInConstant?: boolean;
  /** Mark W as external data at this location (its bytes are not in the model). */
  externalLocation?: string;
}

/**
 * y = relu(x · W + b) with x `[batch, 4]`, W `[4, 3]`, b `[3]`; the inner tensor `h = x · W`.
 */
export function linearReluModel(options: TinyModelOptions = {}): Uint8Array {
  const weight = floatTensor('W', [4, 3], W);
  if (options.externalLocation !== undefined) {
    weight.rawData = new Uint8Array(0);
    weight.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    weight.externalData = [
      { key: 'location', value: options.externalLocation },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(W.byteLength) },
    ];
  }
  const bias = floatTensor('b', [3], B);
  const nodes: onnxProto.onnx.INodeProto[] = [
    { opType: 'MatMul', input: ['x', 'W'], output: ['h'], name: 'matmul' },
    { opType: 'Add', input: ['h', 'b'], output: ['z'], name: 'add' },
    { opType: 'Relu', input: ['z'], output: ['y'], name: 'relu' },
  ];
  if (options.biasInConstant) {
    nodes.unshift({
      opType: 'Constant',
      output: ['b'],
      name: 'bias_constant',
      attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: bias }],
    });
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'ortlab-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'linear_relu',
      node: nodes,
      initializer: options.biasInConstant ? [weight] : [weight, bias],
      input: [tensorValueInfo('x', ['batch', 4])],
      output: [tensorValueInfo('y', ['batch', 3])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The reference: relu(x · w + b) for `rows` rows, in float64. */
export function linearRelu(x: Float32Array, rows: number, w = W, b = B): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < 3; j++) {
      let s = b[j];
      for (let i = 0; i < 4; i++) s += x[r * 4 + i] * w[i * 3 + j];
      out.push(Math.max(0, s));
    }
  }
  return out;
}

/** Deterministic inputs: a small linear congruential sequence in [-1, 1). */
export function sequence(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}
