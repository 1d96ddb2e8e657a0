import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

import {
  Session,
  buildReport,
  loadSuite,
  mergeRuns,
  openDataset,
  runSuite,
  shardRange,
  type RobustnessReport,
  type SuiteConfig,
} from '../../src/index.js';
import { nanWhereDarkModel } from '../helpers/imagenet-fakes.js';
import { smallSuite } from '../helpers/suite-fixture.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');

/** The report without the fields that differ between runs by design (date). */
function comparable(report: RobustnessReport): unknown {
  return { ...report, config: { ...report.config, date: undefined } };
}

describe('robustness suites', () => {
  let session: Session;
  let suite: SuiteConfig;
  let single: RobustnessReport;

  before(async () => {
    session = await Session.create(MODEL);
    suite = await loadSuite(await smallSuite());
    single = buildReport(await runSuite(session, suite, { batchSize: 16 }), {});
  });
  after(() => session.dispose());

  it('reports accuracy and calibration per split and OOD detection against the clean split', () => {
    const [clean, shifted, ood] = single.splits;
    expect(clean.metrics?.n).to.equal(300);
    expect(clean.metrics?.top1).to.be.above(0.95);
    expect(shifted.metrics?.n).to.equal(150);
    expect(ood.metrics).to.equal(undefined);
    expect(single.ood).to.have.length(1);
    expect(single.ood[0]).to.deep.include({
      split: 'ood',
      inDistribution: 'clean',
      nIn: 300,
      nOut: 200,
    });
    for (const score of ['msp', 'maxLogit', 'energy', 'entropy'] as const) {
      const d = single.ood[0].scores[score];
      expect(d.outPositive.auroc, score).to.be.within(0, 1);
      expect(d.inPositive.auroc, score).to.be.closeTo(d.outPositive.auroc, 1e-12);
    }
    expect(clean.metrics?.reliability).to.have.length(15);
  });

  it('merges disjoint shards into exactly the report of one run', async () => {
    const shards = [];
    for (let index = 0; index < 3; index++) {
      shards.push(await runSuite(session, suite, { batchSize: 16, shard: { index, count: 3 } }));
    }
    const merged = buildReport(mergeRuns([shards[2], shards[0], shards[1]]), {});
    expect(comparable(merged)).to.deep.equal(comparable(single));
  });

  it('refuses to report from an incomplete set of shards', async () => {
    const shard = await runSuite(session, suite, { batchSize: 16, shard: { index: 0, count: 2 } });
    expect(() => buildReport(mergeRuns([shard]), {})).to.throw(/cover \d+ of its 300 samples/);
  });

  it('cuts shards on whole batches and covers every sample once', () => {
    for (const [size, batch, count] of [
      [300, 16, 3],
      [10, 4, 5],
      [7, 32, 2],
    ]) {
      const ranges = Array.from({ length: count }, (_, index) =>
        shardRange(size, batch, { index, count }),
      );
      expect(ranges[0][0]).to.equal(0);
      expect(ranges[count - 1][1]).to.equal(size);
      for (let i = 1; i < count; i++) {
        expect(ranges[i][0]).to.equal(ranges[i - 1][1]);
        expect(ranges[i][0] % batch).to.equal(0);
      }
    }
  });

  it('resumes from a checkpoint and reports what one run reports', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-checkpoint-'));
    const checkpoint = path.join(dir, 'run.jsonl');
    await runSuite(session, suite, { batchSize: 16, checkpoint, shard: undefined });
    const lines = (await readFile(checkpoint, 'utf8')).split('\n');
    // Keep the header and the first 20 batches' worth of records, and a line cut in the middle.
    await writeFile(
      checkpoint,
      lines.slice(0, 1 + 16 * 20).join('\n') + '\n' + lines[400].slice(0, 30),
    );
    const resumed = buildReport(await runSuite(session, suite, { batchSize: 16, checkpoint }), {});
    expect(comparable(resumed)).to.deep.equal(comparable(single));
  });

  it('refuses a checkpoint written for another configuration, naming what differs', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-checkpoint-'));
    const checkpoint = path.join(dir, 'run.jsonl');
    await runSuite(session, suite, { batchSize: 16, checkpoint, shard: { index: 0, count: 4 } });
    let error: Error | undefined;
    try {
      await runSuite(session, suite, { batchSize: 32, checkpoint, shard: { index: 0, count: 4 } });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.match(/belongs to another run \(differs in: batchSize\)/);
  });

  it('refuses a checkpoint of another model, pixel limit or split role', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-checkpoint-'));
    const checkpoint = path.join(dir, 'run.jsonl');
    const shard = { index: 0, count: 8 };
    await runSuite(session, suite, { batchSize: 16, checkpoint, shard });
    const failure = async (run: Promise<unknown>) => {
      try {
        await run;
      } catch (e) {
        return (e as Error).message;
      }
      return 'resolved';
    };
    const other = await Session.create(nanWhereDarkModel());
    try {
      expect(await failure(runSuite(other, suite, { batchSize: 16, checkpoint, shard }))).to.match(
        /belongs to another run \(differs in: modelSha256/,
      );
    } finally {
      await other.dispose();
    }
    const limited = { batchSize: 16, checkpoint, shard, maxPixels: 1 << 20 };
    expect(await failure(runSuite(session, suite, limited))).to.match(/differs in: maxPixels/);
    const reroled = { ...suite, splits: suite.splits.map((s) => ({ ...s })) };
    reroled.splits[1] = { ...reroled.splits[1], role: 'clean' };
    expect(
      await failure(runSuite(session, reroled, { batchSize: 16, checkpoint, shard })),
    ).to.match(/differs in: splits/);
  });

  it('counts and lists unreadable files per split, and a resumed run keeps them once', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-broken-'));
    const digits = await openDataset('mnist');
    for await (const sample of digits.samples({ end: 6 })) {
      if (sample.source.kind !== 'pixels') throw new Error('expected pixels');
      const folder = path.join(dir, 'data', String(sample.label));
      await mkdir(folder, { recursive: true });
      const png = await sharp(Buffer.from(sample.source.data), {
        raw: { width: 28, height: 28, channels: 1 },
      })
        .png()
        .toBuffer();
      await writeFile(path.join(folder, `${sample.index}.png`), png);
      if (sample.index === 0) {
        await writeFile(path.join(folder, 'empty.png'), Buffer.alloc(0));
        await writeFile(path.join(folder, 'truncated.png'), png.subarray(0, 40));
        await writeFile(path.join(folder, 'notes.png'), 'not an image');
      }
    }
    const broken: SuiteConfig = {
      name: 'broken files',
      preset: 'mnist',
      splits: [{ name: 'digits', role: 'clean', data: path.join(dir, 'data') }],
    };
    const checkpoint = path.join(dir, 'run.jsonl');
    const first = buildReport(await runSuite(session, broken, { batchSize: 4, checkpoint }), {});
    const [split] = first.splits;
    expect(split.size).to.equal(9);
    expect(split.scored).to.equal(6);
    expect(split.skipped.map((k) => path.basename(k.id)).sort()).to.deep.equal([
      'empty.png',
      'notes.png',
      'truncated.png',
    ]);
    for (const k of split.skipped) expect(k.reason, k.id).to.be.a('string').and.not.equal('');
    expect(split.skipped.find((k) => k.id.endsWith('empty.png'))?.reason).to.match(
      /empty|0 bytes/i,
    );
    // Folders 0, 1, 2, 4, 7 are classes 0..4 here; the model predicts 7 for a seven, a class the
    // split does not have: a mistake, with a column of its own in the confusion matrix.
    expect(split.metrics?.perClassAccuracy).to.have.length(5);
    expect(split.metrics?.confusion).to.have.length(5);
    expect(split.metrics?.confusion?.[4]).to.have.length(8);
    expect(split.metrics?.confusion?.[4][7]).to.equal(1);
    const again = buildReport(await runSuite(session, broken, { batchSize: 4, checkpoint }), {});
    expect(comparable(again)).to.deep.equal(comparable(first));
  });

  it('is an error for a split that is empty', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-empty-'));
    const bad = { ...suite, splits: [{ name: 'empty', role: 'clean' as const, data: dir }] };
    let error: Error | undefined;
    try {
      await runSuite(session, bad, { batchSize: 16 });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.match(/empty/i);
  });
});

describe('robustness suites: non-finite logits', () => {
  it('counts samples whose logits are NaN, per split, and scores the rest', async () => {
    const suite = await loadSuite(await smallSuite({ clean: 120, shifted: 40, ood: 50 }));
    const session = await Session.create(nanWhereDarkModel());
    const report = buildReport(
      await runSuite(session, { ...suite, preset: 'raw' }, { batchSize: 32 }),
      {},
    );
    await session.dispose();
    const dataset = await openDataset(suite.splits[0].data);
    let dark = 0;
    for await (const s of dataset.samples()) {
      if (s.source.kind !== 'pixels') continue;
      const row = s.source.data.subarray(14 * 28 + 9, 14 * 28 + 19);
      if (row.some((v) => v / 255 < 0.5)) dark++;
    }
    const clean = report.splits[0].metrics;
    expect(dark).to.be.within(1, 119);
    expect(clean?.nonFinite).to.equal(dark);
    expect(clean?.n).to.equal(120 - dark);
    expect(clean?.nonFiniteIds).to.have.length(dark);
  });
});
