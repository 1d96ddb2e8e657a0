/**
 * Hidden states and padding masks as the distillation losses take them, with the checks every
 * loss runs first: element type, dims, teacher against student, the mask against both.
 */

/**
 * The hidden states of one layer: `data` row major with `dims` `[batch, tokens, hidden]`.
 * Layer 0 is the embedding output, as in Hugging Face's `output_hidden_states`.
 */
export interface HiddenStates {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/**
 * A padding mask, row major `[batch, tokens]`: a nonzero entry marks a real token, 0 padding
 * (the `attention_mask` of a tokenizer). Any array-like of numbers: `Uint8Array`, `number[]`, ...
 */
export type TokenMask = ArrayLike<number>;

/**
 * The real tokens of every sequence, in order: sequence `b` holds the token positions
 * `positions[starts[b]]` to `positions[starts[b + 1] - 1]`. Relations are taken between these
 * tokens only; position `i` of a sequence in the losses' TSDoc means its i-th real token.
 */
export interface ValidTokens {
  readonly batch: number;
  readonly tokens: number;
  readonly positions: Int32Array;
  readonly starts: Int32Array;
}

/** `[batch, tokens, hidden]` of checked hidden states. */
export interface Shape {
  readonly batch: number;
  readonly tokens: number;
  readonly hidden: number;
}

/**
 * Checks one layer's hidden states and returns its shape.
 * @throws TypeError when `data` is not a Float32Array; RangeError for dims that are not three
 * positive integers or that disagree with the data's length.
 */
export function checkHiddenStates(states: HiddenStates, name: string): Shape {
  const data: unknown = states?.data;
  if (!(data instanceof Float32Array)) {
    const got = data instanceof Object ? data.constructor.name : String(data);
    throw new TypeError(
      `${name}.data must be a Float32Array, got ${got}; convert with Float32Array.from(values)`,
    );
  }
  const dims = states.dims;
  if (
    !Array.isArray(dims) ||
    dims.length !== 3 ||
    !dims.every((d) => Number.isInteger(d) && d >= 1)
  ) {
    throw new RangeError(
      `${name}.dims must be three positive integers [batch, tokens, hidden], got ` +
        `${JSON.stringify(dims)}`,
    );
  }
  const [batch, tokens, hidden] = dims;
  if (states.data.length !== batch * tokens * hidden) {
    throw new RangeError(
      `${name}.data has ${states.data.length} values but dims [${dims.join(', ')}] need ` +
        `${batch * tokens * hidden}; the data must be row major [batch, tokens, hidden]`,
    );
  }
  return { batch, tokens, hidden };
}

/**
 * Checks a model's list of hidden states: at least one layer, all of the same dims.
 * @throws TypeError when `layers` is not an array; RangeError naming the first layer that differs.
 */
export function checkLayerList(layers: readonly HiddenStates[], name: string): Shape {
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new TypeError(
      `${name} must be a non-empty array of hidden states (one per layer, embedding first), ` +
        `got ${Array.isArray(layers) ? 'an empty array' : typeof layers}`,
    );
  }
  const first = checkHiddenStates(layers[0], `${name}[0]`);
  for (let l = 1; l < layers.length; l++) {
    const shape = checkHiddenStates(layers[l], `${name}[${l}]`);
    if (
      shape.batch !== first.batch ||
      shape.tokens !== first.tokens ||
      shape.hidden !== first.hidden
    ) {
      throw new RangeError(
        `${name}[${l}] has dims [${layers[l].dims.join(', ')}] but ${name}[0] has ` +
          `[${layers[0].dims.join(', ')}]; every layer of a model must share its dims`,
      );
    }
  }
  return first;
}

/**
 * Checks that teacher and student saw the same inputs: equal batch and token counts. Their
 * hidden sizes may differ, since relations compare token to token within each model.
 * @throws RangeError naming both shapes.
 */
export function checkSameInputs(teacher: Shape, student: Shape): void {
  if (teacher.batch !== student.batch || teacher.tokens !== student.tokens) {
    throw new RangeError(
      `teacher has [batch ${teacher.batch}, tokens ${teacher.tokens}] but student has ` +
        `[batch ${student.batch}, tokens ${student.tokens}]; both must be run on the same ` +
        'batch of sequences, padded to the same length',
    );
  }
}

/**
 * The real tokens of each sequence under `mask` (every token when `mask` is undefined). O(batch
 * tokens).
 * @throws TypeError when the mask has no length; RangeError when its length is not
 * `batch * tokens`.
 */
export function validTokens(mask: TokenMask | undefined, shape: Shape): ValidTokens {
  const { batch, tokens } = shape;
  const size = batch * tokens;
  if (mask !== undefined && (mask === null || typeof mask.length !== 'number')) {
    const got = mask === null ? 'null' : typeof mask;
    throw new TypeError(`mask must be an array-like [batch, tokens] of numbers, got ${got}`);
  }
  if (mask !== undefined && mask.length !== size) {
    throw new RangeError(
      `mask has ${mask.length} entries but the hidden states have batch ${batch} and tokens ` +
        `${tokens}, so it needs ${size}: pass the [batch, tokens] attention mask, row major`,
    );
  }
  const positions = new Int32Array(size);
  const starts = new Int32Array(batch + 1);
  let count = 0;
  for (let b = 0; b < batch; b++) {
    starts[b] = count;
    for (let t = 0; t < tokens; t++) {
      if (mask === undefined || mask[b * tokens + t] !== 0) positions[count++] = t;
    }
  }
  starts[batch] = count;
  return { batch, tokens, positions: positions.subarray(0, count), starts };
}
