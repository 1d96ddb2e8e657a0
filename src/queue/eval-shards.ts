/**
 * `ortlab eval` on the queue: a shard counts top-k over whole batches of the dataset; the merge
 * sums the counts into the report one run prints.
 */
import { evalOptions, evalReport, type EvalArgs, type EvalReport } from '../cli/commands.js';
import { evaluateClassifier, mergeClassifyResults, type ClassifyResult } from '../eval/classify.js';
import { checkDataStamp, dataStamp, shardRange } from '../eval/robustness.js';
import { openDataset } from '../runtime/datasets/open-dataset.js';
import { runConfig } from '../runtime/run-config.js';
import type { EvalTask } from './jobs.js';
import { queueInfo, workerHost, type ShardContext } from './shard-context.js';

/** What an eval shard returns. */
export interface EvalShardResult {
  kind: 'eval';
  shard: number;
  result: ClassifyResult;
  report: EvalReport;
  worker: string;
}

/** The merged report, as `ortlab eval --json` prints it. */
export interface MergedEval {
  kind: 'eval';
  report: EvalReport;
}

/** Scores shard `shard` of the task's dataset. */
export async function runEvalShard(
  task: EvalTask,
  shard: { index: number; count: number },
  context: ShardContext,
): Promise<EvalShardResult> {
  await context.roots.check(task.model, 'model');
  await context.roots.checkData(task.data, 'data');
  const args: EvalArgs = { ...task.args, model: task.model, data: task.data, progress: false };
  const options = await evalOptions(args);
  const dataset = await openDataset(task.data);
  const where = `data '${task.data}' on this worker (${workerHost()})`;
  checkDataStamp(await dataStamp(dataset), task.dataStamp, where);
  await context.roots.checkDataset(dataset, `data '${task.data}'`);
  const [start, end] = shardRange(dataset.size, options.batchSize ?? 32, shard);
  const session = await context.sessions.acquire(task.model, task.modelSha256, task.args);
  try {
    const result = await evaluateClassifier(session, dataset, {
      ...options,
      start,
      end,
      onProgress: context.onProgress,
    });
    const report = evalReport(result, dataset, runConfig(session, task.model, task.args.threads));
    return { kind: 'eval', shard: shard.index, result, report, worker: workerHost() };
  } finally {
    context.sessions.release(session);
  }
}

/** Merges every shard of a submission (in shard order) into the report of one run. */
export function mergeEvalShards(
  results: readonly EvalShardResult[],
  submission: string,
): MergedEval {
  const merged = mergeClassifyResults(results.map((r) => r.result));
  const first = results[0].report;
  const hosts = results.map((r) => r.worker);
  return {
    kind: 'eval',
    report: {
      ...first,
      n: merged.n,
      top1: merged.top1,
      top5: merged.top5,
      skipped: merged.skipped,
      config: { ...first.config, queue: queueInfo(submission, results.length, hosts) },
    },
  };
}
