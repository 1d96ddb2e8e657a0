import { expect } from 'chai';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { Session, openDataset, resolvePreset } from '../../src/index.js';
import { NAS_BENCH_201, parseGenotype } from '../../src/search/cell-space.js';
import { kendallTau, spearman } from '../../src/search/correlation.js';
import { PREDICTORS, predictor, type RankedModel } from '../../src/search/rank.js';
import { candidateAccuracy, loadSupernet } from '../../src/search/supernet.js';
import { loadValidationSet } from '../../src/search/validation-set.js';
import { runOrtlab as ortlab } from '../helpers/ortlab-process.js';

const SUPERNET = path.resolve('models/nas/supernet.onnx');
interface Card {
  measured: {
    candidates: {
      id: string;
      genotype: string;
      supernetValAccuracy: { batchStatistics: number };
    }[];
  };
}

describe('shipped supernet models/nas/supernet.onnx', () => {
  it('scores a candidate through one session as the export script measured it', async function () {
    this.timeout(120_000);
    const supernet = await loadSupernet(SUPERNET);
    expect(supernet.space.ops).to.deep.equal(NAS_BENCH_201.ops);
    expect(supernet.archInput).to.equal('arch');
    const card = JSON.parse(await readFile('models/nas/supernet.json', 'utf8')) as Card;
    const candidate = card.measured.candidates[0];
    const data = await loadValidationSet(
      await openDataset('data/nas-val/images-idx3-ubyte.gz'),
      resolvePreset('mnist'),
      { batchSize: 256 },
    );
    const session = await Session.create(supernet.bytes);
    const accuracy = await candidateAccuracy(
      session,
      supernet,
      data,
      parseGenotype(supernet.space, candidate.genotype),
    );
    await session.dispose();
    // Same images, same batches of 256 (batch-statistics BN): at most one prediction may flip.
    expect(accuracy).to.be.closeTo(candidate.supernetValAccuracy.batchStatistics, 1 / 5000 + 1e-12);
  });

  it('refuses a supernet whose architecture input mismatches the declared cell space', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-supernet-'));
    await copyFile(SUPERNET, path.join(dir, 'supernet.onnx'));
    await writeFile(
      path.join(dir, 'supernet.json'),
      JSON.stringify({ space: { ops: ['none', 'skip', 'conv3x3'], nodes: 4 } }),
    );
    let error: Error | undefined;
    try {
      await loadSupernet(path.join(dir, 'supernet.onnx'));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.match(/architecture input 'arch' has dims \[6, 5\].*needs \[6, 3\]/);
  });

  it('search evolve runs a small search and reports best genotypes and history', async function () {
    this.timeout(120_000);
    const run = await ortlab(
      'search',
      'evolve',
      SUPERNET,
      'data/nas-val/images-idx3-ubyte.gz',
      '--population',
      '6',
      '--generations',
      '1',
      '--top',
      '3',
      '--mutations',
      '2',
      '--crossovers',
      '2',
      '--limit',
      '256',
      '--seed',
      '4',
      '--json',
      '--no-progress',
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      best: { genotype: string; accuracy: number; fitness: number }[];
      history: { generation: number; evaluated: number }[];
      fitness: string;
      config: { preset: { name: string; mean: number[] } };
    };
    expect(report.fitness).to.equal('accuracy');
    // The preset comes from the supernet's card (models/nas/supernet.json).
    expect(report.config.preset).to.include({ name: 'mnist' });
    expect(report.config.preset.mean).to.deep.equal([0.1307]);
    expect(report.best).to.have.length(3);
    expect(report.best[0].fitness).to.equal(report.best[0].accuracy);
    expect(report.best[0].fitness).to.be.at.least(report.best[2].fitness);
    expect(report.history.map((h) => h.generation)).to.deep.equal([0, 1]);
    expect(report.history[0].evaluated).to.equal(6);
  });
});

describe('search presets', () => {
  it('evolve takes --preset over the card: other inputs, other accuracies', async function () {
    this.timeout(120_000);
    const common = ['search', 'evolve', SUPERNET, 'data/nas-val/images-idx3-ubyte.gz'];
    const small = ['--population', '3', '--generations', '0', '--limit', '128', '--json'];
    const runs = [
      await ortlab(...common, ...small, '--no-progress'),
      await ortlab(...common, ...small, '--preset', 'raw', '--no-progress'),
    ];
    const [card, raw] = runs.map((run) => {
      expect(run.code, run.stderr).to.equal(0);
      return JSON.parse(run.stdout) as {
        best: { genotype: string; accuracy: number }[];
        config: { preset: { name: string } };
      };
    });
    expect(card.config.preset.name).to.equal('mnist');
    expect(raw.config.preset.name).to.equal('raw');
    const accuracy = (r: typeof card) =>
      Object.fromEntries(r.best.map((b) => [b.genotype, b.accuracy]));
    expect(accuracy(raw)).to.not.deep.equal(accuracy(card));
  });

  it('rank reads the preset from the manifest, and --preset overrides it', async function () {
    this.timeout(120_000);
    const manifest = JSON.parse(await readFile('models/nas/manifest.json', 'utf8')) as {
      models: { file: string }[];
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-rank-preset-'));
    const custom = { name: 'half', size: 28, mean: [0.5], std: [0.5], channels: 'gray' };
    const file = path.join(dir, 'manifest.json');
    await writeFile(
      file,
      JSON.stringify({
        ...manifest,
        preset: custom,
        data: { validation: path.resolve('data/nas-val/images-idx3-ubyte.gz') },
        models: manifest.models
          .slice(0, 3)
          .map((m) => ({ ...m, file: path.resolve('models/nas', m.file) })),
      }),
    );
    const rank = async (...flags: string[]) => {
      const run = await ortlab(
        'search',
        'rank',
        file,
        '--limit',
        '128',
        '--json',
        '--out',
        dir,
        '--no-progress',
        ...flags,
      );
      expect(run.code, run.stderr).to.equal(0);
      return JSON.parse(run.stdout) as {
        models: { flatness: number }[];
        config: { preset: { name: string; mean: number[]; std: number[] } };
      };
    };
    const fromManifest = await rank();
    expect(fromManifest.config.preset).to.include({ name: 'half' });
    expect(fromManifest.config.preset.mean).to.deep.equal([0.5]);
    const raw = await rank('--preset', 'raw');
    expect(raw.config.preset).to.include({ name: 'raw' });
    expect(raw.models[0].flatness).to.not.equal(fromManifest.models[0].flatness);
  });
});

describe('search rank', () => {
  it('correlates predictors with test and shifted accuracy over a manifest', async function () {
    this.timeout(180_000);
    const manifest = JSON.parse(await readFile('models/nas/manifest.json', 'utf8')) as {
      models: { file: string; testAccuracy: number }[];
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-rank-'));
    const small = {
      ...manifest,
      data: { validation: path.resolve('data/nas-val/images-idx3-ubyte.gz') },
      models: manifest.models
        .slice(0, 5)
        .map((m) => ({ ...m, file: path.resolve('models/nas', m.file) })),
    };
    const file = path.join(dir, 'manifest.json');
    await writeFile(file, JSON.stringify(small));
    const run = await ortlab(
      'search',
      'rank',
      file,
      '--limit',
      '256',
      '--json',
      '--out',
      dir,
      '--no-progress',
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      models: RankedModel[];
      gamma: number;
      radii: number[];
      correlations: Record<string, Record<string, { kendall: number; spearman: number }>>;
      config: { preset: { name: string } };
    };
    expect(report.models).to.have.length(5);
    expect(report.config.preset.name).to.equal('mnist');
    // Recomputed from the reported models with the correlations checked against scipy.
    const targets: Record<string, number[]> = {
      test: report.models.map((m) => m.testAccuracy),
      v2: report.models.map((m) => m.shifted.v2),
      a: report.models.map((m) => m.shifted.a),
      shifted: report.models.map((m) => (m.shifted.v2 + m.shifted.a) / 2),
    };
    for (const name of PREDICTORS) {
      const x = report.models.map((m) => predictor(name, m, report.gamma, report.radii[0]));
      for (const [target, y] of Object.entries(targets)) {
        const got = report.correlations[name][target];
        expect(got.kendall, `${name} ${target}`).to.be.closeTo(kendallTau(x, y), 1e-12);
        expect(got.spearman, `${name} ${target}`).to.be.closeTo(spearman(x, y), 1e-12);
      }
    }
    expect(report.models.map((m) => m.testAccuracy)).to.deep.equal(
      small.models.map((m) => m.testAccuracy),
    );
    expect(Object.keys(report.correlations)).to.deep.equal([
      'flatness',
      'valAccuracy',
      'valLoss',
      'combined',
      'parameters',
    ]);
    expect(Object.keys(report.correlations.flatness)).to.deep.equal(['test', 'v2', 'a', 'shifted']);
    for (const row of Object.values(report.correlations)) {
      for (const c of Object.values(row)) expect(c.kendall).to.be.within(-1, 1);
    }
    const html = await readFile(path.join(dir, 'rank.html'), 'utf8');
    expect((html.match(/<svg class="chart scatter"/g) ?? []).length).to.equal(8);
  });
});
