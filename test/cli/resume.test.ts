import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { smallSuite } from '../helpers/suite-fixture.js';

const BIN = path.resolve('bin/ortlab.cjs');
const MODEL = path.resolve('models/mnist-cnn.onnx');

interface Report {
  splits: unknown[];
  ood: unknown[];
  config: Record<string, unknown>;
}

async function report(args: string[]): Promise<Report> {
  const { stdout } = await promisify(execFile)('node', [BIN, ...args], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as Report;
}

async function lines(file: string): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return 0;
  return (await readFile(file, 'utf8')).split('\n').length - 1;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('resuming after SIGKILL', () => {
  it('resumes a killed robustness run to the metrics of an uninterrupted run', async function () {
    this.timeout(120_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-kill-'));
    const suite = await smallSuite({ clean: 3000, shifted: 300, ood: 600 });
    const checkpoint = path.join(dir, 'run.jsonl');
    const args = [
      'robustness',
      MODEL,
      '--config',
      suite,
      '--batch',
      '8',
      '--json',
      '--no-progress',
    ];

    const child = spawn(
      'node',
      [BIN, ...args, '--checkpoint', checkpoint, '--out', path.join(dir, 'a')],
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_c, s) => resolve(s)),
    );
    // Kill it part-way through the clean split.
    for (let waited = 0; (await lines(checkpoint)) < 800 && waited < 60_000; waited += 20) {
      await sleep(20);
    }
    child.kill('SIGKILL');
    expect(await exited).to.equal('SIGKILL');
    const partial = await lines(checkpoint);
    expect(partial).to.be.above(500);
    expect(partial).to.be.below(1 + 3000 + 300 + 600);

    const resumed = await report([
      ...args,
      '--checkpoint',
      checkpoint,
      '--out',
      path.join(dir, 'b'),
    ]);
    const uninterrupted = await report([...args, '--out', path.join(dir, 'c')]);
    expect(resumed.splits).to.deep.equal(uninterrupted.splits);
    expect(resumed.ood).to.deep.equal(uninterrupted.ood);
    expect(await lines(checkpoint)).to.equal(1 + 3000 + 300 + 600);
  });
});

describe('sharding from the command line', () => {
  it('merges --shard i/n outputs into the report of one run', async function () {
    this.timeout(120_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-shards-'));
    const suite = await smallSuite({ clean: 400, shifted: 100, ood: 150 });
    const base = ['robustness', MODEL, '--config', suite, '--batch', '16', '--no-progress'];
    const shardFiles = [];
    for (const i of [0, 1, 2]) {
      const file = path.join(dir, `s${i}.json`);
      await promisify(execFile)('node', [BIN, ...base, '--shard', `${i}/3`, '--out', file]);
      shardFiles.push(file);
    }
    const merged = await report(['merge', ...shardFiles, '--json', '--out', path.join(dir, 'm')]);
    const single = await report([...base, '--json', '--out', path.join(dir, 'one')]);
    expect(merged.splits).to.deep.equal(single.splits);
    expect(merged.ood).to.deep.equal(single.ood);
    expect(merged.config.mergedFrom).to.deep.equal(['s0.json', 's1.json', 's2.json']);

    let message = '';
    try {
      await promisify(execFile)('node', [
        BIN,
        'merge',
        shardFiles[0],
        shardFiles[2],
        '--json',
        '--out',
        path.join(dir, 'x'),
      ]);
    } catch (error) {
      message = (error as { stderr: string }).stderr;
    }
    expect(message).to.match(/results cover \d+ of its 400 samples/);
  });
});

describe('shards from machines that keep the data at different paths', () => {
  it('merge takes the same data at another path; reports as one run without it', async function () {
    this.timeout(120_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-moved-'));
    const suite = await smallSuite({ clean: 200, shifted: 60, ood: 80 });
    const copy = path.join(dir, 'elsewhere');
    await cp(path.dirname(suite), copy, { recursive: true });
    const args = (config: string) => ['robustness', MODEL, '--config', config, '--batch', '16'];
    const single = await report([...args(suite), '--json', '--no-progress', '--out', dir]);
    const shards = [path.join(dir, 's0.json'), path.join(dir, 's1.json')];
    await promisify(execFile)('node', [BIN, ...args(suite), '--shard', '0/2', '--out', shards[0]]);
    const moved = path.join(copy, 'suite.json');
    await promisify(execFile)('node', [BIN, ...args(moved), '--shard', '1/2', '--out', shards[1]]);
    // The first machine's data is gone where the merge runs: no thumbnails, same numbers.
    await rename(path.dirname(suite), `${path.dirname(suite)}-gone`);
    const { stdout, stderr } = await promisify(execFile)(
      'node',
      [BIN, 'merge', ...shards, '--json', '--out', path.join(dir, 'm')],
      { maxBuffer: 64 << 20 },
    );
    const merged = JSON.parse(stdout) as Report;
    expect(merged.splits).to.deep.equal(single.splits);
    expect(merged.ood).to.deep.equal(single.ood);
    expect(stderr).to.match(/split 'clean': its data is not at .* here/);
  });

  it('refuses to merge shards of relabelled data, naming the split and field', async function () {
    this.timeout(120_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-relabel-'));
    const suite = await smallSuite({ clean: 64, shifted: 32, ood: 32 });
    // The same images elsewhere, with the first clean label changed.
    const copy = path.join(dir, 'relabelled');
    await cp(path.dirname(suite), copy, { recursive: true });
    const labels = path.join(copy, 'clean', 'labels-idx1-ubyte');
    const bytes = await readFile(labels);
    bytes[8] = (bytes[8] + 1) % 10;
    await writeFile(labels, bytes);
    const shards = [path.join(dir, 's0.json'), path.join(dir, 's1.json')];
    const run = (config: string, shard: string, out: string) =>
      promisify(execFile)('node', [
        BIN,
        'robustness',
        MODEL,
        '--config',
        config,
        '--batch',
        '16',
        '--shard',
        shard,
        '--out',
        out,
      ]);
    await run(suite, '0/2', shards[0]);
    await run(path.join(copy, 'suite.json'), '1/2', shards[1]);
    let message = '';
    await promisify(execFile)('node', [BIN, 'merge', ...shards, '--json', '--out', dir]).catch(
      (error: { stderr: string }) => (message = error.stderr),
    );
    expect(message).to.match(
      /shard 2 comes from a different run \(split 'clean' fingerprint differ/,
    );
  });
});
