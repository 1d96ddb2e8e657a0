/**
 * Text tokenization in the browser: a Hugging Face tokenizer's `tokenizer.json` and
 * `tokenizer_config.json` fetched from beside the page, and the tokenizer class of
 * `@huggingface/transformers` built from them as its `AutoTokenizer` would, without the library
 * fetching anything itself. The library is loaded on first use, in its own chunk.
 */
import * as ort from 'onnxruntime-web';

import { log } from './logger.js';
import {
  checkLength,
  defaultMaxLength,
  wrap,
  type HfTokenizer,
  type TextTokenizer,
  type TokenizerOptions,
} from './tokenizer-core.js';

type TokenizerClass = new (json: unknown, config: unknown) => HfTokenizer;

async function fetchJson(url: string, file: string): Promise<Record<string, unknown>> {
  const response = await fetch(url).catch((error: Error) => {
    throw new Error(`tokenizer file '${url}' could not be fetched: ${error.message}`);
  });
  if (!response.ok) {
    throw new Error(
      `tokenizer file '${url}' could not be fetched (HTTP ${response.status}): serve the ` +
        `model's ${file} there; ortlab loads tokenizers from the page's own server only`,
    );
  }
  try {
    return (await response.json()) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`tokenizer file '${url}' is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Imports `@huggingface/transformers`. On its first import the library points onnxruntime-web's
 * shared `wasmPaths` at a CDN when none is set; ortlab's wasm files come from the page's server,
 * so the setting is put back.
 */
async function importTransformers(): Promise<Record<string, unknown>> {
  const before = ort.env.wasm.wasmPaths;
  const transformers = (await import('@huggingface/transformers')) as unknown as Record<
    string,
    unknown
  >;
  if (before === undefined) delete ort.env.wasm.wasmPaths;
  else ort.env.wasm.wasmPaths = before;
  return transformers;
}

/**
 * Loads a Hugging Face tokenizer served at `url` (a folder URL holding `tokenizer.json` and
 * `tokenizer_config.json`), with the class its config names, as `AutoTokenizer` picks it.
 *
 * @throws TypeError when `url` is not a string; Error naming the file and HTTP status when a file
 *   cannot be fetched, or the folder when the files cannot be parsed.
 * @example
 * ```ts
 * const tokenizer = await loadTokenizerUrl('/models/distill/tokenizer/');
 * tokenizer.encode(['a red heart']).dims; // [1, 5]
 * ```
 */
export async function loadTokenizerUrl(
  url: string,
  options: TokenizerOptions = {},
): Promise<TextTokenizer> {
  if (typeof url !== 'string') {
    throw new TypeError(`loadTokenizerUrl: url must be a string, received ${typeof url}`);
  }
  if (options.maxLength !== undefined) checkLength(options.maxLength, 'options.maxLength');
  const folder = new URL(url.endsWith('/') ? url : `${url}/`, globalThis.location?.href).href;
  const [json, config] = await Promise.all([
    fetchJson(new URL('tokenizer.json', folder).href, 'tokenizer.json'),
    fetchJson(new URL('tokenizer_config.json', folder).href, 'tokenizer_config.json'),
  ]);

  const transformers = await importTransformers();
  const named = typeof config.tokenizer_class === 'string' ? config.tokenizer_class : '';
  const className = named.replace(/Fast$/, '') || 'PreTrainedTokenizer';
  const base = transformers.PreTrainedTokenizer as TokenizerClass;
  const candidate = transformers[className] as TokenizerClass | undefined;
  let cls = base;
  if (candidate === base || candidate?.prototype instanceof base) cls = candidate;
  else
    log.warning('tokenizer', `'${folder}' names tokenizer class '${named}'; using the base class`);
  let tokenizer: HfTokenizer;
  try {
    tokenizer = new cls(json, config);
  } catch (error) {
    throw new Error(`cannot load the tokenizer at '${folder}': ${(error as Error).message}`);
  }
  const maxLength = defaultMaxLength(tokenizer, options);
  log.info('tokenizer', () => `loaded '${folder}' (${className}), max length ${maxLength}`);
  return wrap(tokenizer, folder, maxLength);
}
