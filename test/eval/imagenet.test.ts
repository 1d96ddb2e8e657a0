import { expect } from 'chai';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { imagenetClasses, imagenetMapping } from '../../src/eval/imagenet.js';
import { fakeDataset, redLevelModel } from '../helpers/imagenet-fakes.js';
import { runOrtlab as ortlab } from '../helpers/ortlab-process.js';

/** Red level whose prediction by the red-level model is near 1k class `index + offset`. */
const level = (index: number, offset = 0): number => Math.round(((index + offset) * 255) / 1000);

describe('ImageNet protocols', () => {
  let model: string;
  const SUBSET = [990, 10, 450, 200, 700];

  before(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-model-'));
    model = path.join(dir, 'red-level.onnx');
    await writeFile(model, redLevelModel());
  });

  it('ships the 1000-class table: index = position of the wnid in the sorted list', async () => {
    const classes = await imagenetClasses();
    expect(classes).to.have.length(1000);
    expect(classes.map((c) => c.index)).to.deep.equal([...Array(1000).keys()]);
    const wnids = classes.map((c) => c.wnid);
    expect(wnids).to.deep.equal([...wnids].sort());
    expect(classes[0]).to.deep.equal({ index: 0, wnid: 'n01440764', name: 'tench' });
  });

  it("derives ImageNet-A's 200-class subset from wnid folders, in sorted-wnid order", async () => {
    const classes = await imagenetClasses();
    const wnids = SUBSET.map((i) => classes[i].wnid);
    const dir = await fakeDataset(Object.fromEntries(wnids.map((w) => [w, [0]])));
    const mapping = await imagenetMapping(dir, 'imagenet-a');
    const sorted = [...wnids].sort();
    expect(Object.keys(mapping.classMap).sort()).to.deep.equal(sorted);
    expect(sorted.map((w) => mapping.classMap[w])).to.deep.equal([0, 1, 2, 3, 4]);
    expect(mapping.classIndices).to.deep.equal(
      sorted.map((w) => classes.find((c) => c.wnid === w)?.index),
    );
  });

  it('takes wnid folders that are links, as a folder of links to the validation set', async () => {
    const classes = await imagenetClasses();
    const wnids = SUBSET.map((i) => classes[i].wnid);
    const real = await fakeDataset(Object.fromEntries(wnids.map((w) => [w, [0]])));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-linked-'));
    for (const w of wnids.slice(0, 3)) await symlink(path.join(real, w), path.join(dir, w));
    const mapping = await imagenetMapping(dir, 'imagenet-a');
    const sorted = wnids.slice(0, 3).sort();
    expect(mapping.classes).to.have.length(3);
    expect(mapping.classIndices).to.deep.equal(
      sorted.map((w) => classes.find((c) => c.wnid === w)?.index),
    );
  });

  it('eval --suite imagenet-a restricts the 1000 logits to the subset before argmax', async () => {
    const classes = await imagenetClasses();
    // Each image sits 3 classes above its own class: unrestricted, every prediction is wrong;
    // restricted to the subset (spaced far apart), every prediction is right.
    const dir = await fakeDataset(
      Object.fromEntries(SUBSET.map((i) => [classes[i].wnid, [level(i, 3), level(i, 3)]])),
    );
    const run = await ortlab(
      'eval',
      model,
      dir,
      '--suite',
      'imagenet-a',
      '--preset',
      'raw',
      '--json',
      '--out',
      path.join(dir, 'out'),
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      splits: {
        classIndices: number[];
        metrics: { top1: number };
        scored: number;
        protocol: string;
      }[];
      config: { metrics: { eceBins: number; rmsBinSize: number } };
    };
    const [split] = report.splits;
    expect(split.protocol).to.match(/^ImageNet-A: .* restricted to their classes before softmax/);
    expect(report.config.metrics).to.deep.include({ eceBins: 15, rmsBinSize: 100 });
    expect(split.classIndices).to.deep.equal(
      [...SUBSET].sort((a, b) => classes[a].wnid.localeCompare(classes[b].wnid)),
    );
    expect(split.scored).to.equal(10);
    expect(split.metrics.top1).to.equal(1);

    const plain = await ortlab('eval', model, dir, '--preset', 'raw', '--json');
    expect(plain.code, plain.stderr).to.equal(0);
    expect((JSON.parse(plain.stdout) as { top1: number }).top1).to.equal(0);
  });

  it('eval --suite imagenet-v2 reads folders 0..999 numerically over all 1000 logits', async () => {
    const indices = [0, 200, 400, 600, 800];
    const dir = await fakeDataset(Object.fromEntries(indices.map((i) => [String(i), [level(i)]])));
    const run = await ortlab(
      'eval',
      model,
      dir,
      '--suite',
      'imagenet-v2',
      '--preset',
      'raw',
      '--json',
      '--out',
      path.join(dir, 'out'),
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      splits: { classIndices?: number[]; metrics: { top1: number } }[];
    };
    expect(report.splits[0].classIndices).to.equal(undefined);
    expect(report.splits[0].metrics.top1).to.equal(1);
  });

  it('scores ImageNet-O against validation images of the same classes, OOD positive', async () => {
    // Classes 0, 200, 400, 600 and 800: a validation image sits exactly on its class (red level
    // 51 k / 200, confidence 1), an OOD image half-way between two (confidence 0.5).
    const classes = await imagenetClasses();
    const ks = [0, 200, 400, 600, 800];
    const wnid = (k: number) => classes[k].wnid;
    const val = await fakeDataset(
      Object.fromEntries(ks.map((k) => [wnid(k), [k * 0.255, k * 0.255]])),
    );
    const ood = await fakeDataset(
      Object.fromEntries(ks.map((k, n) => [wnid(k), [(k + 100) * 0.255, n < 4 ? 0 : 25.5]])),
    );
    const run = await ortlab(
      'eval',
      model,
      ood,
      '--suite',
      'imagenet-o',
      '--val',
      val,
      '--preset',
      'raw',
      '--json',
      '--out',
      path.join(ood, 'out'),
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      ood: {
        split: string;
        inDistribution: string;
        nIn: number;
        nOut: number;
        scores: Record<string, Record<string, { aupr: number; auroc: number; fpr95: number }>>;
      }[];
    };
    const [o] = report.ood;
    expect(o).to.deep.include({ split: 'o', inDistribution: 'val', nIn: 10, nOut: 10 });
    // Five OOD images sit half-way between two classes (red 25.5, 76.5, 127.5, 178.5: s = 100,
    // 300, 500, 700; confidence 0.5). The other five are as confident as val: red 0 sits on class
    // 0, and red 229.5 (s = 900) is nearest 800 with 600 far behind. By hand, with -msp as the
    // anomaly score: AUROC = (5 x 10 + 5 x 10 / 2) / (10 x 10) = 0.75; average precision =
    // 0.5 x 1 + 0.5 x 10/20 = 0.75; FPR at 95% TPR needs the tied group, so all of val: 1.
    expect(o.scores.msp.outPositive.auroc).to.be.closeTo(0.75, 1e-12);
    expect(o.scores.msp.outPositive.aupr).to.be.closeTo(0.75, 1e-12);
    expect(o.scores.msp.outPositive.fpr95).to.equal(1);
  });

  it('scores ImageNet-O against --val images of its own classes when --val has more', async () => {
    const classes = await imagenetClasses();
    const extra = [300, 600];
    const val = await fakeDataset(
      Object.fromEntries([...SUBSET, ...extra].map((i) => [classes[i].wnid, [level(i), level(i)]])),
    );
    const ood = await fakeDataset(
      Object.fromEntries(SUBSET.map((i) => [classes[i].wnid, [level(i, 120)]])),
    );
    const run = await ortlab(
      'robustness',
      model,
      '--val',
      val,
      '--o',
      ood,
      '--preset',
      'raw',
      '--json',
      '--out',
      path.join(ood, 'out'),
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      splits: { name: string; scored: number; classIndices?: number[] }[];
      ood: { split: string; inDistribution: string; nIn: number; nOut: number }[];
    };
    const byName = Object.fromEntries(report.splits.map((s) => [s.name, s]));
    expect(byName.val.scored).to.equal(14);
    expect(byName['val-o'].scored).to.equal(10);
    expect(byName['val-o'].classIndices).to.deep.equal([...SUBSET].sort((a, b) => a - b));
    expect(byName.o.classIndices).to.deep.equal(byName['val-o'].classIndices);
    expect(report.ood[0]).to.deep.include({ split: 'o', inDistribution: 'val-o', nIn: 10 });
  });

  describe('bad input', () => {
    it('refuses an OOD split scored on other classes than its in-distribution side', async () => {
      const classes = await imagenetClasses();
      const val = await fakeDataset(
        Object.fromEntries([10, 200, 300].map((i) => [classes[i].wnid, [0]])),
      );
      const o = await fakeDataset(Object.fromEntries([10, 200].map((i) => [classes[i].wnid, [0]])));
      const config = path.join(o, 'suite.json');
      await writeFile(
        config,
        JSON.stringify({
          name: 'mismatch',
          splits: [
            { name: 'val', role: 'clean', kind: 'imagenet', data: val },
            { name: 'o', role: 'ood', kind: 'imagenet-o', data: o, inDistribution: 'val' },
          ],
        }),
      );
      const run = await ortlab('robustness', model, '--config', config, '--preset', 'raw');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(
        /ood split 'o' scores 2 classes but its in-distribution split 'val' scores 3.*classFolders/,
      );
    });

    it('names a folder that is not an ImageNet wnid', async () => {
      const dir = await fakeDataset({ n01440764: [0], n99999999: [0] });
      const run = await ortlab('eval', model, dir, '--suite', 'imagenet-r', '--preset', 'raw');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/folder 'n99999999' is not an ImageNet-1k wnid/);
    });

    it('names an ImageNet-V2 folder that is not a class index', async () => {
      const dir = await fakeDataset({ '3': [0], cats: [0] });
      const run = await ortlab('eval', model, dir, '--suite', 'imagenet-v2', '--preset', 'raw');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/'cats' is not one/);
    });

    it('refuses a model whose output is not 1000 wide', async () => {
      const classes = await imagenetClasses();
      const dir = await fakeDataset({ [classes[0].wnid]: [0] });
      const run = await ortlab(
        'eval',
        path.resolve('models/mnist-cnn.onnx'),
        dir,
        '--suite',
        'imagenet-a',
      );
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/needs a model with 1000 outputs.*has 10/);
    });

    it('asks for --val with ImageNet-O', async () => {
      const classes = await imagenetClasses();
      const dir = await fakeDataset({ [classes[0].wnid]: [0] });
      const run = await ortlab('eval', model, dir, '--suite', 'imagenet-o', '--preset', 'raw');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/pass them with --val DIR/);
    });
  });
});
