import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import { openDataset, resolvePreset } from '../../src/index.js';
import { pickEngine } from '../../src/search/flatness-engines.js';
import { measureFlatness } from '../../src/search/flatness.js';
import { loadValidationSet, type ValidationSet } from '../../src/search/validation-set.js';
import { OnnxModel } from '../../src/runtime/onnx/model.js';
import { floatToHalf, onnx } from '../../src/runtime/onnx/proto.js';
import { Session } from '../../src/runtime/session.js';
import type { Tensor } from '../../src/runtime/tensor.js';
import { linearReluModel, sequence } from '../helpers/tiny-models.js';

describe("the flatness engine 'auto' picks", () => {
  it('the cheaper estimated pass, inputs on a tie, and says both estimates', () => {
    const base = { createMs: 70, passMs: 400, batches: 10 };
    expect(pickEngine({ ...base, inputsBatchMs: 30 })).to.deep.equal({
      name: 'inputs',
      reason:
        'one pass estimated at 300 ms feeding weights as inputs and 470 ms patching the model ' +
        '(of which 70 ms creating the session)',
    });
    expect(pickEngine({ ...base, inputsBatchMs: 60 }).name).to.equal('patch');
    expect(pickEngine({ ...base, inputsBatchMs: 47 }).name).to.equal('inputs');
    // A slow session creation tips it: the same batch cost, 500 ms more to create.
    expect(pickEngine({ ...base, createMs: 570, inputsBatchMs: 60 }).name).to.equal('inputs');
  });

  it('the engine its own estimates favour, on a real model', async function () {
    this.timeout(60_000);
    const bytes = new Uint8Array(await readFile('models/mnist-cnn.onnx'));
    const data = await loadValidationSet(await openDataset('mnist'), resolvePreset('mnist'), {
      limit: 128,
      batchSize: 64,
    });
    const result = await measureFlatness(bytes, data, { radii: [0.001], engine: 'auto' });
    const match = /^one pass estimated at (\d+) ms feeding weights as inputs and (\d+) ms/.exec(
      result.engineReason,
    );
    expect(match, result.engineReason).to.not.equal(null);
    const [inputs, patch] = [Number(match![1]), Number(match![2])];
    if (inputs !== patch) expect(result.engine).to.equal(inputs < patch ? 'inputs' : 'patch');
  });

  it('patch for a model whose weights are float16, saying so', async function () {
    this.timeout(60_000);
    // W stored as float16 and cast to float32 in the graph: only patching can change it.
    const model = OnnxModel.fromBytes(linearReluModel());
    const w = model.graph.initializer.find((t) => t.name === 'W')!;
    const values = model.getWeight('W');
    Object.assign(w, {
      name: 'W16',
      dataType: onnx.TensorProto.DataType.FLOAT16,
      rawData: new Uint8Array(Uint16Array.from(values, floatToHalf).buffer),
    });
    model.graph.node.unshift({
      opType: 'Cast',
      name: 'cast',
      input: ['W16'],
      output: ['W'],
      attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });
    const data: ValidationSet = {
      name: 'sequence',
      batches: [
        {
          data: sequence(8 * 4, 3),
          dims: [8, 4],
          labels: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]),
        },
      ],
      n: 8,
      skipped: [],
      preset: {} as ValidationSet['preset'],
    };
    const result = await measureFlatness(model.toBytes(), data, { radii: [0.01] });
    expect(result.engine).to.equal('patch');
    expect(result.engineReason).to.equal(
      "weight 'W16' is float16, which only the patch engine handles",
    );
  });
});

describe("flatness with 'filter-normalized' directions", () => {
  it('moves each filter by the radius times its own norm, biases not at all', async function () {
    this.timeout(60_000);
    const bytes = new Uint8Array(await readFile('models/mnist-cnn.onnx'));
    const data = await loadValidationSet(await openDataset('mnist'), resolvePreset('mnist'), {
      limit: 64,
      batchSize: 64,
    });
    const original = OnnxModel.fromBytes(bytes);
    const weights = original.weights().filter((w) => w.type === 'float32' && w.size > 1);
    // Every weight set ONNX Runtime is fed, caught at the session: the base pass, then each radius.
    const fed: Record<string, Float32Array>[] = [];
    const descriptor = Object.getOwnPropertyDescriptor(Session.prototype, 'run')!;
    const run = descriptor.value as (this: Session, ...args: Parameters<Session['run']>) => unknown;
    Object.defineProperty(Session.prototype, 'run', {
      ...descriptor,
      value: function (this: Session, ...args: Parameters<Session['run']>) {
        const feeds: Record<string, Tensor> = args[0];
        if (feeds.input?.data === data.batches[0].data && weights[0].name in feeds) {
          fed.push(
            Object.fromEntries(
              weights.map((w) => [w.name, (feeds[w.name].data as Float32Array).slice()]),
            ),
          );
        }
        return run.apply(this, args);
      },
    });
    const radii = [0.01, 0.03];
    try {
      const result = await measureFlatness(bytes, data, {
        radii,
        seed: 4,
        engine: 'inputs',
        directions: 'filter-normalized',
      });
      expect(result.directions).to.equal('filter-normalized');
    } finally {
      Object.defineProperty(Session.prototype, 'run', descriptor);
    }
    expect(fed).to.have.length(3);
    let filters = 0;
    for (const w of weights) {
      const base = original.getWeight(w.name);
      expect(Array.from(fed[0][w.name])).to.deep.equal(Array.from(base));
      for (const [step, scale] of [0.01, 0.02].entries()) {
        const [from, to] = [fed[step][w.name], fed[step + 1][w.name]];
        if (w.dims.length === 1) {
          expect(Array.from(to), `${w.name} is left still`).to.deep.equal(Array.from(from));
          continue;
        }
        const size = base.length / w.dims[0];
        for (let f = 0; f < w.dims[0]; f++) {
          let moved = 0;
          let norm = 0;
          for (let i = f * size; i < (f + 1) * size; i++) {
            moved += (to[i] - from[i]) ** 2;
            norm += base[i] ** 2;
          }
          const want = scale * Math.sqrt(norm);
          expect(Math.sqrt(moved), `${w.name} filter ${f}, radius ${radii[step]}`).to.be.closeTo(
            want,
            1e-3 * want,
          );
          filters++;
        }
      }
    }
    expect(filters).to.be.greaterThan(100);
  });
});
