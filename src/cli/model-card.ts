/**
 * Model cards: the JSON file beside a model (`model.onnx` → `model.json`) that says how to feed
 * it. ortlab takes the preprocessing preset and labels from there when the user gives none.
 */
import { readFile } from 'node:fs/promises';

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

/** Reads the card beside `modelPath`, or returns undefined when there is none. */
export async function readModelCard(modelPath: string): Promise<ModelCard | undefined> {
  const cardPath = modelPath.replace(/\.onnx$/i, '') + '.json';
  if (cardPath === modelPath) return undefined;
  const text = await readFile(cardPath, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as ModelCard;
  } catch (error) {
    throw new Error(
      `model card '${cardPath}' is not valid JSON (${(error as Error).message}); fix or remove it`,
    );
  }
}
