import { expect } from 'chai';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { parseShard } from '../../src/cli/robustness-command.js';
import { ortlab } from '../helpers/ortlab-process.js';
import { smallSuite } from '../helpers/suite-fixture.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');

describe('--shard from the environment (Kubernetes Indexed Jobs, array jobs)', () => {
  it('takes the index from JOB_COMPLETION_INDEX with env/n, or from a named variable', () => {
    expect(parseShard('env/4', { JOB_COMPLETION_INDEX: '3' })).to.deep.equal({
      index: 3,
      count: 4,
    });
    expect(parseShard('env:SLURM_ARRAY_TASK_ID/8', { SLURM_ARRAY_TASK_ID: '0' })).to.deep.equal({
      index: 0,
      count: 8,
    });
    expect(parseShard('2/5', {})).to.deep.equal({ index: 2, count: 5 });
  });

  const bad: [string, Record<string, string>, string][] = [
    [
      'env/4',
      {},
      '--shard env/4 reads the shard index from the environment variable JOB_COMPLETION_INDEX, ' +
        'which is not set; set it (a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX) or pass i/n',
    ],
    [
      'env/4',
      { JOB_COMPLETION_INDEX: '4' },
      "--shard env/4: JOB_COMPLETION_INDEX='4' is not a shard index from 0 to 3",
    ],
    [
      'env:TASK/2',
      { TASK: 'one' },
      "--shard env:TASK/2: TASK='one' is not a shard index from 0 to 1",
    ],
    [
      'env:1BAD/2',
      { '1BAD': '0' },
      '--shard takes i/n with 0 <= i < n (e.g. 0/4) or env/n ' +
        "(the index from JOB_COMPLETION_INDEX), got 'env:1BAD/2'",
    ],
  ];
  for (const [value, env, message] of bad) {
    it(`refuses --shard ${value} with ${JSON.stringify(env)}, naming variable and value`, () => {
      expect(() => parseShard(value, env)).to.throw(RangeError, message);
    });
  }

  it('writes the same shard file under the index it read, as --shard i/n does', async function () {
    this.timeout(60_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-shard-env-'));
    const suite = await smallSuite({ clean: 200, shifted: 64, ood: 64 });
    const args = ['robustness', MODEL, '--config', suite, '--batch', '32', '--no-progress'];
    const fromEnv = await ortlab(
      [...args, '--shard', 'env/3', '--out', path.join(dir, 'env.json')],
      { ...process.env, JOB_COMPLETION_INDEX: '1' },
    );
    expect(fromEnv.stdout).to.contain('wrote shard 1/3');
    const given = await ortlab([...args, '--shard', '1/3', '--out', path.join(dir, 'given.json')]);
    expect(given.code, given.stderr).to.equal(0);
    type Shard = { run: unknown; config: { shard: unknown } };
    const a = JSON.parse(await readFile(path.join(dir, 'env.json'), 'utf8')) as Shard;
    const b = JSON.parse(await readFile(path.join(dir, 'given.json'), 'utf8')) as Shard;
    expect(a.run).to.deep.equal(b.run);
    expect(a.config.shard).to.deep.equal({ index: 1, count: 3 });
  });
});
