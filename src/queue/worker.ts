/**
 * A queue worker: takes shard and merge jobs from Redis and runs each in a sandboxed process
 * (`processor.ts`), so that lock renewals and stalled-job checks go on while a shard computes.
 * A worker killed mid-shard stops renewing its lock; after `lockDurationMs` another worker's
 * stalled-job check puts the shard back in the queue and it is run again from the start.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';

import { log } from '../runtime/logger.js';
import { QUEUE_NAME } from './jobs.js';
import type { PathMapping } from './path-map.js';
import type { RedisTarget } from './redis-url.js';
import { WorkerRoots } from './roots.js';
import { WORKER_ENV } from './shard-context.js';

/** Options of `startWorker`. */
export interface QueueWorkerOptions {
  /** Folders the worker may read models and data from (default: the current directory). */
  roots?: readonly string[];
  /** Jobs run at once, each in its own process (default 1). */
  concurrency?: number;
  /** How long a job's lock lasts without renewal, in ms (default 30000). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs, in ms (default 30000). */
  stalledIntervalMs?: number;
  /** How long an unused session stays open in a worker process, in ms (default 60000). */
  idleReleaseMs?: number;
  /** The worker's name in job records (default `host:pid`). */
  name?: string;
  /** The submitters' folders and where this worker sees them (`--map FROM=TO`). */
  pathMap?: readonly PathMapping[];
}

/** A running worker. */
export interface QueueWorker {
  readonly name: string;
  readonly roots: readonly string[];
  readonly pathMap: readonly PathMapping[];
  /** BullMQ's worker, for its events (`completed`, `failed`, `stalled`, `error`). */
  readonly worker: Worker;
  /** Finishes the jobs in hand and stops; `force` abandons them (they are retried elsewhere). */
  close(force?: boolean): Promise<void>;
}

/** The processor file next to this module (`.ts` when run from source under tsx). */
function processorFile(): string {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`./processor${extension}`, import.meta.url));
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(Number.isInteger(v) && v >= 1)) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return v;
}

/**
 * Starts a worker on `target`'s queue. Check the connection first (`checkRedis`): BullMQ keeps
 * retrying a connection that fails.
 * @throws Error naming a root that does not exist; RangeError for an option out of range.
 */
export async function startWorker(
  target: RedisTarget,
  options: QueueWorkerOptions = {},
): Promise<QueueWorker> {
  const roots = await WorkerRoots.create(options.roots ?? [process.cwd()]);
  const pathMap = options.pathMap ?? [];
  for (const { to } of pathMap) {
    if (!(await stat(to).catch(() => undefined))?.isDirectory()) {
      throw new Error(`--map: folder '${to}' does not exist on this worker; check the mapping`);
    }
  }
  const lockDuration = positive('lockDurationMs', options.lockDurationMs, 30_000);
  const stalledInterval = positive('stalledIntervalMs', options.stalledIntervalMs, 30_000);
  const idle = options.idleReleaseMs ?? 60_000;
  if (!(idle >= 0)) throw new RangeError(`idleReleaseMs must be >= 0, got ${idle}`);
  const name = options.name ?? `${os.hostname()}:${process.pid}`;
  const worker = new Worker(QUEUE_NAME, processorFile(), {
    connection: target.options,
    name,
    concurrency: positive('concurrency', options.concurrency, 1),
    lockDuration,
    stalledInterval,
    // A job caught by two worker deaths in a row still gets a third try before it fails.
    maxStalledCount: 2,
    workerForkOptions: {
      env: {
        ...process.env,
        [WORKER_ENV.roots]: JSON.stringify(roots.dirs),
        [WORKER_ENV.idleMs]: String(idle),
        [WORKER_ENV.pathMap]: JSON.stringify(pathMap),
      },
    },
  });
  worker.on('error', (error) => log.warning('queue', () => `${target.url}: ${error.message}`));
  return {
    name,
    roots: roots.dirs,
    pathMap,
    worker,
    close: (force?: boolean) => worker.close(force),
  };
}
