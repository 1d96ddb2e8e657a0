/**
 * The flatness of a model's loss surface under weight perturbation, as GeNAS (Jeong et al.,
 * 2023) measures it: Gaussian noise of growing radius added to the weights, the validation loss
 * at each radius, and the inverse of how fast it rises.
 */
import { OnnxModel } from '../runtime/onnx/model.js';
import type { ProgressCallback } from '../runtime/progress.js';
import type { SessionOptions } from '../runtime/session.js';
import { direction, selectsWeight, type DirectionKind, type WeightSubset } from './perturbation.js';
import { Random } from './random.js';
import type { ValidationSet } from './validation-set.js';
import { chooseEngine, type EngineName, type Evaluator } from './flatness-engines.js';
import type { LiftedWeight } from '../runtime/onnx/edit.js';
import type { Tensor } from '../runtime/tensor.js';

/** Options of `measureFlatness`; every field has a default. */
export interface FlatnessOptions {
  /** Radii s_1 < ... < s_N, positive (default 0.001, 0.003, 0.006). */
  radii?: readonly number[];
  /** Independent draws per radius; the report gives their mean and spread (default 1). */
  draws?: number;
  /** Seed of the noise (default 0); the same seed gives bit-identical losses. */
  seed?: number;
  /**
   * `cumulative` (GeNAS): the noise at radius i adds N(0, (s_i - s_{i-1})^2) to the weights of
   * radius i - 1. `independent`: N(0, s_i^2) added to the original weights. Default cumulative.
   */
  noise?: 'cumulative' | 'independent';
  directions?: DirectionKind;
  /** Default `all`. */
  weights?: WeightSubset;
  /** `inputs` feeds weights as graph inputs, `patch` rebuilds the session; default `auto`. */
  engine?: EngineName | 'auto';
  /** Session options for the runs (providers, threads). */
  session?: SessionOptions;
  /**
   * Replaces the random directions: the N(0, 1) direction of `weight` at radius step `step` of
   * draw `draw`. For checks against a reference that stores its noise.
   */
  directionSource?: (step: number, draw: number, weight: string) => Float32Array;
  /** Other inputs fed on every run, such as a supernet's architecture. */
  feeds?: Readonly<Record<string, Tensor>>;
  onProgress?: ProgressCallback;
}

/** What `measureFlatness` measured. */
export interface FlatnessResult {
  radii: number[];
  /** L_i, mean cross-entropy at radius i, averaged over draws. */
  losses: number[];
  /** Standard deviation of L_i over draws (0 with one draw). */
  lossSpread: number[];
  /** The loss of the unperturbed model. */
  baseLoss: number;
  /** |L_1 / s_1| + sum_i |(L_{i+1} - L_i) / (s_{i+1} - s_i)|, from the mean losses. */
  poor: number;
  /** 1 / (poor + 1e-5). Higher is flatter. */
  flatness: number;
  /** Each draw's own losses, poor and flatness. */
  perDraw: { losses: number[]; poor: number; flatness: number }[];
  seed: number;
  draws: number;
  noise: 'cumulative' | 'independent';
  directions: DirectionKind;
  weights: WeightSubset;
  engine: EngineName;
  /** Why that engine was chosen. */
  engineReason: string;
  /** Weight tensors and elements perturbed. */
  perturbed: { tensors: number; parameters: number };
  samples: number;
}

/** GeNAS's poor-flatness sum and flatness for losses at `radii`. */
export function flatnessOf(
  losses: readonly number[],
  radii: readonly number[],
): { poor: number; flatness: number } {
  let poor = Math.abs(losses[0] / radii[0]);
  for (let i = 0; i + 1 < radii.length; i++) {
    poor += Math.abs((losses[i + 1] - losses[i]) / (radii[i + 1] - radii[i]));
  }
  return { poor, flatness: 1 / (poor + 1e-5) };
}

/** Checks radii: positive, finite, strictly increasing. */
export function checkRadii(radii: readonly number[]): void {
  if (radii.length === 0 || radii.some((r) => !(r > 0) || !Number.isFinite(r))) {
    throw new RangeError(`radii must be positive numbers, got [${radii.join(', ')}]`);
  }
  for (let i = 1; i < radii.length; i++) {
    if (!(radii[i] > radii[i - 1])) {
      throw new RangeError(
        `radii must be strictly increasing, got [${radii.join(', ')}] ` +
          `(${radii[i - 1]} then ${radii[i]})`,
      );
    }
  }
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const spread = (v: number[]): number => {
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
};

/** Settings of a meter, every default filled in. */
interface Settings {
  radii: number[];
  draws: number;
  seed: number;
  noise: 'cumulative' | 'independent';
  directions: DirectionKind;
  weights: WeightSubset;
}

function settingsOf(options: FlatnessOptions): Settings {
  const radii = [...(options.radii ?? [0.001, 0.003, 0.006])];
  checkRadii(radii);
  const draws = options.draws ?? 1;
  if (!(Number.isInteger(draws) && draws >= 1)) {
    throw new RangeError(`draws must be a positive integer, got ${draws}`);
  }
  return {
    radii,
    draws,
    seed: options.seed ?? 0,
    noise: options.noise ?? 'cumulative',
    directions: options.directions ?? 'gaussian',
    weights: options.weights ?? 'all',
  };
}

/**
 * Measures flatness repeatedly with one engine: for a supernet, once per candidate
 * architecture (fed as `feeds`), every candidate seeing the same noise.
 */
export class FlatnessMeter {
  private baseLossOf?: { feeds: Readonly<Record<string, Tensor>>; value: number };

  private constructor(
    private readonly model: { weights: LiftedWeight[]; evaluator: Evaluator },
    readonly engine: EngineName,
    readonly engineReason: string,
    private readonly settings: Settings,
    private readonly options: FlatnessOptions,
    private readonly samples: number,
  ) {}

  /**
   * Prepares a meter for `model` on `data`; `feeds` are the other inputs the engine is timed
   * with (a supernet's architecture).
   * @throws RangeError for bad radii or draws, Error for a model with no floating-point weights.
   */
  static async create(
    model: Uint8Array,
    data: ValidationSet,
    options: FlatnessOptions = {},
    feeds: Readonly<Record<string, Tensor>> = {},
  ): Promise<FlatnessMeter> {
    const settings = settingsOf(options);
    const weights = OnnxModel.fromBytes(model).liftWeightsToInputs(
      (_name, dims) => selectsWeight(settings.weights, dims),
      { includeConstants: true },
    );
    if (weights.length === 0) {
      const rank = settings.weights === 'all' ? '' : ' of rank above 1';
      throw new Error(
        `the model has no floating-point weights${rank} to perturb; flatness needs a model ` +
          'whose weights are initializers or Constant nodes',
      );
    }
    const engine = options.engine ?? 'auto';
    const chosen = await chooseEngine(model, weights, data, engine, options.session ?? {}, feeds);
    const meter = new FlatnessMeter(
      { weights, evaluator: chosen.evaluator },
      chosen.name,
      chosen.reason,
      settings,
      options,
      data.n,
    );
    if (chosen.baseLoss !== undefined) meter.baseLossOf = { feeds, value: chosen.baseLoss };
    return meter;
  }

  /** Measures once. Costs (N x draws + 1) validation passes, plus O(parameters) per radius. */
  async measure(feeds: Readonly<Record<string, Tensor>> = {}): Promise<FlatnessResult> {
    const { radii, draws, seed, noise, directions } = this.settings;
    const { weights, evaluator } = this.model;
    const onProgress = this.options.onProgress;
    const task = 'flatness';
    const total = 1 + radii.length * draws;
    onProgress?.({ status: 'initiate', task, total });
    const known = this.baseLossOf?.feeds === feeds ? this.baseLossOf.value : undefined;
    const baseLoss =
      known ??
      (await evaluator.loss(
        weights.map((w) => w.data),
        feeds,
      ));
    let done = 1;
    onProgress?.({ status: 'progress', task, done, total });
    const rng = new Random(seed);
    const perDraw: FlatnessResult['perDraw'] = [];
    for (let draw = 0; draw < draws; draw++) {
      const current = weights.map((w) => w.data.slice());
      const losses: number[] = [];
      for (let step = 0; step < radii.length; step++) {
        const scale =
          noise === 'cumulative' ? radii[step] - (step ? radii[step - 1] : 0) : radii[step];
        weights.forEach((w, k) => {
          const d =
            this.options.directionSource?.(step, draw, w.name) ?? direction(w, directions, rng);
          const target = current[k];
          if (d.length !== target.length) {
            throw new RangeError(
              `directionSource(${step}, ${draw}, '${w.name}') returned ${d.length} values; the ` +
                `weight [${w.dims.join(', ')}] has ${target.length}: return one per element`,
            );
          }
          const from = noise === 'cumulative' ? target : w.data;
          for (let i = 0; i < target.length; i++) target[i] = from[i] + scale * d[i];
        });
        losses.push(await evaluator.loss(current, feeds));
        onProgress?.({ status: 'progress', task, done: ++done, total });
      }
      perDraw.push({ losses, ...flatnessOf(losses, radii) });
    }
    onProgress?.({ status: 'done', task, done, total });
    const losses = radii.map((_, i) => mean(perDraw.map((d) => d.losses[i])));
    return {
      ...this.settings,
      losses,
      lossSpread: radii.map((_, i) => spread(perDraw.map((d) => d.losses[i]))),
      baseLoss,
      ...flatnessOf(losses, radii),
      perDraw,
      engine: this.engine,
      engineReason: this.engineReason,
      perturbed: {
        tensors: weights.length,
        parameters: weights.reduce((a, w) => a + w.data.length, 0),
      },
      samples: this.samples,
    };
  }

  /** Frees the engine's session. Safe to call twice. */
  async dispose(): Promise<void> {
    await this.model.evaluator.dispose();
  }
}

/**
 * Measures flatness once.
 * @throws RangeError for bad radii or draws, Error for a model with no floating-point weights.
 */
export async function measureFlatness(
  model: Uint8Array,
  data: ValidationSet,
  options: FlatnessOptions = {},
): Promise<FlatnessResult> {
  const feeds = options.feeds ?? {};
  const meter = await FlatnessMeter.create(model, data, options, feeds);
  try {
    return await meter.measure(feeds);
  } finally {
    await meter.dispose();
  }
}
