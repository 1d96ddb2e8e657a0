/**
 * A language model as distillation sees it: which inputs take the tokens, which outputs are its
 * hidden states (embedding output first) and its logits, and how to cut one sentence's real
 * tokens out of a padded batch.
 */
import type { Session, TensorInfo } from '../runtime/session.js';
import type { Tensor } from '../runtime/tensor.js';
import type { TokenBatch } from '../runtime/tokenizer.js';
import type { CkdModelOutputs } from './ckd-loss.js';
import type { SentenceStates } from './relation-maps.js';

/** A session with its distillation outputs found. */
export interface DistillModel {
  readonly role: 'teacher' | 'student';
  /** Hidden-state outputs, embedding output first. */
  readonly hiddenStates: readonly string[];
  /** Width of the hidden states, when the model declares it. */
  readonly hidden?: number;
  /** The logits output, when there is one. */
  readonly logits?: string;
  readonly executionProvider: string;
  run(batch: TokenBatch): Promise<Record<string, Tensor>>;
}

const HIDDEN = /hidden/i;

/** Sorts names by their last number: hidden_2 before hidden_10. */
function byLayer(a: string, b: string): number {
  const n = (s: string): number => Number(/(\d+)(?!.*\d)/.exec(s)?.[1] ?? NaN);
  return n(a) - n(b) || a.localeCompare(b);
}

function findLogits(outputs: readonly TensorInfo[]): string | undefined {
  const named = outputs.find((o) => o.name === 'logits');
  if (named) return named.name;
  const flat = outputs.filter((o) => o.dims.length === 2);
  return flat.length === 1 ? flat[0].name : undefined;
}

/**
 * Finds a model's hidden-state outputs (3-d outputs whose name contains `hidden`, ordered by
 * their layer number) and logits (`logits`, or its only 2-d output).
 * @throws Error listing the outputs when there are no hidden states, or naming an input that is
 * not int64 or int32.
 */
export function distillModel(session: Session, role: 'teacher' | 'student'): DistillModel {
  const outputs = session.outputs;
  const hiddenStates = outputs
    .filter((o) => o.dims.length === 3 && HIDDEN.test(o.name))
    .map((o) => o.name)
    .sort(byLayer);
  if (hiddenStates.length === 0) {
    throw new Error(
      `the ${role} model has no hidden-state outputs (its outputs: ` +
        `${outputs.map((o) => `${o.name} [${o.dims.join(', ')}]`).join(', ')}); export it with ` +
        "every layer's hidden states as outputs named hidden_0 (embeddings) .. hidden_L, as " +
        'tools/export/distill_export.py does',
    );
  }
  const width = outputs.find((o) => o.name === hiddenStates[0])?.dims[2];
  const logits = findLogits(outputs);
  const inputs = session.inputs;
  for (const input of inputs) {
    if (input.type !== 'int64' && input.type !== 'int32') {
      throw new Error(
        `the ${role} model's input '${input.name}' is ${input.type}; ortlab feeds token ids ` +
          'and masks as int64 or int32 (input_ids, attention_mask, token_type_ids)',
      );
    }
  }
  const feed = (batch: TokenBatch): Record<string, Tensor> => {
    const feeds: Record<string, Tensor> = {};
    for (const input of inputs) {
      const source = /mask/i.test(input.name)
        ? batch.attentionMask
        : /type/i.test(input.name)
          ? batch.tokenTypeIds
          : batch.inputIds;
      feeds[input.name] =
        input.type === 'int64'
          ? { type: 'int64', dims: batch.dims, data: source }
          : { type: 'int32', dims: batch.dims, data: Int32Array.from(source, Number) };
    }
    return feeds;
  };
  const fetches = logits ? [...hiddenStates, logits] : [...hiddenStates];
  return {
    role,
    hiddenStates,
    hidden: typeof width === 'number' ? width : undefined,
    logits,
    executionProvider: session.executionProvider,
    run: (batch) => session.run(feed(batch), fetches),
  };
}

/** One sentence cut from a batch's outputs: its real tokens only. */
export interface SentenceOutputs {
  outputs: CkdModelOutputs;
  states: SentenceStates;
  /** The predicted class, when the model has logits. */
  prediction?: number;
}

/**
 * Row `b` of a batch's outputs, with the tokens the mask marks real.
 * @throws Error when an output's dims do not fit the batch.
 */
export function sentenceOutputs(
  model: DistillModel,
  outputs: Record<string, Tensor>,
  mask: BigInt64Array,
  b: number,
): SentenceOutputs {
  const first = outputs[model.hiddenStates[0]];
  const [batch, tokens, hidden] = first.dims;
  if (mask.length !== batch * tokens) {
    throw new Error(
      `the ${model.role} model returned ${model.hiddenStates[0]} [${first.dims.join(', ')}] for ` +
        `a batch of ${mask.length} tokens; its hidden states must be [batch, tokens, hidden] ` +
        'for the tokens it was given',
    );
  }
  const positions: number[] = [];
  for (let t = 0; t < tokens; t++) if (mask[b * tokens + t] !== 0n) positions.push(t);
  const n = positions.length;
  const layers = model.hiddenStates.map((name) => {
    const tensor = outputs[name];
    if (tensor.dims.join() !== first.dims.join()) {
      throw new Error(
        `the ${model.role} model's ${name} is [${tensor.dims.join(', ')}], unlike ` +
          `${model.hiddenStates[0]} [${first.dims.join(', ')}]; every hidden state must have ` +
          'the same dims',
      );
    }
    const data = tensor.data as Float32Array;
    const out = new Float32Array(n * hidden);
    positions.forEach((t, i) => {
      const from = (b * tokens + t) * hidden;
      out.set(data.subarray(from, from + hidden), i * hidden);
    });
    return out;
  });
  const ckd: {
    hidden: { data: Float32Array; dims: number[] }[];
    logits?: CkdModelOutputs['logits'];
  } = { hidden: layers.map((data) => ({ data, dims: [1, n, hidden] })) };
  let prediction: number | undefined;
  if (model.logits) {
    const logits = outputs[model.logits];
    const classes = logits.dims[logits.dims.length - 1];
    const row = (logits.data as Float32Array).slice(b * classes, (b + 1) * classes);
    ckd.logits = { data: row, dims: [1, classes] };
    prediction = 0;
    for (let c = 1; c < classes; c++) if (row[c] > row[prediction]) prediction = c;
  }
  return { outputs: ckd, states: { layers, tokens: n, hidden }, prediction };
}
