/**
 * Queues a submission: one `shard` job per shard and a `merge` job that BullMQ starts once every
 * shard is done (a flow). A shard that keeps failing fails its submission after `attempts` tries
 * instead of being retried forever.
 */
import { randomBytes } from 'node:crypto';
import { FlowProducer } from 'bullmq';

import {
  QUEUE_NAME,
  checkTask,
  mergeJobId,
  shardJobId,
  type MergeJobData,
  type ShardJobData,
  type Task,
} from './jobs.js';
import type { RedisTarget } from './redis-url.js';

/** Options of `submitTask`. */
export interface SubmitOptions {
  /** Shards to cut the work into. */
  shards: number;
  /** Tries per job before it counts as failed (default 3). */
  attempts?: number;
  /** The command line, shown by `ortlab status`. */
  command: string;
  /** The submission's id (default a new one: time and random bytes). */
  submission?: string;
}

/** A new submission id: sortable by time, unique across machines. */
export function newSubmissionId(): string {
  return `s${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Queues `task` in `options.shards` shards and a merge.
 * @returns the submission id.
 * @throws RangeError for a shard or attempt count that is not a positive integer.
 */
export async function submitTask(
  target: RedisTarget,
  task: Task,
  options: SubmitOptions,
): Promise<string> {
  const { shards } = options;
  const attempts = options.attempts ?? 3;
  if (!(Number.isInteger(shards) && shards >= 1 && shards <= 100_000)) {
    throw new RangeError(`--shards takes a whole number from 1 to 100000, got ${shards}`);
  }
  if (!(Number.isInteger(attempts) && attempts >= 1)) {
    throw new RangeError(`--attempts takes a positive integer, got ${attempts}`);
  }
  checkTask(task);
  const submission = options.submission ?? newSubmissionId();
  const retry = { attempts, backoff: { type: 'exponential', delay: 1000 } };
  const children = Array.from({ length: shards }, (_, index) => {
    const data: ShardJobData = { ortlabJob: 1, submission, shard: { index, count: shards }, task };
    return {
      name: 'shard',
      queueName: QUEUE_NAME,
      data,
      opts: { jobId: shardJobId(submission, index), failParentOnFailure: true, ...retry },
    };
  });
  const data: MergeJobData = { ortlabJob: 1, submission, shards, task, command: options.command };
  const producer = new FlowProducer({ connection: target.options });
  producer.on('error', () => undefined);
  try {
    await producer.add({
      name: 'merge',
      queueName: QUEUE_NAME,
      data,
      opts: { jobId: mergeJobId(submission), ...retry },
      children,
    });
  } finally {
    await producer.close();
  }
  return submission;
}
