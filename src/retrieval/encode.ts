/**
 * Retrieval encoders run through ONNX Runtime in batches: images through the preprocessing of a
 * preset, texts through a tokenizer, each to one L2-normalized embedding per item and, when the
 * encoder outputs them, the per-head attention maps. Shared by the Node and browser builds.
 */
import type { ImageSource, Sample } from '../runtime/datasets/types.js';
import { loadBatch } from '../runtime/preprocess/batch.js';
import { resolvePreset, type Preset } from '../runtime/preprocess/presets.js';
import type { ProgressCallback } from '../runtime/progress.js';
import type { Session } from '../runtime/session.js';
import type { Tensor } from '../runtime/tensor.js';
import type { TextTokenizer } from '../runtime/tokenizer.js';
import { ATTENTION, EMBEDDING, EmbeddingCollector, type Embeddings } from './embeddings.js';

/** Items per encoder run unless told otherwise; shards of a split are cut on its multiples. */
export const DEFAULT_ENCODE_BATCH = 64;

/** Options shared by both encoders. */
export interface EncodeOptions {
  /** Items per run (default {@link DEFAULT_ENCODE_BATCH}, 64). */
  batchSize?: number;
  /** A name for error messages, such as the model's file (default `the image encoder`, ...). */
  name?: string;
  onProgress?: ProgressCallback;
}

/** Options of {@link encodeImages}. */
export interface EncodeImagesOptions extends EncodeOptions {
  /** How a picture becomes the encoder's input: a preset name or object. */
  preset: string | Preset;
  /** Largest image accepted, in pixels (default: the backend's limit). */
  maxPixels?: number;
}

/** Options of {@link encodeTexts}. */
export interface EncodeTextsOptions extends EncodeOptions {
  /** Tokens per text at most, special tokens included (default: the tokenizer's). */
  maxLength?: number;
}

/** The outputs to fetch; an encoder without `embedding` is refused with what it has. */
function encoderFetches(session: Session, name: string): string[] {
  const names = session.outputs.map((o) => o.name);
  if (!names.includes(EMBEDDING)) {
    throw new Error(
      `${name} has outputs [${names.join(', ')}] but no '${EMBEDDING}'; a retrieval encoder ` +
        `outputs '${EMBEDDING}' [batch, dim] (and '${ATTENTION}' [batch, heads, positions] for ` +
        'its attention maps): rename the output when exporting',
    );
  }
  return names.includes(ATTENTION) ? [EMBEDDING, ATTENTION] : [EMBEDDING];
}

function checkBatchSize(batchSize: number): number {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}`);
  }
  return batchSize;
}

/**
 * Embeds images with an image encoder whose one input takes the preset's tensor
 * (`[batch, channels, height, width]` for NCHW) and whose outputs are `embedding`
 * `[batch, dim]` and optionally `attention` `[batch, heads, positions]`. Every image must load:
 * retrieval scores need all of them, so one that does not is an error naming it.
 *
 * @throws Error for an encoder without `embedding`, or an image that cannot be read;
 * RangeError for outputs of unexpected dims or NaN embeddings (naming the image).
 * @example
 * ```ts
 * const session = await Session.create('models/retrieval/image-r4.onnx');
 * const images = await encodeImages(session, [{ kind: 'file', path: 'heart.png' }], { preset });
 * images.dim; // 256
 * images.attention?.heads; // 4
 * ```
 */
export async function encodeImages(
  session: Session,
  sources: readonly ImageSource[],
  options: EncodeImagesOptions,
): Promise<Embeddings> {
  const name = options.name ?? 'the image encoder';
  if (sources.length === 0) throw new RangeError(`no images to encode with ${name}`);
  const fetches = encoderFetches(session, name);
  const input = imageInput(session, name);
  const preset = resolvePreset(options.preset, input.dims);
  const batchSize = checkBatchSize(options.batchSize ?? DEFAULT_ENCODE_BATCH);
  const idOf = (i: number): string => {
    const source = sources[i];
    return source.kind === 'file' ? `'${source.path}'` : `image ${i}`;
  };
  const collector = new EmbeddingCollector(name, idOf);
  const task = 'encode images';
  options.onProgress?.({ status: 'initiate', task, total: sources.length });
  for (let start = 0; start < sources.length; start += batchSize) {
    const samples: Sample[] = sources
      .slice(start, start + batchSize)
      .map((source, r) => ({ index: start + r, id: idOf(start + r), label: 0, source }));
    const batch = await loadBatch(samples, preset, { maxPixels: options.maxPixels });
    if (batch.skipped.length > 0) {
      const list = batch.skipped.map((s) => `${s.id}: ${s.reason}`).join('; ');
      throw new Error(`${batch.skipped.length} image(s) could not be read for ${name}: ${list}`);
    }
    const out = await session.run(
      { [input.name]: { type: 'float32', dims: batch.dims, data: batch.data } },
      fetches,
    );
    collector.add(out, start, samples.length);
    const done = start + samples.length;
    options.onProgress?.({ status: 'progress', task, done, total: sources.length });
  }
  options.onProgress?.({ status: 'done', task, done: sources.length, total: sources.length });
  return collector.finish(sources.length, `image embeddings of ${name}`);
}

/**
 * Checks up front that a session can serve as an image or text encoder (its outputs and
 * inputs), so that a wrong file is named before any data is read.
 * @throws Error saying what the encoder lacks.
 */
export function checkEncoder(session: Session, kind: 'image' | 'text', name: string): void {
  encoderFetches(session, name);
  if (kind === 'text') textInputs(session, name);
  else imageInput(session, name);
}

/** The one input of an image encoder. */
function imageInput(session: Session, name: string) {
  if (session.inputs.length !== 1) {
    const names = session.inputs.map((i) => i.name).join(', ');
    throw new Error(
      `${name} takes ${session.inputs.length} inputs (${names}); ` +
        'an image encoder takes one image tensor',
    );
  }
  return session.inputs[0];
}

/** The int64 inputs of a text encoder; refuses one without ids and mask. */
function textInputs(session: Session, name: string): string[] {
  const names = session.inputs.map((i) => i.name);
  if (!names.includes('input_ids') || !names.includes('attention_mask')) {
    throw new Error(
      `${name} takes inputs [${names.join(', ')}]; a text encoder takes 'input_ids' and ` +
        "'attention_mask' (int64 [batch, tokens]), and optionally 'token_type_ids'",
    );
  }
  return names;
}

/**
 * Embeds texts with a text encoder taking `input_ids` and `attention_mask` (int64
 * `[batch, tokens]`, each batch padded to its longest text) and outputting `embedding`
 * `[batch, dim]` and optionally `attention` `[batch, heads, tokens]`.
 *
 * @throws Error for an encoder without `embedding` or without those inputs; RangeError for
 * outputs of unexpected dims or NaN embeddings (naming the text).
 * @example
 * ```ts
 * const texts = await encodeTexts(session, tokenizer, ['a red heart', 'a smiling cat']);
 * texts.count; // 2
 * texts.lengths; // Int32Array [5, 5]: [CLS] a red heart [SEP], ...
 * ```
 */
export async function encodeTexts(
  session: Session,
  tokenizer: TextTokenizer,
  texts: readonly string[],
  options: EncodeTextsOptions = {},
): Promise<Embeddings> {
  const name = options.name ?? 'the text encoder';
  if (texts.length === 0) throw new RangeError(`no texts to encode with ${name}`);
  const fetches = encoderFetches(session, name);
  const inputs = textInputs(session, name);
  const batchSize = checkBatchSize(options.batchSize ?? DEFAULT_ENCODE_BATCH);
  const collector = new EmbeddingCollector(name, (i) => `text ${JSON.stringify(texts[i])}`);
  const lengths = new Int32Array(texts.length);
  const task = 'encode texts';
  options.onProgress?.({ status: 'initiate', task, total: texts.length });
  for (let start = 0; start < texts.length; start += batchSize) {
    const part = texts.slice(start, start + batchSize);
    const tokens = tokenizer.encode(part, { maxLength: options.maxLength, padding: 'longest' });
    const width = tokens.dims[1];
    for (let r = 0; r < part.length; r++) {
      let n = 0;
      for (let t = 0; t < width; t++) n += Number(tokens.attentionMask[r * width + t]);
      lengths[start + r] = n;
    }
    const feeds: Record<string, Tensor> = {
      input_ids: { type: 'int64', dims: tokens.dims, data: tokens.inputIds },
      attention_mask: { type: 'int64', dims: tokens.dims, data: tokens.attentionMask },
    };
    if (inputs.includes('token_type_ids')) {
      feeds.token_type_ids = { type: 'int64', dims: tokens.dims, data: tokens.tokenTypeIds };
    }
    collector.add(await session.run(feeds, fetches), start, part.length);
    const done = start + part.length;
    options.onProgress?.({ status: 'progress', task, done, total: texts.length });
  }
  options.onProgress?.({ status: 'done', task, done: texts.length, total: texts.length });
  return { ...collector.finish(texts.length, `text embeddings of ${name}`), lengths };
}
