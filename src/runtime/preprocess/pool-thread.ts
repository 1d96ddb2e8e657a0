/**
 * The boundary between the preprocessing pool and its worker threads: how a worker is started
 * (from dist/ or, under tsx, from the TypeScript sources) and what crosses to and from it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { ImageSource } from '../datasets/types.js';
import { ImageDecodeError } from './image-node.js';
import type { ResolvedPreset } from './presets.js';

/** Work as a worker receives it. */
export interface PoolRequest {
  type: 'batch';
  id: number;
  sources: ImageSource[];
  /** Where each source goes in `out`. */
  offsets: number[];
  preset: ResolvedPreset;
  /** A view of a `SharedArrayBuffer`. */
  out: Float32Array;
  /** `[next source to claim]`, shared by every worker the request went to. */
  claim: Int32Array;
  maxPixels?: number;
  /** Sources each worker keeps in flight. */
  lanes: number;
}

/** A source that failed in a worker, as plain data. */
export interface RemoteFailure {
  /** Position in the request's `sources`. */
  index: number;
  name: string;
  message: string;
  stack?: string;
  /** `ImageDecodeError.source`. */
  source?: string;
}

/** What a worker sends back. */
export type PoolReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; failures: RemoteFailure[]; processed: number }
  | (RemoteFailure & { type: 'crash'; id: number });

const RUNNING_FROM_TYPESCRIPT = import.meta.url.endsWith('.ts');

/**
 * Starts one worker on pool-worker.js beside this file. From the TypeScript sources (tests, the
 * benchmarks under tsx) a worker does not inherit tsx's module hooks, so it registers them
 * before it imports pool-worker.ts.
 */
export function startWorker(): Worker {
  const entry = new URL(`./pool-worker.${RUNNING_FROM_TYPESCRIPT ? 'ts' : 'js'}`, import.meta.url);
  // A worker inherits the parent's flags, but refuses `--input-type` (`node --input-type=module
  // -e ...`) for a file entry.
  const execArgv = process.execArgv.filter((flag, i, all) => {
    return !flag.startsWith('--input-type') && all[i - 1] !== '--input-type';
  });
  if (!RUNNING_FROM_TYPESCRIPT) return new Worker(entry, { execArgv });
  const boot =
    `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); ` +
    `return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, execArgv });
}

/**
 * The URL of tsx's ESM register API (`tsx/esm/api`, import condition), found through tsx's
 * package.json: under mocha tsx compiles this file to CommonJS, which has no
 * `import.meta.resolve`, and `require.resolve` would pick the CommonJS build.
 */
function tsxApi(): string {
  try {
    const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
    const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      exports: Record<string, { import?: { default?: string } }>;
    };
    const target = exports['./esm/api']?.import?.default;
    if (target === undefined) throw new Error("tsx's package.json has no './esm/api' export");
    return pathToFileURL(path.join(path.dirname(manifest), target)).href;
  } catch (error) {
    throw new Error(
      'ortlab runs from its TypeScript sources, but tsx cannot be loaded in the preprocessing ' +
        `workers (${error instanceof Error ? error.message : String(error)}): install tsx, or ` +
        'run the built package (dist/)',
    );
  }
}

/** A copy of the pixels when they are a view into a larger buffer, which would be cloned whole. */
export function portable(source: ImageSource): ImageSource {
  if (source.kind === 'file') return source;
  const { data } = source;
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
    ? source
    : { ...source, data: data.slice() };
}

/** An error thrown in a worker, as plain data that a message can carry. */
export function describeFailure(index: number, error: unknown): RemoteFailure {
  if (error instanceof Error) {
    const source = (error as { source?: unknown }).source;
    return {
      index,
      name: error.name,
      message: error.message,
      stack: error.stack,
      source: typeof source === 'string' ? source : undefined,
    };
  }
  return { index, name: 'Error', message: String(error) };
}

/** The error a worker reported, rebuilt with the same class, message and stack. */
export function rebuildFailure(failure: RemoteFailure): Error {
  let error: Error;
  if (failure.name === 'ImageDecodeError' && failure.source !== undefined) {
    const prefix = `${failure.source}: `;
    const reason = failure.message.startsWith(prefix)
      ? failure.message.slice(prefix.length)
      : failure.message;
    error = new ImageDecodeError(failure.source, reason);
  } else {
    error = new Error(failure.message);
    error.name = failure.name;
  }
  if (failure.stack !== undefined) error.stack = failure.stack;
  return error;
}
