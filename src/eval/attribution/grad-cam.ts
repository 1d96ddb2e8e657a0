/**
 * Grad-CAM (Selvaraju et al. 2017) for classifiers whose head is global average pooling then one
 * linear layer. There d score_c / d A_k(i, j) = W[c, k] / (h w) for every position, so the
 * channel weights are exact and one forward pass that also returns the feature map suffices:
 * map_c = ReLU(sum_k W[c, k] / (h w) A_k). This collapsed map is the one WCAM matches, and it
 * compares across models of different widths.
 */
import { getBackend } from '../../runtime/backend.js';
import { OnnxModel } from '../../runtime/onnx/model.js';
import { Session, type SessionOptions } from '../../runtime/session.js';
import type { Tensor } from '../../runtime/tensor.js';
import {
  addClassMaps,
  addChosenMaps,
  type ClassMapOutputs,
  type ChosenOutputs,
  type MapSizes,
} from './cam-graph.js';
import { findGapHead, type GapHead } from './gap-head.js';
import { predictedClasses, type MapBatch } from './maps.js';

/** One batch through a Grad-CAM model. */
export interface CamResult {
  /** `[batch, classes]`. */
  logits: Float32Array;
  classes: number;
  /**
   * Every class's channel-weighted sum before scaling and ReLU, `[batch, classes, height,
   * width]`: sum_k W[c, k] A_k, computed inside ONNX Runtime. Only from a GradCam created with
   * `allClasses: true` (or a model below opset 13).
   */
  classMaps?: Float32Array;
  /** The feature map's dims `[batch, channels, height, width]`. */
  featureDims: readonly number[];
  /** The class each map explains. */
  targets: Int32Array;
  /** Collapsed maps at the feature map's resolution. */
  maps: MapBatch;
  /**
   * The same maps upsampled to the input's size (bilinear, half-pixel centres) and min-max
   * normalized, computed in the same run by ONNX Runtime; absent for models below opset 13.
   */
  upsampled?: MapBatch;
}

/**
 * The collapsed Grad-CAM maps of a feature batch for one class per sample.
 * `weights` are the head's `[classes, channels]`; `features` `[batch, channels, h, w]`.
 * Costs O(batch x channels x h x w); {@link GradCam} does the same sum inside ONNX Runtime.
 */
export function collapsedMaps(
  features: Float32Array,
  dims: readonly number[],
  head: Pick<GapHead, 'weights' | 'channels'>,
  targets: Int32Array,
): MapBatch {
  const [batch, channels, height, width] = dims;
  const area = height * width;
  const data = new Float32Array(batch * area);
  const acc = new Float64Array(area);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    const row = targets[b] * head.channels;
    for (let k = 0; k < channels; k++) {
      const w = head.weights[row + k] / area;
      if (w === 0) continue;
      const base = (b * channels + k) * area;
      for (let i = 0; i < area; i++) acc[i] += w * features[base + i];
    }
    for (let i = 0; i < area; i++) data[b * area + i] = acc[i] > 0 ? acc[i] : 0;
  }
  return { data, count: batch, height, width };
}

/**
 * The maps of one class per sample from a {@link CamResult}'s `classMaps`: the chosen class's
 * sum divided by the map's area, then ReLU. Any class can be taken again without a new run.
 */
export function classMapsFor(result: Omit<CamResult, 'maps'>, targets: Int32Array): MapBatch {
  const [batch, , height, width] = result.featureDims;
  const { classMaps } = result;
  if (!classMaps) {
    throw new Error(
      'this result holds the map of its chosen classes only; create the GradCam with ' +
        '{ allClasses: true } to take other classes from the same run',
    );
  }
  if (targets.length !== batch) {
    throw new RangeError(`targets has ${targets.length} classes for a batch of ${batch}`);
  }
  const area = height * width;
  const data = new Float32Array(batch * area);
  for (let b = 0; b < batch; b++) {
    const c = targets[b];
    if (!(Number.isInteger(c) && c >= 0 && c < result.classes)) {
      throw new RangeError(`target ${c} of sample ${b} is not a class of 0..${result.classes - 1}`);
    }
    const from = (b * result.classes + c) * area;
    for (let i = 0; i < area; i++) {
      const v = classMaps[from + i] / area;
      data[b * area + i] = v > 0 ? v : 0;
    }
  }
  return { data, count: batch, height, width };
}

/**
 * The feature map's and the input's heights and widths when the model fixes them (as ONNX
 * Runtime infers them, on a session that only loads the model); undefined when any is
 * symbolic.
 */
async function fixedSizes(
  graph: OnnxModel,
  head: GapHead,
  input: string,
  options: GradCamOptions,
): Promise<MapSizes | undefined> {
  // The graph as given, with the feature map as an output so that its shape is reported.
  const added = !graph.graph.output.some((o) => o.name === head.feature);
  if (added) graph.graph.output.push({ name: head.feature, type: { tensorType: { elemType: 1 } } });
  let bytes: Uint8Array;
  try {
    bytes = graph.toBytes();
  } finally {
    if (added) graph.graph.output.pop();
  }
  const session = await Session.create(bytes, {
    ...options.session,
    graphOptimizationLevel: 'disabled',
  });
  try {
    const feature = session.outputs.find((o) => o.name === head.feature)?.dims ?? [];
    const image = session.inputs.find((i) => i.name === input)?.dims ?? [];
    if (feature.length !== 4 || image.length !== 4) return undefined;
    const [height, width, inputHeight, inputWidth] = [...feature.slice(2), ...image.slice(2)];
    const fixed = [height, width, inputHeight, inputWidth];
    if (!fixed.every((d) => typeof d === 'number' && d > 0)) return undefined;
    return { height, width, inputHeight, inputWidth } as MapSizes;
  } finally {
    await session.dispose();
  }
}

/** Options of {@link GradCam.create}. */
export interface GradCamOptions {
  /** The pooled feature tensor, when the model has several GAP heads. */
  feature?: string;
  /** The model's file, named in messages when the model is given as bytes. */
  file?: string;
  /**
   * Also return every class's sum (`classMaps`), so that `classMapsFor` can explain other
   * classes without a new run (default false: only the chosen classes' maps are computed).
   */
  allClasses?: boolean;
  session?: SessionOptions;
}

/**
 * A session that returns logits and the feature map, and turns them into Grad-CAM maps.
 *
 * @example
 * ```ts
 * const cam = await GradCam.create('models/mnist-cnn.onnx');
 * const { maps, targets } = await cam.compute({ type: 'float32', data, dims: [8, 1, 28, 28] });
 * maps.height; // 7: the feature map's resolution; upsampleBilinear brings it to 28
 * await cam.dispose();
 * ```
 */
export class GradCam {
  private constructor(
    readonly session: Session,
    readonly head: GapHead,
    readonly input: string,
    private readonly all: ClassMapOutputs | undefined,
    private readonly chosen: ChosenOutputs | undefined,
    /**
     * How `compute` brings the maps to the input's size: by matrix products in the session's
     * run (the model fixes its sizes), by `Resize` in the run (symbolic sizes), or not at all
     * (opset below 13: `upsampleBilinear` in JavaScript is left to the caller).
     */
    readonly upsampling: 'products' | 'resize' | 'none',
  ) {}

  /**
   * @throws RangeError when `options.feature` is not a tensor of the model; NoGapHeadError when
   * the model has no GAP head.
   */
  static async create(model: string | Uint8Array, options: GradCamOptions = {}): Promise<GradCam> {
    const bytes = typeof model === 'string' ? await getBackend().readModel(model) : model;
    const graph = OnnxModel.fromBytes(bytes, {
      file: typeof model === 'string' ? model : options.file,
    });
    const head = findGapHead(graph, options.feature);
    const input = graph.inputs[0]?.name ?? '';
    // Below opset 13 the sums of every class are the only graph addition; the rest runs here.
    const sizes = graph.opset < 13 ? undefined : await fixedSizes(graph, head, input, options);
    const all = options.allClasses || graph.opset < 13 ? addClassMaps(graph, head) : undefined;
    const chosen = addChosenMaps(graph, head, input, all, sizes);
    // Callers often compare or draw the maps in JavaScript right after each run: ONNX Runtime's
    // threads spinning for the next run would take the cores that work needs.
    const session = await Session.create(graph.toBytes(), { spinning: false, ...options.session });
    const upsampling = chosen === undefined ? 'none' : sizes ? 'products' : 'resize';
    return new GradCam(session, head, input, all, chosen, upsampling);
  }

  /**
   * Runs the batch and returns its logits, feature map and the collapsed map of each sample
   * for `targets` (default: each sample's predicted class).
   */
  async compute(input: Tensor, targets?: Int32Array): Promise<CamResult> {
    const batch = input.dims[0];
    if (targets && targets.length !== batch) {
      throw new RangeError(`targets has ${targets.length} classes for a batch of ${batch}`);
    }
    const { all, chosen } = this;
    const feeds: Record<string, Tensor> = { [this.input]: input };
    if (chosen) {
      const given = BigInt64Array.from({ length: batch }, (_, b) => BigInt(targets?.[b] ?? -1));
      feeds[chosen.targets] = { type: 'int64', data: given, dims: [batch] };
    }
    const fetches = [this.head.logits];
    if (all) fetches.push(all.maps, all.shape);
    if (chosen) fetches.push(chosen.chosen, chosen.shape, chosen.cam, chosen.maps);
    const out = await this.session.run(feeds, fetches);
    const logits = out[this.head.logits].data as Float32Array;
    const shape = chosen?.shape ?? (all as ClassMapOutputs).shape;
    const featureDims = Array.from(out[shape].data as BigInt64Array, Number);
    const result = {
      logits,
      classes: this.head.classes,
      classMaps: all ? (out[all.maps].data as Float32Array) : undefined,
      featureDims,
      targets: chosen
        ? Int32Array.from(out[chosen.chosen].data as BigInt64Array, Number)
        : (targets ?? predictedClasses(logits, this.head.classes)),
    };
    const [, , height, width] = featureDims;
    const maps =
      all || !chosen
        ? classMapsFor(result, result.targets)
        : { data: out[chosen.cam].data as Float32Array, count: batch, height, width };
    if (!chosen) return { ...result, maps };
    const dims = out[chosen.maps].dims;
    const upsampled = {
      data: out[chosen.maps].data as Float32Array,
      count: batch,
      height: dims[2],
      width: dims[3],
    };
    return { ...result, maps, upsampled };
  }

  /** Frees the session; safe to call twice. */
  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}
