/**
 * Progress of submissions, read from the queue: per shard its state, worker, attempts, progress
 * and error; per submission the shards done and failed, the rate and the time left.
 */
import { Job, Queue } from 'bullmq';

import { QUEUE_NAME, mergeJobId, shardJobId, type MergeJobData } from './jobs.js';
import { decodeResult } from './result-codec.js';
import type { RedisTarget } from './redis-url.js';

/** One shard of a submission. */
export interface ShardStatus {
  index: number;
  /** BullMQ's state: waiting, active, delayed (waiting to be retried), completed, failed. */
  state: string;
  /** The worker that ran (or runs) it last. */
  worker?: string;
  /** Times a worker started it (a worker killed mid-shard counts). */
  attemptsStarted: number;
  /** Tries that ended in an error. */
  attemptsMade: number;
  /** What it is doing, from the worker: `{ task, done, total }`. */
  progress?: { task?: string; done?: number; total?: number | null };
  /** The last error, for a shard that failed or is waiting for a retry. */
  error?: string;
  startedAt?: number;
  finishedAt?: number;
}

/** One submission. */
export interface SubmissionStatus {
  submission: string;
  command: string;
  shards: number;
  done: number;
  failed: number;
  active: number;
  /** queued, running, merging, done or failed. */
  state: 'queued' | 'running' | 'merging' | 'done' | 'failed';
  submittedAt: number;
  /** Shards finished per second since the first one started. */
  rate: number;
  /** Seconds until every shard is done at that rate (NaN before the first finishes). */
  etaSeconds: number;
  /** Why the submission failed: its merge's error (a shard's failure names that shard). */
  error?: string;
  shardStates: ShardStatus[];
}

/** The queue's jobs, read through a connection of their own. */
export function openQueue(target: RedisTarget): Queue {
  const queue = new Queue(QUEUE_NAME, { connection: target.options });
  queue.on('error', () => undefined);
  return queue;
}

function shardStatus(index: number, job: Job | undefined, state: string): ShardStatus {
  if (!job) return { index, state: 'unknown', attemptsStarted: 0, attemptsMade: 0 };
  const progress = typeof job.progress === 'object' ? job.progress : undefined;
  return {
    index,
    state,
    worker: job.processedBy,
    attemptsStarted: job.attemptsStarted ?? 0,
    attemptsMade: job.attemptsMade,
    progress,
    error: job.failedReason || undefined,
    startedAt: job.processedOn,
    finishedAt: job.finishedOn,
  };
}

function phase(mergeState: string, shards: ShardStatus[]): SubmissionStatus['state'] {
  if (mergeState === 'completed') return 'done';
  if (mergeState === 'failed') return 'failed';
  if (mergeState === 'active') return 'merging';
  return shards.some((s) => s.startedAt !== undefined) ? 'running' : 'queued';
}

/** The status of `submission`, or undefined when the queue does not hold it. */
export async function submissionStatus(
  queue: Queue,
  submission: string,
  now = Date.now(),
): Promise<SubmissionStatus | undefined> {
  const merge = await Job.fromId<MergeJobData>(queue, mergeJobId(submission));
  if (!merge) return undefined;
  // The merge's state first: a merge that failed or finished did so after its shards, so the
  // shards read next show why (a shard that fails fails its merge between two reads).
  const mergeState = await merge.getState();
  const count = merge.data.shards;
  const jobs = await Promise.all(
    Array.from({ length: count }, (_, i) => Job.fromId(queue, shardJobId(submission, i))),
  );
  const states = await Promise.all(jobs.map(async (j) => (j ? j.getState() : 'unknown')));
  const shardStates = jobs.map((job, i) => shardStatus(i, job, states[i]));
  const done = states.filter((s) => s === 'completed').length;
  const failed = states.filter((s) => s === 'failed').length;
  const active = states.filter((s) => s === 'active').length;
  const started = Math.min(...shardStates.map((s) => s.startedAt ?? Infinity));
  const ended = shardStates.every((s) => s.finishedAt !== undefined)
    ? Math.max(...shardStates.map((s) => s.finishedAt ?? 0))
    : now;
  const elapsed = (ended - started) / 1000;
  const rate = done > 0 && elapsed > 0 ? done / elapsed : 0;
  return {
    submission,
    command: merge.data.command,
    shards: count,
    done,
    failed,
    active,
    state: phase(mergeState, shardStates),
    submittedAt: merge.timestamp,
    rate,
    etaSeconds: rate > 0 ? (count - done - failed) / rate : NaN,
    error: mergeState === 'failed' ? merge.failedReason : undefined,
    shardStates,
  };
}

/** Every submission the queue holds, oldest first. */
export async function listSubmissions(queue: Queue): Promise<SubmissionStatus[]> {
  const merges = await queue.getJobs(
    ['waiting-children', 'waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'],
    0,
    -1,
  );
  const ids = merges
    .filter((job) => job?.name === 'merge')
    .map((job) => (job.data as MergeJobData).submission);
  const statuses = await Promise.all([...new Set(ids)].map((id) => submissionStatus(queue, id)));
  return statuses
    .filter((s): s is SubmissionStatus => s !== undefined)
    .sort((a, b) => a.submittedAt - b.submittedAt);
}

/** The merged result of a finished submission, or undefined while it is not done. */
export async function mergedResult<T>(queue: Queue, submission: string): Promise<T | undefined> {
  const merge = await Job.fromId(queue, mergeJobId(submission));
  if (!merge || (await merge.getState()) !== 'completed') return undefined;
  return decodeResult<T>(merge.returnvalue);
}

/**
 * Removes a submission, its shards and their results from the queue (Redis keeps them until
 * then, about 0.2 kB per image for a suite).
 * @returns false when the queue does not hold it.
 * @throws Error when one of its jobs is running (locked by a worker).
 */
export async function removeSubmission(queue: Queue, submission: string): Promise<boolean> {
  const merge = await Job.fromId(queue, mergeJobId(submission));
  if (!merge) return false;
  const removed = await queue.remove(mergeJobId(submission), { removeChildren: true });
  if (removed !== 1) {
    throw new Error(
      `submission ${submission} has a job in progress; remove it once it is done or failed`,
    );
  }
  return true;
}
