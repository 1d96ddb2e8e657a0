/**
 * Per-sample results. Every metric of a split is computed from these records, taken in sample
 * order, so that records from shards, from a resumed run or from one uninterrupted run give
 * bit-identical metrics. A record holds what the metrics need and no more (not the logits).
 */

/** What one scored sample contributes to every metric. */
export interface SampleRecord {
  /** Position in the dataset. */
  i: number;
  /** The sample's id (a path relative to the dataset root, or `name#index`). */
  id: string;
  /** True class index within the scored classes; -1 when the split has no labels (OOD). */
  y: number;
  /** Predicted class (argmax of the scored logits). */
  pred: number;
  /** Number of classes scored strictly above the true class (0 = correct top-1). */
  rank: number;
  /** Maximum softmax probability. */
  conf: number;
  /** Maximum logit. */
  maxLogit: number;
  /** log-sum-exp of the logits divided by the temperature, times the temperature. */
  lse: number;
  /** Entropy of the softmax, in nats. */
  entropy: number;
  /** Negative log-likelihood of the true class (NaN without a label). */
  nll: number;
  /** Squared error between the softmax and the one-hot label (NaN without a label). */
  brier: number;
  /** False when a logit was NaN or infinite; such a record counts in no metric. */
  finite: boolean;
}

/** Options of `recordsFromLogits`. */
export interface RecordOptions {
  /**
   * Indices of the logits to keep, in order, before softmax and argmax (ImageNet-A, -R and -O
   * restrict the 1000 logits to their 200 classes). Default all.
   */
  classIndices?: readonly number[];
  /** Temperature of the energy score (default 1). */
  temperature?: number;
}

/**
 * Turns a batch of logits `[rows, width]` into records. O(rows x classes); one small scratch
 * array per batch.
 */
export function recordsFromLogits(
  logits: Float32Array,
  width: number,
  samples: readonly { index: number; id: string; label: number }[],
  options: RecordOptions = {},
): SampleRecord[] {
  const rows = samples.length;
  if (logits.length !== rows * width) {
    throw new RangeError(
      `logits hold ${logits.length} values; ${rows} rows x ${width} classes need ${rows * width}`,
    );
  }
  const keep = options.classIndices;
  const classes = keep ? keep.length : width;
  if (keep) {
    for (const k of keep) {
      if (!(Number.isInteger(k) && k >= 0 && k < width)) {
        throw new RangeError(`class index ${k} is outside the model's ${width} outputs`);
      }
    }
  }
  const t = options.temperature ?? 1;
  if (!(t > 0)) throw new RangeError(`temperature must be > 0, got ${t}`);
  const x = new Float64Array(classes);
  const out: SampleRecord[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    let finite = true;
    for (let c = 0; c < classes; c++) {
      x[c] = logits[base + (keep ? keep[c] : c)];
      if (!Number.isFinite(x[c])) finite = false;
    }
    const { index, id, label } = samples[r];
    if (label >= classes) {
      throw new RangeError(
        `label ${label} of sample '${id}' is outside the ${classes} classes scored`,
      );
    }
    out.push(finite ? scoreRow(x, classes, label, t, index, id) : nonFinite(index, id, label));
  }
  return out;
}

function nonFinite(i: number, id: string, y: number): SampleRecord {
  return {
    i,
    id,
    y,
    pred: -1,
    rank: -1,
    conf: NaN,
    maxLogit: NaN,
    lse: NaN,
    entropy: NaN,
    nll: NaN,
    brier: NaN,
    finite: false,
  };
}

function scoreRow(
  x: Float64Array,
  classes: number,
  y: number,
  t: number,
  i: number,
  id: string,
): SampleRecord {
  let max = -Infinity;
  let pred = 0;
  for (let c = 0; c < classes; c++) {
    if (x[c] > max) {
      max = x[c];
      pred = c;
    }
  }
  let sum = 0;
  let weighted = 0;
  for (let c = 0; c < classes; c++) {
    const e = Math.exp(x[c] - max);
    sum += e;
    weighted += e * x[c];
  }
  const logSum = max + Math.log(sum);
  // Entropy of softmax: log-sum-exp minus the probability-weighted mean logit.
  const entropy = logSum - weighted / sum;
  let lse = logSum;
  if (t !== 1) {
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp((x[c] - max) / t);
    lse = max + t * Math.log(s);
  }
  let rank = -1;
  let nll = NaN;
  let brier = NaN;
  if (y >= 0) {
    rank = 0;
    let squares = 0;
    for (let c = 0; c < classes; c++) {
      if (x[c] > x[y]) rank++;
      const p = Math.exp(x[c] - logSum);
      squares += c === y ? (1 - p) * (1 - p) : p * p;
    }
    nll = logSum - x[y];
    brier = squares;
  }
  return {
    i,
    id,
    y,
    pred,
    rank,
    conf: 1 / sum,
    maxLogit: max,
    lse,
    entropy,
    nll,
    brier,
    finite: true,
  };
}

/** Orders records by sample index, dropping duplicates (a sample scored twice counts once). */
export function canonicalRecords(records: readonly SampleRecord[]): SampleRecord[] {
  const byIndex = new Map<number, SampleRecord>();
  for (const r of records) if (!byIndex.has(r.i)) byIndex.set(r.i, r);
  return [...byIndex.values()].sort((a, b) => a.i - b.i);
}
