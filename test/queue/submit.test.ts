import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import {
  comparable,
  ortlab,
  ortlabJson as json,
  startWorkerProcess,
  waitFor,
  type WorkerProcess,
} from '../helpers/ortlab-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { smallSuite } from '../helpers/suite-fixture.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');
const NAS = path.resolve('models/nas');

describe('ortlab submit and ortlab status', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let worker: WorkerProcess;
  let dir: string;

  before(async () => {
    redis = await startRedisServer();
    dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-submit-'));
    worker = startWorkerProcess(redis.url, ['--root', '.', '--root', dir, '--concurrency', '2']);
    await worker.name();
  });
  after(async () => {
    await worker?.stop();
    await redis?.stop();
  });

  it('eval: the counts of 3 shards are the report of one run', async () => {
    const args = ['eval', MODEL, 'digits', '--batch', '64', '--json', '--no-progress'];
    const single = await json(args);
    const queued = await json(['submit', ...args, '--queue', redis.url, '--shards', '3']);
    expect(comparable(queued)).to.deep.equal(comparable(single));
    expect(queued.n).to.equal(1797);
    expect(queued.config.queue).to.deep.include({ shards: 3, workers: [os.hostname()] });
  });

  it('eval --suite: one split reported like a suite, as one run reports it', async () => {
    const args = ['eval', MODEL, 'digits', '--suite', 'folder', '--batch', '128', '--no-progress'];
    const single = await json([...args, '--json', '--out', path.join(dir, 'suite1')]);
    const queued = await json([
      'submit',
      ...args,
      '--json',
      '--out',
      path.join(dir, 'suite2'),
      '--queue',
      redis.url,
      '--shards',
      '3',
    ]);
    expect(queued.splits).to.deep.equal(single.splits);
    expect(queued.suite).to.deep.equal({ name: 'folder digits' });
  });

  it('search rank: models measured in 2 shards rank as in one run (rank.json, .html)', async () => {
    const manifest = JSON.parse(await readFile(path.join(NAS, 'manifest.json'), 'utf8')) as {
      models: { file: string }[];
    };
    const small = path.join(dir, 'nas');
    await mkdir(small, { recursive: true });
    const models = manifest.models.slice(0, 5);
    for (const m of models) await copyFile(path.join(NAS, m.file), path.join(small, m.file));
    const file = path.join(small, 'manifest.json');
    await writeFile(file, JSON.stringify({ ...manifest, models }));
    const data = path.resolve('data/nas-val/images-idx3-ubyte.gz');
    const args = ['search', 'rank', file, '--data', data, '--limit', '100', '--engine', 'patch'];
    const single = await json([...args, '--json', '--out', path.join(dir, 'rank1')]);
    const out = path.join(dir, 'rank2');
    const queued = await json([
      'submit',
      ...args,
      '--json',
      '--out',
      out,
      '--queue',
      redis.url,
      '--shards',
      '2',
    ]);
    expect(comparable(queued)).to.deep.equal(comparable(single));
    expect((queued.models as unknown[]).length).to.equal(5);
    const html = await readFile(path.join(out, 'rank.html'), 'utf8');
    expect(html).to.contain('<svg');
  });

  it('--detach returns at once; status lists it, --out reports it, --remove drops it', async () => {
    const args = ['eval', MODEL, 'digits', '--batch', '128', '--no-progress'];
    const detached = await ortlab([
      'submit',
      ...args,
      '--queue',
      redis.url,
      '--shards',
      '4',
      '--detach',
    ]);
    expect(detached.code, detached.stderr).to.equal(0);
    const submitted = new RegExp(
      'submitted (\\S+) \\(4 shards\\); ' +
        "follow it with 'ortlab status --queue redis://127\\.0\\.0\\.1:\\d+ \\1'",
    );
    const id = submitted.exec(detached.stdout)?.[1];
    expect(id, detached.stdout).to.be.a('string');

    const done = await waitFor('the submission to finish', async () => {
      const s = await json(['status', '--queue', redis.url, id as string, '--json']);
      return s.state === 'done' ? s : undefined;
    });
    expect(done).to.deep.include({ shards: 4, done: 4, failed: 0, active: 0 });
    expect(done.rate).to.be.above(0);
    expect(done.command).to.equal(`eval ${MODEL} digits --batch 128`);

    const table = await ortlab(['status', '--queue', redis.url]);
    expect(table.stdout).to.match(/^submission +state +done +failed +active +rate +ETA +command$/m);
    expect(table.stdout).to.match(
      new RegExp(`^${id} +done +4/4 +0 +0 +[0-9.]+/min +- +eval `, 'm'),
    );

    const report = await json([
      'status',
      '--queue',
      redis.url,
      id as string,
      '--json',
      '--out',
      dir,
    ]);
    const single = await json([...args, '--json']);
    expect(comparable(report)).to.deep.equal(comparable(single));
  });

  it('an unloadable model fails its shards after --attempts tries, with its error', async () => {
    const broken = path.join(dir, 'broken.onnx');
    await writeFile(broken, 'this is not an ONNX model');
    const run = await ortlab([
      'submit',
      'eval',
      broken,
      'digits',
      '--no-progress',
      '--queue',
      redis.url,
      '--shards',
      '2',
      '--attempts',
      '2',
    ]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/^ortlab: submission \S+ failed:$/m);
    expect(run.stderr).to.match(
      /^ {2}shard [01]\/2 failed after 2 attempt\(s\): .*(protobuf|load|parse)/im,
    );
  });

  it('refuses unshardable commands and local-only options before queuing anything', async () => {
    const flat = await ortlab([
      'submit',
      'flatness',
      MODEL,
      'mnist',
      '--queue',
      redis.url,
      '--shards',
      '2',
    ]);
    expect(flat.stderr).to.contain(
      "ortlab submit takes 'eval', 'robustness', 'search rank' or 'retrieval eval' and its " +
        "arguments; got 'flatness",
    );
    const noShards = await ortlab(['submit', 'eval', MODEL, 'digits', '--queue', redis.url]);
    expect(noShards.stderr).to.contain('ortlab submit needs --shards N');
    const suite = path.resolve('data/suite/suite.json');
    const shard = await ortlab([
      'submit',
      'robustness',
      MODEL,
      '--config',
      suite,
      '--shard',
      '0/2',
      '--queue',
      redis.url,
      '--shards',
      '2',
    ]);
    expect(shard.stderr).to.contain('--shard picks one shard of a local run');
    const zero = await ortlab([
      'submit',
      'eval',
      MODEL,
      'digits',
      '--queue',
      redis.url,
      '--shards',
      '0',
    ]);
    expect(zero.stderr).to.contain("--shards takes an integer >= 1, got '0'");
    for (const r of [flat, noShards, shard, zero]) expect(r.code).to.equal(1);
  });

  describe('what a worker refuses', () => {
    // A database of its own: no worker takes these jobs until the test starts one.
    const url = () => `${redis.url}/1`;

    async function failure(id: string): Promise<string> {
      const s = await waitFor('the submission to fail', async () => {
        const status = await json(['status', '--queue', url(), id, '--json']);
        return status.state === 'failed' ? status : undefined;
      });
      const shards = s.shardStates as { error?: string }[];
      return shards.map((x) => x.error ?? '').join('\n');
    }

    async function detach(model: string, ...command: string[]): Promise<string> {
      const run = await ortlab([
        'submit',
        ...(command.length > 0 ? command : ['eval', model, 'digits']),
        '--queue',
        url(),
        '--shards',
        '1',
        '--attempts',
        '1',
        '--detach',
      ]);
      expect(run.code, run.stderr).to.equal(0);
      return /submitted (\S+)/.exec(run.stdout)?.[1] as string;
    }

    it('a model file that differs from the submitted one (sha256)', async () => {
      const model = path.join(dir, 'changing.onnx');
      await copyFile(MODEL, model);
      const id = await detach(model);
      await copyFile(path.join(NAS, 'arch-00.onnx'), model);
      const late = startWorkerProcess(url(), ['--root', dir]);
      try {
        const error = await failure(id);
        expect(error).to.match(
          new RegExp(
            `^model '${model}' on this worker \\(.+\\) has sha256 [0-9a-f]{64}, ` +
              'but the shard was submitted for [0-9a-f]{64}',
          ),
        );
      } finally {
        await late.stop();
      }
    });

    it('data that lists other images than the submitter saw, before scoring any', async () => {
      // The submitter's suite, then its files changed as another machine might hold them: the
      // clean split one image shorter, the shifted split's first label changed.
      const suite = await smallSuite({ clean: 64, shifted: 32, ood: 32 });
      const shorter = path.dirname(await smallSuite({ clean: 63, shifted: 32, ood: 32 }));
      const root = path.dirname(suite);
      const shifted = path.join(root, 'shifted', 'images-idx3-ubyte');
      const evalId = await detach(MODEL, 'eval', MODEL, shifted, '--preset', 'mnist');
      const suiteId = await detach(MODEL, 'robustness', MODEL, '--config', suite);
      for (const file of ['images-idx3-ubyte', 'labels-idx1-ubyte']) {
        await copyFile(path.join(shorter, 'clean', file), path.join(root, 'clean', file));
      }
      const labels = await readFile(path.join(root, 'shifted', 'labels-idx1-ubyte'));
      labels[8] = (labels[8] + 1) % 10; // the first label, after the IDX header
      await writeFile(path.join(root, 'shifted', 'labels-idx1-ubyte'), labels);
      const late = startWorkerProcess(url(), ['--root', '.', '--root', root]);
      try {
        const fix =
          "every worker must see the submitter's files, with the same names and class folders$";
        expect(await failure(evalId)).to.match(
          new RegExp(
            `^data '${shifted}' on this worker \\(.+\\) lists 32 images under other names or ` +
              'labels \\(fingerprint [0-9a-f]{12}\\), not the 32 images it was submitted with ' +
              `\\([0-9a-f]{12}\\): ${fix}`,
          ),
        );
        expect(await failure(suiteId)).to.match(
          new RegExp(
            `^split 'clean': data '${path.join(root, 'clean')}.*' lists 63 images ` +
              `\\(fingerprint [0-9a-f]{12}\\), not the 64 images it was submitted with .*: ${fix}`,
          ),
        );
      } finally {
        await late.stop();
      }
    });

    it('--map: a worker that sees the files elsewhere gives the report of one run', async () => {
      // The submitter's folder (suite and model), moved before the worker starts: the worker
      // sees it under another path and is told so with --map.
      const there = path.dirname(await smallSuite({ clean: 64, shifted: 32, ood: 32 }));
      const model = path.join(there, 'model.onnx');
      await copyFile(MODEL, model);
      // One split named by an absolute path inside the suite file: mapped as well.
      const config = path.join(there, 'suite.json');
      const suite = JSON.parse(await readFile(config, 'utf8')) as { splits: { data: string }[] };
      suite.splits[1].data = path.join(there, suite.splits[1].data);
      await writeFile(config, JSON.stringify(suite));
      const args = ['robustness', model, '--config', config, '--batch', '32'];
      const single = await json([
        ...args,
        '--no-progress',
        '--json',
        '--out',
        path.join(dir, 'one'),
      ]);
      const id = await detach(model, ...args);
      const here = `${there}-moved`;
      await rename(there, here);
      const mapped = startWorkerProcess(url(), ['--root', here, '--map', `${there}=${here}`]);
      try {
        expect(await mapped.name()).to.be.a('string');
        expect(mapped.output()).to.contain(`; ${there} mapped to ${here}; waiting for jobs`);
        await waitFor('the submission to finish', async () => {
          const status = await json(['status', '--queue', url(), id, '--json']);
          if (status.state === 'failed') throw new Error(JSON.stringify(status.shardStates));
          return status.state === 'done' ? status : undefined;
        });
        const out = path.join(dir, 'mapped');
        const report = await json(['status', '--queue', url(), id, '--json', '--out', out]);
        // The report names the submitter's files, as the run on its machine does.
        expect(report.splits).to.deep.equal(single.splits);
        expect(JSON.stringify(report)).to.not.contain(here);
        expect(report.suite).to.deep.equal(single.suite);
      } finally {
        await mapped.stop();
      }
    });

    it('--map: a worker refuses a mapping not FROM=TO or to a missing folder', async () => {
      const bad = await ortlab(['worker', '--queue', url(), '--map', 'data=/mnt/data']);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.contain(
        "--map takes FROM=TO, the submitter's folder and this worker's",
      );
      const missing = await ortlab(['worker', '--queue', url(), '--map', '/a=/no/such/folder']);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.contain(
        "--map: folder '/no/such/folder' does not exist on this worker; check the mapping",
      );
    });

    it('a model outside the folders it was started with', async () => {
      const id = await detach(MODEL);
      const narrow = startWorkerProcess(url(), ['--root', dir]);
      try {
        expect(await failure(id)).to.equal(
          `model '${MODEL}' is outside this worker's roots (${dir}); ` +
            'start the worker with --root for its folder',
        );
      } finally {
        await narrow.stop();
      }
    });
  });
});
