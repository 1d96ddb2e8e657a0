/**
 * The browser backend: `onnxruntime-web` sessions (WebGPU or wasm), models fetched by URL,
 * images decoded by the browser and resampled by ortlab.
 */
import * as ort from 'onnxruntime-web';

import type { RuntimeBackend } from './backend.js';
import { preprocessInto } from './preprocess/image-web.js';
import type { Tensor } from './tensor.js';

async function readModel(location: string): Promise<Uint8Array> {
  const response = await fetch(location);
  if (!response.ok) {
    throw new Error(`model '${location}' could not be fetched: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** The backend over `onnxruntime-web`. */
export const webBackend: RuntimeBackend = Object.freeze({
  kind: 'web' as const,
  readModel,
  checkExternalData: () =>
    Promise.reject(
      // TODO(#8): fetch external data files beside the model URL and pass them to onnxruntime-web.
      new Error('models with external data are not supported in the browser build yet'),
    ),
  createSession: (
    model: Uint8Array,
    _location: string | undefined,
    options: ort.InferenceSession.SessionOptions,
  ) => ort.InferenceSession.create(model, options),
  toOrtTensor: (t: Tensor) =>
    new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims as number[]),
  preprocessInto,
  versions: () => ({ 'onnxruntime-web': ort.env.versions.web ?? 'unknown' }),
});
