/**
 * Grad-CAM (Selvaraju et al. 2017) for classifiers whose head is global average pooling then one
 * linear layer. There d score_c / d A_k(i, j) = W[c, k] / (h w) for every position, so the
 * channel weights are exact and one forward pass that also returns the feature map suffices:
 * map_c = ReLU(sum_k W[c, k] / (h w) A_k). This collapsed map is the one WCAM matches, and it
 * compares across models of different widths.
 */
import { getBackend } from '../../runtime/backend.js';
import { OnnxModel } from '../../runtime/onnx/model.js';
import { onnx } from '../../runtime/onnx/proto.js';
import { Session, type SessionOptions } from '../../runtime/session.js';
import type { Tensor } from '../../runtime/tensor.js';
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
    const outputs = addClassMaps(graph, head);
    // The maps are upsampled and normalized in JavaScript right after each run: ONNX Runtime's
    // threads spinning for the next run would take the cores it needs (1.19x plain inference
    // with spinning, 0.96x without, batch 64 on 2 cores).
    const session = await Session.create(graph.toBytes(), { spinning: false, ...options.session });
    return new GradCam(session, head, session.inputs[0].name, outputs);
  }

  /**
   * Runs the batch and returns its logits, feature map and the collapsed map of each sample
   * for `targets` (default: each sample's predicted class).
   */
  async compute(input: Tensor, targets?: Int32Array): Promise<CamResult> {
    const { maps: mapsName, shape: shapeName } = this.fetches;
    const out = await this.session.run({ [this.input]: input }, [
      this.head.logits,
      mapsName,
      shapeName,
    ]);
    const logits = out[this.head.logits].data as Float32Array;
    const featureDims = Array.from(out[shapeName].data as BigInt64Array, Number);
    const result = {
      logits,
      classes: this.head.classes,
      classMaps: out[mapsName].data as Float32Array,
      featureDims,
      targets: targets ?? predictedClasses(logits, this.head.classes),
    };
    return { ...result, maps: classMapsFor(result, result.targets) };
  }

  /** Frees the session; safe to call twice. */
  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}

/** Names of the outputs {@link addClassMaps} adds. */
interface ClassMapOutputs {
  maps: string;
  shape: string;
}

/**
 * Adds to the graph every class's channel-weighted sum of the feature map,
 * MatMul(W [classes, channels], Reshape(A, [batch, channels, h w])), and the feature map's
 * shape, as outputs. Summing inside ONNX Runtime costs a few per cent of the forward pass, where
 * fetching the whole feature map and summing in JavaScript cost half of it again.
 */
function addClassMaps(graph: OnnxModel, head: GapHead): ClassMapOutputs {
  const taken = new Set([
    ...graph.graph.node.flatMap((n) => n.output ?? []),
    ...graph.graph.initializer.map((t) => t.name),
  ]);
  let prefix = 'ortlab_cam';
  while ([...taken].some((name) => name?.startsWith(prefix))) prefix += '_';
  const names = {
    weights: `${prefix}_weights`,
    flatShape: `${prefix}_flat_shape`,
    flat: `${prefix}_flat`,
    maps: `${prefix}_maps`,
    shape: `${prefix}_feature_shape`,
  };
  graph.graph.initializer.push(
    {
      name: names.weights,
      dims: [head.classes, head.channels],
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(head.weights.slice().buffer),
    },
    {
      name: names.flatShape,
      dims: [3],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: new Uint8Array(BigInt64Array.from([0n, 0n, -1n]).buffer),
    },
  );
  graph.graph.node.push(
    {
      name: names.flat,
      opType: 'Reshape',
      input: [head.feature, names.flatShape],
      output: [names.flat],
    },
    {
      name: names.maps,
      opType: 'MatMul',
      input: [names.weights, names.flat],
      output: [names.maps],
    },
    { name: names.shape, opType: 'Shape', input: [head.feature], output: [names.shape] },
  );
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const INT64 = onnx.TensorProto.DataType.INT64;
  graph.graph.output.push(
    { name: names.maps, type: { tensorType: { elemType: FLOAT } } },
    { name: names.shape, type: { tensorType: { elemType: INT64 } } },
  );
  return { maps: names.maps, shape: names.shape };
}
