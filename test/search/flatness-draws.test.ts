import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { openDataset, resolvePreset } from '../../src/index.js';
import { flatnessOf, measureFlatness, type FlatnessResult } from '../../src/search/flatness.js';
import { loadValidationSet, type ValidationSet } from '../../src/search/validation-set.js';
import { runOrtlab as ortlab } from '../helpers/ortlab-process.js';

const MNIST_CNN = path.resolve('models/mnist-cnn.onnx');
const TINY_CNN = 'test/fixtures/flatness/tiny-cnn.onnx';

const meanOf = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/** Standard deviation with divisor n (population) or n - 1 (sample), by a two-pass sum. */
function deviation(v: number[], divisor: 'n' | 'n-1'): number {
  const m = meanOf(v);
  const squares = v.reduce((a, b) => a + (b - m) ** 2, 0);
  return Math.sqrt(squares / (divisor === 'n' ? v.length : v.length - 1));
}

describe('flatness over several draws', () => {
  const radii = [0.01, 0.03, 0.06];
  let model: Uint8Array;
  let data: ValidationSet;
  let three: FlatnessResult;

  before(async () => {
    model = new Uint8Array(await readFile(TINY_CNN));
    data = await loadValidationSet(await openDataset('mnist'), resolvePreset('mnist'), {
      limit: 64,
    });
    three = await measureFlatness(model, data, { radii, draws: 3, seed: 5, engine: 'inputs' });
  });

  it('keeps one result per draw, each with its own losses, poor and flatness', () => {
    expect(three.draws).to.equal(3);
    expect(three.perDraw).to.have.length(3);
    for (const [k, d] of three.perDraw.entries()) {
      expect(d.losses, `draw ${k}`).to.have.length(3);
      expect(flatnessOf(d.losses, radii), `draw ${k}`).to.deep.equal({
        poor: d.poor,
        flatness: d.flatness,
      });
    }
    // Each draw sees its own noise.
    expect(three.perDraw[1].losses).to.not.deep.equal(three.perDraw[0].losses);
    expect(three.perDraw[2].losses).to.not.deep.equal(three.perDraw[1].losses);
  });

  it('losses are the per-radius means of the draws, and poor is computed from them', () => {
    radii.forEach((_, i) => {
      const column = three.perDraw.map((d) => d.losses[i]);
      expect(three.losses[i], `L_${i + 1}`).to.be.closeTo(meanOf(column), 1e-12);
    });
    const expected = flatnessOf(three.losses, radii);
    expect(three.poor).to.be.closeTo(expected.poor, 1e-9 * expected.poor);
    expect(three.flatness).to.be.closeTo(1 / (three.poor + 1e-5), 1e-12);
  });

  it('lossSpread is the population standard deviation (divisor n) of the draws per radius', () => {
    expect(three.lossSpread).to.have.length(3);
    radii.forEach((_, i) => {
      const column = three.perDraw.map((d) => d.losses[i]);
      const population = deviation(column, 'n');
      const sample = deviation(column, 'n-1');
      expect(population, `radius ${radii[i]}: the draws differ`).to.be.above(0);
      expect(three.lossSpread[i], `radius ${radii[i]}`).to.be.closeTo(population, 1e-12);
      // The two definitions differ by sqrt(3 / 2) here, far more than the tolerance above.
      expect(Math.abs(three.lossSpread[i] - sample)).to.be.above(0.1 * population);
    });
  });

  it('one draw has a spread of zero at every radius', async () => {
    const one = await measureFlatness(model, data, { radii, draws: 1, engine: 'inputs' });
    expect(one.lossSpread).to.deep.equal([0, 0, 0]);
    expect(one.perDraw).to.have.length(1);
    expect(one.losses).to.deep.equal(one.perDraw[0].losses);
  });

  for (const draws of [0, -1, 1.5]) {
    it(`draws ${draws} is a RangeError naming the value`, async () => {
      let caught: unknown;
      await measureFlatness(model, data, { draws }).catch((e: unknown) => (caught = e));
      expect(caught).to.be.instanceOf(RangeError);
      expect((caught as Error).message).to.equal(`draws must be a positive integer, got ${draws}`);
    });
  }

  describe('ortlab flatness --draws', () => {
    it('--json --draws 2 gives draws 2, two per-draw results, one spread per radius', async () => {
      const run = await ortlab('flatness', MNIST_CNN, 'mnist', '--limit', '64', '--draws', '2');
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/radius 0\.001: loss \d+\.\d{6} ± \d+\.\d{6}/);
      expect(run.stdout).to.match(/2 draw\(s\)/);

      const json = await ortlab(
        'flatness',
        MNIST_CNN,
        'mnist',
        '--limit',
        '64',
        '--draws',
        '2',
        '--json',
        '--no-progress',
      );
      expect(json.code, json.stderr).to.equal(0);
      const report = JSON.parse(json.stdout) as FlatnessResult & { data: { samples: number } };
      expect(report.draws).to.equal(2);
      expect(report.data.samples).to.equal(64);
      expect(report.radii).to.deep.equal([0.001, 0.003, 0.006]);
      expect(report.lossSpread).to.have.length(report.radii.length);
      expect(report.perDraw).to.have.length(2);
      report.radii.forEach((_, i) => {
        const [a, b] = report.perDraw.map((d) => d.losses[i]);
        // With two draws the population standard deviation is half their distance.
        expect(report.lossSpread[i], `radius ${i}`).to.be.closeTo(Math.abs(a - b) / 2, 1e-12);
        expect(report.losses[i]).to.be.closeTo((a + b) / 2, 1e-12);
      });
    });
  });
});
