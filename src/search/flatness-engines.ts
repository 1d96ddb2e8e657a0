/**
 * Two ways to run a model with changed weights. `inputs`: the weights become graph inputs and
 * one session is fed every set of weights. `patch`: the weights are written into the model and a
 * session is created for each set. Which is faster depends on the model and the data, so `auto`
 * times one batch of each and picks.
 */
import type { LiftedWeight } from '../runtime/onnx/edit.js';
import { OnnxModel } from '../runtime/onnx/model.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { Tensor } from '../runtime/tensor.js';
import { meanCrossEntropy, type ValidationSet } from './validation-set.js';

export type EngineName = 'inputs' | 'patch';

/** Computes the mean validation loss for one set of weights (in the order they were lifted). */
export interface Evaluator {
  /** `feeds`: other inputs for every run (a supernet's architecture). */
  loss(weights: readonly Float32Array[], feeds?: Readonly<Record<string, Tensor>>): Promise<number>;
  dispose(): Promise<void>;
}

async function inputsEngine(
  model: Uint8Array,
  weights: readonly LiftedWeight[],
  data: ValidationSet,
  options: SessionOptions,
): Promise<Evaluator> {
  const lifted = OnnxModel.fromBytes(model);
  lifted.liftWeightsToInputs(
    weights.map((w) => w.name),
    { includeConstants: true },
  );
  const session = await Session.create(lifted.toBytes(), options);
  return {
    loss: (values, extra = {}) => {
      const feeds: Record<string, Tensor> = { ...extra };
      weights.forEach((w, k) => {
        feeds[w.name] = { type: 'float32', data: values[k], dims: w.dims };
      });
      return meanCrossEntropy(session, data, feeds);
    },
    dispose: () => session.dispose(),
  };
}

function patchEngine(
  model: Uint8Array,
  weights: readonly LiftedWeight[],
  data: ValidationSet,
  options: SessionOptions,
): Evaluator {
  const editable = OnnxModel.fromBytes(model);
  return {
    loss: async (values, extra = {}) => {
      weights.forEach((w, k) => editable.setWeight(w.name, values[k]));
      const session = await Session.create(editable.toBytes(), options);
      try {
        return await meanCrossEntropy(session, data, extra);
      } finally {
        await session.dispose();
      }
    },
    dispose: () => Promise.resolve(),
  };
}

/** What `auto` measured, in milliseconds. */
export interface EngineTimings {
  /** Creating a plain session. */
  createMs: number;
  /** One plain validation pass on it. */
  passMs: number;
  /** One batch with the weights fed as inputs. */
  inputsBatchMs: number;
  /** Batches in a validation pass. */
  batches: number;
}

/**
 * The engine `auto` picks from its timings: one pass costs `batches x inputsBatchMs` feeding
 * weights as inputs, `createMs + passMs` patching the model and creating a session; the cheaper
 * wins, `inputs` on a tie. The reason gives both estimates.
 */
export function pickEngine(timings: EngineTimings): { name: EngineName; reason: string } {
  const perPassInputs = timings.inputsBatchMs * timings.batches;
  const perPassPatch = timings.createMs + timings.passMs;
  const reason =
    `one pass estimated at ${perPassInputs.toFixed(0)} ms feeding weights as inputs and ` +
    `${perPassPatch.toFixed(0)} ms patching the model ` +
    `(of which ${timings.createMs.toFixed(0)} ms ` +
    'creating the session)';
  return { name: perPassInputs <= perPassPatch ? 'inputs' : 'patch', reason };
}

/** Samples of the first batch the inputs engine is timed on by `auto`. */
const PROBE_SAMPLES = 64;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Picks and builds the evaluator. `auto` times a session creation and the unperturbed pass (which
 * the measurement needs anyway) under the patch engine, and a slice of the first batch under the
 * inputs engine, estimates the cost of one full pass each way, and keeps the cheaper; weights
 * stored in another type than float32 can only be patched.
 */
export async function chooseEngine(
  model: Uint8Array,
  weights: readonly LiftedWeight[],
  data: ValidationSet,
  requested: EngineName | 'auto',
  options: SessionOptions,
  feeds: Readonly<Record<string, Tensor>> = {},
): Promise<{ evaluator: Evaluator; name: EngineName; reason: string; baseLoss?: number }> {
  const nonFloat32 = weights.find((w) => w.type !== 'float32');
  if (requested === 'inputs' && nonFloat32) {
    throw new TypeError(
      `weight '${nonFloat32.name}' is ${nonFloat32.type}; the inputs engine feeds float32 ` +
        'weights only: use the patch engine',
    );
  }
  if (requested !== 'auto') {
    const evaluator =
      requested === 'inputs'
        ? await inputsEngine(model, weights, data, options)
        : patchEngine(model, weights, data, options);
    return { evaluator, name: requested, reason: 'requested' };
  }
  if (nonFloat32) {
    return {
      evaluator: patchEngine(model, weights, data, options),
      name: 'patch',
      reason:
        `weight '${nonFloat32.name}' is ${nonFloat32.type}, ` +
        'which only the patch engine handles',
    };
  }
  // The unperturbed pass is needed anyway: run it on a plain session and time it.
  let plain: Session | undefined;
  const create = await timed(async () => {
    plain = await Session.create(model, options);
  });
  let baseLoss = NaN;
  let patchPass: number;
  try {
    patchPass = await timed(async () => {
      baseLoss = await meanCrossEntropy(plain as Session, data, feeds);
    });
  } finally {
    // Bad data (labels beyond the output width) throws here: the session must not leak.
    await (plain as Session).dispose();
  }

  // The inputs engine is timed on a slice of the first batch and scaled to the batch: the probe
  // is pure overhead, and the cost of a convolution grows linearly with the batch.
  const [batch] = data.batches;
  const size = batch.labels.length;
  const take = Math.min(size, PROBE_SAMPLES);
  const perSample = batch.data.length / size;
  const probe: ValidationSet = {
    ...data,
    batches: [
      {
        data: batch.data.subarray(0, take * perSample),
        dims: [take, ...batch.dims.slice(1)],
        labels: batch.labels.subarray(0, take),
      },
    ],
    n: take,
  };
  const inputs = await inputsEngine(model, weights, probe, options);
  let inputsBatch: number;
  try {
    inputsBatch =
      ((await timed(() =>
        inputs.loss(
          weights.map((w) => w.data),
          feeds,
        ),
      )) *
        size) /
      take;
  } finally {
    await inputs.dispose();
  }

  const { name, reason } = pickEngine({
    createMs: create,
    passMs: patchPass,
    inputsBatchMs: inputsBatch,
    batches: data.batches.length,
  });
  if (name === 'inputs') {
    const evaluator = await inputsEngine(model, weights, data, options);
    return { evaluator, name: 'inputs', reason, baseLoss };
  }
  return { evaluator: patchEngine(model, weights, data, options), name: 'patch', reason, baseLoss };
}
