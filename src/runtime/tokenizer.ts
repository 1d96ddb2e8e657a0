/**
 * Text tokenization for text models, through the tokenizers of `@huggingface/transformers`,
 * loaded from local files only: ortlab never lets the library reach the network. Node only
 * (the files are checked on disk before loading).
 */

import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { env as ortEnv } from 'onnxruntime-common';

import { log } from './logger.js';

type Transformers = typeof import('@huggingface/transformers');
type HfTokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;

/** Options of {@link loadTokenizer}. */
export interface TokenizerOptions {
  /**
   * Token count `encode` truncates or pads to when it is not given `maxLength`. Default: the
   * `model_max_length` of `tokenizer_config.json`, else 512.
   */
  maxLength?: number;
}

/** Options of {@link TextTokenizer.encode}. */
export interface EncodeOptions {
  /** Longest sequence, special tokens included. Default: the tokenizer's `maxLength`. */
  maxLength?: number;
  /**
   * `'longest'` pads every text to the longest one of the batch; `'maxLength'` pads all to
   * `maxLength`, so every batch has the same dims. Default `'longest'`.
   */
  padding?: 'longest' | 'maxLength';
  /**
   * Whether longer texts are cut to `maxLength`, keeping their special tokens (`[CLS]`, `[SEP]`).
   * When false a text longer than `maxLength` is a RangeError under `padding: 'maxLength'`.
   * Default true.
   */
  truncation?: boolean;
}

/** A tokenized batch, ready to feed a model; each array is `[batch, tokens]`, row major. */
export interface TokenBatch {
  inputIds: BigInt64Array;
  /** 1 for a real token, 0 for padding. */
  attentionMask: BigInt64Array;
  /** Segment ids; all 0 for single texts. */
  tokenTypeIds: BigInt64Array;
  dims: [batch: number, tokens: number];
}

/** A loaded tokenizer. */
export interface TextTokenizer {
  /** The folder it was loaded from, for reports. */
  readonly location: string;
  /** Highest token id plus one: the number of rows a model's embedding table needs. */
  readonly vocabSize: number;
  /** Id of the padding token. */
  readonly padId: number;
  /** Tokenizes a batch of texts. */
  encode(texts: readonly string[], options?: EncodeOptions): TokenBatch;
  /** Turns ids back into text; special tokens are kept unless `skipSpecialTokens` is true. */
  decode(ids: ArrayLike<number | bigint>, options?: { skipSpecialTokens?: boolean }): string;
  /** Releases the tokenizer; safe to call twice. Later calls to encode/decode throw. */
  dispose(): void;
}

const REQUIRED_FILES = Object.freeze(['tokenizer.json', 'tokenizer_config.json']);

function checkFolder(dir: string): string {
  if (typeof dir !== 'string') {
    throw new TypeError(`loadTokenizer: dir must be a string, received ${typeof dir}`);
  }
  const folder = resolve(dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new Error(
      `tokenizer folder '${folder}' does not exist or is not a folder; create it with ` +
        `${REQUIRED_FILES.join(' and ')} from the model's Hugging Face repository`,
    );
  }
  for (const file of REQUIRED_FILES) {
    const path = join(folder, file);
    if (!existsSync(path)) {
      throw new Error(
        `tokenizer file '${path}' is missing: put the model's ${file} there (from its Hugging ` +
          "Face repository, or from Python's tokenizer.save_pretrained). ortlab loads " +
          'tokenizers from local files only and never downloads them',
      );
    }
  }
  return folder;
}

type EnvSettings = Pick<
  Transformers['env'],
  'allowRemoteModels' | 'allowLocalModels' | 'localModelPath' | 'useFSCache' | 'useBrowserCache'
>;

// The library's settings are global; they are switched to local-only while any load runs and
// put back when the last one ends, so overlapping loads never see remote access re-enabled.
let activeLoads = 0;
let savedEnv: EnvSettings | undefined;

function enterLocalOnly(env: Transformers['env'], folder: string): void {
  if (activeLoads++ === 0) {
    const { allowRemoteModels, allowLocalModels, localModelPath, useFSCache, useBrowserCache } =
      env;
    savedEnv = { allowRemoteModels, allowLocalModels, localModelPath, useFSCache, useBrowserCache };
  }
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(folder);
  // A cache hit would bypass the files just checked, so the cache is not consulted.
  env.useFSCache = false;
  env.useBrowserCache = false;
}

function leaveLocalOnly(env: Transformers['env']): void {
  if (--activeLoads === 0 && savedEnv !== undefined) {
    Object.assign(env, savedEnv);
    savedEnv = undefined;
  }
}

function checkLength(value: unknown, field: string): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${field} must be a number, received ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${field} is ${value}; expected an integer ≥ 1`);
  }
  return value;
}

/**
 * Cuts `full` (content wrapped in special tokens) to `maxLength` ids by shortening the content
 * and keeping the special tokens around it.
 */
function truncate(full: number[], content: number[], maxLength: number): number[] {
  const specials = full.length - content.length;
  let prefix = -1;
  for (let p = 0; p <= specials && prefix < 0; p++) {
    if (content.every((id, i) => full[p + i] === id)) prefix = p;
  }
  if (prefix < 0) {
    log.warning('tokenizer', 'special tokens are not around the text; truncating the end');
    return full.slice(0, maxLength);
  }
  if (maxLength < specials) {
    throw new RangeError(
      `maxLength is ${maxLength}, too small for the ${specials} special tokens of each text`,
    );
  }
  const keep = maxLength - specials;
  return [
    ...full.slice(0, prefix),
    ...content.slice(0, keep),
    ...full.slice(prefix + content.length),
  ];
}

function wrap(tokenizer: HfTokenizer, folder: string, defaultMaxLength: number): TextTokenizer {
  let current: HfTokenizer | undefined = tokenizer;
  const padId = tokenizer.pad_token_id;
  const vocabSize = Math.max(...tokenizer.get_vocab().values()) + 1;

  function live(): HfTokenizer {
    if (current === undefined) {
      throw new Error(`tokenizer from '${folder}' was disposed; load it again to use it`);
    }
    return current;
  }

  function encodeOne(text: string, maxLength: number, truncation: boolean): number[] {
    const full = live().encode(text);
    if (!truncation || full.length <= maxLength) return full;
    return truncate(full, live().encode(text, { add_special_tokens: false }), maxLength);
  }

  function encode(texts: readonly string[], options: EncodeOptions = {}): TokenBatch {
    if (!Array.isArray(texts) || texts.some((text) => typeof text !== 'string')) {
      throw new TypeError('encode: texts must be an array of strings');
    }
    const { padding = 'longest', truncation = true } = options;
    const maxLength = checkLength(options.maxLength ?? defaultMaxLength, 'encode: maxLength');
    if (padding !== 'longest' && padding !== 'maxLength') {
      throw new RangeError(
        `encode: padding is '${String(padding)}'; expected 'longest' or 'maxLength'`,
      );
    }

    const rows = texts.map((text) => encodeOne(text, maxLength, truncation));
    const longest = rows.reduce((max, row) => Math.max(max, row.length), 0);
    if (padding === 'maxLength' && longest > maxLength) {
      const index = rows.findIndex((row) => row.length > maxLength);
      throw new RangeError(
        `encode: text ${index} has ${rows[index].length} tokens, more than maxLength ${maxLength}; ` +
          'enable truncation or raise maxLength',
      );
    }
    const tokens = padding === 'maxLength' ? maxLength : longest;
    if (padId === undefined || padId === null) {
      if (rows.some((row) => row.length < tokens)) {
        throw new Error(`tokenizer from '${folder}' has no pad token, so it cannot pad this batch`);
      }
    }

    const inputIds = new BigInt64Array(rows.length * tokens).fill(BigInt(padId ?? 0));
    const attentionMask = new BigInt64Array(rows.length * tokens);
    const left = live().padding_side === 'left';
    rows.forEach((row, r) => {
      const offset = r * tokens + (left ? tokens - row.length : 0);
      row.forEach((id, t) => {
        inputIds[offset + t] = BigInt(id);
        attentionMask[offset + t] = 1n;
      });
    });
    const tokenTypeIds = new BigInt64Array(rows.length * tokens);
    return { inputIds, attentionMask, tokenTypeIds, dims: [rows.length, tokens] };
  }

  function decode(ids: ArrayLike<number | bigint>, options: { skipSpecialTokens?: boolean } = {}) {
    const list = Array.from(ids, (id) => Number(id));
    if (list.length === 0) return '';
    return live().decode(list, { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  return {
    location: folder,
    vocabSize,
    padId,
    encode,
    decode,
    dispose() {
      current = undefined;
    },
  };
}

/**
 * Imports `@huggingface/transformers`, which on its first import points ONNX Runtime's shared
 * `env.wasm.wasmPaths` at a CDN when it sees onnxruntime-web loaded. ortlab serves the wasm files
 * from the package and never fetches them from elsewhere, so the setting is put back.
 */
async function importTransformers(): Promise<Transformers> {
  const before = ortEnv.wasm.wasmPaths;
  const transformers = await import('@huggingface/transformers');
  if (before === undefined) delete ortEnv.wasm.wasmPaths;
  else ortEnv.wasm.wasmPaths = before;
  return transformers;
}

/**
 * Loads a Hugging Face tokenizer from a folder holding its `tokenizer.json` and
 * `tokenizer_config.json`. The files are checked first, and `@huggingface/transformers` is run
 * with remote models and caches switched off for the load, so no network request can happen.
 *
 * @param dir the tokenizer's folder.
 * @throws TypeError when `dir` or an option has the wrong type.
 * @throws Error naming the missing file and what to put there, or the folder when the files
 *   cannot be parsed.
 *
 * @example
 * ```ts
 * const tokenizer = await loadTokenizer('test/fixtures/tokenizer');
 * const batch = tokenizer.encode(['The model plays the game.'], { maxLength: 16 });
 * batch.dims; // [1, 9]
 * batch.inputIds; // BigInt64Array [101n, 1996n, 2944n, 2377n, 2015n, 1996n, 2208n, 1012n, 102n]
 * tokenizer.dispose();
 * ```
 */
export async function loadTokenizer(
  dir: string,
  options: TokenizerOptions = {},
): Promise<TextTokenizer> {
  const folder = checkFolder(dir);
  if (options.maxLength !== undefined) checkLength(options.maxLength, 'options.maxLength');

  const { AutoTokenizer, env } = await importTransformers();
  enterLocalOnly(env, folder);
  let tokenizer: HfTokenizer;
  try {
    // An absolute path is not a valid hub model id, so the library reads it as a local folder.
    tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
  } catch (error) {
    throw new Error(`cannot load the tokenizer in '${folder}': ${(error as Error).message}`);
  } finally {
    leaveLocalOnly(env);
  }

  const configured = Number(tokenizer.model_max_length);
  const maxLength =
    options.maxLength ?? (Number.isInteger(configured) && configured > 0 ? configured : 512);
  log.info('tokenizer', () => `loaded '${folder}', max length ${maxLength}`);
  return wrap(tokenizer, folder, maxLength);
}
