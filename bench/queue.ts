/**
 * The queue against one process, in the same run: the embedded robustness suite (what `ortlab
 * demo` runs, 14,171 images) on the bundled model, as one warm in-process run (suite, report,
 * thumbnails, as `ortlab robustness` does them) and as a submission of 8 shards and a merge to 1,
 * 2 and 4 `ortlab worker` processes on one Redis (and 2 workers whose sessions use one thread
 * each). Rounds alternate between the sides so that load from elsewhere hits all of them alike;
 * each group of workers listens on a database of its own and idles while the others run.
 *
 * The queue's cost per shard is the time an extra empty shard adds: a suite of 64 images per
 * split (one batch each) cut into 32 shards against 1 shard, one worker.
 *
 * Workers run the built CLI (`npm run build` first). Every side is warmed once before timing, so
 * forking the sandboxed processes and opening sessions are not counted.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Job } from 'bullmq';

import {
  Session,
  buildReport,
  loadSuite,
  openRunDatasets,
  runSuite,
  sha256,
  suiteDataStamps,
} from '../src/index.js';
import { readModelCard } from '../src/cli/model-card.js';
import { collectThumbnails } from '../src/cli/report-files.js';
import { mergeJobId, type SuiteTask } from '../src/queue/jobs.js';
import { parseRedisUrl, type RedisTarget } from '../src/queue/redis-url.js';
import { mergedResult, openQueue, submissionStatus } from '../src/queue/status.js';
import { submitTask } from '../src/queue/submit.js';
import { startWorkerProcess, type WorkerProcess } from '../test/helpers/ortlab-process.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { smallSuite } from '../test/helpers/suite-fixture.js';
import { median } from './timing.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');
const SUITE = path.resolve('data/suite/suite.json');
const BATCH = 256;
const ROUNDS = 3;
const SHARDS = 8;

interface Timing {
  /** Submission to merged result in hand. */
  ms: number;
  /** First shard started to last shard finished. */
  shardsMs: number;
  /** The merge job alone. */
  mergeMs: number;
}

/** A warm session running the suite as `ortlab robustness` does, without writing files. */
async function singleProcess(): Promise<{
  run: () => Promise<{ ms: number; samples: number }>;
  dispose: () => Promise<void>;
}> {
  const session = await Session.create(MODEL);
  const preset = (await readModelCard(MODEL))?.preset;
  const suite = await loadSuite(SUITE);
  return {
    run: async () => {
      const start = performance.now();
      const run = await runSuite(session, suite, { batchSize: BATCH, preset });
      const report = buildReport(run, {});
      await collectThumbnails(report, await openRunDatasets(run));
      const samples = run.splits.reduce((n, split) => n + split.size, 0);
      return { ms: performance.now() - start, samples };
    },
    dispose: () => session.dispose(),
  };
}

async function suiteTask(config: string, threads?: number): Promise<SuiteTask> {
  return {
    kind: 'suite',
    model: MODEL,
    modelSha256: sha256(new Uint8Array(await readFile(MODEL))),
    source: { config },
    dataStamps: await suiteDataStamps(await loadSuite(config)),
    args: threads ? { batch: BATCH, threads } : { batch: BATCH },
  };
}

/** Submits and waits for the merged result. */
async function submitted(target: RedisTarget, task: SuiteTask, shards: number): Promise<Timing> {
  const queue = openQueue(target);
  try {
    const start = performance.now();
    const id = await submitTask(target, task, { shards, command: 'bench' });
    for (;;) {
      const status = await submissionStatus(queue, id);
      if (status?.state === 'failed') {
        const errors = status.shardStates.map((s) => s.error).filter(Boolean);
        throw new Error(`bench submission failed: ${errors[0] ?? status.error}`);
      }
      if (status?.state === 'done') {
        await mergedResult(queue, id);
        const ms = performance.now() - start;
        const merge = await Job.fromId(queue, mergeJobId(id));
        const first = Math.min(...status.shardStates.map((s) => s.startedAt ?? Infinity));
        const last = Math.max(...status.shardStates.map((s) => s.finishedAt ?? 0));
        const mergeMs = (merge?.finishedOn ?? 0) - (merge?.processedOn ?? 0);
        return { ms, shardsMs: last - first, mergeMs };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await queue.close();
  }
}

function startWorkers(url: string, count: number, roots: string[]): WorkerProcess[] {
  const args = roots.flatMap((root) => ['--root', root]);
  return Array.from({ length: count }, () => startWorkerProcess(url, args));
}

interface Side {
  label: string;
  workers: number;
  threads?: number;
  db: number;
}

const SIDES: Side[] = [
  { label: '1 worker', workers: 1, db: 1 },
  { label: '2 workers', workers: 2, db: 2 },
  { label: '4 workers', workers: 4, db: 3 },
  { label: '2 workers, 1 thread each', workers: 2, threads: 1, db: 4 },
];

export async function benchQueue(): Promise<unknown> {
  if (!existsSync('dist/queue/processor.js')) {
    throw new Error("the queue benchmark runs the built CLI's workers: run 'npm run build' first");
  }
  const redis = await startRedisServer();
  const workers: WorkerProcess[] = [];
  const local = await singleProcess();
  try {
    const groups = [];
    for (const side of SIDES) {
      const url = `${redis.url}/${side.db}`;
      workers.push(...startWorkers(url, side.workers, ['.']));
      groups.push({
        side,
        target: await parseRedisUrl(url),
        task: await suiteTask(SUITE, side.threads),
      });
    }
    await Promise.all(workers.map((w) => w.name()));
    const { samples } = await local.run();
    for (const g of groups) await submitted(g.target, g.task, SHARDS);

    const single: number[] = [];
    const timings = new Map<string, Timing[]>(SIDES.map((s) => [s.label, []]));
    for (let r = 0; r < ROUNDS; r++) {
      single.push((await local.run()).ms);
      for (const g of groups)
        timings.get(g.side.label)?.push(await submitted(g.target, g.task, SHARDS));
    }
    const baseMs = median(single);
    const rows = groups.map(({ side }) => {
      const t = timings.get(side.label) ?? [];
      const ms = median(t.map((x) => x.ms));
      return {
        side: side.label,
        workers: side.workers,
        threadsPerSession: side.threads ?? 'default',
        shards: SHARDS,
        ms: Math.round(ms),
        shardsMs: Math.round(median(t.map((x) => x.shardsMs))),
        mergeMs: Math.round(median(t.map((x) => x.mergeMs))),
        imagesPerSecond: Math.round((samples * 1000) / ms),
        ratioToSingleProcess: Number((baseMs / ms).toFixed(3)),
      };
    });

    const tinySuite = await smallSuite({ clean: 64, shifted: 64, ood: 64 });
    const tinyUrl = `${redis.url}/5`;
    workers.push(...startWorkers(tinyUrl, 1, ['.', path.dirname(tinySuite)]));
    const tinyTarget = await parseRedisUrl(tinyUrl);
    const tiny = await suiteTask(tinySuite);
    await submitted(tinyTarget, tiny, 4);
    const one: number[] = [];
    const many: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      one.push((await submitted(tinyTarget, tiny, 1)).ms);
      many.push((await submitted(tinyTarget, tiny, 32)).ms);
    }
    const perShardMs = (median(many) - median(one)) / 31;

    const result = {
      name: 'embedded suite: queue with 1, 2, 4 worker processes vs one process',
      model: 'models/mnist-cnn.onnx',
      samples,
      batch: BATCH,
      cores: os.cpus().length,
      loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))),
      singleProcessMs: Math.round(baseMs),
      singleProcessImagesPerSecond: Math.round((samples * 1000) / baseMs),
      queue: rows,
      emptyShardOverheadMs: Number(perShardMs.toFixed(1)),
      tinySubmissionMs: { oneShard: Math.round(median(one)), shards32: Math.round(median(many)) },
    };
    console.log(
      `queue: one process ${result.singleProcessImagesPerSecond} images/s; ` +
        rows
          .map((r) => `${r.side} ${r.imagesPerSecond}/s (x${r.ratioToSingleProcess})`)
          .join(', ') +
        `; an empty shard adds ${result.emptyShardOverheadMs} ms (${result.cores} cores, ` +
        `load ${result.loadAverage[0]})`,
    );
    return result;
  } finally {
    await local.dispose();
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
  }
}
