import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import '../../src/index.js';
import { pruneMagnitude } from '../../src/compress/magnitude-prune.js';
import {
  occlusionMap,
  riseMap,
  riseMasks,
  scoreCamMap,
} from '../../src/eval/attribution/forward-maps.js';
import { wcamDistance } from '../../src/eval/attribution/map-metrics.js';
import type { MapBatch } from '../../src/eval/attribution/maps.js';
import { encodeIdx } from '../../src/runtime/datasets/idx.js';
import { openDataset } from '../../src/runtime/datasets/open-dataset.js';
import { loadOnnxModel } from '../../src/runtime/onnx/load-node.js';
import { OnnxModel } from '../../src/runtime/onnx/model.js';
import { resolvePreset } from '../../src/runtime/preprocess/presets.js';
import { Session } from '../../src/runtime/session.js';
import type { Tensor } from '../../src/runtime/tensor.js';
import { loadValidationSet } from '../../src/search/validation-set.js';
import { readModelCard } from '../../src/cli/model-card.js';
import { launchBrowser } from '../helpers/browser.js';
import { runOrtlab as ortlab } from '../helpers/ortlab-process.js';

const MODEL = 'models/mnist-cnn.onnx';

describe('ortlab compress and ortlab attribution', function () {
  this.timeout(120_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ortlab-compress-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('compress --quantize int8: a model that loads, reported against the original', async () => {
    const out = path.join(dir, 'int8.onnx');
    const run = await ortlab(
      'compress',
      MODEL,
      '--quantize',
      'int8',
      '-o',
      out,
      '--limit',
      '200',
      '--json',
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      data: string;
      samples: number;
      sizeRatio: number;
      top1Agreement: number;
      compressed: { bytes: number; accuracy: number };
      original: { bytes: number };
    };
    expect(report.data).to.equal('mnist');
    expect(report.samples).to.equal(200);
    const written = await readFile(out);
    expect(report.compressed.bytes).to.equal(written.length);
    expect(report.sizeRatio).to.be.closeTo(written.length / report.original.bytes, 1e-12);
    expect(report.sizeRatio).to.be.lessThan(0.3);
    expect(report.top1Agreement).to.be.at.least(0.99);
    const session = await Session.create(new Uint8Array(written));
    expect(session.outputs.map((o) => o.name)).to.deep.equal(['logits']);
    await session.dispose();
  });

  it("compress --prune 0.5 --json: sparsity, parameters, latency, models' agreement", async () => {
    const out = path.join(dir, 'magnitude.onnx');
    const run = await ortlab(
      'compress',
      MODEL,
      '--prune',
      '0.5',
      '-o',
      out,
      '--limit',
      '300',
      '--json',
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      samples: number;
      top1Agreement: number;
      latencyRatio: number;
      original: { parameters: number; nonzeroParameters: number; latencyMs: number };
      compressed: {
        parameters: number;
        nonzeroParameters: number;
        sparsity: number;
        latencyMs: number;
        accuracy: number;
      };
    };
    expect(report.samples).to.equal(300);
    expect(report.compressed.sparsity).to.be.closeTo(0.5, 1e-4);
    const written = OnnxModel.fromBytes(new Uint8Array(await readFile(out)));
    let nonzero = 0;
    for (const w of written.weights())
      nonzero += written.getWeight(w.name).filter((v) => v !== 0).length;
    expect(report.compressed.nonzeroParameters).to.equal(nonzero);
    expect(nonzero).to.be.within(
      0.45 * report.original.parameters,
      0.55 * report.original.parameters,
    );
    expect(report.compressed.parameters).to.equal(report.original.parameters);
    expect(report.latencyRatio).to.be.greaterThan(0);
    expect(report.latencyRatio).to.be.closeTo(
      report.compressed.latencyMs / report.original.latencyMs,
      1e-9,
    );

    // The agreement counted here from both models' own predictions on the same 300 images.
    const card = await readModelCard(MODEL);
    const set = await loadValidationSet(
      await openDataset('mnist'),
      resolvePreset(card!.preset!, [1, 1, 28, 28]),
      { limit: 300 },
    );
    const predict = async (bytes: Uint8Array): Promise<number[]> => {
      const session = await Session.create(bytes);
      try {
        const classes: number[] = [];
        for (const batch of set.batches) {
          const input = { type: 'float32' as const, data: batch.data, dims: batch.dims };
          const logits = (await session.run({ input })).logits.data as Float32Array;
          for (let b = 0; b < batch.labels.length; b++) {
            const row = Array.from(logits.subarray(b * 10, b * 10 + 10));
            classes.push(row.indexOf(Math.max(...row)));
          }
        }
        return classes;
      } finally {
        await session.dispose();
      }
    };
    const a = await predict(new Uint8Array(await readFile(MODEL)));
    const b = await predict(written.toBytes());
    const labels = set.batches.flatMap((batch) => Array.from(batch.labels));
    const agree = a.filter((c, i) => c === b[i]).length / a.length;
    expect(agree).to.be.lessThan(1);
    expect(report.top1Agreement).to.equal(agree);
    expect(report.compressed.accuracy).to.equal(b.filter((c, i) => c === labels[i]).length / 300);
  });

  it('compress --prune-filters writes a smaller model; a bad ratio is a usage error', async () => {
    const out = path.join(dir, 'filters.onnx');
    const run = await ortlab(
      'compress',
      MODEL,
      '--prune-filters',
      '0.5',
      '-o',
      out,
      '--limit',
      '64',
    );
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/parameters {2}70122 -> \d+ nonzero/);
    const model = OnnxModel.fromBytes(new Uint8Array(await readFile(out)));
    expect(model.weights().find((w) => w.name === 'conv1.weight')!.dims).to.deep.equal([
      8, 1, 3, 3,
    ]);
    const bad = await ortlab('compress', MODEL, '--prune', '1', '-o', out);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("--prune takes a ratio in [0, 1) such as 0.5, got '1'");
    const none = await ortlab('compress', MODEL, '-o', out);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.include(
      'give exactly one of --prune R, --prune-filters R, --quantize int8',
    );
  });

  it('compress that fails on its data or its options writes no file', async () => {
    const out = path.join(dir, 'never.onnx');
    const missing = await ortlab(
      'compress',
      MODEL,
      '--prune',
      '0.5',
      '-o',
      out,
      '--data',
      path.join(dir, 'none'),
    );
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include(path.join(dir, 'none'));
    // A model without a card names no data set: --data is required.
    const bare = path.join(dir, 'bare.onnx');
    await writeFile(bare, await readFile(MODEL));
    const noData = await ortlab('compress', bare, '--prune', '0.5', '-o', out);
    expect(noData.code).to.equal(1);
    expect(noData.stderr).to.include('--data names the images to compare the two models on');
    const quantize = await ortlab('compress', MODEL, '--quantize', 'int4', '-o', out);
    expect(quantize.stderr).to.include("--quantize takes int8, got 'int4'");
    expect(existsSync(out)).to.equal(false);
  });

  it('attribution --json and --out: metrics per compressed model, a page of overlays', async () => {
    const int8 = path.join(dir, 'int8.onnx');
    const filters = path.join(dir, 'filters.onnx');
    const out = path.join(dir, 'report');
    const run = await ortlab(
      'attribution',
      MODEL,
      int8,
      filters,
      '--data',
      'mnist',
      '--limit',
      '96',
      '--json',
      '--out',
      out,
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      samples: number;
      compressed: { name: string; wcamDistance: number; spearman: number; top1Agreement: number }[];
      models: { sha256: string }[];
    };
    expect(report.samples).to.equal(96);
    expect(report.compressed.map((c) => c.name)).to.deep.equal(['int8', 'filters']);
    const [q, f] = report.compressed;
    expect(q.wcamDistance).to.be.lessThan(f.wcamDistance);
    expect(q.spearman).to.be.greaterThan(0.99);
    expect(report.models).to.have.length(3);

    const browser = await launchBrowser();
    try {
      const { page, errors } = await browser.newPage();
      await page.goto(pathToFileURL(path.join(out, 'report.html')).href, { waitUntil: 'load' });
      expect(await page.locator('table.models tbody tr').count()).to.equal(3);
      const images = await page
        .locator('img.overlay')
        .evaluateAll((list) =>
          list.map((e) => (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth),
        );
      expect(images).to.have.length(6 * 3);
      for (const width of images) expect(width).to.equal(84);
      expect(errors).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });

  it('attribution names a model without a GAP head and suggests forward-only methods', async () => {
    const noHead = await ortlab(
      'attribution',
      MODEL,
      'models/distill/student-kd.onnx',
      '--data',
      'mnist',
    );
    expect(noHead.code).to.equal(1);
    expect(noHead.stderr).to.include('use a forward-only method instead');
    expect(noHead.stderr).to.include(
      'pass --method occlusion, --method rise or --method score-cam --feature NAME',
    );
    expect(noHead.stderr).to.include('models/distill/student-kd.onnx has no GlobalAveragePool');
  });
});

describe('ortlab attribution --method and --feature', function () {
  this.timeout(120_000);
  let dir: string;
  let pruned: string;
  let images: { data: Float32Array; dims: number[] }[];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ortlab-methods-'));
    const model = await loadOnnxModel(MODEL);
    pruneMagnitude(model, 0.5);
    pruned = path.join(dir, 'pruned.onnx');
    await writeFile(pruned, model.toBytes());
    const set = await loadValidationSet(await openDataset('mnist'), resolvePreset('mnist'), {
      limit: 3,
    });
    const [batch] = set.batches;
    const size = batch.data.length / 3;
    images = [0, 1, 2].map((b) => ({
      data: batch.data.slice(b * size, (b + 1) * size),
      dims: [1, ...batch.dims.slice(1)],
    }));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /**
   * The mean WCAM distance of the two models' maps, each image explained at the original's class.
   */
  async function expectedDistance(
    map: (session: Session, image: Tensor, target?: number) => Promise<MapBatch>,
  ): Promise<number> {
    const [a, b] = [await Session.create(MODEL), await Session.create(pruned)];
    try {
      let sum = 0;
      for (const data of images) {
        const image = { type: 'float32' as const, ...data };
        const logits = (await a.run({ input: image }))[a.outputs[0].name].data as Float32Array;
        const target = logits.indexOf(Math.max(...logits));
        sum += wcamDistance((await map(a, image, target)).data, (await map(b, image, target)).data);
      }
      return sum / images.length;
    } finally {
      await a.dispose();
      await b.dispose();
    }
  }

  async function report(...flags: string[]) {
    const run = await ortlab(
      'attribution',
      MODEL,
      pruned,
      '--data',
      'mnist',
      '--limit',
      '3',
      '--json',
      ...flags,
    );
    expect(run.code, run.stderr).to.equal(0);
    return JSON.parse(run.stdout) as {
      method: string;
      wcamResolution: string;
      config: { method: string; occlusion?: unknown; rise?: unknown };
      compressed: { wcamDistance: number }[];
    };
  }

  it('--method occlusion with --patch and --stride', async () => {
    const got = await report('--method', 'occlusion', '--patch', '7', '--stride', '7');
    expect(got.method).to.equal('occlusion');
    expect(got.wcamResolution).to.equal('input');
    expect(got.config.occlusion).to.deep.equal({ patch: 7, stride: 7, baseline: 0 });
    const want = await expectedDistance((s, image, target) =>
      occlusionMap(s, { image, target }, { patch: 7, stride: 7 }),
    );
    expect(want).to.be.greaterThan(0);
    expect(got.compressed[0].wcamDistance).to.be.closeTo(want, 1e-12);
  });

  it('--method rise with --masks-count and --seed', async () => {
    const got = await report('--method', 'rise', '--masks-count', '64', '--seed', '4');
    expect(got.config.rise).to.deep.equal({ masks: 64, cells: 7, keep: 0.5, seed: 4 });
    const given = riseMasks(28, 28, { masks: 64, seed: 4 });
    const want = await expectedDistance((s, image, target) =>
      riseMap(s, { image, target }, { given }),
    );
    expect(got.compressed[0].wcamDistance).to.be.closeTo(want, 1e-12);
  });

  it('--method score-cam with --feature', async () => {
    const got = await report('--method', 'score-cam', '--feature', 'features');
    expect(got.wcamResolution).to.equal('features');
    const exposed = async (file: string): Promise<Uint8Array> => {
      const model = await loadOnnxModel(file);
      model.addOutputs(['features']);
      return model.toBytes();
    };
    const [a, b] = [await exposed(MODEL), await exposed(pruned)];
    const sessions = [await Session.create(a), await Session.create(b)];
    try {
      let sum = 0;
      for (const data of images) {
        const image = { type: 'float32' as const, ...data };
        const logits = (await sessions[0].run({ input: image }, ['logits'])).logits
          .data as Float32Array;
        const target = logits.indexOf(Math.max(...logits));
        const [ma, mb] = [
          await scoreCamMap(sessions[0], 'features', { image, target }),
          await scoreCamMap(sessions[1], 'features', { image, target }),
        ];
        sum += wcamDistance(ma.data, mb.data);
      }
      expect(got.compressed[0].wcamDistance).to.be.closeTo(sum / images.length, 1e-12);
    } finally {
      await Promise.all(sessions.map((s) => s.dispose()));
    }
  });

  it('counts and reports the images whose value of a metric is undefined', async () => {
    const model = await loadOnnxModel(MODEL);
    model.setWeight('fc.weight', new Float32Array(640));
    const blind = path.join(dir, 'blind.onnx');
    await writeFile(blind, model.toBytes());
    const masks = path.join(dir, 'masks-idx3-ubyte');
    await writeFile(masks, encodeIdx(new Uint8Array(12 * 28 * 28), [12, 28, 28]));
    const args = ['attribution', MODEL, blind, '--data', 'mnist', '--limit', '12'];
    const json = await ortlab(...args, '--masks', masks, '--json');
    expect(json.code, json.stderr).to.equal(0);
    const report = JSON.parse(json.stdout) as {
      original: { localization: { counted: number; undefinedValues: Record<string, number> } };
      compressed: { undefinedValues: Record<string, number> }[];
    };
    expect(report.compressed[0].undefinedValues).to.deep.equal({
      wcamDistance: 0,
      spearman: 12,
      topIoU: 0,
      argmaxAgreement: 0,
    });
    const { counted, undefinedValues } = report.original.localization;
    expect(counted).to.be.greaterThan(0);
    expect(undefinedValues).to.deep.equal({ auroc: counted, pointingGame: 0 });
    const text = await ortlab(...args, '--masks', masks);
    expect(text.stdout).to.include(
      `images whose value was undefined, left out of the means: mnist-cnn auroc ${counted}; ` +
        'blind spearman 12',
    );
    const clean = await ortlab('attribution', MODEL, pruned, '--data', 'mnist', '--limit', '12');
    expect(clean.stdout).to.include(
      'images whose value was undefined, left out of the means: none',
    );
  });

  it('a feature name the model lacks, a bad method, an option of another method', async () => {
    const nope = await ortlab('attribution', MODEL, pruned, '--data', 'mnist', '--feature', 'nope');
    expect(nope.code).to.equal(1);
    expect(nope.stderr).to.include(`no tensor 'nope' in ${MODEL}`);
    const method = await ortlab(
      'attribution',
      MODEL,
      pruned,
      '--data',
      'mnist',
      '--method',
      'lime',
    );
    expect(method.stderr).to.include(
      "--method takes gradcam, occlusion, rise, score-cam, got 'lime'",
    );
    const patch = await ortlab(
      'attribution',
      MODEL,
      pruned,
      '--data',
      'mnist',
      '--method',
      'rise',
      '--patch',
      '4',
    );
    expect(patch.stderr).to.include('--patch is an option of --method occlusion, not of rise');
  });
});
