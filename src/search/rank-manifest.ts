/**
 * The work behind `ortlab search rank`: a manifest of trained architectures, the flatness of each
 * on held-out validation images, and the report that ranks the predictors. Split in steps so that
 * the models can be measured in slices on several machines and ranked together.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { openDataset } from '../runtime/datasets/open-dataset.js';
import type { Dataset } from '../runtime/datasets/types.js';
import { readModelCard } from '../cli/model-card.js';
import { loadOnnxModel } from '../runtime/onnx/load-node.js';
import { resolvePreset, type Preset, type ResolvedPreset } from '../runtime/preprocess/presets.js';
import { sha256 } from '../runtime/run-config.js';
import type { ProgressCallback } from '../runtime/progress.js';
import type { EngineName } from './flatness-engines.js';
import { measureFlatness } from './flatness.js';
import {
  rankCorrelations,
  type Correlation,
  type PredictorName,
  type RankedModel,
} from './rank.js';
import { loadValidationSet, type ValidationSet } from './validation-set.js';

/** A manifest of trained architectures, as `tools/export/train_nas.py` writes it. */
export interface RankManifest {
  data?: { validation?: string | { data?: string; path?: string } };
  /** How every model of the family is fed. */
  preset?: Preset;
  models: {
    id: string;
    /** The ONNX file, relative to the manifest. */
    file: string;
    genotype?: string;
    parameters: number;
    valLoss: number;
    valAccuracy: number;
    testAccuracy: number;
    shifted?: Record<string, number>;
  }[];
}

/** What a ranking measures and how; every field decided. */
export interface RankPlan {
  /** The manifest as given. */
  manifestPath: string;
  manifest: RankManifest;
  /** The manifest's folder: model files are relative to it. */
  dir: string;
  /** The validation data: `--data`, else the manifest's. */
  data: string;
  /** Validation samples read (default 2000). */
  limit: number;
  radii: number[];
  gamma: number;
  seed: number;
  /** Flatness engine (default `auto`, which may choose differently on another machine). */
  engine: EngineName | 'auto';
  /** Preprocessing, resolved against the first model's input. */
  preset: ResolvedPreset;
}

/** The report of a ranking, as `rank.json` holds it. */
export interface RankReport {
  models: RankedModel[];
  correlations: Record<PredictorName, Record<string, Correlation>>;
  gamma: number;
  radii: number[];
  config: {
    manifest: string;
    data: string;
    samples: number;
    seed: number;
    preset: ResolvedPreset;
    engine?: EngineName;
    /** Where a distributed ranking ran (`ortlab submit`). */
    queue?: Record<string, unknown>;
  };
}

function validationOf(manifest: RankManifest, dir: string): string | undefined {
  const v = manifest.data?.validation;
  const spec = typeof v === 'string' ? v : (v?.data ?? v?.path);
  return spec === undefined ? undefined : path.resolve(dir, spec);
}

/**
 * Reads the manifest and decides every option of the ranking.
 * @throws Error naming the manifest when it is missing, lists no models or names no data.
 */
export async function planRanking(
  manifestPath: string,
  options: {
    data?: string;
    limit?: number;
    radii?: number[];
    gamma?: number;
    seed?: number;
    engine?: EngineName | 'auto';
    /** Default: the manifest's, else the first model's card, else `raw`. */
    preset?: string | Preset;
    /**
     * Rewrites the absolute paths the manifest holds (a queue worker that sees the submitter's
     * folders elsewhere, `ortlab worker --map`).
     */
    mapPaths?: (manifest: RankManifest) => RankManifest;
  } = {},
): Promise<RankPlan> {
  const read = JSON.parse(
    await readFile(manifestPath, 'utf8').catch(() => {
      throw new Error(`manifest '${manifestPath}' not found; check the path`);
    }),
  ) as RankManifest;
  const manifest = options.mapPaths ? options.mapPaths(read) : read;
  const dir = path.dirname(path.resolve(manifestPath));
  if (!Array.isArray(manifest.models) || manifest.models.length === 0) {
    throw new Error(`manifest '${manifestPath}' lists no models`);
  }
  const data = options.data ?? validationOf(manifest, dir);
  if (!data) throw new Error(`manifest '${manifestPath}' names no validation data; pass --data`);
  const first = path.resolve(dir, manifest.models[0].file);
  const chosen = options.preset ?? manifest.preset ?? (await readModelCard(first))?.preset ?? 'raw';
  const preset = resolvePreset(chosen, (await loadOnnxModel(first)).inputs[0]?.dims);
  return {
    preset,
    manifestPath,
    manifest,
    dir,
    data,
    limit: options.limit ?? 2000,
    radii: options.radii ?? [0.001, 0.003, 0.006],
    gamma: options.gamma ?? 0.01,
    seed: options.seed ?? 0,
    engine: options.engine ?? 'auto',
  };
}

/** The model file of manifest entry `index`, as an absolute path. */
export function rankModelFile(plan: RankPlan, index: number): string {
  return path.resolve(plan.dir, plan.manifest.models[index].file);
}

/**
 * Decodes the plan's validation images once, for every model measured.
 * @param dataset The plan's data, when the caller has opened it already.
 */
export async function loadRankData(plan: RankPlan, dataset?: Dataset): Promise<ValidationSet> {
  return loadValidationSet(dataset ?? (await openDataset(plan.data)), plan.preset, {
    limit: plan.limit,
  });
}

/**
 * Measures the flatness of manifest entries `[from, to)` (default all), in manifest order.
 * Each model gets the same noise (the plan's seed), so a slice measured anywhere gives the
 * numbers a whole run gives (with the same engine).
 */
export async function measureRankModels(
  plan: RankPlan,
  data: ValidationSet,
  options: {
    from?: number;
    to?: number;
    /** sha256 of every manifest entry's file: a file that hashes otherwise is refused. */
    expectSha256?: readonly string[];
    onProgress?: ProgressCallback;
  } = {},
): Promise<{ models: RankedModel[]; engines: EngineName[] }> {
  const from = options.from ?? 0;
  const to = options.to ?? plan.manifest.models.length;
  const total = to - from;
  const models: RankedModel[] = [];
  const engines: EngineName[] = [];
  options.onProgress?.({ status: 'initiate', task: 'rank', total });
  for (let n = from; n < to; n++) {
    const m = plan.manifest.models[n];
    const file = rankModelFile(plan, n);
    const bytes = new Uint8Array(await readFile(file));
    const expected = options.expectSha256?.[n];
    if (expected !== undefined && sha256(bytes) !== expected) {
      throw new Error(
        `model '${m.id}' (${file}) has sha256 ${sha256(bytes)}, not the ${expected} it was ` +
          'submitted with: this machine sees a different file',
      );
    }
    const f = await measureFlatness(bytes, data, {
      radii: plan.radii,
      seed: plan.seed,
      engine: plan.engine,
    });
    engines.push(f.engine);
    models.push({
      id: m.id,
      genotype: m.genotype,
      parameters: m.parameters,
      valLoss: m.valLoss,
      valAccuracy: m.valAccuracy,
      testAccuracy: m.testAccuracy,
      shifted: m.shifted ?? {},
      flatness: f.flatness,
      poor: f.poor,
    });
    options.onProgress?.({ status: 'progress', task: 'rank', done: n + 1 - from, total });
  }
  options.onProgress?.({ status: 'done', task: 'rank', done: total, total });
  return { models, engines };
}

/** The ranking report of all the manifest's models, measured in manifest order. */
export function rankReport(plan: RankPlan, models: RankedModel[], samples: number): RankReport {
  const correlations = rankCorrelations(models, { gamma: plan.gamma, s1: plan.radii[0] });
  return {
    models,
    correlations,
    gamma: plan.gamma,
    radii: plan.radii,
    config: {
      manifest: plan.manifestPath,
      data: plan.data,
      samples,
      seed: plan.seed,
      preset: plan.preset,
      ...(plan.engine === 'auto' ? {} : { engine: plan.engine }),
    },
  };
}
