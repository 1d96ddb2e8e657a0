/**
 * Gram matrices on ONNX Runtime: a two-node graph (Transpose, MatMul) built in code and run
 * through ortlab's `Session`, so that the one matrix product of the relation losses runs on
 * ONNX Runtime's multithreaded GEMM (or WebGPU / wasm in the browser). No `node:` import.
 */
import { encodeModel, onnx, tensorValueInfo } from '../runtime/onnx/proto.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { GramFunction } from './gram-sets.js';

/** A Gram function backed by an ONNX Runtime session; free it with `dispose()`. */
export interface OrtGram {
  /** Computes x x^T for `x` `[batch, rows, cols]`, in float32 (ONNX Runtime's MatMul). */
  readonly gram: GramFunction;
  /** The execution provider that runs it. */
  readonly executionProvider: string;
  /** Frees the session. Safe to call more than once. */
  dispose(): Promise<void>;
}

/**
 * The ONNX model (opset 17) of batched Gram matrices: input `x` `[batch, rows, cols]`, output
 * `gram` = MatMul(x, Transpose(x, perm [0, 2, 1])) `[batch, rows, rows]`, float32.
 *
 * @example
 * ```ts
 * const bytes = gramModel();
 * OnnxModel.fromBytes(bytes).graph.node.map((n) => n.opType); // ['Transpose', 'MatMul']
 * ```
 */
export function gramModel(): Uint8Array {
  return encodeModel({
    name: 'gram',
    node: [
      {
        opType: 'Transpose',
        input: ['x'],
        output: ['xt'],
        name: 'transpose',
        attribute: [
          { name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1] },
        ],
      },
      { opType: 'MatMul', input: ['x', 'xt'], output: ['gram'], name: 'matmul' },
    ],
    input: [tensorValueInfo('x', ['batch', 'rows', 'cols'])],
    output: [tensorValueInfo('gram', ['batch', 'rows', 'rows'])],
  });
}

/**
 * Creates a {@link GramFunction} on ONNX Runtime for `ckdLoss`'s `gram` option. Products are
 * float32 (the TypeScript kernel sums in float64); measured against the float64 reference the
 * CKD terms stay within 1e-5 relative on the fixtures of `test/distill/`. Needs a registered
 * backend: import `ortlab` (Node) or `ortlab/browser` first.
 * @param options session options, e.g. `{ threads: 2, executionProviders: 'cpu' }`.
 *
 * @example
 * ```ts
 * const ortGram = await createOrtGram({ threads: 2 });
 * const result = await ckdLoss(teacher, student, { mask, gram: ortGram.gram });
 * ortGram.executionProvider; // 'cpu'
 * await ortGram.dispose();
 * ```
 */
export async function createOrtGram(options: SessionOptions = {}): Promise<OrtGram> {
  const session = await Session.create(gramModel(), options);
  const gram: GramFunction = async (x, dims) => {
    const out = await session.run({ x: { type: 'float32', data: x, dims: [...dims] } }, ['gram']);
    return out.gram.data as Float32Array;
  };
  return {
    gram,
    executionProvider: session.executionProvider,
    dispose: () => session.dispose(),
  };
}
