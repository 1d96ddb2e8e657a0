import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { encodeIdx } from '../../src/runtime/datasets/idx.js';
import { runOrtlab as ortlab } from '../helpers/ortlab-process.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');

describe('ortlab flatness', () => {
  it('--json prints losses, poor, flatness, radii, seed, engine; a seed repeats it', async () => {
    // One engine for both runs: 'auto' picks by timing, and the two engines' losses can differ
    // by about 1e-9.
    const args = ['flatness', MODEL, 'mnist', '--limit', '300', '--seed', '3', '--json'];
    args.push('--engine', 'patch');
    const first = await ortlab(...args, '--radii', '0.002,0.004');
    expect(first.code, first.stderr).to.equal(0);
    const a = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(a).to.include.all.keys(
      'losses',
      'poor',
      'flatness',
      'radii',
      'seed',
      'engine',
      'config',
    );
    expect(a.radii).to.deep.equal([0.002, 0.004]);
    expect(a.engine).to.equal('patch');
    expect(a.seed).to.equal(3);
    expect(a.losses).to.have.length(2);
    expect(a.flatness).to.be.closeTo(1 / ((a.poor as number) + 1e-5), 1e-12);
    const again = JSON.parse((await ortlab(...args, '--radii', '0.002,0.004')).stdout) as {
      losses: number[];
    };
    expect(again.losses).to.deep.equal(a.losses);
  });

  it('--directions filter-normalized reaches the measurement', async () => {
    const args = ['flatness', MODEL, 'mnist', '--limit', '128', '--seed', '3', '--json'];
    const runs = [
      await ortlab(...args, '--engine', 'patch'),
      await ortlab(...args, '--engine', 'patch', '--directions', 'filter-normalized'),
    ];
    const [gaussian, normalized] = runs.map((run) => {
      expect(run.code, run.stderr).to.equal(0);
      return JSON.parse(run.stdout) as { directions: string; losses: number[]; baseLoss: number };
    });
    expect(gaussian.directions).to.equal('gaussian');
    expect(normalized.directions).to.equal('filter-normalized');
    expect(normalized.baseLoss).to.equal(gaussian.baseLoss);
    expect(normalized.losses).to.not.deep.equal(gaussian.losses);
  });

  it('rejects radii that do not increase, before reading any data', async () => {
    const run = await ortlab('flatness', MODEL, 'mnist', '--radii', '0.01,0.001');
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/radii must be strictly increasing/);
  });

  it('rejects data whose class count is not the model output width, naming both', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ortlab-classes-'));
    try {
      // Three classes, no classes.json: the labels 0..2 make the classes.
      await writeFile(
        path.join(dir, 'images-idx3-ubyte'),
        encodeIdx(new Uint8Array(6 * 784), [6, 28, 28]),
      );
      await writeFile(
        path.join(dir, 'labels-idx1-ubyte'),
        encodeIdx(Uint8Array.from([0, 1, 2, 0, 1, 2]), [6]),
      );
      const run = await ortlab(
        'flatness',
        MODEL,
        path.join(dir, 'images-idx3-ubyte'),
        '--preset',
        'mnist',
      );
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include("has 3 classes but the model's output 'logits' scores 10");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown engine name', async () => {
    const run = await ortlab('flatness', MODEL, 'mnist', '--engine', 'gpu');
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/--engine must be one of auto, inputs, patch/);
  });
});
