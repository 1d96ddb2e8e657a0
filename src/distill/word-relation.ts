/**
 * Word Relation (WR) losses of Contextual Knowledge Distillation (Park et al. 2021, "Towards
 * Contextual Knowledge Distillation", NAACL): the relations between the tokens of a sequence in
 * one matched pair of teacher and student layers. Relations compare tokens within each model, so
 * the hidden sizes may differ and need no projection.
 *
 * Padding: only a sequence's real tokens (mask nonzero) take part, as i, j or k; "the i-th
 * token" means the i-th real one, so a window over a sequence with holes in its mask spans real
 * tokens. Losses are averaged over every valid pair or triplet of the whole batch pooled, and a
 * batch without any is 0 (an all-padding row, a sequence of 1 token, or of 2 for angles, adds
 * nothing).
 */
import { tokenGrams, type GramSet } from './gram-sets.js';
import {
  checkHiddenStates,
  checkSameInputs,
  validTokens,
  type HiddenStates,
  type TokenMask,
} from './hidden-states.js';
import { checkDistanceOptions, resolveWindow, type AngleWindow } from './loss-options.js';
import { angleMse, distanceLoss, meanOf, pairKl, type DistanceOptions } from './relations.js';

/** Options of the word-relation losses. */
export interface WordRelationOptions {
  /** Padding mask `[batch, tokens]`, nonzero for real tokens (default: every token is real). */
  mask?: TokenMask;
}

/** Options of {@link wrAngleLoss}. */
export interface WordAngleOptions extends WordRelationOptions {
  /** Tokens j, k come from a window of this many real tokens around i (default 21). */
  window?: AngleWindow;
}

/** Options of {@link wrDistanceLoss}. */
export type WordDistanceOptions = WordRelationOptions & DistanceOptions;

function grams(
  teacher: HiddenStates,
  student: HiddenStates,
  mask: TokenMask | undefined,
): [GramSet, GramSet] {
  const shapeT = checkHiddenStates(teacher, 'teacher');
  const shapeS = checkHiddenStates(student, 'student');
  checkSameInputs(shapeT, shapeS);
  const valid = validTokens(mask, shapeT);
  return [tokenGrams(teacher, valid), tokenGrams(student, valid)];
}

/**
 * WR pair-wise loss. Per sequence and real token i, p_i = softmax over real j != i of
 * cos(t_i, t_j) (teacher) and q_i the same for the student; the loss is
 * sum_i KL(p_i || q_i) = sum_{i, j != i} p_ij log(p_ij / q_ij), divided by the number of
 * ordered pairs (i, j), i != j, over the batch: n (n - 1) per sequence of n real tokens.
 * Cosines divide by max(|r|, 1e-12). O(batch tokens^2 hidden) for the Gram matrices.
 *
 * @example
 * ```ts
 * const teacher = { data: Float32Array.from([1, 0, 0, 1, 1, 1]), dims: [1, 3, 2] };
 * const student = { data: Float32Array.from([1, 0, 1, 1, 0, 1]), dims: [1, 3, 2] };
 * wrPairLoss(teacher, student); // 0.06001977...
 * ```
 */
export function wrPairLoss(
  teacher: HiddenStates,
  student: HiddenStates,
  options: WordRelationOptions = {},
): number {
  const [t, s] = grams(teacher, student, options.mask);
  return meanOf(pairKl(t, s));
}

/**
 * WR triplet-wise (angle) loss. For anchor token i and tokens j != k, both != i, of its window,
 * cos of the angle at i = <e_ij, e_ik> with e_ij = (r_j - r_i) / max(|r_j - r_i|, 1e-12); the
 * loss is the mean squared teacher-student difference over those ordered triplets (j == k is
 * left out: its cosine is 1 in both models). The window holds `window` real tokens centred on
 * i, from i - floor(window / 2), shifted to stay inside the sequence's n real tokens; when
 * n <= window it is the whole sequence, the same as `'full'`. O(n window^2) per sequence.
 *
 * @example
 * ```ts
 * const teacher = { data: Float32Array.from([1, 0, 0, 1, 1, 1]), dims: [1, 3, 2] };
 * const student = { data: Float32Array.from([1, 0, 1, 1, 0, 1]), dims: [1, 3, 2] };
 * wrAngleLoss(teacher, student, { window: 'full' }); // 0.33333333...
 * ```
 */
export function wrAngleLoss(
  teacher: HiddenStates,
  student: HiddenStates,
  options: WordAngleOptions = {},
): number {
  const window = resolveWindow(options.window);
  const [t, s] = grams(teacher, student, options.mask);
  return meanOf(angleMse(t, s, window));
}

/**
 * WR distance loss, after RKD's distance term (Park et al. 2019, "Relational Knowledge
 * Distillation"): d_ij = |r_i - r_j| over real i != j, divided by the sequence's mean d when
 * `normalize` (default), then Huber (default), L1 or MSE on teacher minus student, averaged
 * over ordered pairs.
 *
 * @example
 * ```ts
 * const teacher = { data: Float32Array.from([1, 0, 0, 1, 1, 1]), dims: [1, 3, 2] };
 * const student = { data: Float32Array.from([1, 0, 1, 1, 0, 1]), dims: [1, 3, 2] };
 * wrDistanceLoss(teacher, student, { loss: 'l1', normalize: false }); // 0.27614237...
 * ```
 */
export function wrDistanceLoss(
  teacher: HiddenStates,
  student: HiddenStates,
  options: WordDistanceOptions = {},
): number {
  checkDistanceOptions(options);
  const [t, s] = grams(teacher, student, options.mask);
  return meanOf(distanceLoss(t, s, options));
}
