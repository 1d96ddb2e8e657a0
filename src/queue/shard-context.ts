/**
 * What a worker process lends to every shard it runs: the roots it may read, its open sessions,
 * and a progress callback that reaches the queue.
 */
import os from 'node:os';

import type { ProgressCallback } from '../runtime/progress.js';
import type { PathMap } from './path-map.js';
import type { WorkerRoots } from './roots.js';
import type { SessionCache } from './session-cache.js';

/** Environment variables through which `ortlab worker` configures its sandboxed processes. */
export const WORKER_ENV = {
  /** JSON list of the folders the worker may read. */
  roots: 'ORTLAB_WORKER_ROOTS',
  /** Milliseconds an unused session stays open. */
  idleMs: 'ORTLAB_WORKER_IDLE_MS',
  /** JSON list of `{ from, to }`: the submitter's folders and where the worker sees them. */
  pathMap: 'ORTLAB_WORKER_PATH_MAP',
} as const;

/** The worker's side of a shard. */
export interface ShardContext {
  roots: WorkerRoots;
  /** Where this worker sees the submitter's folders; the job's task is mapped already. */
  paths: PathMap;
  sessions: SessionCache;
  onProgress?: ProgressCallback;
}

/** Who merged or ran the shards, for the report's `config.queue`. */
export interface QueueInfo {
  submission: string;
  shards: number;
  /** Host names of the machines that ran shards, sorted. */
  workers: string[];
}

/** This machine's name, as a report lists it. */
export function workerHost(): string {
  return os.hostname();
}

/** `config.queue` of a merged report. */
export function queueInfo(
  submission: string,
  shards: number,
  hosts: readonly (string | undefined)[],
): QueueInfo {
  const workers = [...new Set(hosts.filter((h): h is string => typeof h === 'string'))].sort();
  return { submission, shards, workers };
}

/** The range `[from, to)` of `size` items that shard `index` of `count` takes (rank: models). */
export function sliceOf(size: number, shard: { index: number; count: number }): [number, number] {
  return [
    Math.floor((shard.index * size) / shard.count),
    Math.floor(((shard.index + 1) * size) / shard.count),
  ];
}
