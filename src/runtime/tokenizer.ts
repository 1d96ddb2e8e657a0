/**
 * Text tokenization for text models, through the tokenizers of `@huggingface/transformers`,
 * loaded from local files only: ortlab never lets the library reach the network. Node only
 * (the files are checked on disk before loading).
 */

import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { env as ortEnv } from 'onnxruntime-common';

import { log } from './logger.js';
import {
  checkLength,
  defaultMaxLength,
  wrap,
  type TextTokenizer,
  type TokenizerOptions,
} from './tokenizer-core.js';

type Transformers = typeof import('@huggingface/transformers');
type HfTokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;

export type {
  EncodeOptions,
  TextTokenizer,
  TokenBatch,
  TokenizerOptions,
} from './tokenizer-core.js';

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

/**
 * A sha256 of the tokenizer files `loadTokenizer` reads from `dir` (each file's name, length
 * and bytes, in a fixed order): what a queue worker compares with the submitter's, so that
 * shards never encode captions with different tokenizers.
 * @throws Error naming the folder or file when it is missing, as `loadTokenizer` does.
 */
export async function tokenizerSha256(dir: string): Promise<string> {
  const folder = checkFolder(dir);
  const hash = createHash('sha256');
  for (const file of REQUIRED_FILES) {
    const bytes = await readFile(join(folder, file));
    hash.update(`${file}\n${bytes.length}\n`).update(bytes);
  }
  return hash.digest('hex');
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

  const maxLength = defaultMaxLength(tokenizer, options);
  log.info('tokenizer', () => `loaded '${folder}', max length ${maxLength}`);
  return wrap(tokenizer, folder, maxLength);
}
