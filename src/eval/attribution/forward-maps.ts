/**
 * Attribution maps that need only forward passes, for any classifier: occlusion (Zeiler and
 * Fergus 2014), RISE (Petsiuk et al. 2018) and Score-CAM (Wang et al. 2020). Scores are the
 * softmax probability of the target class; masked inputs are run in batches.
 */
import type { Session } from '../../runtime/session.js';
import type { Tensor } from '../../runtime/tensor.js';
import { minMaxNormalize, probability, upsampleBilinear, type MapBatch } from './maps.js';
import { RISE_DEFAULTS, riseMasks, type RiseMaskOptions } from './rise-masks.js';

export { RISE_DEFAULTS, riseMasks } from './rise-masks.js';
export type { RiseMaskOptions } from './rise-masks.js';

/** One image `[1, channels, height, width]` and the class to explain. */
export interface ForwardTarget {
  image: Tensor;
  /** Default: the class the model predicts for the image. */
  target?: number;
}

interface Scorer {
  (inputs: Float32Array, count: number): Promise<Float32Array>;
}

function imageDims(image: Tensor): [number, number, number] {
  const [batch, channels, height, width] = image.dims;
  if (image.dims.length !== 4 || batch !== 1) {
    throw new RangeError(
      `an attribution image must be one NCHW sample [1, channels, height, width], got ` +
        `[${image.dims.join(', ')}]`,
    );
  }
  return [channels, height, width];
}

/**
 * Runs inputs `[count, ...dims]` in batches of `batchSize`, returning logits
 * `[count, classes]`.
 */
function scorer(session: Session, dims: readonly number[], batchSize: number): Scorer {
  const input = session.inputs[0].name;
  const output = session.outputs[0].name;
  const size = dims.reduce((a, b) => a * b, 1);
  return async (inputs, count) => {
    const parts: Float32Array[] = [];
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const data = inputs.subarray(start * size, (start + n) * size);
      const out = await session.run({ [input]: { type: 'float32', data, dims: [n, ...dims] } }, [
        output,
      ]);
      parts.push(out[output].data as Float32Array);
    }
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    return all;
  };
}

async function baseScore(score: Scorer, image: Float32Array, target: number | undefined) {
  const logits = await score(image, 1);
  const classes = logits.length;
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[c] > logits[best]) best = c;
  const c = target ?? best;
  if (!(Number.isInteger(c) && c >= 0 && c < classes)) {
    throw new RangeError(`target class ${c} is outside the model's ${classes} classes`);
  }
  return { c, classes, p: probability(logits, classes, 0, c) };
}

/** Options of {@link occlusionMap}. */
export interface OcclusionOptions {
  /** Side of the square patch, in pixels (default 8). */
  patch?: number;
  /** Step between patches (default half the patch). */
  stride?: number;
  /** Value written over the patch, in the model's input space (default 0). */
  baseline?: number;
  /** Occluded images per run (default 64). */
  batchSize?: number;
}

/** The patch, stride and baseline {@link occlusionMap} uses for `options`. */
export function occlusionSettings(
  options: OcclusionOptions = {},
): Required<Omit<OcclusionOptions, 'batchSize'>> {
  const patch = options.patch ?? 8;
  return {
    patch,
    stride: options.stride ?? Math.max(1, patch >> 1),
    baseline: options.baseline ?? 0,
  };
}

/**
 * Occlusion: the drop in target probability when a patch is covered, averaged over the patches
 * that cover each pixel (0 where none does). One run per patch position.
 */
export async function occlusionMap(
  session: Session,
  { image, target }: ForwardTarget,
  options: OcclusionOptions = {},
): Promise<MapBatch> {
  const [channels, height, width] = imageDims(image);
  const { patch, stride, baseline } = occlusionSettings(options);
  if (!(Number.isInteger(patch) && patch >= 1 && patch <= Math.min(height, width))) {
    throw new RangeError(
      `patch must be an integer from 1 to ${Math.min(height, width)}, got ${patch}`,
    );
  }
  if (!(Number.isInteger(stride) && stride >= 1)) {
    throw new RangeError(`stride must be a positive integer, got ${stride}`);
  }
  const pixels = image.data as Float32Array;
  const score = scorer(session, [channels, height, width], options.batchSize ?? 64);
  const { c, classes, p } = await baseScore(score, pixels, target);

  const positions: [number, number][] = [];
  for (let y = 0; y + patch <= height; y += stride) {
    for (let x = 0; x + patch <= width; x += stride) positions.push([y, x]);
  }
  const size = pixels.length;
  const occluded = new Float32Array(positions.length * size);
  positions.forEach(([y0, x0], n) => {
    const copy = occluded.subarray(n * size, (n + 1) * size);
    copy.set(pixels);
    for (let ch = 0; ch < channels; ch++) {
      for (let y = y0; y < y0 + patch; y++) {
        copy.fill(baseline, (ch * height + y) * width + x0, (ch * height + y) * width + x0 + patch);
      }
    }
  });
  const logits = await score(occluded, positions.length);
  const sum = new Float64Array(height * width);
  const covered = new Uint32Array(height * width);
  positions.forEach(([y0, x0], n) => {
    const drop = p - probability(logits, classes, n, c);
    for (let y = y0; y < y0 + patch; y++) {
      for (let x = x0; x < x0 + patch; x++) {
        sum[y * width + x] += drop;
        covered[y * width + x]++;
      }
    }
  });
  const data = Float32Array.from(sum, (s, i) => (covered[i] ? s / covered[i] : 0));
  return { data, count: 1, height, width };
}

/** Options of {@link riseMap}: those of {@link riseMasks}, and how the masks are run. */
export interface RiseOptions extends RiseMaskOptions {
  /** Masked images per run (default 64). */
  batchSize?: number;
  /** Explicit masks `[count, height, width]` instead of generated ones. */
  given?: Float32Array;
}

/**
 * RISE: the mean of the masks weighted by the target probability of the image under each
 * mask, divided by the keep probability: sum_n p_c(x * M_n) M_n / (N keep).
 */
export async function riseMap(
  session: Session,
  { image, target }: ForwardTarget,
  options: RiseOptions = {},
): Promise<MapBatch> {
  const [channels, height, width] = imageDims(image);
  const area = height * width;
  const masks = options.given ?? riseMasks(height, width, options);
  if (masks.length % area !== 0) {
    throw new RangeError(
      `given masks hold ${masks.length} values, not a multiple of ${height}x${width}`,
    );
  }
  const count = masks.length / area;
  const keep = options.keep ?? RISE_DEFAULTS.keep;
  const pixels = image.data as Float32Array;
  const score = scorer(session, [channels, height, width], options.batchSize ?? 64);
  const { c, classes } = await baseScore(score, pixels, target);
  const sum = new Float64Array(area);
  const chunk = options.batchSize ?? 64;
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const masked = new Float32Array(n * pixels.length);
    for (let m = 0; m < n; m++) {
      const mask = masks.subarray((start + m) * area, (start + m + 1) * area);
      for (let ch = 0; ch < channels; ch++) {
        for (let i = 0; i < area; i++)
          masked[(m * channels + ch) * area + i] = pixels[ch * area + i] * mask[i];
      }
    }
    const logits = await score(masked, n);
    for (let m = 0; m < n; m++) {
      const pm = probability(logits, classes, m, c);
      const mask = masks.subarray((start + m) * area, (start + m + 1) * area);
      for (let i = 0; i < area; i++) sum[i] += pm * mask[i];
    }
  }
  const data = Float32Array.from(sum, (s) => s / (count * keep));
  return { data, count: 1, height, width };
}

/**
 * Score-CAM: each channel of the feature map, upsampled and min-max normalized, masks the
 * input; the target probabilities of the masked inputs, through a softmax over channels, weight
 * the channels: ReLU(sum_k softmax(s)_k A_k), at the feature map's resolution.
 * `session` must return the logits first and `feature` as a second output.
 */
export async function scoreCamMap(
  session: Session,
  feature: string,
  { image, target }: ForwardTarget,
  options: { batchSize?: number } = {},
): Promise<MapBatch> {
  const [channels, height, width] = imageDims(image);
  if (!session.outputs.some((o) => o.name === feature)) {
    throw new Error(
      `the model has no output '${feature}'; expose the feature tensor as an output first ` +
        `(its outputs: ${session.outputs.map((o) => o.name).join(', ')})`,
    );
  }
  const logitsName = session.outputs[0].name;
  const pixels = image.data as Float32Array;
  const out = await session.run({ [session.inputs[0].name]: image }, [logitsName, feature]);
  const base = out[logitsName].data as Float32Array;
  const classes = base.length;
  let c = target ?? 0;
  if (target === undefined) for (let k = 1; k < classes; k++) if (base[k] > base[c]) c = k;
  const [, k, h, w] = out[feature].dims;
  const features = out[feature].data as Float32Array;
  const up = minMaxNormalize(
    upsampleBilinear({ data: features, count: k, height: h, width: w }, height, width),
  );
  const area = height * width;
  const masked = new Float32Array(k * pixels.length);
  for (let m = 0; m < k; m++) {
    for (let ch = 0; ch < channels; ch++) {
      for (let i = 0; i < area; i++)
        masked[(m * channels + ch) * area + i] = pixels[ch * area + i] * up.data[m * area + i];
    }
  }
  const logits = await scorer(
    session,
    [channels, height, width],
    options.batchSize ?? 64,
  )(masked, k);
  const scores = Array.from({ length: k }, (_, m) => probability(logits, classes, m, c));
  const top = Math.max(...scores);
  const exp = scores.map((s) => Math.exp(s - top));
  const total = exp.reduce((a, b) => a + b, 0);
  const data = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) {
    let sum = 0;
    for (let m = 0; m < k; m++) sum += (exp[m] / total) * features[m * h * w + i];
    data[i] = sum > 0 ? sum : 0;
  }
  return { data, count: 1, height: h, width: w };
}
