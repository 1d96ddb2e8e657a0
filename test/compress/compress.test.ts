import { expect } from 'chai';

import { readFile } from 'node:fs/promises';

import '../../src/index.js';
import { compareModels } from '../../src/compress/compare.js';
import { filtersKept, pruneFilters } from '../../src/compress/filter-prune.js';
import { kernels, readFloatWeight } from '../../src/compress/graph-index.js';
import { kernelSparsity, pruneMagnitude } from '../../src/compress/magnitude-prune.js';
import { quantizeInt8 } from '../../src/compress/quantize.js';
import { loadOnnxModel } from '../../src/runtime/onnx/load-node.js';
import { OnnxModel } from '../../src/runtime/onnx/model.js';
import { Session } from '../../src/runtime/session.js';
import type { ValidationSet } from '../../src/search/validation-set.js';
import { expectClose } from '../helpers/assert.js';
import { convClassifier } from '../helpers/conv-models.js';
import { linearReluModel, sequence } from '../helpers/tiny-models.js';

const INPUT = {
  type: 'float32' as const,
  data: sequence(4 * 72, 41).map(Math.abs),
  dims: [4, 2, 6, 6],
};

async function logits(bytes: Uint8Array, input = INPUT): Promise<Float32Array> {
  const session = await Session.create(bytes);
  try {
    return (await session.run({ input })).logits.data as Float32Array;
  } finally {
    await session.dispose();
  }
}

describe('global magnitude pruning', () => {
  it('zeroes exactly the smallest kernel entries over all kernels, and nothing else', () => {
    const before = OnnxModel.fromBytes(convClassifier());
    const model = OnnxModel.fromBytes(convClassifier());
    const result = pruneMagnitude(model, 0.6);
    const names = kernels(model.graph).map((k) => k.name);
    expect(names).to.deep.equal(['w1', 'w2', 'fc_w']);
    expect(result.total).to.equal(6 * 18 + 5 * 6 * 9 + 15);
    expect(result.sparsity).to.equal(Math.floor(0.6 * result.total) / result.total);
    let largestCut = 0;
    let smallestKept = Infinity;
    for (const name of names) {
      const old = before.getWeight(name);
      const now = model.getWeight(name);
      old.forEach((v, i) => {
        if (now[i] === 0) largestCut = Math.max(largestCut, Math.abs(v));
        else {
          expect(now[i]).to.equal(v);
          smallestKept = Math.min(smallestKept, Math.abs(v));
        }
      });
    }
    expect(largestCut).to.be.at.most(smallestKept);
    for (const bias of ['b1', 'b2', 'fc_b', 'bn_scale']) {
      expect(model.getWeight(bias)).to.deep.equal(before.getWeight(bias));
    }
    expect(kernelSparsity(model)).to.equal(result.sparsity);
  });

  it('writes a model that runs, and a ratio of 0 changes nothing', async () => {
    const model = OnnxModel.fromBytes(convClassifier());
    expect(pruneMagnitude(model, 0).zeroed).to.equal(0);
    expect(await logits(model.toBytes())).to.deep.equal(await logits(convClassifier()));
    pruneMagnitude(model, 0.9);
    const pruned = await logits(model.toBytes());
    expect(pruned).to.have.length(12);
    expect(pruned).to.not.deep.equal(await logits(convClassifier()));
  });

  it('rejects ratios outside [0, 1) and a model without kernels', () => {
    for (const bad of [1, -0.1, NaN, 1.5]) {
      expect(() => pruneMagnitude(OnnxModel.fromBytes(convClassifier()), bad)).to.throw(
        RangeError,
        /must be in \[0, 1\)/,
      );
    }
    const noKernel = OnnxModel.fromBytes(linearReluModel());
    noKernel.graph.node = noKernel.graph.node.filter((n) => n.opType !== 'MatMul');
    expect(() => pruneMagnitude(noKernel, 0.5)).to.throw(/no prunable weights/);
  });
});

describe('L1 filter pruning', () => {
  it('removes the smallest-L1 filters with their bias, norm channels and next-layer inputs', () => {
    const before = OnnxModel.fromBytes(convClassifier());
    const model = OnnxModel.fromBytes(convClassifier());
    const result = pruneFilters(model, 0.5);
    expect(result.layers.map((l) => [l.filtersBefore, l.filtersAfter])).to.deep.equal([
      [6, 3],
      [5, 3],
    ]);
    const dims = Object.fromEntries(model.weights().map((w) => [w.name, w.dims]));
    expect(dims.w1).to.deep.equal([3, 2, 3, 3]);
    expect(dims.bn_var).to.deep.equal([3]);
    expect(dims.w2).to.deep.equal([3, 3, 3, 3]);
    expect(dims.fc_w).to.deep.equal([3, 3]);
    const w1 = before.getWeight('w1');
    const norm = (f: number): number =>
      w1.slice(f * 18, (f + 1) * 18).reduce((a, v) => a + Math.abs(v), 0);
    const kept = result.layers[0].kept;
    const dropped = [0, 1, 2, 3, 4, 5].filter((f) => !kept.includes(f));
    expect(Math.min(...kept.map(norm))).to.be.at.least(Math.max(...dropped.map(norm)));
    expect(result.parametersAfter).to.be.lessThan(result.parametersBefore);
  });

  it('computes what the original computes with the removed filters silenced', async () => {
    const model = OnnxModel.fromBytes(convClassifier());
    const { layers } = pruneFilters(model, 0.4);
    // Silence the removed filters in the original: zero kernel and bias, and make batch norm
    // map them to 0 (scale 0, bias 0), so that the ReLU passes nothing on from them.
    const silenced = OnnxModel.fromBytes(convClassifier());
    const zeroChannels = (name: string, perChannel: number, keep: number[], value = 0): void => {
      const data = silenced.getWeight(name);
      for (let c = 0; c < data.length / perChannel; c++) {
        if (!keep.includes(c)) data.fill(value, c * perChannel, (c + 1) * perChannel);
      }
      silenced.setWeight(name, data);
    };
    zeroChannels('w1', 18, layers[0].kept);
    zeroChannels('b1', 1, layers[0].kept);
    zeroChannels('bn_scale', 1, layers[0].kept);
    zeroChannels('bn_bias', 1, layers[0].kept);
    zeroChannels('w2', 54, layers[1].kept);
    zeroChannels('b2', 1, layers[1].kept);
    expectClose(
      await logits(model.toBytes()),
      await logits(silenced.toBytes()),
      1e-5,
      'pruned against silenced',
    );
  });

  it('removes round(ratio x filters) as torch; channelMultiple keeps its nearest multiple', () => {
    // Python: [f - round(r * f) for ...], torch.nn.utils.prune's count for a float amount.
    expect([16, 32, 64].map((f) => filtersKept(f, 0.3))).to.deep.equal([11, 22, 45]);
    expect([16, 32, 64].map((f) => filtersKept(f, 0.4))).to.deep.equal([10, 19, 38]);
    // Halves go to the even count: 4.5 -> 4, 2.5 -> 2, 1.5 -> 2 filters removed.
    expect([9, 5, 3].map((f) => filtersKept(f, 0.5))).to.deep.equal([5, 3, 1]);
    expect([16, 32, 64].map((f) => filtersKept(f, 0.3, 8))).to.deep.equal([8, 24, 48]);
    expect([4, 9].map((f) => filtersKept(f, 0.9, 8))).to.deep.equal([4, 8]);
    expect(filtersKept(3, 0.9)).to.equal(1);
    const model = OnnxModel.fromBytes(convClassifier({ filters: [16, 10] }));
    const { layers } = pruneFilters(model, 0.3, { channelMultiple: 8 });
    expect(layers.map((l) => l.filtersAfter)).to.deep.equal([8, 8]);
    expect(() => pruneFilters(model, 0.3, { channelMultiple: 0 })).to.throw(RangeError);
  });

  it('gives the shipped structured models the channel counts of train_attribution.py', async () => {
    const manifest = JSON.parse(await readFile('models/attribution/manifest.json', 'utf8')) as {
      models: {
        method: string;
        ratio: number;
        widths?: number[];
        featureChannels: number;
        weights: number;
        parameters: { total: number };
      }[];
    };
    const structured = manifest.models.filter((m) => m.method === 'structured');
    expect(structured.map((m) => m.ratio)).to.deep.equal([0.3, 0.3, 0.5, 0.5]);
    for (const shipped of structured) {
      // The export script ranks filters differently (by the unfolded conv weights, each layer on
      // its own), so only the counts are compared.
      const model = await loadOnnxModel('models/attribution/original.onnx');
      const { layers } = pruneFilters(model, shipped.ratio);
      expect(layers.map((l) => l.filtersAfter)).to.deep.equal(shipped.widths);
      expect(layers[layers.length - 1].filtersAfter).to.equal(shipped.featureChannels);
      const weights = model
        .weights()
        .filter((w) => w.name.endsWith('.weight'))
        .reduce((n, w) => n + w.dims.reduce((a, b) => a * b, 1), 0);
      expect(weights).to.equal(shipped.weights);
      expect(model.parameterCount()).to.equal(shipped.parameters.total);
    }
  });

  it('leaves convolutions whose output is added or read twice whole, saying why', () => {
    const model = OnnxModel.fromBytes(convClassifier({ residual: true }));
    expect(() => pruneFilters(model, 0.5)).to.throw(
      "no convolution of the model can lose filters (c1: 'a1' is read by 2 nodes (Conv, Add); " +
        'c2: it feeds Add, which mixes or reshapes channels)',
    );
    expect(() => pruneFilters(OnnxModel.fromBytes(linearReluModel()), 0.5)).to.throw(
      /no Conv node/,
    );
    expect(() => pruneFilters(OnnxModel.fromBytes(convClassifier()), 1)).to.throw(RangeError);
  });
});

describe('int8 weight quantization', () => {
  it('stores kernels as int8 with one scale per output channel, within half a step', () => {
    const before = OnnxModel.fromBytes(convClassifier());
    const model = OnnxModel.fromBytes(convClassifier());
    const result = quantizeInt8(model);
    expect(result.weights.map((w) => [w.name, w.axis])).to.deep.equal([
      ['w1', 0],
      ['w2', 0],
      ['fc_w', 0],
    ]);
    const types = Object.fromEntries(model.weights().map((w) => [w.name, w.type]));
    expect(types.w1_quantized).to.equal('int8');
    expect(model.weights().some((w) => w.name === 'w1')).to.equal(false);
    for (const { name, dims } of result.weights) {
      const original = before.getWeight(name);
      const restored = readFloatWeight(model, name)!;
      expect(restored.dims).to.deep.equal(dims);
      const per = original.length / dims[0];
      for (let c = 0; c < dims[0]; c++) {
        const row = original.slice(c * per, (c + 1) * per);
        const step = Math.max(...row.map(Math.abs)) / 127;
        for (let i = 0; i < per; i++) {
          expect(Math.abs(restored.data[c * per + i] - row[i])).to.be.at.most(step / 2 + 1e-7);
        }
      }
    }
  });

  it('runs in ONNX Runtime with logits close to the original', async () => {
    const model = OnnxModel.fromBytes(convClassifier());
    quantizeInt8(model);
    const bytes = model.toBytes();
    expectClose(await logits(bytes), await logits(convClassifier()), 2e-2, 'int8 logits');
    expect(bytes.length).to.be.lessThan(convClassifier().length);
  });

  it('refuses a model with no kernel, naming the operators it quantizes', () => {
    // The MatMul's weight fed as a graph input: the graph holds no kernel to quantize.
    const fed = OnnxModel.fromBytes(linearReluModel());
    fed.liftWeightsToInputs();
    expect(() => quantizeInt8(fed)).to.throw(
      Error,
      'the model has no kernel (Conv, Gemm or MatMul) to quantize',
    );
    const noMatMul = OnnxModel.fromBytes(linearReluModel());
    noMatMul.graph.node = noMatMul.graph.node.filter((n) => n.opType !== 'MatMul');
    expect(() => quantizeInt8(noMatMul)).to.throw(/has no kernel/);
  });

  it('refuses a model below opset 13', () => {
    expect(() => quantizeInt8(OnnxModel.fromBytes(convClassifier({ opset: 11 })))).to.throw(
      /opset 11; per-channel DequantizeLinear needs opset 13/,
    );
  });
});

describe('compareModels', () => {
  const set: ValidationSet = {
    name: 'sequence',
    batches: [{ data: INPUT.data, dims: INPUT.dims, labels: Int32Array.from([0, 1, 2, 0]) }],
    n: 4,
    skipped: [],
    preset: {} as ValidationSet['preset'],
  };

  it('reports the same model as agreeing fully, at the same size', async () => {
    const bytes = convClassifier();
    const c = await compareModels(bytes, bytes, set, { rounds: 3 });
    expect(c.top1Agreement).to.equal(1);
    expect(c.sizeRatio).to.equal(1);
    expect(c.original.accuracy).to.equal(c.compressed.accuracy);
    expect(c.compressed.latencyMs).to.be.greaterThan(0);
  });

  it("counts agreement and accuracy on each model's own predictions when they differ", async () => {
    const data = sequence(8 * 72, 41).map(Math.abs);
    const labels = Int32Array.from([0, 1, 2, 0, 1, 2, 2, 0]);
    const two: ValidationSet = {
      ...set,
      batches: [0, 4].map((start) => ({
        data: data.slice(start * 72, (start + 4) * 72),
        dims: [4, 2, 6, 6],
        labels: labels.slice(start, start + 4),
      })),
      n: 8,
    };
    // A "compressed" model whose class-0 bias dwarfs every score: it always predicts 0.
    const model = OnnxModel.fromBytes(convClassifier());
    const bias = model.getWeight('fc_b');
    bias[0] += 100;
    model.setWeight('fc_b', bias);
    const scores = await logits(convClassifier(), { ...INPUT, data, dims: [8, 2, 6, 6] });
    const predicted = Array.from({ length: 8 }, (_, b) => {
      const row = Array.from(scores.subarray(b * 3, b * 3 + 3));
      return row.indexOf(Math.max(...row));
    });
    const c = await compareModels(convClassifier(), model.toBytes(), two, { rounds: 1 });
    const count = (f: (b: number) => boolean) => predicted.filter((_, b) => f(b)).length / 8;
    expect(c.top1Agreement).to.equal(count((b) => predicted[b] === 0));
    expect(c.top1Agreement).to.equal(7 / 8);
    expect(c.original.accuracy).to.equal(count((b) => predicted[b] === labels[b]));
    expect(c.compressed.accuracy).to.equal(count((b) => labels[b] === 0));
    expect(c.samples).to.equal(8);
  });

  it('counts parameters, nonzero entries and sparsity of a pruned model', async () => {
    const model = OnnxModel.fromBytes(convClassifier());
    const pruned = pruneMagnitude(model, 0.5);
    const c = await compareModels(convClassifier(), model.toBytes(), set, { rounds: 1 });
    expect(c.compressed.sparsity).to.equal(pruned.sparsity);
    expect(c.original.parameters - c.compressed.nonzeroParameters).to.equal(
      pruned.zeroed + (c.original.parameters - c.original.nonzeroParameters),
    );
  });
});
