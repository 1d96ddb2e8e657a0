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
  addUpsampledMaps,
  type ClassMapOutputs,
  type UpsampledOutputs,
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
   * width]`: sum_k W[c, k] A_k, computed inside ONNX Runtime.
   */
  classMaps: Float32Array;
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
      const v = result.classMaps[from + i] / area;
      data[b * area + i] = v > 0 ? v : 0;
    }
  }
  return { data, count: batch, height, width };
}

/** Options of {@link GradCam.create}. */
export interface GradCamOptions {
  /** The pooled feature tensor, when the model has several GAP heads. */
  feature?: string;
  /** The model's file, named in messages when the model is given as bytes. */
  file?: string;
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
    private readonly fetches: ClassMapOutputs,
    private readonly upsampled: UpsampledOutputs | undefined,
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
    const outputs = addClassMaps(graph, head);
    const upsampled = addUpsampledMaps(graph, head, outputs, input);
    // Callers often compare or draw the maps in JavaScript right after each run: ONNX Runtime's
    // threads spinning for the next run would take the cores that work needs.
    const session = await Session.create(graph.toBytes(), { spinning: false, ...options.session });
    return new GradCam(session, head, input, outputs, upsampled);
  }

  /**
   * Runs the batch and returns its logits, feature map and the collapsed map of each sample
   * for `targets` (default: each sample's predicted class).
   */
  async compute(input: Tensor, targets?: Int32Array): Promise<CamResult> {
    const { maps: mapsName, shape: shapeName } = this.fetches;
    const batch = input.dims[0];
    if (targets && targets.length !== batch) {
      throw new RangeError(`targets has ${targets.length} classes for a batch of ${batch}`);
    }
    const up = this.upsampled;
    const feeds: Record<string, Tensor> = { [this.input]: input };
    if (up) {
      const chosen = BigInt64Array.from({ length: batch }, (_, b) => BigInt(targets?.[b] ?? -1));
      feeds[up.targets] = { type: 'int64', data: chosen, dims: [batch] };
    }
    const fetches = [this.head.logits, mapsName, shapeName, ...(up ? [up.chosen, up.maps] : [])];
    const out = await this.session.run(feeds, fetches);
    const logits = out[this.head.logits].data as Float32Array;
    const featureDims = Array.from(out[shapeName].data as BigInt64Array, Number);
    const result = {
      logits,
      classes: this.head.classes,
      classMaps: out[mapsName].data as Float32Array,
      featureDims,
      targets: up
        ? Int32Array.from(out[up.chosen].data as BigInt64Array, Number)
        : (targets ?? predictedClasses(logits, this.head.classes)),
    };
    const maps = classMapsFor(result, result.targets);
    if (!up) return { ...result, maps };
    const dims = out[up.maps].dims;
    const upsampled = {
      data: out[up.maps].data as Float32Array,
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
