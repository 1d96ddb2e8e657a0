/**
 * Which teacher layer each student layer learns from. Layers are counted as hidden states, the
 * embedding output first: a 12-layer BERT has 13, a 6-layer student 7.
 */

/** One matched pair: indices into the teacher's and the student's lists of hidden states. */
export interface LayerPair {
  readonly teacher: number;
  readonly student: number;
}

/** The named mappings; see {@link layerMapping}. */
export type MappingKind = 'emb+skip' | 'uniform' | 'last';

/** The mapping kinds, for error messages and command lines. */
export const MAPPING_KINDS: readonly MappingKind[] = Object.freeze(['emb+skip', 'uniform', 'last']);

/** A named mapping, or an explicit list of `[teacher, student]` index pairs. */
export type LayerMappingSpec = MappingKind | readonly (readonly [number, number])[];

/** The layer counts of {@link layerMapping}: hidden states, the embedding output included. */
export interface LayerCounts {
  /** The teacher's number of hidden states (13 for a 12-layer BERT). */
  teacherLayers: number;
  /** The student's number of hidden states. */
  studentLayers: number;
}

function checkCount(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `${name} must be a positive integer (the number of hidden states, embedding included), ` +
        `got ${String(value)}`,
    );
  }
}

function embSkip(teacherLayers: number, studentLayers: number): LayerPair[] {
  const step = (teacherLayers - 1) / (studentLayers - 1);
  if (studentLayers < 2 || !Number.isInteger(step)) {
    throw new RangeError(
      `'emb+skip' needs the teacher's ${teacherLayers - 1} layers to be a multiple of the ` +
        `student's ${studentLayers - 1} (hidden states minus the embedding); use 'uniform' ` +
        'for other counts',
    );
  }
  return Array.from({ length: studentLayers }, (_, l) => ({ teacher: l * step, student: l }));
}

function uniform(teacherLayers: number, studentLayers: number): LayerPair[] {
  if (studentLayers < 2 || teacherLayers < 2) {
    throw new RangeError(
      `'uniform' maps transformer layers and needs at least 2 hidden states on each side, got ` +
        `teacher ${teacherLayers} and student ${studentLayers}; use 'last' or a list`,
    );
  }
  // floor(l (T - 1) / (S - 1) + 1/2) in integers, so that no rounding error moves a half.
  const span = teacherLayers - 1;
  const parts = studentLayers - 1;
  return Array.from({ length: parts }, (_, i) => ({
    teacher: Math.floor((2 * (i + 1) * span + parts) / (2 * parts)),
    student: i + 1,
  }));
}

function explicit(
  pairs: readonly (readonly [number, number])[],
  teacherLayers: number,
  studentLayers: number,
): LayerPair[] {
  if (pairs.length === 0) throw new RangeError('the layer mapping list is empty; give one pair');
  return pairs.map((pair, i) => {
    const [teacher, student] = Array.isArray(pair) ? pair : [NaN, NaN];
    if (!Number.isInteger(teacher) || teacher < 0 || teacher >= teacherLayers) {
      throw new RangeError(
        `mapping[${i}] names teacher layer ${String(teacher)}, but the teacher has hidden states ` +
          `0..${teacherLayers - 1}`,
      );
    }
    if (!Number.isInteger(student) || student < 0 || student >= studentLayers) {
      throw new RangeError(
        `mapping[${i}] names student layer ${String(student)}, but the student has hidden states ` +
          `0..${studentLayers - 1}`,
      );
    }
    return { teacher, student };
  });
}

/**
 * Matches teacher layers to student layers, as in the layer-to-layer distillation of TinyBERT
 * (Jiao et al. 2020) and CKD (Park et al. 2021). Counts are hidden states, embedding included.
 *
 * - `'emb+skip'`: the embeddings, then every k-th teacher layer to each student layer: student
 *   l to teacher l k with k = (teacherLayers - 1) / (studentLayers - 1), which must be an
 *   integer (12 to 6 layers: k = 2; 12 to 4: k = 3).
 * - `'uniform'`: transformer layers only, spread evenly for any counts: student l (1..S-1) to
 *   teacher floor(l (T - 1) / (S - 1) + 1/2). It equals `'emb+skip'` without the embedding
 *   pair when k is an integer.
 * - `'last'`: the last hidden states only.
 * - a list of `[teacher, student]` index pairs, used as given.
 *
 * @param kind the mapping kind or an explicit list.
 * @param counts the teacher's and the student's numbers of hidden states.
 * @throws RangeError for a count that is not a positive integer, a kind that does not fit the
 * counts, an unknown kind, or a list naming a layer the model does not have.
 *
 * @example
 * ```ts
 * layerMapping('emb+skip', { teacherLayers: 13, studentLayers: 5 });
 * // [{ teacher: 0, student: 0 }, { teacher: 3, student: 1 }, { teacher: 6, student: 2 },
 * //  { teacher: 9, student: 3 }, { teacher: 12, student: 4 }]
 * layerMapping('uniform', { teacherLayers: 13, studentLayers: 6 }).map((p) => p.teacher);
 * // [2, 5, 7, 10, 12]
 * ```
 */
export function layerMapping(kind: LayerMappingSpec, counts: LayerCounts): LayerPair[] {
  const { teacherLayers, studentLayers } = counts ?? ({} as Partial<LayerCounts>);
  checkCount(teacherLayers, 'teacherLayers');
  checkCount(studentLayers, 'studentLayers');
  if (Array.isArray(kind)) return explicit(kind, teacherLayers, studentLayers);
  switch (kind) {
    case 'emb+skip':
      return embSkip(teacherLayers, studentLayers);
    case 'uniform':
      return uniform(teacherLayers, studentLayers);
    case 'last':
      return [{ teacher: teacherLayers - 1, student: studentLayers - 1 }];
    default:
      throw new RangeError(
        `layer mapping '${String(kind)}' is not one of ${MAPPING_KINDS.join(', ')} or a list ` +
          'of [teacher, student] index pairs',
      );
  }
}
