/**
 * The Node backend: `onnxruntime-node` sessions, models read from the file system.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

import type { RuntimeBackend } from './backend.js';
import type { ImageSource } from './datasets/types.js';
import type { ExecutionProviderName } from './execution-providers.js';
import { log } from './logger.js';
import { preprocessInto } from './preprocess/image-node.js';
import { PreprocessPool, type PreprocessPoolOptions } from './preprocess/pool-node.js';
import type { ResolvedPreset } from './preprocess/presets.js';
import type { Tensor } from './tensor.js';
import { probeWebGpuNode } from './webgpu-probe-node.js';

const require = createRequire(import.meta.url);

// onnxruntime prints its own error when a provider library is missing; ortlab reports each
// provider that did not start, with the reason, through its logger instead. Verbose ortlab
// logging brings onnxruntime's messages back.
ort.env.logLevel = process.env.ORTLAB_LOG_LEVEL === 'verbose' ? 'warning' : 'fatal';

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function readModel(location: string): Promise<Uint8Array> {
  const resolved = path.resolve(location);
  let info;
  try {
    info = await stat(resolved);
  } catch {
    throw new Error(`model file '${location}' not found (looked for ${resolved}); check the path`);
  }
  if (info.isDirectory()) {
    throw new Error(`model path '${location}' is a folder; pass the .onnx file inside it`);
  }
  return new Uint8Array(await readFile(resolved));
}

async function checkExternalData(
  location: string | undefined,
  references: readonly { tensor: string; location: string }[],
): Promise<void> {
  if (location === undefined) {
    const first = references[0];
    throw new Error(
      `the model bytes refer to external data ('${first.location}' for tensor ` +
        `'${first.tensor}'); create the session from the model's path so that ortlab reads it ` +
        "from the model's folder",
    );
  }
  const folder = await realpath(path.dirname(path.resolve(location)));
  for (const ref of references) {
    const file = path.resolve(folder, ref.location);
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      throw new Error(
        `${location}: external data file '${ref.location}' of tensor '${ref.tensor}' is ` +
          `missing (looked for ${file}); copy it beside the model`,
      );
    }
    if (!real.startsWith(folder + path.sep)) {
      throw new Error(
        `${location}: external data '${ref.location}' of tensor '${ref.tensor}' resolves to ` +
          `${real}, outside the model's folder ${folder}; ortlab reads external data only from ` +
          'the model folder: copy the file there',
      );
    }
  }
}

function workersFromEnvironment(): number | undefined {
  const text = process.env.ORTLAB_PREPROCESS_WORKERS;
  if (text === undefined || text === '') return undefined;
  const workers = Number(text);
  if (Number.isInteger(workers) && workers >= 0 && workers <= 256) return workers;
  log.warning(
    'preprocess',
    `ORTLAB_PREPROCESS_WORKERS must be an integer from 0 to 256, got '${text}'; using the ` +
      'default (one worker per core, none on two cores or fewer)',
  );
  return undefined;
}

let poolOptions: PreprocessPoolOptions = { workers: workersFromEnvironment() };
let pool: Promise<PreprocessPool> | undefined;

/** The pool behind `preprocessBatch`, started on first use; the main thread if it cannot start. */
function defaultPool(): Promise<PreprocessPool> {
  pool ??= PreprocessPool.create(poolOptions).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    log.warning('preprocess', `worker threads did not start (${reason}); preprocessing inline`);
    return PreprocessPool.create({ workers: 0 });
  });
  return pool;
}

/**
 * Sets the worker threads the Node backend preprocesses batches on, and starts them. The default
 * is `ORTLAB_PREPROCESS_WORKERS` when set, else `defaultPreprocessWorkers()` (one worker per
 * core, none on two cores or fewer); `{ workers: 0 }` preprocesses on the main thread. The
 * current pool is disposed. Without a call, the first batch starts the pool; calling it early
 * (without awaiting) overlaps the workers' start-up with other work, such as creating a session.
 * Idle workers never keep the process alive, so nothing needs disposing before exit.
 *
 * @example
 * ```ts
 * await configurePreprocessPool({ workers: 0 }); // everything on the main thread
 * ```
 */
export async function configurePreprocessPool(options: PreprocessPoolOptions = {}): Promise<void> {
  const previous = pool;
  pool = undefined;
  poolOptions = { ...options, workers: options.workers ?? workersFromEnvironment() };
  if (previous !== undefined) await (await previous).dispose();
  await defaultPool();
}

/** The worker threads the Node backend's preprocessing runs on (0: the main thread). */
export async function preprocessWorkerCount(): Promise<number> {
  return (await defaultPool()).size;
}

async function preprocessBatch(
  sources: readonly ImageSource[],
  preset: ResolvedPreset,
  out: Float32Array,
  options?: { maxPixels?: number },
): Promise<PromiseSettledResult<void>[]> {
  return (await defaultPool()).preprocessBatch(sources, preset, out, options);
}

/** The backend over `onnxruntime-node`. */
export const nodeBackend: RuntimeBackend = Object.freeze({
  kind: 'node' as const,
  readModel,
  checkExternalData,
  probeProvider: (name: ExecutionProviderName) =>
    name === 'webgpu' ? probeWebGpuNode() : Promise.resolve(undefined),
  createSession: (
    model: Uint8Array,
    location: string | undefined,
    options: ort.InferenceSession.SessionOptions,
  ) =>
    location === undefined
      ? ort.InferenceSession.create(model, options)
      : ort.InferenceSession.create(path.resolve(location), options),
  toOrtTensor: (t: Tensor) =>
    new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims as number[]),
  preprocessInto,
  preprocessBatch,
  warmPreprocessing: () => void defaultPool(),
  versions: () => ({
    'onnxruntime-node': packageVersion('onnxruntime-node'),
    sharp: sharp.versions.sharp ?? 'unknown',
    libvips: sharp.versions.vips,
    node: process.versions.node,
  }),
});
