/**
 * Broken retrieval encoders built in code, for the bad-input tests: one whose embeddings are
 * NaN, and a text encoder whose embeddings have another width than its image encoder's.
 */
import onnxProto from 'onnx-proto';
import { tensorValueInfo } from '../../src/runtime/onnx/proto.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

function model(
  nodes: onnxProto.onnx.INodeProto[],
  inputs: onnxProto.onnx.IValueInfoProto[],
  output: onnxProto.onnx.IValueInfoProto,
  initializer: onnxProto.onnx.ITensorProto[],
): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'ortlab-tests',
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'encoder', node: nodes, input: inputs, output: [output], initializer },
    }),
  ).finish();
}

const floats = (name: string, dims: number[], values: number[]) => ({
  name,
  dims,
  dataType: FLOAT,
  floatData: values,
});

/**
 * An image encoder for `[batch, 3, size, size]` whose `embedding` `[batch, 3]` is
 * sqrt(mean pixel - 10): NaN for every image with values below 10.
 */
export function nanImageEncoder(size: number): Uint8Array {
  return model(
    [
      {
        opType: 'ReduceMean',
        input: ['image'],
        output: ['mean'],
        attribute: [
          { name: 'axes', type: 7, ints: [2, 3] },
          { name: 'keepdims', type: 2, i: 0 },
        ],
      },
      { opType: 'Sub', input: ['mean', 'ten'], output: ['shifted'] },
      { opType: 'Sqrt', input: ['shifted'], output: ['embedding'] },
    ],
    [tensorValueInfo('image', ['batch', 3, size, size], FLOAT)],
    tensorValueInfo('embedding', ['batch', 3], FLOAT),
    [floats('ten', [1], [10])],
  );
}

/** A text encoder whose `embedding` is `[batch, width]`: mean id times (1, 2, ..., width). */
export function narrowTextEncoder(width: number): Uint8Array {
  return model(
    [
      {
        opType: 'Cast',
        input: ['input_ids'],
        output: ['ids'],
        attribute: [{ name: 'to', type: 2, i: FLOAT }],
      },
      {
        opType: 'ReduceMean',
        input: ['ids'],
        output: ['mean'],
        attribute: [
          { name: 'axes', type: 7, ints: [1] },
          { name: 'keepdims', type: 2, i: 1 },
        ],
      },
      { opType: 'Mul', input: ['mean', 'ramp'], output: ['embedding'] },
    ],
    [
      tensorValueInfo('input_ids', ['batch', 'tokens'], INT64),
      tensorValueInfo('attention_mask', ['batch', 'tokens'], INT64),
    ],
    tensorValueInfo('embedding', ['batch', width], FLOAT),
    [
      floats(
        'ramp',
        [1, width],
        Array.from({ length: width }, (_, i) => i + 1),
      ),
    ],
  );
}
