/**
 * `ortlab attribution` from files (Node): opens the models and the data, reads the masks beside
 * the images when there are any, compares the Grad-CAM maps, and draws the overlays as PNGs
 * through sharp.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';

import { readModelCard } from '../../cli/model-card.js';
import { openDataset } from '../../runtime/datasets/open-dataset.js';
import { packageRoot } from '../../runtime/datasets/package-root.js';
import { bundledDatasets } from '../../runtime/datasets/open-dataset.js';
import { expectedIdxSize, parseIdxHeader } from '../../runtime/datasets/idx.js';
import { resolvePreset } from '../../runtime/preprocess/presets.js';
import { runConfig, sha256, type RunConfig } from '../../runtime/run-config.js';
import type { SessionOptions } from '../../runtime/session.js';
import { loadValidationSet, type ValidationSet } from '../../search/validation-set.js';
import { compareAttributions, type AttributionComparison, type MaskSet } from './compare-maps.js';
import {
  occlusionSettings,
  RISE_DEFAULTS,
  type OcclusionOptions,
  type RiseOptions,
} from './forward-maps.js';
import { createMapSource, type AttributionMethod, type MapSource } from './map-source.js';
import { overlayRgb } from './overlay.js';

/** Reads ground-truth masks from an IDX file (plain or gzipped): uint8 `[samples, h, w]`. */
export async function readMasks(file: string): Promise<MaskSet> {
  const raw = new Uint8Array(
    await readFile(file).catch(() => {
      throw new Error(`mask file '${file}' not found; pass --masks with an IDX file of the masks`);
    }),
  );
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? new Uint8Array(gunzipSync(raw)) : raw;
  const header = parseIdxHeader(bytes, file);
  if (header.type !== 'uint8' || header.dims.length !== 3) {
    throw new RangeError(
      `mask file '${file}' holds ${header.type} [${header.dims.join(', ')}]; masks must be ` +
        'uint8 [samples, height, width]',
    );
  }
  const size = expectedIdxSize(header);
  if (bytes.length !== size) {
    throw new RangeError(`mask file '${file}' has ${bytes.length} bytes, its header says ${size}`);
  }
  const [, height, width] = header.dims;
  return { data: bytes.subarray(header.headerBytes), height, width };
}

/** The masks file that belongs to a dataset spec, when there is one. */
export function masksBeside(data: string): string | undefined {
  const images = bundledDatasets.includes(data)
    ? path.join(packageRoot(), 'data', data, 'images-idx3-ubyte.gz')
    : data;
  const candidate = path.join(
    path.dirname(images),
    path.basename(images).replace(/^images/, 'masks'),
  );
  return candidate !== images && existsSync(candidate) ? candidate : undefined;
}

/** Options of {@link runAttribution}. */
export interface AttributionRunOptions {
  /** An IDX file of masks; default: `masks-...` beside the images, when it exists. */
  masks?: string;
  limit?: number;
  batchSize?: number;
  preset?: string;
  topFraction?: number;
  examples?: number;
  /** Default `'gradcam'`; occlusion and RISE work on any classifier. */
  method?: AttributionMethod;
  /** The feature tensor (Grad-CAM, Score-CAM); default: the model card's `featureTensor`. */
  feature?: string;
  occlusion?: OcclusionOptions;
  rise?: RiseOptions;
  session?: SessionOptions;
}

/** The report of `ortlab attribution`. */
export interface AttributionReport extends AttributionComparison {
  data: { name: string; samples: number; masks?: string; skipped: ValidationSet['skipped'] };
  models: { name: string; path: string; sha256: string; parameters?: number }[];
  config: Omit<RunConfig, 'model'> & {
    preset: unknown;
    method: AttributionMethod;
    feature?: string;
    occlusion?: ReturnType<typeof occlusionSettings>;
    rise?: Omit<RiseOptions, 'given' | 'batchSize'>;
  };
}

/**
 * Compares the attribution maps (default Grad-CAM) of `compressedPaths` with those of
 * `originalPath` on `data`.
 *
 * @example
 * ```ts
 * const report = await runAttribution('models/attribution/original.onnx',
 *   ['models/attribution/structured-0.5-wcam.onnx'], 'localization');
 * report.compressed[0].wcamDistance; // mean over the 1000 images
 * ```
 */
export async function runAttribution(
  originalPath: string,
  compressedPaths: readonly string[],
  data: string,
  options: AttributionRunOptions = {},
): Promise<AttributionReport> {
  if (compressedPaths.length === 0)
    throw new Error('name at least one compressed model to compare');
  const paths = [originalPath, ...compressedPaths];
  const bytes = await Promise.all(
    paths.map(async (p) => {
      const file = await readFile(p).catch(() => {
        throw new Error(`model file '${p}' not found; check the path`);
      });
      return new Uint8Array(file);
    }),
  );
  const method = options.method ?? 'gradcam';
  const cams: MapSource[] = [];
  try {
    for (const [i, b] of bytes.entries()) {
      const card = await readModelCard(paths[i]);
      const feature = options.feature ?? card?.featureTensor;
      const needsFeature = method === 'gradcam' || method === 'score-cam';
      cams.push(
        await createMapSource(b, {
          method,
          feature: needsFeature ? feature : undefined,
          file: paths[i],
          session: options.session,
          occlusion: options.occlusion,
          rise: options.rise,
        }),
      );
    }
    const card = await readModelCard(originalPath);
    const dims = cams[0].session.inputs[0].dims;
    const preset = resolvePreset(options.preset ?? card?.preset ?? 'raw', dims);
    const dataset = await openDataset(data);
    const set = await loadValidationSet(dataset, preset, {
      limit: options.limit,
      batchSize: options.batchSize ?? 64,
    });
    const maskFile = options.masks ?? masksBeside(data);
    const masks = maskFile ? await readMasks(maskFile) : undefined;
    if (masks && masks.data.length < set.n * masks.height * masks.width) {
      throw new RangeError(`mask file '${maskFile}' holds fewer masks than the ${set.n} images`);
    }
    const name = (p: string): string => path.basename(p).replace(/\.onnx$/i, '');
    const comparison = await compareAttributions(
      { name: name(originalPath), cam: cams[0] },
      compressedPaths.map((p, i) => ({ name: name(p), cam: cams[i + 1] })),
      set,
      { masks, topFraction: options.topFraction, examples: options.examples },
    );
    const { model, ...config } = runConfig(cams[0].session, originalPath, options.session?.threads);
    void model; // every model is listed under models
    return {
      ...comparison,
      data: { name: dataset.name, samples: set.n, masks: maskFile, skipped: set.skipped },
      models: paths.map((p, i) => ({ name: name(p), path: p, sha256: sha256(bytes[i]) })),
      config: {
        ...config,
        preset,
        method,
        ...(options.feature ? { feature: options.feature } : {}),
        ...(method === 'occlusion' ? { occlusion: occlusionSettings(options.occlusion) } : {}),
        ...(method === 'rise' ? { rise: riseConfig(options.rise) } : {}),
      },
    };
  } finally {
    await Promise.all(cams.map((c) => c.dispose()));
  }
}

function riseConfig(rise: RiseOptions = {}): Omit<RiseOptions, 'given' | 'batchSize'> {
  return {
    masks: rise.masks ?? RISE_DEFAULTS.masks,
    cells: rise.cells ?? RISE_DEFAULTS.cells,
    keep: rise.keep ?? RISE_DEFAULTS.keep,
    seed: rise.seed ?? RISE_DEFAULTS.seed,
  };
}

/**
 * A PNG of the map laid over the image at half opacity, enlarged `scale` times with nearest
 * sampling. `image` is the model input `[channels, height, width]`, values in [0, 1].
 */
export async function overlayPng(
  image: Float32Array,
  map: Float32Array,
  height: number,
  width: number,
  scale = 3,
): Promise<string> {
  const rgb = overlayRgb(image, map, height, width);
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(width * scale, height * scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** Overlays of the report's examples: `[example][model]` data: URIs, the original first. */
export function exampleOverlays(report: AttributionComparison): Promise<string[][]> {
  const [, , height, width] = report.inputDims;
  return Promise.all(
    report.examples.map((example) =>
      Promise.all(example.maps.map((map) => overlayPng(example.image, map, height, width))),
    ),
  );
}
