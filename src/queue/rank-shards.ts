/**
 * `ortlab search rank` on the queue: a shard measures the flatness of a slice of the manifest's
 * models; the merge ranks all of them, as one run does.
 */
import { readFile } from 'node:fs/promises';

import { checkDataStamp, dataStamp } from '../eval/robustness.js';
import { openDataset } from '../runtime/datasets/open-dataset.js';
import type { RankedModel } from '../search/rank.js';
import {
  loadRankData,
  measureRankModels,
  planRanking,
  rankModelFile,
  rankReport,
  type RankPlan,
  type RankReport,
} from '../search/rank-manifest.js';
import { sha256 } from '../runtime/run-config.js';
import type { RankTask } from './jobs.js';
import { queueInfo, sliceOf, workerHost, type ShardContext } from './shard-context.js';

/** What a rank shard returns. */
export interface RankShardResult {
  kind: 'rank';
  shard: number;
  models: RankedModel[];
  /** Validation samples every model was measured on. */
  samples: number;
  worker: string;
}

/** The merged report, as `rank.json` holds it. */
export interface MergedRank {
  kind: 'rank';
  report: RankReport;
}

/** The task's plan, after checking the manifest's path, hash and model count. */
async function planOf(task: RankTask, context: ShardContext): Promise<RankPlan> {
  const { roots, paths } = context;
  await roots.check(task.manifest, 'manifest');
  const found = sha256(new Uint8Array(await readFile(task.manifest)));
  if (found !== task.manifestSha256) {
    throw new Error(
      `manifest '${task.manifest}' on this worker (${workerHost()}) has sha256 ${found}, not ` +
        `the ${task.manifestSha256} it was submitted with: the worker sees a different file`,
    );
  }
  const plan = await planRanking(task.manifest, {
    ...task.args,
    mapPaths: (manifest) => paths.apply(manifest),
  });
  if (plan.manifest.models.length !== task.modelSha256.length) {
    throw new Error(
      `manifest '${task.manifest}' lists ${plan.manifest.models.length} models; the submission ` +
        `has hashes for ${task.modelSha256.length}`,
    );
  }
  await roots.checkData(plan.data, 'validation data');
  return plan;
}

/** Measures shard `shard` of the manifest's models. */
export async function runRankShard(
  task: RankTask,
  shard: { index: number; count: number },
  context: ShardContext,
): Promise<RankShardResult> {
  const plan = await planOf(task, context);
  const [from, to] = sliceOf(plan.manifest.models.length, shard);
  for (let n = from; n < to; n++) {
    await context.roots.check(rankModelFile(plan, n), `model '${plan.manifest.models[n].id}'`);
  }
  const dataset = await openDataset(plan.data);
  const where = `validation data '${plan.data}' on this worker (${workerHost()})`;
  checkDataStamp(await dataStamp(dataset), task.dataStamp, where);
  await context.roots.checkDataset(dataset, `validation data '${plan.data}'`);
  const data = await loadRankData(plan, dataset);
  const { models } = await measureRankModels(plan, data, {
    from,
    to,
    expectSha256: task.modelSha256,
    onProgress: context.onProgress,
  });
  return { kind: 'rank', shard: shard.index, models, samples: data.n, worker: workerHost() };
}

/** Ranks every shard's models (shard order is manifest order) as one run does. */
export async function mergeRankShards(
  results: readonly RankShardResult[],
  task: RankTask,
  submission: string,
  context: ShardContext,
): Promise<MergedRank> {
  const plan = await planOf(task, context);
  const samples = new Set(results.map((r) => r.samples));
  if (samples.size !== 1) {
    throw new Error(
      `shards measured on different numbers of validation samples (${[...samples].join(', ')}); ` +
        'every worker must see the same validation data',
    );
  }
  const report = rankReport(
    plan,
    results.flatMap((r) => r.models),
    results[0].samples,
  );
  const hosts = results.map((r) => r.worker);
  const queue = { ...queueInfo(submission, results.length, hosts) };
  return { kind: 'rank', report: { ...report, config: { ...report.config, queue } } };
}
