/**
 * Robustness suites on the queue: a shard scores the same slice of every split that
 * `ortlab robustness --shard i/n` scores; the merge builds the report of one run from them.
 */
import {
  executeSuite,
  imagenetSuite,
  suiteForEval,
  type RobustnessArgs,
} from '../cli/robustness-command.js';
import { collectThumbnails } from '../cli/report-files.js';
import { buildReport, mergeRuns, type RobustnessReport } from '../eval/report.js';
import { openRunDatasets, type SuiteRun } from '../eval/robustness.js';
import { loadSuite, type SuiteConfig, type SuiteSplit } from '../eval/suite.js';
import type { SuiteTask } from './jobs.js';
import type { WorkerRoots } from './roots.js';
import { queueInfo, workerHost, type ShardContext } from './shard-context.js';

/** What a suite shard returns. */
export interface SuiteShardResult {
  kind: 'suite';
  shard: number;
  run: SuiteRun;
  config: Record<string, unknown>;
}

/** The merged report, with the thumbnails of its mistakes (data: URIs by thumbnail key). */
export interface MergedSuite {
  kind: 'suite';
  report: RobustnessReport;
  thumbnails: [string, string][];
}

async function checkSplits(splits: readonly SuiteSplit[], roots: WorkerRoots): Promise<void> {
  for (const split of splits) {
    await roots.checkData(split.data, `data of split '${split.name}'`);
    if (typeof split.classMap === 'string') {
      await roots.check(split.classMap, `class map of split '${split.name}'`);
    }
  }
}

/**
 * The task's suite (paths in a suite file mapped as the task's are), every path in it checked
 * against the worker's roots.
 */
async function suiteOf(task: SuiteTask, context: ShardContext): Promise<SuiteConfig> {
  const { roots } = context;
  const source = task.source;
  let suite: SuiteConfig;
  if ('config' in source) {
    await roots.check(source.config, 'suite configuration');
    suite = context.paths.apply(await loadSuite(source.config));
  } else if ('flags' in source) {
    suite = imagenetSuite(source.flags);
  } else {
    suite = suiteForEval(source.eval.data, source.eval.kind, source.eval.val);
  }
  await checkSplits(suite.splits, roots);
  return suite;
}

/** Scores shard `shard` of the task's suite. */
export async function runSuiteShard(
  task: SuiteTask,
  shard: { index: number; count: number },
  context: ShardContext,
): Promise<SuiteShardResult> {
  await context.roots.check(task.model, 'model');
  const suite = await suiteOf(task, context);
  const session = await context.sessions.acquire(task.model, task.modelSha256, task.args);
  try {
    const args: RobustnessArgs = { ...task.args, model: task.model, progress: false };
    const { run, config } = await executeSuite(session, suite, args, {
      shard,
      onProgress: context.onProgress,
      expectData: task.dataStamps,
      checkDataset: (dataset, split) =>
        context.roots.checkDataset(dataset, `data of split '${split.name}'`),
    });
    return { kind: 'suite', shard: shard.index, run, config: { ...config, worker: workerHost() } };
  } finally {
    context.sessions.release(session);
  }
}

/**
 * Merges every shard of a submission (in shard order) into the report and thumbnails that one
 * uninterrupted run gives.
 */
export async function mergeSuiteShards(
  results: readonly SuiteShardResult[],
  task: SuiteTask,
  submission: string,
  context: ShardContext,
): Promise<MergedSuite> {
  const merged = mergeRuns(results.map((r) => r.run));
  // The splits where this worker sees them (the shards' workers may map paths otherwise).
  const here = new Map((await suiteOf(task, context)).splits.map((s) => [s.name, s]));
  const run = {
    ...merged,
    splits: merged.splits.map((s) => ({ ...s, source: here.get(s.name) ?? s.source })),
  };
  const first = { ...results[0].config };
  delete first.worker;
  const hosts = results.map((r) => r.config.worker as string | undefined);
  const config = { ...first, shard: null, queue: queueInfo(submission, results.length, hosts) };
  const report = buildReport(run, config);
  const thumbnails = await collectThumbnails(report, await openRunDatasets(run));
  return { kind: 'suite', report, thumbnails: [...thumbnails] };
}
