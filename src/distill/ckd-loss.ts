/**
 * The Contextual Knowledge Distillation objective (Park et al. 2021): word relations per matched
 * layer pair, layer transforming relations across the matched layers, optional distance
 * relations and output distillation, each weighted and each reported on its own.
 */
import { layerGrams, tokenGrams, tokenGramsWith, type GramFunction } from './gram-sets.js';
import {
  validTokens,
  type HiddenStates,
  type TokenMask,
  type ValidTokens,
} from './hidden-states.js';
import { kdLoss, type KdOptions, type Logits } from './kd-loss.js';
import { matchedLayers } from './layer-relation.js';
import type { LayerMappingSpec, LayerPair } from './layer-mapping.js';
import { checkDistanceOptions, resolveWindow, type AngleWindow } from './loss-options.js';
import { angleMse, distanceLoss, meanOf, pairKl, type DistanceOptions } from './relations.js';

/** The terms of the CKD objective. */
export type CkdTerm =
  'wrPair' | 'wrAngle' | 'wrDistance' | 'ltrPair' | 'ltrAngle' | 'ltrDistance' | 'kd';

/** A weight per term; a term of weight 0 is not computed. */
export type CkdWeights = Record<CkdTerm, number>;

/**
 * Default weights: the four CKD relations and KD at 1 (KD only when both sides give logits),
 * the distance relations off.
 */
export const DEFAULT_CKD_WEIGHTS: Readonly<CkdWeights> = Object.freeze({
  wrPair: 1,
  wrAngle: 1,
  wrDistance: 0,
  ltrPair: 1,
  ltrAngle: 1,
  ltrDistance: 0,
  kd: 1,
});

/** What a model gives the objective: hidden states (embedding first) and optional logits. */
export interface CkdModelOutputs {
  readonly hidden: readonly HiddenStates[];
  readonly logits?: Logits;
}

/** Options of {@link ckdLoss}. */
export interface CkdOptions {
  /** Padding mask `[batch, tokens]`, nonzero for real tokens (default: every token is real). */
  mask?: TokenMask;
  /** Matched layers (default `'emb+skip'`); see `layerMapping`. */
  mapping?: LayerMappingSpec;
  /** Weights of the terms, merged over {@link DEFAULT_CKD_WEIGHTS}. */
  weights?: Partial<CkdWeights>;
  /** Window of the word-relation angles (default 21 tokens; `'full'` for every triplet). */
  window?: AngleWindow;
  /** Loss and normalization of both distance relations (default Huber on mean-normalized). */
  distance?: DistanceOptions;
  /** Temperature, T^2 factor and task of the output term (default T = 1, no T^2). */
  kd?: Omit<KdOptions, 'mask'>;
  /**
   * Computes the word relations' Gram matrices, one call per mapped layer `[batch, tokens,
   * hidden]` of each model (default: ortlab's TypeScript kernel, float64 sums); `createOrtGram`
   * gives one on ONNX Runtime's MatMul. The layer relations' small `L x L` matrices always use
   * the TypeScript kernel: ONNX Runtime's batched MatMul was slower on them (measured 200 ms
   * against 88 ms for 4,096 tokens x 7 layers x 768) and float32 loses digits there, since a
   * token's consecutive layers are nearly parallel.
   */
  gram?: GramFunction;
}

/** The word-relation terms of one matched layer pair. */
export interface CkdLayerTerms extends LayerPair {
  wrPair?: number;
  wrAngle?: number;
  wrDistance?: number;
}

/** Result of {@link ckdLoss}. */
export interface CkdResult {
  /** The weighted sum of the computed terms. */
  total: number;
  /** Every computed term, unweighted; word relations averaged over the layer pairs. */
  terms: Partial<Record<CkdTerm, number>>;
  /** The weights used. */
  weights: CkdWeights;
  /** The matched layer pairs. */
  mapping: LayerPair[];
  /** Word relations per matched pair, in mapping order. */
  perLayer: CkdLayerTerms[];
}

function resolveWeights(given: Partial<CkdWeights> | undefined, hasLogits: boolean): CkdWeights {
  const weights = { ...DEFAULT_CKD_WEIGHTS, ...(hasLogits ? {} : { kd: 0 }), ...given };
  for (const [term, w] of Object.entries(weights)) {
    if (!(term in DEFAULT_CKD_WEIGHTS)) {
      throw new RangeError(
        `weights.${term} is not a CKD term; the terms are ` +
          Object.keys(DEFAULT_CKD_WEIGHTS).join(', '),
      );
    }
    if (!(Number.isFinite(w) && w >= 0)) {
      throw new RangeError(`weights.${term} must be a finite number >= 0, got ${String(w)}`);
    }
  }
  if (weights.kd > 0 && !hasLogits) {
    throw new RangeError(
      `weights.kd is ${weights.kd} but teacher and student do not both give logits; pass ` +
        'teacher.logits and student.logits, or set weights.kd to 0',
    );
  }
  return weights;
}

/**
 * Computes the CKD objective: total = sum over terms of weight x term. Word relations
 * (`wrPair`, `wrAngle`, `wrDistance`) are the means over the matched layer pairs of the
 * `wrPairLoss`, `wrAngleLoss` and `wrDistanceLoss` of each pair; layer transforming relations
 * (`ltrPair`, `ltrAngle`, `ltrDistance`) are `ltrPairLoss` etc. across the matched layers; `kd`
 * is `kdLoss` of the logits. Async because `gram` may be. O(pairs batch tokens^2 hidden) for the
 * Gram matrices.
 * @throws the errors of the single losses, and RangeError for weights naming unknown terms,
 * negative weights, a positive `kd` weight without logits, or a positive LTR weight with fewer
 * matched layers than the relation needs (2, or 3 for angles).
 *
 * @example
 * ```ts
 * // One sequence of 3 tokens, hidden size 2; 4 teacher layers onto 2 student layers.
 * const layer = (values: number[]) => ({ data: Float32Array.from(values), dims: [1, 3, 2] });
 * const teacher = {
 *   hidden: [[1, 0, 0, 1, 1, 1], [1, 1, 0, 2, 2, 1], [2, 1, 0, 1, 1, 3], [1, 2, 1, 1, 0, 3],
 *     [0, 2, 2, 1, 1, 1]].map(layer),
 * };
 * const student = {
 *   hidden: [[1, 0, 1, 1, 0, 1], [1, 2, 1, 0, 2, 2], [0, 1, 1, 1, 2, 0]].map(layer),
 * };
 * const result = await ckdLoss(teacher, student, { window: 'full' });
 * result.mapping.map((p) => [p.teacher, p.student]); // [[0, 0], [2, 1], [4, 2]]
 * result.terms; // { wrPair: 0.03194276..., wrAngle: 0.74809325..., ltrPair: 0.02444338...,
 * //               ltrAngle: 0.42346062... }
 * result.total; // 1.22794002...
 * ```
 */
export async function ckdLoss(
  teacher: CkdModelOutputs,
  student: CkdModelOutputs,
  options: CkdOptions = {},
): Promise<CkdResult> {
  const hasLogits = teacher?.logits !== undefined && student?.logits !== undefined;
  const weights = resolveWeights(options.weights, hasLogits);
  const window = resolveWindow(options.window);
  if (options.distance) checkDistanceOptions(options.distance);
  const matched = matchedLayers(teacher?.hidden, student?.hidden, {
    mapping: options.mapping ?? 'emb+skip',
    minimum: 1,
    term: 'ckdLoss',
  });
  const { teacher: t, student: s, pairs: mapping } = matched;
  checkLayerTerms(weights, mapping.length);
  const [batch, tokens, hidden] = t[0].dims;
  const valid = validTokens(options.mask, { batch, tokens, hidden });
  const context = { valid, weights, window, options };

  const perLayer: CkdLayerTerms[] = [];
  for (let p = 0; p < mapping.length; p++) {
    perLayer.push({ ...mapping[p], ...(await wordTerms(t[p], s[p], context)) });
  }
  const terms: Partial<Record<CkdTerm, number>> = {};
  for (const term of ['wrPair', 'wrAngle', 'wrDistance'] as const) {
    if (weights[term] > 0)
      terms[term] = perLayer.reduce((a, e) => a + e[term]!, 0) / mapping.length;
  }
  Object.assign(terms, layerTerms(t, s, context));
  if (weights.kd > 0 && teacher.logits && student.logits) {
    terms.kd = kdLoss(teacher.logits, student.logits, { ...options.kd, mask: options.mask });
  }

  let total = 0;
  for (const [term, value] of Object.entries(terms)) total += weights[term as CkdTerm] * value;
  return { total, terms, weights, mapping, perLayer };
}

interface TermContext {
  valid: ValidTokens;
  weights: CkdWeights;
  window: number;
  options: CkdOptions;
}

/** The word relations of one matched layer pair that have a weight. */
async function wordTerms(
  teacher: HiddenStates,
  student: HiddenStates,
  context: TermContext,
): Promise<Omit<CkdLayerTerms, keyof LayerPair>> {
  const { valid, weights, window, options } = context;
  if (!(weights.wrPair > 0 || weights.wrAngle > 0 || weights.wrDistance > 0)) return {};
  const gram = options.gram;
  const gt = gram ? await tokenGramsWith(gram, teacher, valid) : tokenGrams(teacher, valid);
  const gs = gram ? await tokenGramsWith(gram, student, valid) : tokenGrams(student, valid);
  return {
    ...(weights.wrPair > 0 ? { wrPair: meanOf(pairKl(gt, gs)) } : {}),
    ...(weights.wrAngle > 0 ? { wrAngle: meanOf(angleMse(gt, gs, window)) } : {}),
    ...(weights.wrDistance > 0
      ? { wrDistance: meanOf(distanceLoss(gt, gs, options.distance)) }
      : {}),
  };
}

/** The layer transforming relations across the matched layers that have a weight. */
function layerTerms(
  teacher: HiddenStates[],
  student: HiddenStates[],
  context: TermContext,
): Partial<Record<CkdTerm, number>> {
  const { valid, weights, options } = context;
  if (!(weights.ltrPair > 0 || weights.ltrAngle > 0 || weights.ltrDistance > 0)) return {};
  const lt = layerGrams(teacher, valid);
  const ls = layerGrams(student, valid);
  return {
    ...(weights.ltrPair > 0 ? { ltrPair: meanOf(pairKl(lt, ls)) } : {}),
    ...(weights.ltrAngle > 0 ? { ltrAngle: meanOf(angleMse(lt, ls, Infinity)) } : {}),
    ...(weights.ltrDistance > 0
      ? { ltrDistance: meanOf(distanceLoss(lt, ls, options.distance)) }
      : {}),
  };
}

function checkLayerTerms(weights: CkdWeights, pairs: number): void {
  for (const [term, minimum] of [
    ['ltrPair', 2],
    ['ltrDistance', 2],
    ['ltrAngle', 3],
  ] as const) {
    if (weights[term] > 0 && pairs < minimum) {
      throw new RangeError(
        `weights.${term} is ${weights[term]} but the mapping matches ${pairs} layer pair(s) ` +
          `and ${term} needs ${minimum}; set weights.${term} to 0 or map more layers`,
      );
    }
  }
}
