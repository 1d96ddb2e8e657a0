/**
 * Following a submission to its end: progress while the shards run, then the merged report
 * written and printed as the local command writes and prints it, or the failed shards with their
 * errors.
 */
import type { MergedEval } from '../queue/eval-shards.js';
import type { MergedRank } from '../queue/rank-shards.js';
import type { RedisTarget } from '../queue/redis-url.js';
import type { MergedRetrieval } from '../queue/retrieval-shards.js';
import {
  mergedResult,
  openQueue,
  submissionStatus,
  type SubmissionStatus,
} from '../queue/status.js';
import type { MergedSuite } from '../queue/suite-shards.js';
import { presentEval, type Output } from './commands.js';
import { progressBar } from './progress-bar.js';
import { presentRetrieval } from './retrieval-command.js';
import { presentReport } from './robustness-command.js';
import { presentRank } from './search-command.js';

/** A submission's merged result, by kind. */
export type MergedResult = MergedSuite | MergedEval | MergedRank | MergedRetrieval;

/** How the local command would write and print the result. */
export interface PresentArgs {
  out?: string;
  json?: boolean;
  progress?: boolean;
}

/** Writes and prints a merged result as the command that was submitted does. */
export async function presentMerged(
  merged: MergedResult,
  args: PresentArgs,
  io: Output,
): Promise<void> {
  if (merged.kind === 'suite') {
    return presentReport(merged.report, new Map(merged.thumbnails), args, io);
  }
  if (merged.kind === 'rank') return presentRank(merged.report, args, io);
  if (merged.kind === 'retrieval') {
    const { html } = merged;
    return presentRetrieval(merged.report, () => Promise.resolve(html), args, io);
  }
  presentEval(merged.report, { ...args, model: merged.report.config.model.path, data: '' }, io);
}

/** Why a submission failed: each failed shard with its error, else the merge's error. */
export function failureMessage(status: SubmissionStatus): string {
  const failed = status.shardStates.filter((s) => s.state === 'failed');
  const lines = failed.map(
    (s) =>
      `  shard ${s.index}/${status.shards} failed after ${s.attemptsMade} attempt(s): ${s.error}`,
  );
  if (lines.length === 0) lines.push(`  merge failed: ${status.error ?? 'no reason recorded'}`);
  return `submission ${status.submission} failed:\n${lines.join('\n')}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls the submission until it is done or failed, drawing progress by shard.
 * @throws Error listing the failed shards and their errors when it failed.
 */
export async function waitAndPresent(
  target: RedisTarget,
  submission: string,
  args: PresentArgs,
  io: Output,
  pollMs = 300,
): Promise<void> {
  const queue = openQueue(target);
  const bar = args.progress === false ? undefined : progressBar();
  try {
    let shown = -1;
    for (;;) {
      const status = await submissionStatus(queue, submission);
      if (!status) throw new Error(`submission ${submission} is no longer on ${target.url}`);
      if (shown < 0) bar?.({ status: 'initiate', task: 'shards', total: status.shards });
      if (status.done !== shown) {
        shown = status.done;
        bar?.({ status: 'progress', task: 'shards', done: shown, total: status.shards });
      }
      if (status.state === 'failed') throw new Error(failureMessage(status));
      if (status.state === 'done') {
        bar?.({ status: 'done', task: 'shards', done: status.shards, total: status.shards });
        const merged = await mergedResult<MergedResult>(queue, submission);
        if (!merged) throw new Error(`submission ${submission} finished without a result`);
        return await presentMerged(merged, args, io);
      }
      await sleep(pollMs);
    }
  } finally {
    await queue.close();
  }
}
