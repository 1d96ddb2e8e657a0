/**
 * Model cards: the JSON file beside a model (`model.onnx` → `model.json`) that says how to feed
 * it. ortlab takes the preprocessing preset and labels from there when the user gives none. A
 * folder of related models (such as `models/attribution/`) may instead share one
 * `manifest.json` whose `models` list names each file; its top-level fields are the card.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { Preset } from '../runtime/preprocess/presets.js';

export interface ModelCard {
  name?: string;
  /** The data it was trained for; a bundled set's name makes it the default data. */
  dataset?: string;
  preset?: Preset;
  labels?: string[];
  testAccuracy?: number;
  featureTensor?: string;
}

async function readJson(file: string, what: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what} '${file}' is not valid JSON (${(error as Error).message}); fix it`);
  }
}

/** A manifest's dataset is a bundled name, or `{ test: 'data/<name>' }` for its test split. */
function manifestDataset(dataset: unknown): string | undefined {
  if (typeof dataset === 'string') return dataset;
  const test = (dataset as { test?: unknown } | null)?.test;
  if (typeof test !== 'string') return undefined;
  const match = /^data\/([\w-]+)\/?$/.exec(test);
  return match ? match[1] : test;
}

/** The card a `manifest.json` beside the model gives it, when the manifest lists the file. */
async function manifestCard(modelPath: string): Promise<ModelCard | undefined> {
  const file = path.join(path.dirname(modelPath), 'manifest.json');
  const manifest = (await readJson(file, 'model manifest')) as
    (Omit<ModelCard, 'dataset'> & { dataset?: unknown; models?: { file?: string }[] }) | undefined;
  const listed = manifest?.models?.find((m) => m.file === path.basename(modelPath));
  if (!manifest || !listed) return undefined;
  const { preset, labels, featureTensor } = manifest;
  return { preset, labels, featureTensor, dataset: manifestDataset(manifest.dataset), ...listed };
}

/**
 * Reads the card beside `modelPath` (`model.json`), else the folder's `manifest.json` entry for
 * it; undefined when there is neither.
 */
export async function readModelCard(modelPath: string): Promise<ModelCard | undefined> {
  const cardPath = modelPath.replace(/\.onnx$/i, '') + '.json';
  if (cardPath === modelPath) return undefined;
  const card = (await readJson(cardPath, 'model card')) as ModelCard | undefined;
  return card ?? (await manifestCard(modelPath));
}
