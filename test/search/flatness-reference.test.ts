import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';

import { Session, openDataset, resolvePreset } from '../../src/index.js';
import type { LiftedWeight } from '../../src/runtime/onnx/edit.js';
import { measureFlatness, type FlatnessOptions } from '../../src/search/flatness.js';
import type { EngineName } from '../../src/search/flatness-engines.js';
import { direction } from '../../src/search/perturbation.js';
import { Random } from '../../src/search/random.js';
import { loadValidationSet, type ValidationSet } from '../../src/search/validation-set.js';
import { expectClose } from '../helpers/assert.js';
import { tensorValueInfo } from '../../src/runtime/onnx/proto.js';

const { onnx } = onnxProto;
const FIXTURE = 'test/fixtures/flatness';

/** Relative tolerance against PyTorch: float32 convolutions in torch and ONNX Runtime differ. */
const RELATIVE = 1e-5;
/** Absolute tolerance on L_i - baseLoss, the part of the loss the noise causes (measured 5e-7). */
const DELTA = 2e-6;

interface NoiseResult {
  noise: 'cumulative' | 'independent';
  losses: number[];
  poor: number;
  flatness: number;
  perDraw: { losses: number[]; poor: number; flatness: number }[];
}

interface Reference {
  radii: number[];
  draws: number;
  data: { dataIndices: number[]; labels: number[]; inputSha256: string };
  directions: { sha256: string; elements: number };
  weights: { name: string; dims: number[]; size: number; offset: number }[];
  offsets: number[][][];
  baseLoss: number;
  results: NoiseResult[];
  tolerance: { relative: number };
}

function expectRelative(actual: number, expected: number, what: string): void {
  const error = Math.abs(actual - expected) / Math.abs(expected);
  expect(error, `${what}: ${actual} against PyTorch's ${expected}`).to.be.at.most(RELATIVE);
}

function expectAllRelative(actual: number[], expected: number[], what: string): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  expected.forEach((e, i) => expectRelative(actual[i], e, `${what}[${i}]`));
}

/** A model with no weights at all: y = Flatten(x). */
function weightlessModel(): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'ortlab-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'flatten_only',
      node: [{ opType: 'Flatten', input: ['input'], output: ['logits'], name: 'flatten' }],
      input: [tensorValueInfo('input', ['batch', 1, 28, 28])],
      output: [tensorValueInfo('logits', ['batch', 784])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * ortlab's flatness against PyTorch: tools/fixtures/flatness_reference.py trained a tiny CNN,
 * drew N(0, 1) directions with numpy, stored them, and computed the GeNAS losses, poor-flatness
 * sums and flatness in torch for cumulative and independent noise. ortlab is fed the stored
 * directions through `directionSource` and must give the same numbers within 1e-5 relative.
 */
describe('measureFlatness against PyTorch (tools/fixtures/flatness_reference.py)', function () {
  let reference: Reference;
  let model: Uint8Array;
  let directions: Float32Array;
  let data: ValidationSet;

  const source = (): FlatnessOptions['directionSource'] => (step, draw, name) => {
    const k = reference.weights.findIndex((w) => w.name === name);
    if (k < 0) throw new Error(`weight '${name}' is not in reference.json`);
    const start = reference.offsets[draw][step][k];
    return directions.subarray(start, start + reference.weights[k].size);
  };

  before(async () => {
    reference = JSON.parse(await readFile(`${FIXTURE}/reference.json`, 'utf8')) as Reference;
    model = new Uint8Array(await readFile(`${FIXTURE}/tiny-cnn.onnx`));
    const bytes = await readFile(`${FIXTURE}/directions.f32`);
    expect(createHash('sha256').update(bytes).digest('hex')).to.equal(reference.directions.sha256);
    directions = new Float32Array(new Uint8Array(bytes).buffer);
    expect(directions.length).to.equal(reference.directions.elements);

    const dataset = await openDataset('mnist');
    data = await loadValidationSet(dataset, resolvePreset('mnist'), {
      limit: reference.data.dataIndices.length,
    });
  });

  it('reads the same 64 MNIST test images, bit for bit, with the same labels', () => {
    expect(data.n).to.equal(reference.data.dataIndices.length);
    const labels = data.batches.flatMap((b) => Array.from(b.labels));
    expect(labels).to.deep.equal(reference.data.labels);
    const hash = createHash('sha256');
    for (const b of data.batches) hash.update(new Uint8Array(b.data.buffer, 0, b.data.byteLength));
    expect(hash.digest('hex')).to.equal(reference.data.inputSha256);
  });

  for (const engine of ['inputs', 'patch'] as EngineName[]) {
    for (const noise of ['cumulative', 'independent'] as const) {
      it(`${engine}/${noise}: losses, baseLoss, poor, flatness within 1e-5 relative`, async () => {
        const expected = reference.results.find((r) => r.noise === noise) as NoiseResult;
        const result = await measureFlatness(model, data, {
          radii: reference.radii,
          draws: reference.draws,
          noise,
          engine,
          directionSource: source(),
        });

        expect(result.engine).to.equal(engine);
        expect(result.perturbed.tensors).to.equal(reference.weights.length);
        expectRelative(result.baseLoss, reference.baseLoss, 'baseLoss');
        expectAllRelative(result.losses, expected.losses, 'losses');
        expectRelative(result.poor, expected.poor, 'poor');
        expectRelative(result.flatness, expected.flatness, 'flatness');
        expect(result.perDraw.length).to.equal(reference.draws);
        result.perDraw.forEach((d, i) => {
          const e = expected.perDraw[i];
          expectAllRelative(d.losses, e.losses, `draw ${i} losses`);
          // The noise moves the loss by 7e-4 to 6e-3; its effect must match to DELTA absolute.
          const rise = d.losses.map((l) => l - result.baseLoss);
          expectClose(
            rise,
            e.losses.map((l) => l - reference.baseLoss),
            DELTA,
            `draw ${i} rise`,
          );
          expectRelative(d.poor, e.poor, `draw ${i} poor`);
          expectRelative(d.flatness, e.flatness, `draw ${i} flatness`);
        });
      });
    }
  }

  it('the same seed gives bit-identical losses over two runs', async () => {
    const options: FlatnessOptions = { seed: 11, draws: 2, engine: 'inputs' };
    const first = await measureFlatness(model, data, options);
    const second = await measureFlatness(model, data, options);
    expect(second.perDraw).to.deep.equal(first.perDraw);
    expect(second.losses).to.deep.equal(first.losses);
  });

  it('a different seed gives different losses', async () => {
    const a = await measureFlatness(model, data, { seed: 1, engine: 'inputs' });
    const b = await measureFlatness(model, data, { seed: 2, engine: 'inputs' });
    expect(a.baseLoss).to.equal(b.baseLoss);
    a.losses.forEach((loss, i) => expect(loss, `L_${i + 1}`).to.not.equal(b.losses[i]));
  });

  for (const radii of [[0.003, 0.001], [0.001, 0.001], [0, 0.001], [-0.001, 0.002], []]) {
    it(`radii [${radii.join(', ')}], not strictly rising positives, throw RangeError`, async () => {
      let caught: unknown;
      await measureFlatness(model, data, { radii }).catch((e: unknown) => (caught = e));
      expect(caught).to.be.instanceOf(RangeError);
      expect((caught as Error).message).to.match(/radii must be/);
    });
  }

  it('a model without floating-point weights throws an Error that says so', async () => {
    let caught: unknown;
    await measureFlatness(weightlessModel(), data).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(Error);
    expect((caught as Error).message).to.match(/no floating-point weights/);
  });

  for (const engine of ['inputs', 'patch', 'auto'] as const) {
    it(`labels beyond the model's 10 outputs throw RangeError (engine '${engine}')`, async () => {
      const bad: ValidationSet = {
        ...data,
        batches: data.batches.map((b) => ({ ...b, labels: b.labels.map((l) => l + 10) })),
      };
      let caught: unknown;
      await measureFlatness(model, bad, { engine }).catch((e: unknown) => (caught = e));
      expect(caught).to.be.instanceOf(RangeError);
      expect((caught as Error).message).to.match(/scores 10 classes/);
    });
  }

  for (const engine of ['inputs', 'patch', 'auto'] as const) {
    it(`3 classes for the model's 10 outputs throw RangeError (engine '${engine}')`, async () => {
      // Labels 0..2 fit the outputs; the class count does not.
      const three: ValidationSet = {
        ...data,
        name: 'three',
        classes: 3,
        batches: data.batches.map((b) => ({ ...b, labels: b.labels.map((l) => l % 3) })),
      };
      let caught: unknown;
      await measureFlatness(model, three, { engine }).catch((e: unknown) => (caught = e));
      expect(caught).to.be.instanceOf(RangeError);
      expect((caught as Error).message).to.equal(
        "the data 'three' has 3 classes but the model's output 'logits' scores 10; pass data " +
          "labelled with the model's 10 classes",
      );
    });
  }

  it("engine 'auto' disposes every session it opened when the labels are bad", async () => {
    const bad: ValidationSet = {
      ...data,
      batches: data.batches.map((b) => ({ ...b, labels: b.labels.map((l) => l + 10) })),
    };
    const original = Object.getOwnPropertyDescriptor(Session, 'create') as PropertyDescriptor;
    const create = Session.create.bind(Session);
    const opened: Session[] = [];
    const disposed = new Set<Session>();
    Session.create = async (...args: Parameters<typeof create>) => {
      const session = await create(...args);
      const dispose = session.dispose.bind(session);
      session.dispose = () => (disposed.add(session), dispose());
      opened.push(session);
      return session;
    };
    try {
      await measureFlatness(model, bad, { engine: 'auto' }).catch(() => undefined);
    } finally {
      Object.defineProperty(Session, 'create', original);
    }
    expect(opened.length).to.be.above(0);
    expect(opened.filter((s) => !disposed.has(s)).length, 'sessions left open').to.equal(0);
  });

  it('a directionSource returning the wrong number of values throws RangeError', async () => {
    let caught: unknown;
    await measureFlatness(model, data, {
      engine: 'inputs',
      directionSource: () => new Float32Array(3),
    }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(RangeError);
    expect((caught as Error).message).to.match(
      /returned 3 values; the weight \[4, 1, 3, 3\] has 36/,
    );
  });

  it("weights 'no-bias-norm' perturbs only the rank > 1 tensors", async () => {
    const asked = new Set<string>();
    const all = source();
    const result = await measureFlatness(model, data, {
      weights: 'no-bias-norm',
      engine: 'inputs',
      directionSource: (step, draw, name) => {
        asked.add(name);
        return (all as NonNullable<typeof all>)(step, draw, name);
      },
    });
    const matrices = reference.weights.filter((w) => w.dims.length > 1);
    expect(matrices.length).to.be.below(reference.weights.length);
    expect(result.perturbed).to.deep.equal({
      tensors: matrices.length,
      parameters: matrices.reduce((a, w) => a + w.size, 0),
    });
    expect([...asked].sort()).to.deep.equal(matrices.map((w) => w.name).sort());
  });
});

describe('direction (perturbation.ts)', () => {
  const weight: LiftedWeight = {
    name: 'w',
    type: 'float32',
    dims: [3, 2, 2],
    data: Float32Array.from([1, 2, 3, 4, -0.5, 0.25, 0, 1, 0, 0, 0, 0]),
  };
  const filterNorm = (v: Float32Array, f: number): number =>
    Math.hypot(...Array.from(v.subarray(f * 4, f * 4 + 4)));

  it("'filter-normalized': each filter's direction norm equals that filter's weight norm", () => {
    const d = direction(weight, 'filter-normalized', new Random(5));
    for (let f = 0; f < 3; f++) {
      const expected = filterNorm(weight.data, f);
      expect(Math.abs(filterNorm(d, f) - expected), `filter ${f}`).to.be.at.most(1e-6 * expected);
    }
  });

  it("'filter-normalized' rescales the same N(0, 1) draws that 'gaussian' gives", () => {
    const gaussian = direction(weight, 'gaussian', new Random(5));
    const scaled = direction(weight, 'filter-normalized', new Random(5));
    for (let f = 0; f < 2; f++) {
      const ratio = scaled[f * 4] / gaussian[f * 4];
      for (let i = f * 4; i < f * 4 + 4; i++) {
        expect(Math.abs(scaled[i] - ratio * gaussian[i])).to.be.at.most(1e-6 * Math.abs(ratio));
      }
    }
  });

  it("'filter-normalized' leaves rank-1 weights (biases) still: all zeros", () => {
    const bias: LiftedWeight = { name: 'b', type: 'float32', dims: [3], data: weight.data };
    expect(Array.from(direction(bias, 'filter-normalized', new Random(5)))).to.deep.equal(
      new Array(12).fill(0),
    );
  });
});
