import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import '../../../src/index.js';
import { quantizeInt8 } from '../../../src/compress/quantize.js';
import { compareAttributions } from '../../../src/eval/attribution/compare-maps.js';
import { findGapHead, NoGapHeadError } from '../../../src/eval/attribution/gap-head.js';
import { GradCam } from '../../../src/eval/attribution/grad-cam.js';
import {
  occlusionMap,
  riseMap,
  riseMasks,
  scoreCamMap,
} from '../../../src/eval/attribution/forward-maps.js';
import { createMapSource } from '../../../src/eval/attribution/map-source.js';
import { mapAt } from '../../../src/eval/attribution/maps.js';
import {
  mapSpearman,
  maskAuroc,
  orderDescending,
  rankMap,
  topKIoU,
} from '../../../src/eval/attribution/map-metrics.js';
import { readMasks } from '../../../src/eval/attribution/run-node.js';
import { spearman } from '../../../src/search/correlation.js';
import { loadOnnxModel } from '../../../src/runtime/onnx/load-node.js';
import { encodeIdx } from '../../../src/runtime/datasets/idx.js';
import { OnnxModel } from '../../../src/runtime/onnx/model.js';
import { Session } from '../../../src/runtime/session.js';
import type { ValidationSet } from '../../../src/search/validation-set.js';
import { convClassifier } from '../../helpers/conv-models.js';
import { linearReluModel, sequence } from '../../helpers/tiny-models.js';

const images = sequence(6 * 72, 43).map(Math.abs);

function validationSet(): ValidationSet {
  return {
    name: 'sequence',
    batches: [
      { data: images.slice(0, 4 * 72), dims: [4, 2, 6, 6], labels: Int32Array.from([0, 1, 2, 0]) },
      { data: images.slice(4 * 72), dims: [2, 2, 6, 6], labels: Int32Array.from([1, 2]) },
    ],
    n: 6,
    skipped: [],
    preset: {} as ValidationSet['preset'],
  };
}

describe('the global-average-pooling head', () => {
  it('is found with its feature map and the linear weights as [classes, channels]', () => {
    const model = OnnxModel.fromBytes(convClassifier());
    const head = findGapHead(model);
    expect(head).to.include({ feature: 'features', logits: 'logits', channels: 5, classes: 3 });
    expect(Array.from(head.weights)).to.deep.equal(Array.from(model.getWeight('fc_w')));
  });

  it('is found in the bundled MNIST CNN, and through int8 weights', async () => {
    const mnist = findGapHead(await loadOnnxModel('models/mnist-cnn.onnx'));
    expect(mnist).to.include({ feature: 'features', channels: 64, classes: 10 });
    const model = OnnxModel.fromBytes(convClassifier());
    const reference = model.getWeight('fc_w');
    quantizeInt8(model);
    const head = findGapHead(model);
    head.weights.forEach((w, i) => expect(w).to.be.closeTo(reference[i], 0.01));
  });

  it('is missing from a model without pooling: the error points to forward-only methods', () => {
    expect(() => findGapHead(OnnxModel.fromBytes(linearReluModel()))).to.throw(
      NoGapHeadError,
      /has no GlobalAveragePool; use a forward-only method instead \(occlusion, RISE/,
    );
    expect(() => findGapHead(OnnxModel.fromBytes(convClassifier()), 'c1')).to.throw(
      NoGapHeadError,
      /'c1' is not averaged by a GlobalAveragePool/,
    );
  });

  it('a feature name the graph lacks is named with the model, not as a missing head', () => {
    const model = OnnxModel.fromBytes(convClassifier(), { file: 'conv.onnx' });
    expect(() => findGapHead(model, 'nope')).to.throw(
      RangeError,
      "no tensor 'nope' in conv.onnx; the feature map averaged by its pooling is 'features'",
    );
  });
});

describe('forward-only map sources', function () {
  this.timeout(60_000);
  const batch = { type: 'float32' as const, data: images.slice(0, 3 * 72), dims: [3, 2, 6, 6] };
  const image = (b: number) => ({
    type: 'float32' as const,
    data: images.slice(b * 72, (b + 1) * 72),
    dims: [1, 2, 6, 6],
  });

  it("occlusion and RISE give, image by image, the single-image functions' maps", async () => {
    const session = await Session.create(convClassifier());
    const occlusion = await createMapSource(convClassifier(), {
      method: 'occlusion',
      occlusion: { patch: 3, stride: 2 },
    });
    const rise = await createMapSource(convClassifier(), {
      method: 'rise',
      rise: { masks: 40, cells: 2, seed: 3 },
    });
    try {
      const targets = Int32Array.from([2, 0, 1]);
      const got = await occlusion.compute(batch, targets);
      expect([got.maps.count, got.maps.height, got.maps.width]).to.deep.equal([3, 6, 6]);
      const given = riseMasks(6, 6, { masks: 40, cells: 2, seed: 3 });
      const fromRise = await rise.compute(batch, targets);
      for (let b = 0; b < 3; b++) {
        const one = await occlusionMap(
          session,
          { image: image(b), target: targets[b] },
          {
            patch: 3,
            stride: 2,
          },
        );
        expect(Array.from(mapAt(got.maps, b))).to.deep.equal(Array.from(one.data));
        const r = await riseMap(session, { image: image(b), target: targets[b] }, { given });
        expect(Array.from(mapAt(fromRise.maps, b))).to.deep.equal(Array.from(r.data));
      }
      // Other classes: the map of a changed target is made again, the others kept.
      const again = await got.mapsFor(Int32Array.from([2, 1, 1]));
      const one = await occlusionMap(
        session,
        { image: image(1), target: 1 },
        {
          patch: 3,
          stride: 2,
        },
      );
      expect(Array.from(mapAt(again, 1))).to.deep.equal(Array.from(one.data));
      expect(Array.from(mapAt(again, 0))).to.deep.equal(Array.from(mapAt(got.maps, 0)));
      expect(Array.from(mapAt(again, 1))).to.not.deep.equal(Array.from(mapAt(got.maps, 1)));
    } finally {
      await Promise.all([session.dispose(), occlusion.dispose(), rise.dispose()]);
    }
  });

  it('Score-CAM finds the pooled feature map itself, or takes a named one', async () => {
    const graph = OnnxModel.fromBytes(convClassifier());
    graph.addOutputs(['features']);
    const session = await Session.create(graph.toBytes());
    const found = await createMapSource(convClassifier(), { method: 'score-cam' });
    try {
      const got = await found.compute(batch);
      expect([got.maps.height, got.maps.width]).to.deep.equal([6, 6]);
      for (let b = 0; b < 3; b++) {
        const one = await scoreCamMap(session, 'features', { image: image(b) });
        expect(Array.from(mapAt(got.maps, b))).to.deep.equal(Array.from(one.data));
      }
      const error = await createMapSource(convClassifier(), {
        method: 'score-cam',
        feature: 'nope',
        file: 'conv.onnx',
      }).catch((e: Error) => e);
      expect((error as Error).message).to.include("no tensor 'nope' in conv.onnx");
      const noHead = await createMapSource(linearReluModel(), {
        method: 'score-cam',
      }).catch((e: Error) => e);
      expect((noHead as Error).message).to.include('--feature NAME');
    } finally {
      await Promise.all([session.dispose(), found.dispose()]);
    }
  });

  it('compares occlusion maps at the input size', async () => {
    const [a, b] = [
      await createMapSource(convClassifier(), { method: 'occlusion', occlusion: { patch: 2 } }),
      await createMapSource(convClassifier(), { method: 'occlusion', occlusion: { patch: 2 } }),
    ];
    try {
      const result = await compareAttributions(
        { name: 'a', cam: a },
        [{ name: 'b', cam: b }],
        validationSet(),
      );
      expect(result.method).to.equal('occlusion');
      expect(result.wcamResolution).to.equal('input');
      expect(result.compressed[0]).to.include({ wcamDistance: 0, topIoU: 1, argmaxAgreement: 1 });
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

describe('comparing attribution maps', function () {
  this.timeout(60_000);

  it('a model against itself: distance 0, correlation 1, full overlap and agreement', async () => {
    const [a, b] = [await GradCam.create(convClassifier()), await GradCam.create(convClassifier())];
    try {
      const result = await compareAttributions(
        { name: 'a', cam: a },
        [{ name: 'b', cam: b }],
        validationSet(),
        { examples: 2 },
      );
      expect(result.samples).to.equal(6);
      expect(result.wcamResolution).to.equal('features');
      expect(result.compressed[0]).to.include({
        top1Agreement: 1,
        wcamDistance: 0,
        topIoU: 1,
        argmaxAgreement: 1,
      });
      expect(result.compressed[0].spearman).to.be.closeTo(1, 1e-12);
      expect(result.examples).to.have.length(2);
      expect(result.examples[0].maps[0]).to.have.length(36);
      expect(Math.max(...result.examples[0].maps[0])).to.equal(1);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('a pruned model moves the maps, and a perfect mask localizes by AUROC 1', async () => {
    const model = OnnxModel.fromBytes(convClassifier());
    const weights = model.getWeight('w2');
    weights.fill(0, 0, 54);
    model.setWeight('w2', weights);
    const [a, b] = [await GradCam.create(convClassifier()), await GradCam.create(model.toBytes())];
    try {
      const plain = await compareAttributions(
        { name: 'a', cam: a },
        [{ name: 'b', cam: b }],
        validationSet(),
      );
      expect(plain.compressed[0].wcamDistance).to.be.greaterThan(0);
      expect(plain.compressed[0].spearman).to.be.lessThan(1);
      // Masks equal to each image's own top pixels of the original's map: AUROC 1 for it.
      const masks = new Uint8Array(6 * 36);
      const withMasks = await compareAttributions({ name: 'a', cam: a }, [], validationSet(), {
        examples: 6,
      });
      withMasks.examples.forEach((e) =>
        e.maps[0].forEach((v, i) => (masks[e.index * 36 + i] = v > 0.5 ? 1 : 0)),
      );
      const scored = await compareAttributions({ name: 'a', cam: a }, [], validationSet(), {
        masks: { data: masks, height: 6, width: 6 },
      });
      expect(scored.original.localization!.auroc).to.equal(1);
      expect(scored.original.localization!.pointingGame).to.equal(1);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('counts per metric the images with an undefined value, left out of the mean', async () => {
    // Zero class weights: every map of the "compressed" model is all zero, so its Spearman
    // correlation with the original's map is undefined on every image.
    const model = OnnxModel.fromBytes(convClassifier());
    model.setWeight('fc_w', new Float32Array(15));
    const [a, b] = [await GradCam.create(convClassifier()), await GradCam.create(model.toBytes())];
    try {
      // Masks with no object pixel for images 0 and 3, a one-pixel object for the others.
      const masks = new Uint8Array(6 * 36);
      for (const i of [1, 2, 4, 5]) masks[i * 36 + 7] = 1;
      const result = await compareAttributions(
        { name: 'a', cam: a },
        [{ name: 'b', cam: b }],
        validationSet(),
        { masks: { data: masks, height: 6, width: 6 } },
      );
      const [c] = result.compressed;
      expect(c.undefinedValues).to.deep.equal({
        wcamDistance: 0,
        spearman: 6,
        topIoU: 0,
        argmaxAgreement: 0,
      });
      expect(c.spearman).to.be.NaN;
      expect(c.wcamDistance).to.be.greaterThan(0);
      // The original's own localization: empty masks leave AUROC undefined, not the pointing game.
      const local = result.original.localization!;
      const labels = [0, 1, 2, 0, 1, 2];
      const first = await a.compute({ type: 'float32', data: images, dims: [6, 2, 6, 6] });
      const correct = labels.map((l, i) => first.targets[i] === l);
      const emptyAndCorrect = [0, 3].filter((i) => correct[i]).length;
      expect(local.counted).to.equal(correct.filter(Boolean).length);
      expect(local.undefinedValues).to.deep.equal({ auroc: emptyAndCorrect, pointingGame: 0 });
      expect(emptyAndCorrect).to.be.greaterThan(0);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('refuses masks whose size is not the image size', async () => {
    const cam = await GradCam.create(convClassifier());
    try {
      const error = await compareAttributions({ name: 'a', cam }, [], validationSet(), {
        masks: { data: new Uint8Array(6 * 64), height: 8, width: 8 },
      }).catch((e: Error) => e);
      expect((error as Error).message).to.equal(
        'the masks are 8x8 but the images 6x6; masks must have the size of the model input',
      );
    } finally {
      await cam.dispose();
    }
  });
});

describe('RISE masks', () => {
  it('are seeded, in [0, 1], and keep about the asked fraction', () => {
    const a = riseMasks(24, 20, { masks: 200, cells: 4, keep: 0.3, seed: 5 });
    expect(a).to.have.length(200 * 24 * 20);
    expect(riseMasks(24, 20, { masks: 200, cells: 4, keep: 0.3, seed: 5 })).to.deep.equal(a);
    expect(riseMasks(24, 20, { masks: 200, cells: 4, keep: 0.3, seed: 6 })).to.not.deep.equal(a);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean).to.be.closeTo(0.3, 0.03);
    expect(Math.min(...a)).to.be.at.least(0);
    expect(Math.max(...a)).to.be.at.most(1);
  });

  it('reject a keep probability outside (0, 1] and a bad count', () => {
    expect(() => riseMasks(8, 8, { keep: 0 })).to.throw(RangeError, /keep must be in \(0, 1\]/);
    expect(() => riseMasks(8, 8, { masks: 0 })).to.throw(RangeError, /masks must be a positive/);
  });
});

describe('Score-CAM', () => {
  it('names a feature tensor the model does not output', async () => {
    const session = await Session.create(convClassifier());
    try {
      const image = { type: 'float32' as const, data: images.slice(0, 72), dims: [1, 2, 6, 6] };
      const error = await scoreCamMap(session, 'nope', { image }).catch((e: Error) => e);
      expect((error as Error).message).to.include("the model has no output 'nope'");
    } finally {
      await session.dispose();
    }
  });
});

describe('mask files', () => {
  it('are uint8 [samples, height, width]; errors name other shapes and missing files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ortlab-masks-'));
    try {
      const good = path.join(dir, 'masks-idx3-ubyte');
      await writeFile(
        good,
        encodeIdx(
          Uint8Array.from({ length: 2 * 12 }, (_, i) => i % 2),
          [2, 3, 4],
        ),
      );
      const masks = await readMasks(good);
      expect([masks.height, masks.width, masks.data.length]).to.deep.equal([3, 4, 24]);
      const flat = path.join(dir, 'flat');
      await writeFile(flat, encodeIdx(new Uint8Array(6), [6]));
      const error = await readMasks(flat).catch((e: Error) => e);
      expect((error as Error).message).to.include('masks must be uint8 [samples, height, width]');
      const missing = await readMasks(path.join(dir, 'none')).catch((e: Error) => e);
      expect((missing as Error).message).to.include("mask file '");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the fast pixel order of float32 maps', () => {
  it('equals the comparator order: decreasing value, ties by index, -0 equal to 0', () => {
    const values = Float32Array.from([0.5, -1, 0, -0, 3e-39, -3e-39, 0.5, Infinity, -Infinity, 2]);
    const slow = Array.from({ length: values.length }, (_, i) => i).sort(
      (i, j) => values[j] - values[i] || i - j,
    );
    expect(Array.from(orderDescending(values))).to.deep.equal(slow);
    const random = Float32Array.from(sequence(5000, 3).map((v) => Math.round(v * 50) / 10));
    const reference = Array.from({ length: random.length }, (_, i) => i).sort(
      (i, j) => random[j] - random[i] || i - j,
    );
    expect(Array.from(orderDescending(random))).to.deep.equal(reference);
  });

  it('sorted once (rankMap), gives the Spearman, IoU and mask AUROC of sorting each time', () => {
    const a = Float32Array.from(sequence(4096, 5).map((v) => Math.round(v * 20) / 20));
    const b = Float32Array.from(sequence(4096, 9));
    const mask = Uint8Array.from(sequence(4096, 13), (v) => (v > 0.7 ? 1 : 0));
    const [ra, rb] = [rankMap(a), rankMap(b)];
    expect(mapSpearman(ra, rb)).to.equal(mapSpearman(a, b));
    expect(mapSpearman(ra, b)).to.equal(mapSpearman(a, b));
    for (const fraction of [0.01, 0.2, 1]) {
      expect(topKIoU(ra, rb, fraction)).to.equal(topKIoU(a, b, fraction));
    }
    // Ties in a: the ROC steps group them, in either path.
    expect(maskAuroc(ra, mask)).to.be.closeTo(maskAuroc(a, mask), 1e-15);
    expect(maskAuroc(rb, mask)).to.be.closeTo(maskAuroc(b, mask), 1e-15);
    expect(() => maskAuroc(ra, new Uint8Array(4096))).to.throw(
      RangeError,
      'the mask holds 0 object and 4096 background pixels; ROC-AUC needs both',
    );
    expect(() => topKIoU(ra, rb, 0)).to.throw(RangeError, 'fraction must be in (0, 1], got 0');
  });

  it('gives mapSpearman the value of the generic rank correlation, ties included', () => {
    const a = Float32Array.from(sequence(4096, 5).map((v) => Math.round(v * 20) / 20));
    const b = Float32Array.from(sequence(4096, 9));
    expect(mapSpearman(a, b)).to.be.closeTo(spearman(Array.from(a), Array.from(b)), 1e-12);
    expect(mapSpearman(a, new Float32Array(4096))).to.be.NaN;
  });
});
