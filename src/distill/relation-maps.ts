/**
 * The relations CKD matches, as matrices to look at: cosines between every two tokens of one
 * layer (word relation) and between the matched layers of each token (layer transforming
 * relation, averaged over the sentence's tokens). The HTML report draws them as heatmaps.
 */
import type { LayerPair } from './layer-mapping.js';

/** One sentence's hidden states: `layers[l]` row major `[tokens, hidden]`. */
export interface SentenceStates {
  readonly layers: readonly Float32Array[];
  readonly tokens: number;
  readonly hidden: number;
}

/** Cosines of every two rows of `x` (`[rows, cols]`), row major `[rows, rows]`, in float64. */
export function cosineMatrix(x: Float32Array, rows: number, cols: number): Float64Array {
  const norms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let k = 0; k < cols; k++) sum += x[i * cols + k] * x[i * cols + k];
    norms[i] = Math.sqrt(sum) || 1;
  }
  const out = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let dot = 0;
      for (let k = 0; k < cols; k++) dot += x[i * cols + k] * x[j * cols + k];
      const c = dot / (norms[i] * norms[j]);
      out[i * rows + j] = c;
      out[j * rows + i] = c;
    }
  }
  return out;
}

/** Word relation of one layer: token-by-token cosines `[tokens, tokens]`. */
export function wordRelationMap(states: SentenceStates, layer: number): Float64Array {
  return cosineMatrix(states.layers[layer], states.tokens, states.hidden);
}

/**
 * Layer transforming relation: for each token, the cosines between its representations in
 * `layers` (in that order), averaged over the tokens; `[L, L]` for L layers.
 */
export function layerRelationMap(states: SentenceStates, layers: readonly number[]): Float64Array {
  const count = layers.length;
  const { tokens, hidden } = states;
  const stack = new Float32Array(count * hidden);
  const out = new Float64Array(count * count);
  for (let t = 0; t < tokens; t++) {
    layers.forEach((l, i) => {
      stack.set(states.layers[l].subarray(t * hidden, (t + 1) * hidden), i * hidden);
    });
    const cos = cosineMatrix(stack, count, hidden);
    for (let k = 0; k < out.length; k++) out[k] += cos[k] / tokens;
  }
  return out;
}

/** A square matrix for JSON: rows of numbers rounded to 4 decimals. */
export function roundedRows(matrix: Float64Array, size: number): number[][] {
  return Array.from({ length: size }, (_, i) =>
    Array.from(matrix.subarray(i * size, (i + 1) * size), (v) => Math.round(v * 1e4) / 1e4),
  );
}

/** Heatmaps of one sentence: word relations per matched pair and the layer relation. */
export interface RelationMaps {
  /** Per matched pair, in mapping order: teacher and student token cosines. */
  word: { teacher: number; student: number; teacherMap: number[][]; studentMap: number[][] }[];
  /** Token cosines across the matched layers, averaged over tokens. */
  layer: { teacherMap: number[][]; studentMap: number[][] };
}

/** The relation maps of one sentence under a mapping. */
export function relationMaps(
  teacher: SentenceStates,
  student: SentenceStates,
  mapping: readonly LayerPair[],
): RelationMaps {
  const n = teacher.tokens;
  const word = mapping.map((pair) => ({
    teacher: pair.teacher,
    student: pair.student,
    teacherMap: roundedRows(wordRelationMap(teacher, pair.teacher), n),
    studentMap: roundedRows(wordRelationMap(student, pair.student), n),
  }));
  const p = mapping.length;
  const teacherLayers = mapping.map((m) => m.teacher);
  const studentLayers = mapping.map((m) => m.student);
  return {
    word,
    layer: {
      teacherMap: roundedRows(layerRelationMap(teacher, teacherLayers), p),
      studentMap: roundedRows(layerRelationMap(student, studentLayers), p),
    },
  };
}
