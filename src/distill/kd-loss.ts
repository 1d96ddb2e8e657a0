/**
 * Classic distillation on the outputs (Hinton et al. 2015, "Distilling the Knowledge in a
 * Neural Network"): soft cross-entropy between temperature-softened logits, or mean squared
 * error for regression heads.
 */
import type { TokenMask } from './hidden-states.js';

/** Logits `[batch, classes]`, or `[batch, tokens, classes]` for token-level heads. */
export interface Logits {
  readonly data: Float32Array | Float64Array;
  readonly dims: readonly number[];
}

/** Options of {@link kdLoss}. */
export interface KdOptions {
  /** `'classification'` (default): soft cross-entropy; `'regression'`: MSE. */
  task?: 'classification' | 'regression';
  /** Softmax temperature T of both sides (default 1; classification only). */
  temperature?: number;
  /** Multiply the soft cross-entropy by T^2, as Hinton et al. suggest (default false). */
  temperatureSquared?: boolean;
  /** For `[batch, tokens, classes]` logits: which tokens count (default all). */
  mask?: TokenMask;
}

function checkLogits(logits: Logits, name: string): number[] {
  if (!(logits?.data instanceof Float32Array || logits?.data instanceof Float64Array)) {
    throw new TypeError(`${name}.data must be a Float32Array or Float64Array`);
  }
  const dims = logits.dims;
  const ok =
    Array.isArray(dims) &&
    (dims.length === 2 || dims.length === 3) &&
    dims.every((d) => Number.isInteger(d) && d >= 1);
  const size = ok ? dims.reduce((a, b) => a * b, 1) : NaN;
  if (!ok || logits.data.length !== size) {
    throw new RangeError(
      `${name} must be row major [batch, classes] or [batch, tokens, classes] with positive ` +
        `dims matching its data; got dims ${JSON.stringify(dims)} and ${logits.data.length} values`,
    );
  }
  return [...dims];
}

/** Indices of the rows (sequences, or tokens of 3-d logits) that count. */
function countedRows(dims: number[], mask: TokenMask | undefined): number[] {
  const rows = dims.length === 2 ? dims[0] : dims[0] * dims[1];
  if (mask !== undefined && dims.length === 3 && mask.length !== rows) {
    throw new RangeError(
      `mask has ${mask.length} entries but the logits have ${dims[0]} x ${dims[1]} tokens; ` +
        'pass the [batch, tokens] attention mask',
    );
  }
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (mask === undefined || dims.length === 2 || mask[r] !== 0) out.push(r);
  }
  return out;
}

/**
 * Writes log softmax(z / T) of one row into `out`. Shifting by the maximum keeps exp finite
 * for any logits.
 */
function logSoftmax(
  z: Float32Array | Float64Array,
  from: number,
  temperature: number,
  out: Float64Array,
): void {
  const classes = out.length;
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, z[from + c] / temperature);
  let total = 0;
  for (let c = 0; c < classes; c++) total += Math.exp(z[from + c] / temperature - max);
  const log = max + Math.log(total);
  for (let c = 0; c < classes; c++) out[c] = z[from + c] / temperature - log;
}

/**
 * Output distillation loss. Classification: the mean over rows of
 * -sum_c softmax(t / T)_c log softmax(s / T)_c (soft cross-entropy; it exceeds the KL by the
 * teacher's entropy, which does not depend on the student), times T^2 when `temperatureSquared`.
 * Regression: mean over every counted value of (s - t)^2. Rows are the batch, or the masked
 * tokens for 3-d logits; no counted row gives 0. O(rows classes).
 * @throws TypeError / RangeError for logits of another type or shape, different teacher and
 * student dims, a temperature that is not positive, or a mask that does not fit.
 *
 * @example
 * ```ts
 * const teacher = { data: Float32Array.from([2, 0, -1]), dims: [1, 3] };
 * const student = { data: Float32Array.from([1, 1, 0]), dims: [1, 3] };
 * kdLoss(teacher, student); // 0.90400487...
 * kdLoss(teacher, student, { temperature: 2, temperatureSquared: true }); // 4.11256911...
 * kdLoss(teacher, student, { task: 'regression' }); // 1
 * ```
 */
export function kdLoss(teacher: Logits, student: Logits, options: KdOptions = {}): number {
  const { task = 'classification', temperature = 1, temperatureSquared = false, mask } = options;
  const dimsT = checkLogits(teacher, 'teacher logits');
  const dimsS = checkLogits(student, 'student logits');
  if (dimsT.join() !== dimsS.join()) {
    throw new RangeError(
      `teacher logits have dims [${dimsT.join(', ')}] but student logits [${dimsS.join(', ')}]; ` +
        'both heads must give one score per class for the same inputs',
    );
  }
  if (task !== 'classification' && task !== 'regression') {
    throw new RangeError(`task must be 'classification' or 'regression', got '${String(task)}'`);
  }
  if (!(temperature > 0 && Number.isFinite(temperature))) {
    throw new RangeError(`temperature must be a positive number, got ${String(temperature)}`);
  }
  const classes = dimsT[dimsT.length - 1];
  const rows = countedRows(dimsT, mask);
  if (rows.length === 0) return 0;
  if (task === 'regression') {
    let sum = 0;
    for (const r of rows) {
      for (let c = 0; c < classes; c++) {
        const e = student.data[r * classes + c] - teacher.data[r * classes + c];
        sum += e * e;
      }
    }
    return sum / (rows.length * classes);
  }
  const logP = new Float64Array(classes);
  const logQ = new Float64Array(classes);
  let sum = 0;
  for (const r of rows) {
    logSoftmax(teacher.data, r * classes, temperature, logP);
    logSoftmax(student.data, r * classes, temperature, logQ);
    for (let c = 0; c < classes; c++) sum -= Math.exp(logP[c]) * logQ[c];
  }
  const scale = temperatureSquared ? temperature * temperature : 1;
  return (scale * sum) / rows.length;
}
