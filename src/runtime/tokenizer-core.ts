/**
 * What a text tokenizer offers ortlab's text models, over a tokenizer of
 * `@huggingface/transformers`: batches of ids, attention masks and segment ids, truncation that
 * keeps the special tokens, padding on the tokenizer's side. Shared by the Node loader (local
 * files) and the browser loader (files served beside the page).
 */
import { log } from './logger.js';

/** The part of a transformers.js tokenizer that ortlab uses. */
export interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  get_vocab(): Map<string, number>;
  readonly pad_token_id: number;
  readonly padding_side?: string;
  readonly model_max_length?: number;
}

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

/** Checks a token count option. */
export function checkLength(value: unknown, field: string): number {
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

/** Wraps a loaded transformers.js tokenizer; `folder` names it in messages. */
export function wrap(
  tokenizer: HfTokenizer,
  folder: string,
  defaultMaxLength: number,
): TextTokenizer {
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
        `encode: text ${index} has ${rows[index].length} tokens, ` +
          `more than maxLength ${maxLength}; ` +
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

/** `maxLength` from the options, else the tokenizer's configured length, else 512. */
export function defaultMaxLength(tokenizer: HfTokenizer, options: TokenizerOptions): number {
  const configured = Number(tokenizer.model_max_length);
  return options.maxLength ?? (Number.isInteger(configured) && configured > 0 ? configured : 512);
}
