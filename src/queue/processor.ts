/**
 * The sandboxed processor of `ortlab worker`: BullMQ forks a process that loads this file and
 * hands it one job at a time, so inference never holds up the worker's own bookkeeping (lock
 * renewal, stalled-job checks). The process keeps its sessions between jobs and releases them
 * when idle. It reads its settings from the environment `ortlab worker` gives it.
 */
import type { SandboxedJob } from 'bullmq';

import '../index.js';
import type { ProgressCallback } from '../runtime/progress.js';
import { checkJobData, type MergeJobData, type ShardJobData } from './jobs.js';
import { encodeResult, type EncodedResult } from './result-codec.js';
import { collectShardResults } from './shard-results.js';
import { PathMap, type PathMapping } from './path-map.js';
import { WorkerRoots } from './roots.js';
import { SessionCache } from './session-cache.js';
import { mergeEvalShards, runEvalShard, type EvalShardResult } from './eval-shards.js';
import { mergeRankShards, runRankShard, type RankShardResult } from './rank-shards.js';
import {
  mergeRetrievalShards,
  runRetrievalShard,
  type RetrievalShardResult,
} from './retrieval-shards.js';
import { mergeSuiteShards, runSuiteShard, type SuiteShardResult } from './suite-shards.js';
import { WORKER_ENV, type ShardContext } from './shard-context.js';

type ShardResult = SuiteShardResult | EvalShardResult | RankShardResult | RetrievalShardResult;

// Forked by a worker that may die without notice (SIGKILL): go with it rather than run on.
if (process.send) process.on('disconnect', () => process.exit(1));

let context: Promise<ShardContext> | undefined;

async function createContext(): Promise<ShardContext> {
  const rootsText = process.env[WORKER_ENV.roots];
  if (!rootsText) {
    throw new Error(`this processor runs under 'ortlab worker' (${WORKER_ENV.roots} is not set)`);
  }
  const roots = await WorkerRoots.create(JSON.parse(rootsText) as string[]);
  const idle = process.env[WORKER_ENV.idleMs];
  const mappings = JSON.parse(process.env[WORKER_ENV.pathMap] ?? '[]') as PathMapping[];
  return {
    roots,
    paths: new PathMap(mappings),
    sessions: new SessionCache({ idleMs: idle ? Number(idle) : undefined }),
  };
}

/** Progress events to the job, at most twice a second (each one is a Redis write). */
function progressOf(job: SandboxedJob): ProgressCallback {
  let last = 0;
  return (event) => {
    if (event.status === 'initiate') return;
    const now = Date.now();
    if (event.status !== 'done' && now - last < 500) return;
    last = now;
    const progress = { task: event.task, done: event.done, total: event.total ?? null };
    job.updateProgress(progress).catch(() => undefined);
  };
}

async function runShard(data: ShardJobData, shared: ShardContext): Promise<ShardResult> {
  const { task, shard } = data;
  if (task.kind === 'suite') return runSuiteShard(task, shard, shared);
  if (task.kind === 'eval') return runEvalShard(task, shard, shared);
  if (task.kind === 'retrieval') return runRetrievalShard(task, shard, shared);
  return runRankShard(task, shard, shared);
}

async function merge(
  data: MergeJobData,
  values: Record<string, unknown>,
  shared: ShardContext,
): Promise<unknown> {
  const results = collectShardResults<ShardResult>(values, data.shards);
  const { task, submission } = data;
  if (task.kind === 'suite') {
    return mergeSuiteShards(results as SuiteShardResult[], task, submission, shared);
  }
  if (task.kind === 'eval') return mergeEvalShards(results as EvalShardResult[], submission);
  if (task.kind === 'retrieval') {
    return mergeRetrievalShards(results as RetrievalShardResult[], task, submission, shared);
  }
  return mergeRankShards(results as RankShardResult[], task, submission, shared);
}

/** Runs one `shard` or `merge` job; its result is stored encoded (see `result-codec.ts`). */
export default async function processJob(job: SandboxedJob): Promise<EncodedResult> {
  context ??= createContext();
  const shared = await context;
  const checked = checkJobData(job.name, job.data);
  const data = { ...checked, task: shared.paths.apply(checked.task) };
  if (job.name === 'shard') {
    const result = await runShard(data as ShardJobData, { ...shared, onProgress: progressOf(job) });
    return encodeResult(result);
  }
  const values = (await job.getChildrenValues()) as Record<string, unknown>;
  // The merged report names files as the submitter does, as a run on its machine would.
  const merged = await merge(data as MergeJobData, values, shared);
  return encodeResult(shared.paths.reversed().apply(merged));
}
