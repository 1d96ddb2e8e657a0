import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { RobustnessReport } from '../../src/index.js';
import {
  fakeImagenetFlags,
  redLevelModel,
  type FakeImagenetFlags,
} from '../helpers/imagenet-fakes.js';
import {
  comparable,
  ortlab,
  startWorkerProcess,
  type WorkerProcess,
} from '../helpers/ortlab-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/**
 * `ortlab submit robustness --val --v2 --a --r --o` on the fake ImageNet layouts: two workers
 * score the shards of the five splits, and the merged report equals one local run's.
 */
type Report = RobustnessReport & { config: Record<string, unknown> };

describe('ortlab submit robustness with ImageNet flags', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let modelDir: string;
  let model: string;
  let fakes: FakeImagenetFlags;
  const workers: WorkerProcess[] = [];

  before(async () => {
    redis = await startRedisServer();
    modelDir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-model-'));
    model = path.join(modelDir, 'red-level.onnx');
    await writeFile(model, redLevelModel());
    fakes = await fakeImagenetFlags();
    // Roots: the model's folder and each split's, nothing else.
    const roots = [modelDir, ...Object.values(fakes.dirs)].flatMap((dir) => ['--root', dir]);
    for (let n = 0; n < 2; n++) workers.push(startWorkerProcess(redis.url, roots));
    for (const w of workers) await w.name();
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await redis?.stop();
    const dirs = [modelDir, ...Object.values(fakes?.dirs ?? {})];
    for (const dir of dirs) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--val --v2 --a --r --o in 3 shards on two workers: the report of one run', async () => {
    const { val, v2, a, r, o } = fakes.dirs;
    const flags = ['--val', val, '--v2', v2, '--a', a, '--r', r, '--o', o];
    const args = ['robustness', model, ...flags, '--preset', 'raw', '--batch', '2', '--json'];
    const single = await ortlab([...args, '--no-progress', '--out', path.join(modelDir, 'one')]);
    expect(single.code, single.stderr).to.equal(0);
    const out = path.join(modelDir, 'queued');
    const queue = ['--queue', redis.url, '--shards', '3'];
    const run = await ortlab(['submit', ...args, '--no-progress', '--out', out, ...queue]);
    expect(run.code, run.stderr).to.equal(0);

    const local = JSON.parse(single.stdout) as Report;
    const queued = JSON.parse(run.stdout) as Report;
    expect(comparable(queued)).to.deep.equal(comparable(local));
    expect(queued.splits.map((s) => [s.name, s.kind, s.scored])).to.deep.equal([
      ['val', 'imagenet', 10],
      ['v2', 'imagenet-v2', 5],
      ['a', 'imagenet-a', 5],
      ['r', 'imagenet-r', 3],
      ['o', 'imagenet-o', 5],
    ]);
    expect(queued.splits.map((s) => s.metrics?.top1)).to.deep.equal([1, 1, 1, 1, undefined]);
    expect(queued.ood[0]).to.deep.include({ split: 'o', inDistribution: 'val', nIn: 10, nOut: 5 });
    expect(queued.config.queue).to.deep.include({ shards: 3 });
    const written = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as Report;
    expect(written).to.deep.equal(queued);
    // The page shows the configuration: the date and config.queue differ, nothing else.
    const page = async (dir: string, date: unknown) =>
      (await readFile(path.join(dir, 'report.html'), 'utf8'))
        .replaceAll(String(date), 'DATE')
        .replace(/\n\s*&quot;queue&quot;: \{[^}]*\},?/, '');
    expect(await page(out, queued.config.date), 'report.html').to.equal(
      await page(path.join(modelDir, 'one'), local.config.date),
    );

    const id = /submitted (\S+)/.exec(run.stderr)?.[1] as string;
    const status = await ortlab(['status', '--queue', redis.url, id, '--json']);
    const { shardStates, command } = JSON.parse(status.stdout) as {
      shardStates: { worker: string }[];
      command: string;
    };
    const ran = new Set(shardStates.map((s) => s.worker));
    expect(ran, 'both workers took shards').to.have.property('size', 2);
    expect(command).to.equal(
      `robustness ${model} --val ${val} --v2 ${v2} --a ${a} --r ${r} --o ${o} ` +
        '--preset raw --batch 2',
    );
  });

  it('a split folder outside the worker’s roots fails the shard, naming the split', async () => {
    const elsewhere = await fakeImagenetFlags();
    try {
      const run = await ortlab([
        'submit',
        'robustness',
        model,
        '--v2',
        elsewhere.dirs.v2,
        '--preset',
        'raw',
        '--no-progress',
        '--queue',
        redis.url,
        '--shards',
        '1',
        '--attempts',
        '1',
      ]);
      expect(run.code).to.equal(1);
      expect(run.stderr, run.stderr).to.include(
        `shard 0/1 failed after 1 attempt(s): data of split 'v2' '${elsewhere.dirs.v2}' is ` +
          "outside this worker's roots",
      );
    } finally {
      for (const dir of Object.values(elsewhere.dirs))
        await rm(dir, { recursive: true, force: true });
    }
  });
});
