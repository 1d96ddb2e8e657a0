/**
 * Layer Transforming Relation (LTR) losses of Contextual Knowledge Distillation (Park et al.
 * 2021): for each real token, the relations between its representations in the L matched
 * layers, i.e. how the token changes through the network. The same relations as the word
 * relations with layers in place of tokens: pair-wise (L x L cosines, diagonal left out, rows
 * softmaxed, KL), angle-wise over every layer triplet (no window: L is small) and distances.
 *
 * Padding: padded positions are left out; the loss is averaged over every valid (token, layer
 * pair) or (token, layer triplet) of the batch pooled, and 0 for a batch without real tokens.
 */
import { layerGrams, type GramSet } from './gram-sets.js';
import {
  checkLayerList,
  checkSameInputs,
  validTokens,
  type HiddenStates,
  type TokenMask,
} from './hidden-states.js';
import { layerMapping, type LayerMappingSpec, type LayerPair } from './layer-mapping.js';
import { checkDistanceOptions } from './loss-options.js';
import { angleMse, distanceLoss, meanOf, pairKl, type DistanceOptions } from './relations.js';

/** Options of the layer-transforming-relation losses. */
export interface LayerRelationOptions {
  /** Padding mask `[batch, tokens]`, nonzero for real tokens (default: every token is real). */
  mask?: TokenMask;
  /**
   * Which layers to match (see `layerMapping`); default: the lists are already matched, the
   * l-th teacher layer to the l-th student layer, and must have the same length.
   */
  mapping?: LayerMappingSpec;
}

/** Options of {@link ltrDistanceLoss}. */
export type LayerDistanceOptions = LayerRelationOptions & DistanceOptions;

/**
 * The matched layers of both models, checked, with at least `minimum` pairs.
 * @throws RangeError when the lists differ in length without a mapping, or hold fewer pairs
 * than the relation needs.
 */
export function matchedLayers(
  teacher: readonly HiddenStates[],
  student: readonly HiddenStates[],
  options: { mapping?: LayerMappingSpec; minimum: number; term: string },
): { teacher: HiddenStates[]; student: HiddenStates[]; pairs: LayerPair[] } {
  const shapeT = checkLayerList(teacher, 'teacher');
  const shapeS = checkLayerList(student, 'student');
  checkSameInputs(shapeT, shapeS);
  let pairs: LayerPair[];
  if (options.mapping === undefined) {
    if (teacher.length !== student.length) {
      throw new RangeError(
        `${options.term} got ${teacher.length} teacher and ${student.length} student layers ` +
          'without a mapping; pass matched lists of the same length, or options.mapping',
      );
    }
    pairs = teacher.map((_, l) => ({ teacher: l, student: l }));
  } else {
    pairs = layerMapping(options.mapping, {
      teacherLayers: teacher.length,
      studentLayers: student.length,
    });
  }
  if (pairs.length < options.minimum) {
    throw new RangeError(
      `${options.term} relates at least ${options.minimum} matched layers, got ${pairs.length}; ` +
        "choose a mapping with more pairs ('emb+skip', 'uniform' or a list)",
    );
  }
  return {
    teacher: pairs.map((p) => teacher[p.teacher]),
    student: pairs.map((p) => student[p.student]),
    pairs,
  };
}

function grams(
  teacher: readonly HiddenStates[],
  student: readonly HiddenStates[],
  options: LayerRelationOptions & { minimum: number; term: string },
): [GramSet, GramSet] {
  const { teacher: t, student: s } = matchedLayers(teacher, student, options);
  const valid = validTokens(options.mask, {
    batch: t[0].dims[0],
    tokens: t[0].dims[1],
    hidden: t[0].dims[2],
  });
  return [layerGrams(t, valid), layerGrams(s, valid)];
}

/**
 * LTR pair-wise loss: per real token, p_l = softmax over l' != l of cos(h_l, h_l') across the
 * L matched teacher layers, q_l the same for the student; sum of KL(p_l || q_l) divided by
 * tokens x L (L - 1), the number of (token, l, l') with l != l'. O(tokens L^2 hidden).
 *
 * @example
 * ```ts
 * const layer = (values: number[]) => ({ data: Float32Array.from(values), dims: [1, 1, 2] });
 * const teacher = [layer([1, 0]), layer([0, 1]), layer([1, 1])];
 * const student = [layer([1, 0]), layer([1, 1]), layer([0, 1])];
 * ltrPairLoss(teacher, student); // 0.06001977...
 * ```
 */
export function ltrPairLoss(
  teacher: readonly HiddenStates[],
  student: readonly HiddenStates[],
  options: LayerRelationOptions = {},
): number {
  const [t, s] = grams(teacher, student, { ...options, minimum: 2, term: 'ltrPairLoss' });
  return meanOf(pairKl(t, s));
}

/**
 * LTR angle loss: per real token, for every layer triplet (a, l, l') of distinct matched
 * layers, the cosine of the angle at h_a between h_l - h_a and h_l' - h_a; mean squared
 * teacher-student difference over tokens x L (L - 1) (L - 2) ordered triplets. O(tokens L^3).
 *
 * @example
 * ```ts
 * const layer = (values: number[]) => ({ data: Float32Array.from(values), dims: [1, 1, 2] });
 * const teacher = [layer([1, 0]), layer([0, 1]), layer([1, 1])];
 * const student = [layer([1, 0]), layer([1, 1]), layer([0, 1])];
 * ltrAngleLoss(teacher, student); // 0.33333333...
 * ```
 */
export function ltrAngleLoss(
  teacher: readonly HiddenStates[],
  student: readonly HiddenStates[],
  options: LayerRelationOptions = {},
): number {
  const [t, s] = grams(teacher, student, { ...options, minimum: 3, term: 'ltrAngleLoss' });
  return meanOf(angleMse(t, s, Infinity));
}

/**
 * LTR distance loss: per real token, |h_l - h_l'| over matched layers l != l', divided by that
 * token's mean when `normalize` (default), then Huber (default), L1 or MSE, averaged over
 * (token, l, l').
 *
 * @example
 * ```ts
 * const layer = (values: number[]) => ({ data: Float32Array.from(values), dims: [1, 1, 2] });
 * const teacher = [layer([1, 0]), layer([0, 1]), layer([1, 1])];
 * const student = [layer([1, 0]), layer([1, 1]), layer([0, 1])];
 * ltrDistanceLoss(teacher, student, { loss: 'l1', normalize: false }); // 0.27614237...
 * ```
 */
export function ltrDistanceLoss(
  teacher: readonly HiddenStates[],
  student: readonly HiddenStates[],
  options: LayerDistanceOptions = {},
): number {
  checkDistanceOptions(options);
  const [t, s] = grams(teacher, student, { ...options, minimum: 2, term: 'ltrDistanceLoss' });
  return meanOf(distanceLoss(t, s, options));
}
