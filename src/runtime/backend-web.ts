/**
 * The browser backend: `onnxruntime-web` sessions (WebGPU or wasm), models fetched by URL,
 * images decoded by the browser and resampled by ortlab. onnxruntime-web may fall back from
 * WebGPU to wasm without a word; ortlab asks the browser for an adapter first, tries one provider
 * at a time, and checks that a WebGPU session really started a device.
 */
import * as ort from 'onnxruntime-web';

import type { RuntimeBackend } from './backend.js';
import type { ExecutionProviderName } from './execution-providers.js';
import { preprocessInto } from './preprocess/image-web.js';
import type { Tensor } from './tensor.js';
import { ORTLAB_VERSION } from './version.js';
import {
  beforeFirstSession,
  markWasmStarted,
  probeWebGpu,
  setWasmThreads,
  webgpuDeviceStarted,
} from './web-environment.js';

async function readModel(location: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(location);
  } catch (error) {
    throw new Error(`model '${location}' could not be fetched: ${(error as Error).message}`);
  }
  if (!response.ok) {
    throw new Error(
      `model '${location}' could not be fetched: HTTP ${response.status} ${response.statusText}`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function probeProvider(name: ExecutionProviderName): Promise<string | undefined> {
  if (name !== 'webgpu') return undefined;
  const status = await probeWebGpu();
  return status.available ? undefined : status.reason;
}

/** onnxruntime-web's message, with the fix when it could not load its own wasm files. */
function explain(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/ort-wasm[\w.-]*\.(m?js|wasm)|dynamically imported module|WebAssembly/i.test(message)) {
    const paths = ort.env.wasm.wasmPaths;
    const where = typeof paths === 'string' ? `'${paths}'` : "the bundle's folder";
    return new Error(
      `${message.split('\n')[0]} (onnxruntime-web could not load its wasm files from ${where}: ` +
        'serve node_modules/onnxruntime-web/dist there, or point configureWebRuntime({ wasmPaths }) at it)',
    );
  }
  return error instanceof Error ? error : new Error(message);
}

async function createSession(
  model: Uint8Array,
  _location: string | undefined,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  // The wasm thread pool is global and fixed when the first session starts it.
  const { intraOpNumThreads, ...rest } = options;
  if (intraOpNumThreads !== undefined) setWasmThreads(intraOpNumThreads);
  beforeFirstSession();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, rest);
  } catch (error) {
    throw explain(error);
  }
  markWasmStarted();
  const wantsGpu = rest.executionProviders?.some((p) => p === 'webgpu');
  if (wantsGpu && !webgpuDeviceStarted()) {
    await session.release();
    throw new Error('onnxruntime-web created the session without a WebGPU device (it fell back)');
  }
  return session;
}

/** The backend over `onnxruntime-web`. */
export const webBackend: RuntimeBackend = Object.freeze({
  kind: 'web' as const,
  readModel,
  probeProvider,
  checkExternalData: () =>
    Promise.reject(
      // TODO(#8): fetch external data files beside the model URL and pass them to onnxruntime-web.
      new Error('models with external data are not supported in the browser build yet'),
    ),
  createSession,
  toOrtTensor: (t: Tensor) =>
    new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims as number[]),
  preprocessInto,
  versions: () => ({
    ortlab: ORTLAB_VERSION,
    'onnxruntime-web': ort.env.versions.web ?? 'unknown',
  }),
});
