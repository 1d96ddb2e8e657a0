import { expect } from 'chai';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import {
  comparable,
  ortlab,
  ortlabJson as json,
  type ReportJson as Json,
  startWorkerProcess,
  waitFor,
  type WorkerProcess,
} from '../helpers/ortlab-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/**
 * `ortlab submit retrieval eval` on the shipped r1 and r4 emoji encoders: two workers encode the
 * shards, a merge scores them, and the report equals the report of one local run.
 */
const SHIPPED = path.resolve('models/retrieval');

describe('ortlab submit retrieval eval', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let root: string;
  let outside: string;
  const workers: WorkerProcess[] = [];

  before(async () => {
    redis = await startRedisServer();
    root = await mkdtemp(path.join(os.tmpdir(), 'ortlab-retrieval-root-'));
    outside = await mkdtemp(path.join(os.tmpdir(), 'ortlab-retrieval-outside-'));
    // The workers' only root is a temporary folder: ortlab's shipped encoders and emoji set are
    // readable anyway, as its bundled sets are.
    for (let n = 0; n < 2; n++) workers.push(startWorkerProcess(redis.url, ['--root', root]));
    for (const w of workers) await w.name();
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await redis?.stop();
    for (const dir of [root, outside]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('3 shards on 2 workers: report.json, report.html and printed JSON of one run', async () => {
    const args = ['retrieval', 'eval', '--batch', '32', '--examples', '3', '--no-progress'];
    const single = await json([...args, '--json', '--out', path.join(root, 'single')]);
    const out = path.join(root, 'queued');
    const run = await ortlab([
      'submit',
      ...args,
      '--json',
      '--out',
      out,
      '--queue',
      redis.url,
      '--shards',
      '3',
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const queued = JSON.parse(run.stdout) as Json;

    expect(comparable(queued)).to.deep.equal(comparable(single));
    const results = queued.results as { model: string; style: string; rsum: number }[];
    expect(results.map((r) => `${r.model} ${r.style}`)).to.deep.equal([
      'r1 google',
      'r1 twitter',
      'r4 google',
      'r4 twitter',
    ]);
    expect(queued.config.queue).to.deep.include({ shards: 3, workers: [os.hostname()] });
    const written = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as Json;
    expect(written).to.deep.equal(queued);
    const page = (dir: string) => readFile(path.join(root, dir, 'report.html'), 'utf8');
    const html = await page('queued');
    expect(html, 'the page: overlays of 3 images, 2 styles, heads of both pairs').to.equal(
      await page('single'),
    );
    expect(html.match(/<img /g)?.length).to.be.above(3 * 2 * 2);

    const id = /submitted (\S+)/.exec(run.stderr)?.[1] as string;
    const status = await json(['status', '--queue', redis.url, id, '--json']);
    expect(status.command).to.equal('retrieval eval --batch 32 --examples 3');
    const ran = (status.shardStates as { worker: string }[]).map((s) => s.worker);
    expect(new Set(ran), 'both workers took shards').to.have.property('size', 2);
  });

  it('refuses encoders outside the worker’s roots, naming the file and the fix', async () => {
    const encoders = path.join(outside, 'encoders');
    await cp(SHIPPED, encoders, { recursive: true });
    const run = await ortlab([
      'submit',
      'retrieval',
      'eval',
      '--manifest',
      path.join(encoders, 'manifest.json'),
      '--style',
      'google',
      '--no-progress',
      '--queue',
      redis.url,
      '--shards',
      '1',
      '--attempts',
      '1',
    ]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(
      'shard 0/1 failed after 1 attempt(s): ' +
        `encoder manifest '${path.join(encoders, 'manifest.json')}' ` +
        `is outside this worker's roots (`,
    );
    expect(run.stderr).to.include('start the worker with --root for its folder');
  });

  describe('files that differ between the submitter and the worker', () => {
    // A database of its own: no worker takes these jobs until the test starts one.
    const url = () => `${redis.url}/2`;

    async function detach(manifest: string, ...more: string[]): Promise<string> {
      const run = await ortlab([
        'submit',
        'retrieval',
        'eval',
        '--manifest',
        manifest,
        ...more,
        '--style',
        'google',
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

    async function failure(id: string): Promise<string> {
      const status = await waitFor('the submission to fail', async () => {
        const s = await json(['status', '--queue', url(), id, '--json']);
        return s.state === 'failed' ? s : undefined;
      });
      return (status.shardStates as { error?: string }[]).map((s) => s.error ?? '').join('\n');
    }

    it('an encoder, manifest or tokenizer changed after submission is refused', async () => {
      const changed = path.join(root, 'changed-encoder');
      const edited = path.join(root, 'edited-manifest');
      const retokenized = path.join(root, 'edited-tokenizer');
      for (const dir of [changed, edited, retokenized]) await cp(SHIPPED, dir, { recursive: true });
      const encoderId = await detach(path.join(changed, 'manifest.json'));
      const manifestId = await detach(path.join(edited, 'manifest.json'));
      const tokenizerId = await detach(path.join(retokenized, 'manifest.json'));

      await cp(path.join(SHIPPED, 'image-r4.onnx'), path.join(changed, 'image-r1.onnx'));
      const manifest = path.join(edited, 'manifest.json');
      await writeFile(manifest, `${await readFile(manifest, 'utf8')}\n`);
      // A tokenizer whose vocabulary lost its last entry: the captions would encode differently.
      const vocabulary = path.join(retokenized, 'tokenizer', 'tokenizer.json');
      const parsed = JSON.parse(await readFile(vocabulary, 'utf8')) as {
        model: { vocab: Record<string, number> };
      };
      const last = Object.keys(parsed.model.vocab).at(-1) as string;
      delete parsed.model.vocab[last];
      await writeFile(vocabulary, JSON.stringify(parsed));
      const late = startWorkerProcess(url(), ['--root', root]);
      try {
        expect(await failure(encoderId)).to.match(
          new RegExp(
            `model '${path.join(changed, 'image-r1.onnx')}' on this worker \\(.+\\) has sha256 ` +
              '[0-9a-f]{64}, but the shard was submitted for [0-9a-f]{64}',
          ),
        );
        expect(await failure(manifestId)).to.match(
          new RegExp(
            `encoder manifest '${manifest}' on this worker \\(.+\\) has sha256 [0-9a-f]{64}, ` +
              'not the [0-9a-f]{64} it was submitted with',
          ),
        );
        expect(await failure(tokenizerId)).to.match(
          new RegExp(
            `tokenizer '${path.join(retokenized, 'tokenizer')}' of pair 'r1' on this worker ` +
              '\\(.+\\) has sha256 [0-9a-f]{64}, not the [0-9a-f]{64} it was submitted with',
          ),
        );
      } finally {
        await late.stop();
      }
    });

    it('a data file whose captions changed after submission is refused', async () => {
      const data = path.join(root, 'edited-data', 'dataset_emoji.json');
      await mkdir(path.dirname(data), { recursive: true });
      await cp(path.resolve('data/emoji/dataset_emoji.json'), data);
      const images = path.resolve('data/emoji/google');
      const id = await detach(
        path.join(SHIPPED, 'manifest.json'),
        '--data',
        data,
        '--image-root',
        images,
      );
      const text = await readFile(data, 'utf8');
      await writeFile(data, text.replace('"raw": "grinning face"', '"raw": "a grinning face"'));
      const late = startWorkerProcess(url(), ['--root', root]);
      try {
        expect(await failure(id)).to.match(
          new RegExp(
            `^retrieval data '${data}' \\(split 'test'\\) on this worker \\(.+\\) lists 324 ` +
              'images under other names or labels \\(fingerprint [0-9a-f]{12}\\), not the 324 ' +
              'images it was submitted with \\([0-9a-f]{12}\\): every worker must read the ' +
              "submitter's data file, split and styles$",
          ),
        );
      } finally {
        await late.stop();
      }
    });
  });

  it('submit refuses retrieval query and a lone --images or --texts, queuing nothing', async () => {
    const query = await ortlab([
      'submit',
      'retrieval',
      'query',
      'a red heart',
      '--queue',
      redis.url,
      '--shards',
      '2',
    ]);
    expect(query.stderr).to.include(
      "ortlab submit takes 'eval', 'robustness', 'search rank' or 'retrieval eval' and its " +
        "arguments; got 'retrieval query'",
    );
    const half = await ortlab([
      'submit',
      'retrieval',
      'eval',
      '--images',
      path.join(SHIPPED, 'image-r1.onnx'),
      '--queue',
      redis.url,
      '--shards',
      '2',
    ]);
    expect(half.stderr).to.include('--images and --texts go together');
    for (const r of [query, half]) expect(r.code).to.equal(1);
  });
});
