/**
 * Where the maps of a comparison come from: exact Grad-CAM for models with a global average
 * pooling head, or a forward-only method (occlusion, RISE, Score-CAM) for any classifier. A
 * source runs a batch and returns its logits, the class each map explains and the maps, and
 * gives the same batch's maps for other classes when asked.
 */
import { getBackend } from '../../runtime/backend.js';
import { OnnxModel } from '../../runtime/onnx/model.js';
import { Session, type SessionOptions } from '../../runtime/session.js';
import type { Tensor } from '../../runtime/tensor.js';
import {
  occlusionMap,
  riseMap,
  riseMasks,
  scoreCamMap,
  type OcclusionOptions,
  type RiseOptions,
} from './forward-maps.js';
import { findGapHead, NoGapHeadError, requireTensor } from './gap-head.js';
import { classMapsFor, GradCam } from './grad-cam.js';
import { predictedClasses, type MapBatch } from './maps.js';

/** The attribution methods a comparison can use. */
export type AttributionMethod = 'gradcam' | 'occlusion' | 'rise' | 'score-cam';

/** Every {@link AttributionMethod}, Grad-CAM first. */
export const ATTRIBUTION_METHODS: readonly AttributionMethod[] = Object.freeze([
  'gradcam',
  'occlusion',
  'rise',
  'score-cam',
]);

/** One batch through a {@link MapSource}. */
export interface SourceBatch {
  /** `[batch, classes]`. */
  logits: Float32Array;
  classes: number;
  /** The class each map explains. */
  targets: Int32Array;
  /** Grad-CAM and Score-CAM: at the feature map's size; occlusion and RISE: at the input's. */
  maps: MapBatch;
  /** The maps of the same images for other classes (maps already made are reused). */
  mapsFor(targets: Int32Array): Promise<MapBatch>;
}

/** A model that explains its predictions with one attribution method. */
export interface MapSource {
  readonly method: AttributionMethod;
  readonly session: Session;
  /** Runs `input` `[batch, channels, height, width]`; targets default to the predicted classes. */
  compute(input: Tensor, targets?: Int32Array): Promise<SourceBatch>;
  /** Frees the session; safe to call twice. */
  dispose(): Promise<void>;
}

/** Options of {@link createMapSource}. */
export interface MapSourceOptions {
  /** Default `'gradcam'`. */
  method?: AttributionMethod;
  /**
   * Grad-CAM: the pooled feature tensor; Score-CAM: the feature map whose channels mask the
   * input (default: the tensor the model's global average pooling reads).
   */
  feature?: string;
  /** The model's file, named in messages when the model is given as bytes. */
  file?: string;
  session?: SessionOptions;
  occlusion?: OcclusionOptions;
  /** RISE: one set of masks, drawn once, explains every image. */
  rise?: RiseOptions;
  /** Masked images per run of the forward-only methods (default 64). */
  batchSize?: number;
}

/** A {@link GradCam} as a map source. */
export function gradCamSource(cam: GradCam): MapSource {
  return {
    method: 'gradcam',
    session: cam.session,
    compute: async (input, targets) => {
      const result = await cam.compute(input, targets);
      // Other classes come from the same run when the GradCam keeps every class's sum, else
      // from a second run for those classes.
      const mapsFor = (t: Int32Array) =>
        result.classMaps
          ? Promise.resolve(classMapsFor(result, t))
          : cam.compute(input, t).then((again) => again.maps);
      return { ...result, mapsFor };
    },
    dispose: () => cam.dispose(),
  };
}

type OneMap = (session: Session, image: Tensor, target: number) => Promise<MapBatch>;

/** Occlusion, RISE or Score-CAM, one image at a time. */
class ForwardSource implements MapSource {
  private masks?: { height: number; width: number; data: Float32Array };

  constructor(
    readonly method: AttributionMethod,
    readonly session: Session,
    private readonly oneMap: OneMap,
  ) {}

  async compute(input: Tensor, targets?: Int32Array): Promise<SourceBatch> {
    const logitsName = this.session.outputs[0].name;
    const out = await this.session.run({ [this.session.inputs[0].name]: input }, [logitsName]);
    const logits = out[logitsName].data as Float32Array;
    const classes = logits.length / input.dims[0];
    const chosen = targets ?? predictedClasses(logits, classes);
    const maps = await this.mapsOf(input, chosen);
    return {
      logits,
      classes,
      targets: chosen,
      maps,
      mapsFor: (t) => this.mapsOf(input, t, { targets: chosen, maps }),
    };
  }

  /** RISE's masks for images of this size, drawn on first use. */
  riseMasksFor(height: number, width: number, options: RiseOptions): Float32Array {
    const masks = this.masks;
    if (masks && masks.height === height && masks.width === width) return masks.data;
    this.masks = { height, width, data: riseMasks(height, width, options) };
    return this.masks.data;
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }

  private async mapsOf(
    input: Tensor,
    targets: Int32Array,
    known?: { targets: Int32Array; maps: MapBatch },
  ): Promise<MapBatch> {
    const [batch, ...rest] = input.dims;
    if (targets.length !== batch) {
      throw new RangeError(`targets has ${targets.length} classes for a batch of ${batch}`);
    }
    const size = rest.reduce((a, b) => a * b, 1);
    const pixels = input.data as Float32Array;
    let out: MapBatch | undefined;
    for (let b = 0; b < batch; b++) {
      let map: Float32Array;
      if (known && known.targets[b] === targets[b]) {
        const area = known.maps.height * known.maps.width;
        map = known.maps.data.subarray(b * area, (b + 1) * area);
        out ??= { ...known.maps, data: new Float32Array(batch * area), count: batch };
      } else {
        const data = pixels.subarray(b * size, (b + 1) * size);
        const image = { type: 'float32' as const, data, dims: [1, ...rest] };
        const one = await this.oneMap(this.session, image, targets[b]);
        out ??= { ...one, data: new Float32Array(batch * one.data.length), count: batch };
        map = one.data;
      }
      out.data.set(map, b * map.length);
    }
    return out ?? { data: new Float32Array(0), count: 0, height: 0, width: 0 };
  }
}

/** The feature map Score-CAM uses: the given name, else the input of the GAP head. */
function scoreCamFeature(model: OnnxModel, feature: string | undefined): string {
  if (feature !== undefined) {
    requireTensor(model, feature);
    return feature;
  }
  try {
    return findGapHead(model).feature;
  } catch (error) {
    if (!(error instanceof NoGapHeadError)) throw error;
    throw new RangeError(
      `Score-CAM needs a feature map and ${model.file ?? 'the model'} has no global average ` +
        'pooling to find one by; name the tensor (option feature, --feature NAME)',
    );
  }
}

/**
 * Opens a model as a source of attribution maps.
 *
 * @throws NoGapHeadError for Grad-CAM on a model without a GAP head; RangeError for a feature
 * tensor the model does not have.
 * @example
 * ```ts
 * const source = await createMapSource('models/mnist-cnn.onnx', { method: 'occlusion' });
 * const { maps } = await source.compute({ type: 'float32', data, dims: [2, 1, 28, 28] });
 * maps.height; // 28: occlusion maps are at the input's size
 * await source.dispose();
 * ```
 */
export async function createMapSource(
  model: string | Uint8Array,
  options: MapSourceOptions = {},
): Promise<MapSource> {
  const method = options.method ?? 'gradcam';
  if (!ATTRIBUTION_METHODS.includes(method)) {
    throw new RangeError(
      `method must be one of ${ATTRIBUTION_METHODS.join(', ')}, got '${String(method)}'`,
    );
  }
  const file = typeof model === 'string' ? model : options.file;
  const bytes = typeof model === 'string' ? await getBackend().readModel(model) : model;
  if (method === 'gradcam') {
    // Comparisons take other classes' maps again (the true class for localization).
    const cam = await GradCam.create(bytes, { ...options, file, allClasses: true });
    return gradCamSource(cam);
  }
  const batchSize = options.batchSize;
  if (method === 'score-cam') {
    const graph = OnnxModel.fromBytes(bytes, { file });
    const feature = scoreCamFeature(graph, options.feature);
    graph.addOutputs([feature]);
    const session = await Session.create(graph.toBytes(), options.session);
    return new ForwardSource(method, session, (s, image, target) =>
      scoreCamMap(s, feature, { image, target }, { batchSize }),
    );
  }
  const session = await Session.create(bytes, options.session);
  if (method === 'occlusion') {
    return new ForwardSource(method, session, (s, image, target) =>
      occlusionMap(s, { image, target }, { batchSize, ...options.occlusion }),
    );
  }
  const rise = { batchSize, ...options.rise };
  const source: ForwardSource = new ForwardSource(method, session, (s, image, target) => {
    const [, , height, width] = image.dims;
    const given = source.riseMasksFor(height, width, rise);
    return riseMap(s, { image, target }, { ...rise, given });
  });
  return source;
}
