/**
 * What the demo page runs, from its address: `?model=URL` (default the bundled classifier),
 * `?ep=webgpu,wasm` (execution providers, ortlab's browser default), `?threads=N` (wasm threads)
 * and `?suite=URL` (the embedded suite). The model card sits beside the model (`.json`).
 */
import type { Preset } from '../browser.js';

/** What the page runs, from its address. */
export interface PageConfig {
  modelUrl: string;
  cardUrl: string;
  executionProviders?: string;
  threads?: number;
  suiteUrl: string;
}

/** The fields of a model card the page uses. */
export interface ModelCard {
  name?: string;
  preset?: Preset;
  labels?: string[];
  featureTensor?: string;
}

/** Reads the page's address. */
export function pageConfig(search: string): PageConfig {
  const params = new URLSearchParams(search);
  const modelUrl = params.get('model') ?? '/models/mnist-cnn.onnx';
  const threads = params.get('threads');
  return {
    modelUrl,
    cardUrl: modelUrl.replace(/\.onnx$/i, '') + '.json',
    executionProviders: params.get('ep') ?? undefined,
    threads: threads === null ? undefined : Number(threads),
    suiteUrl: params.get('suite') ?? '/data/suite/suite.json',
  };
}

/** Fetches the model card; a missing card is an error that says what it is for. */
export async function fetchModelCard(url: string): Promise<ModelCard> {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `model card '${url}' could not be fetched (HTTP ${response.status}): the page reads the ` +
        'preprocessing preset, labels and feature tensor from the card beside the model',
    );
  }
  try {
    return (await response.json()) as ModelCard;
  } catch (error) {
    throw new Error(`model card '${url}' is not valid JSON: ${(error as Error).message}`);
  }
}
