/**
 * The browser backend: `onnxruntime-web` sessions (WebGPU or wasm), models and their external
 * data fetched by URL, images decoded by the browser and resampled by ortlab. onnxruntime-web may
 * fall back from WebGPU to wasm without a word; ortlab asks the browser for an adapter first, tries
 * one provider at a time, and checks that a WebGPU session really started a device.
 */
import * as ort from 'onnxruntime-web';

import type { RuntimeBackend } from './backend.js';
import type { ExecutionProviderName } from './execution-providers.js';
import { OnnxModel } from './onnx/model.js';
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

/** The URL of an external data file: beside the model (its location was checked to stay there). */
function besideModel(location: string, file: string): string {
  return new URL(file, new URL(location, globalThis.location?.href)).href;
}

/**
 * Checks that every external data file is served beside the model (a HEAD request each), so a
 * missing one is named before onnxruntime-web sees the model.
 */
async function checkExternalData(
  location: string | undefined,
  references: readonly { tensor: string; location: string }[],
): Promise<void> {
  if (location === undefined) {
    const first = references[0];
    throw new Error(
      `the model bytes refer to external data ('${first.location}' for tensor ` +
        `'${first.tensor}'); create the session from the model's URL so that ortlab fetches it ` +
        'from beside the model',
    );
  }
  for (const ref of references) {
    const url = besideModel(location, ref.location);
    const response = await fetch(url, { method: 'HEAD' }).catch(() => undefined);
    if (!response?.ok) {
      throw new Error(
        `${location}: external data '${ref.location}' of tensor '${ref.tensor}' could not be ` +
          `fetched from ${url} (${response ? `HTTP ${response.status}` : 'no answer'}); serve ` +
          'it beside the model',
      );
    }
  }
}

/** The external data files of a model at `location`, fetched for onnxruntime-web. */
async function externalFiles(
  model: Uint8Array,
  location: string,
): Promise<{ path: string; data: Uint8Array }[]> {
  const files = [
    ...new Set(
      OnnxModel.fromBytes(model)
        .externalData()
        .map((r) => r.location),
    ),
  ];
  return Promise.all(
    files.map(async (file) => {
      const response = await fetch(besideModel(location, file));
      if (!response.ok) {
        throw new Error(
          `${location}: external data '${file}' could not be fetched: HTTP ${response.status}`,
        );
      }
      return { path: file, data: new Uint8Array(await response.arrayBuffer()) };
    }),
  );
}

/** onnxruntime-web's message, with the fix first when it could not load its own wasm files. */
function explain(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const missing =
    /ort-wasm[\w.-]*\.(m?js|wasm)|dynamically imported module|expected magic word/i.test(message);
  if (!missing) return error instanceof Error ? error : new Error(message);
  const paths = ort.env.wasm.wasmPaths;
  const where = typeof paths === 'string' ? `'${paths}'` : "the bundle's folder";
  return new Error(
    `onnxruntime-web could not load its wasm files from ${where}: serve ` +
      'node_modules/onnxruntime-web/dist there or set configureWebRuntime({ wasmPaths }) ' +
      `(${message.split('\n')[0]})`,
  );
}

/** The tail of the page's queue of onnxruntime-web calls. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `call` after every onnxruntime-web call queued before it has settled. onnxruntime-web
 * does not take overlapping calls: it starts its wasm runtime inside the first session of each
 * provider name ('webgpu', 'wasm') and refuses a second start while one runs ("multiple calls
 * to 'initWasm()'"), and its WebGPU runs suspend the wasm module, so a second session's call in
 * between fails ("Session mismatch"). A page that opens a WebGPU and a wasm session together, or
 * runs two models at once, would lose one. wasm runs hold the thread from start to end anyway,
 * so the queue costs them nothing.
 */
function exclusive<T>(call: () => Promise<T>): Promise<T> {
  const result = queue.then(call);
  queue = result.catch(() => undefined);
  return result;
}

/** `session` with its runs and its release through the page's queue. */
function queued(session: ort.InferenceSession): ort.InferenceSession {
  const run = session.run.bind(session);
  const release = session.release.bind(session);
  session.run = ((...args: Parameters<typeof run>) =>
    exclusive(() => run(...args))) as typeof session.run;
  session.release = () => exclusive(release);
  return session;
}

async function createSession(
  model: Uint8Array,
  location: string | undefined,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  const { intraOpNumThreads, ...rest } = options;
  if (location !== undefined) rest.externalData = await externalFiles(model, location);
  let session: ort.InferenceSession;
  try {
    session = await exclusive(() => {
      // The wasm thread pool is global and fixed when the first session starts it.
      if (intraOpNumThreads !== undefined) setWasmThreads(intraOpNumThreads);
      beforeFirstSession();
      return ort.InferenceSession.create(model, rest);
    });
  } catch (error) {
    throw explain(error);
  }
  markWasmStarted();
  const wantsGpu = rest.executionProviders?.some((p) => p === 'webgpu');
  if (wantsGpu && !webgpuDeviceStarted()) {
    await exclusive(() => session.release());
    throw new Error('onnxruntime-web created the session without a WebGPU device (it fell back)');
  }
  return queued(session);
}

/** The backend over `onnxruntime-web`. */
export const webBackend: RuntimeBackend = Object.freeze({
  kind: 'web' as const,
  readModel,
  probeProvider,
  checkExternalData,
  createSession,
  toOrtTensor: (t: Tensor) =>
    new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims as number[]),
  preprocessInto,
  versions: () => ({
    ortlab: ORTLAB_VERSION,
    'onnxruntime-web': ort.env.versions.web ?? 'unknown',
  }),
});
