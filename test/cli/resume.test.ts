import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { smallSuite } from '../helpers/suite-fixture.js';

const BIN = path.resolve('bin/ortlab.js');
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
  it('resumes a killed robustness run and ends with the metrics of an uninterrupted run', async function () {
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
