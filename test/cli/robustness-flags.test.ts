import { expect } from 'chai';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { imagenetSuite } from '../../src/cli/robustness-command.js';
import { summaryLines } from '../../src/cli/summary.js';
import { imagenetClasses } from '../../src/eval/imagenet.js';
import type { RobustnessReport } from '../../src/index.js';
import {
  fakeDataset,
  fakeImagenetFlags,
  redLevelModel,
  type FakeImagenetFlags,
} from '../helpers/imagenet-fakes.js';
import { runOrtlab as ortlab } from '../helpers/ortlab-process.js';

/** Splits a table line into its cells (cells are separated by two or more spaces). */
const cells = (line: string): string[] => line.trim().split(/\s{2,}/);

describe('ortlab robustness with ImageNet flags', () => {
  let model: string;
  let dirs: FakeImagenetFlags['dirs'];
  let rSubset: number[];
  let sortedSubset: number[];

  before(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-model-'));
    model = path.join(dir, 'red-level.onnx');
    await writeFile(model, redLevelModel());
    const fakes = await fakeImagenetFlags();
    dirs = fakes.dirs;
    rSubset = fakes.rSubset;
    const classes = await imagenetClasses();
    sortedSubset = [...fakes.subset].sort((x, y) => classes[x].wnid.localeCompare(classes[y].wnid));
  });

  describe('imagenetSuite', () => {
    it('makes one split per flag, with its ImageNet kind and role, in a fixed order', () => {
      const suite = imagenetSuite({ o: '/d/o', a: '/d/a', val: '/d/val', r: '/d/r', v2: '/d/v2' });
      expect(suite.name).to.equal('ImageNet robustness');
      expect(suite.splits.map((s) => [s.name, s.kind, s.role, s.data])).to.deep.equal([
        ['val', 'imagenet', 'clean', '/d/val'],
        ['v2', 'imagenet-v2', 'shifted', '/d/v2'],
        ['a', 'imagenet-a', 'shifted', '/d/a'],
        ['r', 'imagenet-r', 'shifted', '/d/r'],
        ['o', 'imagenet-o', 'ood', '/d/o'],
      ]);
      expect(suite.splits[4].inDistribution).to.equal('val');
    });

    it('resolves relative folders against the working directory', () => {
      const suite = imagenetSuite({ v2: 'some/v2' });
      expect(suite.splits).to.have.length(1);
      expect(suite.splits[0].data).to.equal(path.resolve('some/v2'));
    });

    it('asks for --val when --o is given without it', () => {
      expect(() => imagenetSuite({ o: '/d/o', a: '/d/a' })).to.throw(
        /--o \(ImageNet-O\) is scored against ImageNet validation images.*pass them with --val DIR/,
      );
    });

    it('asks for a suite when no flag is given', () => {
      expect(() => imagenetSuite({})).to.throw(
        'give a suite: --config FILE, or one or more of --val --v2 --a --r --o',
      );
    });
  });

  it('--json reports the five splits with their kinds, roles and class indices', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'ortlab-robustness-'));
    const run = await ortlab(
      'robustness',
      model,
      '--val',
      dirs.val,
      '--v2',
      dirs.v2,
      '--a',
      dirs.a,
      '--r',
      dirs.r,
      '--o',
      dirs.o,
      '--preset',
      'raw',
      '--json',
      '--no-progress',
      '--out',
      out,
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as RobustnessReport;
    expect(report.suite.name).to.equal('ImageNet robustness');
    expect(report.splits.map((s) => [s.name, s.kind, s.role, s.scored])).to.deep.equal([
      ['val', 'imagenet', 'clean', 10],
      ['v2', 'imagenet-v2', 'shifted', 5],
      ['a', 'imagenet-a', 'shifted', 5],
      ['r', 'imagenet-r', 'shifted', 3],
      ['o', 'imagenet-o', 'ood', 5],
    ]);
    const [val, v2, a, r, o] = report.splits;
    const classes = await imagenetClasses();
    expect(r.classIndices).to.deep.equal(
      [...rSubset].sort((x, y) => classes[x].wnid.localeCompare(classes[y].wnid)),
    );
    expect(r.metrics?.top1, 'two classes off, restricted to its own 3 classes').to.equal(1);
    expect(val.classIndices).to.deep.equal(sortedSubset);
    expect(v2.classIndices, 'ImageNet-V2 scores all 1000 logits').to.equal(undefined);
    expect(v2.classes).to.equal(1000);
    expect(a.classIndices).to.deep.equal(sortedSubset);
    expect(o.classIndices).to.deep.equal(sortedSubset);
    expect(val.metrics?.top1).to.equal(1);
    expect(v2.metrics?.top1).to.equal(1);
    expect(a.metrics?.top1, 'restricted to the subset, 3 classes off is still right').to.equal(1);
    expect(report.ood).to.have.length(1);
    expect(report.ood[0]).to.deep.include({ split: 'o', inDistribution: 'val', nIn: 10, nOut: 5 });
    const written = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as unknown;
    expect(written).to.deep.equal(report);
  });

  it('without --json prints the summary table: a header, one row per split, then OOD', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'ortlab-robustness-'));
    const run = await ortlab(
      'robustness',
      model,
      '--val',
      dirs.val,
      '--v2',
      dirs.v2,
      '--o',
      dirs.o,
      '--preset',
      'raw',
      '--no-progress',
      '--out',
      out,
    );
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).to.equal('ImageNet robustness');
    const header = lines[1];
    expect(cells(header)).to.deep.equal([
      'split',
      'role',
      'n',
      'skipped',
      'top-1',
      'top-5',
      'ECE',
      'RMS',
      'NLL',
      'Brier',
    ]);
    const val = lines[2];
    const row = cells(val);
    expect(row.slice(0, 6)).to.deep.equal(['val', 'clean', '10', '0', '100.00%', '100.00%']);
    const [ece, rms, nll, brier] = row.slice(6);
    for (const value of [ece, nll, brier]) expect(value).to.match(/^\d+\.\d{4}$/);
    expect(rms, 'RMS calibration error needs 100 samples; 10 print a dash').to.equal('–');
    // Columns line up: every cell starts where its header does.
    expect(val.indexOf('clean')).to.equal(header.indexOf('role'));
    expect(val.indexOf('100.00%')).to.equal(header.indexOf('top-1'));
    expect(cells(lines[3]).slice(0, 4)).to.deep.equal(['v2', 'shifted', '5', '0']);
    // An OOD split has no accuracy: its metric cells are dashes.
    expect(cells(lines[4])).to.deep.equal(['o', 'ood', '5', '0', ...Array<string>(6).fill('–')]);
    expect(lines[5]).to.equal('');
    expect(lines[6]).to.equal('OOD: o (5) against val (10), OOD positive');
    expect(cells(lines[7])).to.deep.equal(['score', 'AUROC', 'AUPR', 'FPR95']);
    expect(cells(lines[8])[0]).to.equal('msp');
    expect(run.stdout).to.contain(
      `report: ${path.join(out, 'report.html')} (JSON: ${path.join(out, 'report.json')})`,
    );
  });

  it('names a --v2 folder that is not a class index and exits 1', async () => {
    const dir = await fakeDataset({ '7': [0], dogs: [0] });
    const run = await ortlab('robustness', model, '--v2', dir, '--preset', 'raw', '--no-progress');
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/ImageNet-V2 class folders are named by class index.*'dogs'/);
  });
});

describe('terminal summary', () => {
  it('prints dashes for NaN metrics and warns about non-finite logits by split', () => {
    const report = {
      suite: { name: 'my suite' },
      splits: [
        {
          name: 'clean',
          role: 'clean',
          scored: 3,
          skipped: [{ id: 'x', reason: 'bad' }],
          metrics: {
            top1: 2 / 3,
            top5: 1,
            ece: NaN,
            rmsCalibrationError: 0.125,
            nll: 1.5,
            brier: 0.25,
            nonFinite: 2,
          },
        },
      ],
      ood: [],
    } as unknown as RobustnessReport;
    const lines = summaryLines(report);
    expect(lines[0]).to.equal('my suite');
    expect(cells(lines[2])).to.deep.equal([
      'clean',
      'clean',
      '3',
      '1',
      '66.67%',
      '100.00%',
      '–',
      '0.1250',
      '1.5000',
      '0.2500',
    ]);
    expect(lines.at(-1)).to.equal("warning: 2 samples of 'clean' had NaN or infinite logits");
  });
});
