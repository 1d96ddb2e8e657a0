/**
 * ortlab for Node: sessions on `onnxruntime-node`, images decoded with sharp, datasets read from
 * the file system, tokenizers from local files.
 *
 * @example
 * ```ts
 * import { Session, openDataset, evaluateClassifier } from 'ortlab';
 * const session = await Session.create('models/mnist-cnn.onnx');
 * const { top1 } = await evaluateClassifier(session, await openDataset('mnist'), { preset: 'mnist' });
 * ```
 */
import { registerBackend } from './runtime/backend.js';
import { nodeBackend } from './runtime/backend-node.js';

registerBackend(nodeBackend);

export * from './core.js';
export { nodeBackend };
export { registerBackend, getBackend } from './runtime/backend.js';
export type { RuntimeBackend } from './runtime/backend.js';
export {
  preprocessInto,
  ImageDecodeError,
  DEFAULT_MAX_PIXELS,
} from './runtime/preprocess/image-node.js';
export * from './runtime/datasets/index.js';
export { loadTokenizer } from './runtime/tokenizer.js';
export { loadOnnxModel } from './runtime/onnx/load-node.js';
