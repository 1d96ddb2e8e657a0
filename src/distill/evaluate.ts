/**
 * Teacher-student evaluation: runs both models over the same tokenized sentences and reports
 * every CKD term per matched layer pair, classic distillation, agreement and accuracy, per
 * domain. Terms are computed sentence by sentence over the real tokens only and averaged over
 * the sentences, so the figures do not depend on the batch size or on padding.
 */
import type { ProgressCallback } from '../runtime/progress.js';
import type { Session } from '../runtime/session.js';
import type { Tensor } from '../runtime/tensor.js';
import type { TextTokenizer } from '../runtime/tokenizer.js';
import {
  ckdLoss,
  DEFAULT_CKD_WEIGHTS,
  type CkdOptions,
  type CkdTerm,
  type CkdWeights,
} from './ckd-loss.js';
import { DEFAULT_WINDOW, type AngleWindow } from './loss-options.js';
import { layerMapping, type LayerMappingSpec, type LayerPair } from './layer-mapping.js';
import { relationMaps, type RelationMaps } from './relation-maps.js';
import { distillModel, sentenceOutputs, type DistillModel } from './model-outputs.js';
import type { TextDomain } from './text-data.js';

export type { DistillModel } from './model-outputs.js';

/** Options of {@link evaluateDistillation}. */
export interface DistillEvalOptions {
  /** Matched layers (default `'emb+skip'`, else `'uniform'` when the counts do not divide). */
  mapping?: LayerMappingSpec;
  /**
   * Weights of the total. Default: {@link DEFAULT_CKD_WEIGHTS}, with the layer transforming
   * terms off when the mapping has too few pairs for them (2 for pairs, 3 for angles).
   */
  weights?: Partial<CkdWeights>;
  window?: CkdOptions['window'];
  distance?: CkdOptions['distance'];
  /** Temperature of the classic distillation term (default 1) and its T^2 factor. */
  temperature?: number;
  temperatureSquared?: boolean;
  /** Sentences per model run (default 32). */
  batchSize?: number;
  /** Longest token sequence (default: the tokenizer's). */
  maxLength?: number;
  /**
   * Sentences whose relation maps the report draws: how many of the first domain's (default 3),
   * or the sentences themselves, which need not be in the data.
   */
  examples?: number | readonly string[];
  /** Sentences listed per domain with the largest total loss (default 5). */
  worst?: number;
  onProgress?: ProgressCallback;
}

/** The figures of one domain. */
export interface DistillDomainResult {
  name: string;
  source: string;
  inDomain?: boolean;
  sentences: number;
  /** Sentences with a label; accuracies are over these. */
  labelled: number;
  skipped: { line: number; reason: string }[];
  teacherAccuracy?: number;
  studentAccuracy?: number;
  /** Fraction of sentences on which both models predict the same class. */
  agreement?: number;
  /** Mean over sentences of each term, unweighted. */
  terms: Partial<Record<CkdTerm, number>>;
  /** Weighted sum of `terms`. */
  total: number;
  /** Word relations per matched pair, mean over sentences. */
  perLayer: (LayerPair & Partial<Record<'wrPair' | 'wrAngle' | 'wrDistance', number>>)[];
  /** Sentences a term could not be computed for (too few tokens for angles), per term. */
  undefinedTerms: Partial<Record<CkdTerm, number>>;
  /** The sentences with the largest total loss. */
  worst: { text: string; total: number; label?: number; teacher?: number; student?: number }[];
}

/** One sentence's relation maps, for heatmaps. */
export interface RelationExample extends RelationMaps {
  text: string;
  tokens: string[];
}

/** Result of {@link evaluateDistillation}. */
export interface DistillEvaluation {
  mapping: LayerPair[];
  weights: CkdWeights;
  /** The angle window used: a token count or `'full'`. */
  window: AngleWindow;
  temperature: number;
  temperatureSquared: boolean;
  notes: string[];
  domains: DistillDomainResult[];
  examples: RelationExample[];
}

class Mean {
  sum = 0;
  count = 0;
  add(value: number): void {
    this.sum += value;
    this.count++;
  }
  get value(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
}

function resolveWeights(
  given: Partial<CkdWeights> | undefined,
  pairs: number,
  hasLogits: boolean,
  notes: string[],
): CkdWeights {
  const weights = { ...DEFAULT_CKD_WEIGHTS, ...(hasLogits ? {} : { kd: 0 }), ...given };
  const turnOff = (term: CkdTerm, needs: number): void => {
    if (given?.[term] === undefined && weights[term] > 0 && pairs < needs) {
      weights[term] = 0;
      notes.push(`${term} is off: it needs ${needs} matched layer pairs, the mapping has ${pairs}`);
    }
  };
  turnOff('ltrPair', 2);
  turnOff('ltrAngle', 3);
  if (!hasLogits) notes.push('kd is off: a model has no logits output');
  return weights;
}

function defaultMapping(teacher: DistillModel, student: DistillModel): LayerMappingSpec {
  const t = teacher.hiddenStates.length - 1;
  const s = student.hiddenStates.length - 1;
  return s >= 1 && t % s === 0 ? 'emb+skip' : 'uniform';
}

async function runBoth(
  teacher: DistillModel,
  student: DistillModel,
  tokenizer: TextTokenizer,
  texts: readonly string[],
  maxLength: number | undefined,
): Promise<{ t: Record<string, Tensor>; s: Record<string, Tensor>; mask: BigInt64Array }> {
  const batch = tokenizer.encode(texts, { maxLength, padding: 'longest' });
  const [t, s] = [await teacher.run(batch), await student.run(batch)];
  return { t, s, mask: batch.attentionMask };
}

/**
 * Evaluates a student against its teacher on each domain: CKD terms (word relations per matched
 * pair, layer transforming relations), classic distillation of the logits, agreement of their
 * predictions and the accuracy of each. Both models take the same tokens.
 * @throws the errors of `ckdLoss` for a mapping a model cannot take; Error when the models give
 * different token counts for the same batch.
 */
export async function evaluateDistillation(
  teacherSession: Session,
  studentSession: Session,
  tokenizer: TextTokenizer,
  domains: readonly TextDomain[],
  options: DistillEvalOptions = {},
): Promise<DistillEvaluation> {
  const teacher = distillModel(teacherSession, 'teacher');
  const student = distillModel(studentSession, 'student');
  const notes: string[] = [];
  const spec = options.mapping ?? defaultMapping(teacher, student);
  const mapping = layerMapping(spec, {
    teacherLayers: teacher.hiddenStates.length,
    studentLayers: student.hiddenStates.length,
  });
  const hasLogits = teacher.logits !== undefined && student.logits !== undefined;
  const weights = resolveWeights(options.weights, mapping.length, hasLogits, notes);
  const temperature = options.temperature ?? 1;
  const temperatureSquared = options.temperatureSquared ?? false;
  const ckdOptions: CkdOptions = {
    mapping: mapping.map((p) => [p.teacher, p.student] as const),
    weights,
    window: options.window,
    distance: options.distance,
    kd: { temperature, temperatureSquared },
  };
  const batchSize = options.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}`);
  }

  const results: DistillDomainResult[] = [];
  for (const domain of domains) {
    results.push(
      await evaluateDomain(domain, { teacher, student, tokenizer, ckdOptions, batchSize }, options),
    );
  }
  const exampleTexts =
    typeof options.examples === 'object'
      ? options.examples
      : (domains[0]?.samples.slice(0, options.examples ?? 3).map((s) => s.text) ?? []);
  const examples: RelationExample[] = [];
  for (const text of exampleTexts) {
    const { t, s, mask } = await runBoth(teacher, student, tokenizer, [text], options.maxLength);
    const ts = sentenceOutputs(teacher, t, mask, 0);
    const ss = sentenceOutputs(student, s, mask, 0);
    const ids = tokenizer.encode([text], { maxLength: options.maxLength }).inputIds;
    const tokens = Array.from(ids, (id) => tokenizer.decode([id]).trim() || '·');
    examples.push({ text, tokens, ...relationMaps(ts.states, ss.states, mapping) });
  }
  return {
    mapping,
    weights,
    window: options.window ?? DEFAULT_WINDOW,
    temperature,
    temperatureSquared,
    notes,
    domains: results,
    examples,
  };
}

interface DomainContext {
  teacher: DistillModel;
  student: DistillModel;
  tokenizer: TextTokenizer;
  ckdOptions: CkdOptions;
  batchSize: number;
}

async function evaluateDomain(
  domain: TextDomain,
  context: DomainContext,
  options: DistillEvalOptions,
): Promise<DistillDomainResult> {
  const { teacher, student, tokenizer, ckdOptions, batchSize } = context;
  const weights = ckdOptions.weights as CkdWeights;
  const task = `distill ${domain.name}`;
  const total = domain.samples.length;
  options.onProgress?.({ status: 'initiate', task, total });
  const terms = new Map<CkdTerm, Mean>();
  const perLayer = new Map<string, Mean>();
  const undefinedTerms: Partial<Record<CkdTerm, number>> = {};
  const worst: DistillDomainResult['worst'] = [];
  let labelled = 0;
  let teacherRight = 0;
  let studentRight = 0;
  let agree = 0;
  let compared = 0;
  const add = (map: Map<string, Mean>, key: string, value: number): void => {
    if (!map.has(key)) map.set(key, new Mean());
    map.get(key)!.add(value);
  };

  for (let start = 0; start < total; start += batchSize) {
    const samples = domain.samples.slice(start, start + batchSize);
    const texts = samples.map((s) => s.text);
    const { t, s, mask } = await runBoth(teacher, student, tokenizer, texts, options.maxLength);
    for (let b = 0; b < samples.length; b++) {
      const ts = sentenceOutputs(teacher, t, mask, b);
      const ss = sentenceOutputs(student, s, mask, b);
      const result = await ckdLoss(ts.outputs, ss.outputs, ckdOptions);
      let sentenceTotal = 0;
      for (const term of Object.keys(weights) as CkdTerm[]) {
        if (weights[term] === 0) continue;
        const value = result.terms[term];
        if (value === undefined || !Number.isFinite(value)) {
          undefinedTerms[term] = (undefinedTerms[term] ?? 0) + 1;
          continue;
        }
        add(terms, term, value);
        sentenceTotal += weights[term] * value;
      }
      for (const entry of result.perLayer) {
        for (const term of ['wrPair', 'wrAngle', 'wrDistance'] as const) {
          const value = entry[term];
          if (value !== undefined && Number.isFinite(value)) {
            add(perLayer, `${entry.teacher}:${entry.student}:${term}`, value);
          }
        }
      }
      const label = samples[b].label;
      const tp = ts.prediction;
      const sp = ss.prediction;
      if (tp !== undefined && sp !== undefined) {
        compared++;
        if (tp === sp) agree++;
      }
      if (label !== undefined) {
        labelled++;
        if (tp === label) teacherRight++;
        if (sp === label) studentRight++;
      }
      worst.push({ text: samples[b].text, total: sentenceTotal, label, teacher: tp, student: sp });
    }
    worst.sort((a, b) => b.total - a.total);
    worst.length = Math.min(worst.length, options.worst ?? 5);
    const done = Math.min(total, start + batchSize);
    options.onProgress?.({ status: 'progress', task, done, total });
  }
  options.onProgress?.({ status: 'done', task, done: total, total });

  const meanTerms: Partial<Record<CkdTerm, number>> = {};
  let weighted = 0;
  for (const [term, mean] of terms) {
    meanTerms[term] = mean.value;
    weighted += weights[term] * mean.value;
  }
  const pairs = (ckdOptions.mapping as readonly (readonly [number, number])[]).map(([a, b]) => {
    const entry: DistillDomainResult['perLayer'][number] = { teacher: a, student: b };
    for (const term of ['wrPair', 'wrAngle', 'wrDistance'] as const) {
      const mean = perLayer.get(`${a}:${b}:${term}`);
      if (mean) entry[term] = mean.value;
    }
    return entry;
  });
  const hasPredictions = teacher.logits !== undefined && student.logits !== undefined;
  return {
    name: domain.name,
    source: domain.source,
    inDomain: domain.inDomain,
    sentences: total,
    labelled,
    skipped: domain.skipped,
    teacherAccuracy: labelled > 0 && teacher.logits ? teacherRight / labelled : undefined,
    studentAccuracy: labelled > 0 && student.logits ? studentRight / labelled : undefined,
    agreement: hasPredictions && compared > 0 ? agree / compared : undefined,
    terms: meanTerms,
    total: weighted,
    perLayer: pairs,
    undefinedTerms,
    worst,
  };
}
