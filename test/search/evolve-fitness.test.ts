import { expect } from 'chai';
import path from 'node:path';

import { openDataset, resolvePreset } from '../../src/index.js';
import { genotype } from '../../src/search/cell-space.js';
import { measureFlatness } from '../../src/search/flatness.js';
import { archFeeds, loadSupernet } from '../../src/search/supernet.js';
import { loadValidationSet } from '../../src/search/validation-set.js';
import { runOrtlab as ortlab } from '../helpers/ortlab-process.js';

const SUPERNET = path.resolve('models/nas/supernet.onnx');
const DATA = 'data/nas-val/images-idx3-ubyte.gz';
interface Best {
  genotype: string;
  encoding: number[];
  fitness: number;
  accuracy: number;
  flatness: number;
}

interface EvolveReport {
  fitness: string;
  gamma: number;
  radii: number[];
  best: Best[];
  history: { generation: number; evaluated: number; bestFitness: number }[];
  evaluated: number;
  config: { samples: number; seed: number };
}

/** A small search: 4 random candidates, then one generation of 1 mutation and 1 crossover. */
async function evolveJson(...extra: string[]): Promise<EvolveReport> {
  const run = await ortlab(
    'search',
    'evolve',
    SUPERNET,
    DATA,
    '--population',
    '4',
    '--generations',
    '1',
    '--top',
    '3',
    '--mutations',
    '1',
    '--crossovers',
    '1',
    '--limit',
    '64',
    '--seed',
    '2',
    '--json',
    '--no-progress',
    ...extra,
  );
  expect(run.code, run.stderr).to.equal(0);
  return JSON.parse(run.stdout) as EvolveReport;
}

function expectSortedByFitness(best: Best[]): void {
  for (let i = 1; i < best.length; i++) {
    expect(best[i - 1].fitness, `best[${i - 1}] against best[${i}]`).to.be.at.least(
      best[i].fitness,
    );
  }
}

describe('ortlab search evolve --fitness', function () {
  this.timeout(120_000);

  describe('flatness', () => {
    let report: EvolveReport;
    before(async () => {
      report = await evolveJson('--fitness', 'flatness');
    });

    it('names the fitness and ranks the best genotypes by their flatness, best first', () => {
      expect(report.fitness).to.equal('flatness');
      expect(report.best).to.have.length(3);
      expectSortedByFitness(report.best);
      for (const b of report.best) {
        expect(b.fitness, b.genotype).to.equal(b.flatness);
        expect(b.flatness).to.be.above(0);
        expect(b.accuracy).to.be.within(0, 1);
      }
      expect(report.history.map((h) => h.generation)).to.deep.equal([0, 1]);
      expect(report.history[0].evaluated).to.equal(4);
      expect(report.history[1].bestFitness).to.equal(report.best[0].fitness);
      expect(report.config.samples).to.equal(64);
    });

    it('reports for the best genotype the flatness measureFlatness gives it', async () => {
      const supernet = await loadSupernet(SUPERNET);
      const [top] = report.best;
      expect(genotype(supernet.space, top.encoding)).to.equal(top.genotype);
      const data = await loadValidationSet(await openDataset(DATA), resolvePreset('mnist'), {
        limit: 64,
      });
      const f = await measureFlatness(supernet.bytes, data, {
        radii: report.radii,
        seed: 2,
        feeds: archFeeds(supernet, top.encoding),
      });
      expect(f.flatness).to.be.closeTo(top.flatness, 1e-4 * top.flatness);
    });
  });

  describe('combined', () => {
    const gamma = 0.5;
    let report: EvolveReport;
    before(async () => {
      report = await evolveJson(
        '--fitness',
        'combined',
        '--gamma',
        String(gamma),
        '--radii',
        '0.002,0.004',
      );
    });

    it('names the fitness and reports the gamma and radii it used', () => {
      expect(report.fitness).to.equal('combined');
      expect(report.gamma).to.equal(gamma);
      expect(report.radii).to.deep.equal([0.002, 0.004]);
    });

    it('scores each best genotype as accuracy + gamma * flatness / s1, sorted best first', () => {
      expect(report.best).to.have.length(3);
      expectSortedByFitness(report.best);
      const s1 = report.radii[0];
      for (const b of report.best) {
        expect(b.fitness, b.genotype).to.be.closeTo(b.accuracy + (gamma * b.flatness) / s1, 1e-12);
        // Both terms count: the fitness is neither the accuracy nor the flatness alone.
        expect(b.fitness).to.be.above(b.accuracy);
        expect(b.fitness).to.not.equal(b.flatness);
      }
    });
  });

  it('rejects an unknown fitness name, listing the valid ones', async () => {
    const run = await ortlab('search', 'evolve', SUPERNET, DATA, '--fitness', 'loss');
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(
      /--fitness must be one of accuracy, flatness, combined, got 'loss'/,
    );
  });
});
