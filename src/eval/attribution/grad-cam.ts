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
import { findGapHead, type GapHead } from './gap-head.js';
import { predictedClasses, type MapBatch } from './maps.js';

/** One batch through a Grad-CAM model. */
export interface CamResult {
  /** `[batch, classes]`. */
  logits: Float32Array;
  classes: number;
  /** The feature map, with its dims `[batch, channels, height, width]`. */
  features: Float32Array;
  featureDims: readonly number[];
  /** The class each map explains. */
  targets: Int32Array;
  /** Collapsed maps at the feature map's resolution. */
  maps: MapBatch;
}

/**
 * The collapsed Grad-CAM maps of a feature batch for one class per sample.
 * `weights` are the head's `[classes, channels]`; `features` `[batch, channels, h, w]`.
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

/** Options of {@link GradCam.create}. */
export interface GradCamOptions {
  /** The pooled feature tensor, when the model has several GAP heads. */
  feature?: string;
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
  ) {}

  /** @throws NoGapHeadError when the model has no GAP head. */
  static async create(model: string | Uint8Array, options: GradCamOptions = {}): Promise<GradCam> {
    const bytes = typeof model === 'string' ? await getBackend().readModel(model) : model;
    const graph = OnnxModel.fromBytes(bytes, {
      file: typeof model === 'string' ? model : undefined,
    });
    const head = findGapHead(graph, options.feature);
    if (!graph.outputs.some((o) => o.name === head.feature)) graph.addOutputs([head.feature]);
    const session = await Session.create(graph.toBytes(), options.session);
    return new GradCam(session, head, session.inputs[0].name);
  }

  /**
   * Runs the batch and returns its logits, feature map and the collapsed map of each sample
   * for `targets` (default: each sample's predicted class).
   */
  async compute(input: Tensor, targets?: Int32Array): Promise<CamResult> {
    const out = await this.session.run({ [this.input]: input }, [
      this.head.logits,
      this.head.feature,
    ]);
    const logits = out[this.head.logits].data as Float32Array;
    const feature = out[this.head.feature];
    const features = feature.data as Float32Array;
    const chosen = targets ?? predictedClasses(logits, this.head.classes);
    if (chosen.length !== feature.dims[0]) {
      throw new RangeError(
        `targets has ${chosen.length} classes for a batch of ${feature.dims[0]}`,
      );
    }
    const maps = collapsedMaps(features, feature.dims, this.head, chosen);
    return {
      logits,
      classes: this.head.classes,
      features,
      featureDims: feature.dims,
      targets: chosen,
      maps,
    };
  }

  /** Frees the session; safe to call twice. */
  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}
