/**
 * How far compression moves a model's explanations: attribution maps of an original model and of
 * its compressed versions on the same images, for the class the original predicts, compared
 * pixel by pixel, and each model's maps scored against ground-truth masks when the data has
 * them (counted on the images that model classifies correctly, as the WCAM evaluation does).
 */
import type { ValidationSet } from '../../search/validation-set.js';
import { GradCam } from './grad-cam.js';
import { gradCamSource, type AttributionMethod, type MapSource } from './map-source.js';
import { mapAt, minMaxNormalize, upsampleBilinear, type MapBatch } from './maps.js';
import {
  argmaxAgreement,
  mapSpearman,
  maskAuroc,
  pointingHit,
  rankMap,
  topKIoU,
  wcamDistance,
} from './map-metrics.js';

/** Ground-truth masks `[samples, height, width]` at the input resolution, 1 = object. */
export interface MaskSet {
  data: Uint8Array;
  height: number;
  width: number;
}

/** Localization of one model's maps against the masks. */
export interface Localization {
  /** Mean ROC-AUC of the map's pixels against the mask, over correctly classified images. */
  auroc: number;
  /** Fraction of correctly classified images whose map peaks inside the mask. */
  pointingGame: number;
  /** Images counted. */
  counted: number;
  /**
   * Counted images whose value was not a finite number, left out of the mean: an AUROC is
   * undefined for a mask with no object pixel (or no background pixel).
   */
  undefinedValues: { auroc: number; pointingGame: number };
}

/** One compressed model against the original. */
export interface ConsistencyResult {
  name: string;
  accuracy: number;
  top1Agreement: number;
  /** Means over images. */
  wcamDistance: number;
  spearman: number;
  /** IoU of the top `topFraction` pixels. */
  topIoU: number;
  argmaxAgreement: number;
  /**
   * Images whose value of a metric was not a finite number, left out of that metric's mean:
   * Spearman is undefined when either map is constant (an all-zero Grad-CAM map, for one).
   */
  undefinedValues: Record<MapMetric, number>;
  localization?: Localization;
}

/** The metrics comparing two maps. */
export type MapMetric = 'wcamDistance' | 'spearman' | 'topIoU' | 'argmaxAgreement';

/** Result of {@link compareAttributions}. */
export interface AttributionComparison {
  /** The method of the original's maps. */
  method: AttributionMethod;
  samples: number;
  topFraction: number;
  /**
   * Where WCAM distances were taken: the feature maps' own size when every model's maps have it,
   * else the input size (occlusion and RISE maps, or feature maps of different sizes).
   */
  wcamResolution: 'features' | 'input';
  original: { name: string; accuracy: number; localization?: Localization };
  compressed: ConsistencyResult[];
  /** The model input's dims, `[batch, channels, height, width]`. */
  inputDims: number[];
  /**
   * The first `examples` images (model input) and their upsampled, normalized maps per model,
   * the original first, for overlays.
   */
  examples: {
    index: number;
    label: number;
    target: number;
    image: Float32Array;
    maps: Float32Array[];
  }[];
}

/** Options of {@link compareAttributions}. */
export interface CompareAttributionOptions {
  /** Fraction of pixels whose overlap `topIoU` measures (default 0.2). */
  topFraction?: number;
  masks?: MaskSet;
  /** Images kept for overlays (default 6). */
  examples?: number;
}

/** A mean over images that leaves out, and counts, values that are not finite numbers. */
class Mean {
  private sum = 0;
  count = 0;
  undefinedValues = 0;
  add(v: number): void {
    if (!Number.isFinite(v)) {
      this.undefinedValues++;
      return;
    }
    this.sum += v;
    this.count++;
  }
  get value(): number {
    return this.count ? this.sum / this.count : NaN;
  }
}

function localizationOf(auroc: Mean, hits: Mean): Localization {
  return {
    auroc: auroc.value,
    pointingGame: hits.value,
    counted: hits.count + hits.undefinedValues,
    undefinedValues: { auroc: auroc.undefinedValues, pointingGame: hits.undefinedValues },
  };
}

/** A model in a comparison: a {@link GradCam} or any {@link MapSource}. */
export interface ComparedModel {
  name: string;
  cam: GradCam | MapSource;
}

/** Methods whose maps are made at the input's size, not a feature map's. */
const INPUT_SIZED: ReadonlySet<AttributionMethod> = new Set(['occlusion', 'rise']);

const sourceOf = (cam: GradCam | MapSource): MapSource =>
  cam instanceof GradCam ? gradCamSource(cam) : cam;

/**
 * Compares each compressed model's attribution maps with the original's on `set`. Maps are
 * upsampled bilinearly to the input size and min-max normalized for the rank, overlap, argmax
 * and mask metrics; the WCAM distance is taken on the collapsed maps at the feature maps' size
 * when every model has the same (as the regularizer sees them), else on the upsampled maps.
 */
export async function compareAttributions(
  original: ComparedModel,
  compressed: readonly ComparedModel[],
  set: ValidationSet,
  options: CompareAttributionOptions = {},
): Promise<AttributionComparison> {
  const topFraction = options.topFraction ?? 0.2;
  const masks = options.masks;
  const sources = [original, ...compressed].map((m) => sourceOf(m.cam));
  const stats = sources.map(() => ({
    right: 0,
    agree: 0,
    wcam: new Mean(),
    spearman: new Mean(),
    iou: new Mean(),
    argmax: new Mean(),
    auroc: new Mean(),
    hits: new Mean(),
  }));
  const examples: AttributionComparison['examples'] = [];
  let resolution: 'features' | 'input' = 'features';
  let offset = 0;
  for (const batch of set.batches) {
    const [, , height, width] = batch.dims;
    if (masks && (masks.height !== height || masks.width !== width)) {
      throw new RangeError(
        `the masks are ${masks.height}x${masks.width} but the images ${height}x${width}; ` +
          'masks must have the size of the model input',
      );
    }
    const input = { type: 'float32' as const, data: batch.data, dims: batch.dims };
    const first = await sources[0].compute(input);
    const results = [first];
    for (const source of sources.slice(1)) results.push(await source.compute(input, first.targets));
    const raw: MapBatch[] = results.map((r) => r.maps);
    const sameSize = raw.every((m) => m.height === raw[0].height && m.width === raw[0].width);
    if (!sameSize || sources.some((source) => INPUT_SIZED.has(source.method))) resolution = 'input';
    const up = raw.map((m) => minMaxNormalize(upsampleBilinear(m, height, width)));
    // Localization explains the true class, which a correct model predicts; where that differs
    // from the original's prediction the model's map is taken again at the label.
    const atLabel: MapBatch[] = [];
    for (const [m, r] of masks ? results.entries() : []) {
      const same = r.targets.every((t, b) => t === batch.labels[b]);
      const maps = same ? undefined : await r.mapsFor(batch.labels);
      atLabel.push(maps ? minMaxNormalize(upsampleBilinear(maps, height, width)) : up[m]);
    }
    const unnormalized =
      resolution === 'input' ? raw.map((m) => upsampleBilinear(m, height, width)) : raw;

    for (let b = 0; b < batch.labels.length; b++) {
      const label = batch.labels[b];
      const target = first.targets[b];
      const index = offset + b;
      // Each upsampled map is sorted once, for the rank, overlap and mask metrics together.
      const ranked = up.map((maps) => rankMap(mapAt(maps, b)));
      results.forEach((r, m) => {
        const s = stats[m];
        const predicted = m === 0 ? target : predictedOf(r.logits, r.classes, b);
        if (predicted === label) s.right++;
        if (m > 0) {
          if (predicted === target) s.agree++;
          s.wcam.add(wcamDistance(mapAt(unnormalized[0], b), mapAt(unnormalized[m], b)));
          s.spearman.add(mapSpearman(ranked[0], ranked[m]));
          s.iou.add(topKIoU(ranked[0], ranked[m], topFraction));
          s.argmax.add(argmaxAgreement(mapAt(up[0], b), mapAt(up[m], b)) ? 1 : 0);
        }
        if (masks && predicted === label) {
          const area = height * width;
          const mask = masks.data.subarray(index * area, (index + 1) * area);
          if (mask.length !== area)
            throw new RangeError(
              `no mask for sample ${index}: the masks hold fewer samples than the data`,
            );
          // The map already sorted is the one at the label when the target was the label.
          const map = r.targets[b] === label ? ranked[m] : mapAt(atLabel[m], b);
          s.auroc.add(oneClass(mask) ? NaN : maskAuroc(map, mask));
          s.hits.add(pointingHit(mapAt(atLabel[m], b), mask) ? 1 : 0);
        }
      });
      if (examples.length < (options.examples ?? 6)) {
        const size = batch.data.length / batch.labels.length;
        const image = batch.data.slice(b * size, (b + 1) * size);
        examples.push({ index, label, target, image, maps: up.map((m) => mapAt(m, b).slice()) });
      }
    }
    offset += batch.labels.length;
  }
  const n = set.n;
  return {
    method: sources[0].method,
    samples: n,
    topFraction,
    wcamResolution: resolution,
    inputDims: set.batches[0].dims,
    original: {
      name: original.name,
      accuracy: stats[0].right / n,
      ...(masks ? { localization: localizationOf(stats[0].auroc, stats[0].hits) } : {}),
    },
    compressed: compressed.map((model, i) => {
      const s = stats[i + 1];
      return {
        name: model.name,
        accuracy: s.right / n,
        top1Agreement: s.agree / n,
        wcamDistance: s.wcam.value,
        spearman: s.spearman.value,
        topIoU: s.iou.value,
        argmaxAgreement: s.argmax.value,
        undefinedValues: {
          wcamDistance: s.wcam.undefinedValues,
          spearman: s.spearman.undefinedValues,
          topIoU: s.iou.undefinedValues,
          argmaxAgreement: s.argmax.undefinedValues,
        },
        ...(masks ? { localization: localizationOf(s.auroc, s.hits) } : {}),
      };
    }),
    examples,
  };
}

/** Whether a mask is all object or all background, where a pixel AUROC is undefined. */
function oneClass(mask: Uint8Array): boolean {
  const first = mask[0] > 0;
  for (let i = 1; i < mask.length; i++) if (mask[i] > 0 !== first) return false;
  return true;
}

function predictedOf(logits: Float32Array, classes: number, b: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++)
    if (logits[b * classes + c] > logits[b * classes + best]) best = c;
  return best;
}
