/**
 * The metrics of a split and of an OOD split against its in-distribution split, computed from
 * records in sample order.
 */
import { ece, rmsCalibrationError } from './metrics/calibration.js';
import { confusionMatrix, perClassAccuracy } from './metrics/accuracy.js';
import { aupr, auroc, fpr95, prCurve, rocCurve } from './metrics/ood.js';
import { canonicalRecords, type SampleRecord } from './records.js';

/** Accuracy and calibration of a labelled split. */
export interface SplitMetrics {
  /** Samples scored with finite logits. */
  n: number;
  /** Samples whose logits held NaN or an infinity: counted here, in no other metric. */
  nonFinite: number;
  nonFiniteIds: string[];
  top1: number;
  top5: number;
  meanConfidence: number;
  /** Expected calibration error, 15 equal-width bins. */
  ece: number;
  /** RMS calibration error, adaptive bins of 100 samples (ImageNet-A's evaluation). */
  rmsCalibrationError: number;
  nll: number;
  brier: number;
  perClassAccuracy: number[];
  /**
   * Rows: true class; columns: predicted class, one more for each class the model predicted
   * that the split does not have. Only for at most 100 columns.
   */
  confusion?: number[][];
  /** The reliability diagram's bins. */
  reliability: {
    lower: number;
    upper: number;
    count: number;
    accuracy: number;
    confidence: number;
  }[];
}

/** Options of the split metrics. */
export interface MetricOptions {
  /** Bins of the expected calibration error (default 15). */
  eceBins?: number;
  /** Samples per bin of the RMS calibration error (default 100). */
  rmsBinSize?: number;
}

function mean(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length ? s / values.length : NaN;
}

/** Accuracy and calibration of a labelled split from its records. */
export function splitMetrics(
  records: readonly SampleRecord[],
  classes: number,
  options: MetricOptions = {},
): SplitMetrics {
  const all = canonicalRecords(records);
  const scored = all.filter((r) => r.finite);
  const n = scored.length;
  const conf = Float64Array.from(scored, (r) => r.conf);
  const correct = Uint8Array.from(scored, (r) => (r.rank === 0 ? 1 : 0));
  const top5 = scored.filter((r) => r.rank < 5).length;
  const preds = Int32Array.from(scored, (r) => r.pred);
  const labels = Int32Array.from(scored, (r) => r.y);
  // A model may predict a class the split does not have (5 of its 10 classes in the data): such
  // a prediction is a mistake, and the matrix gets a column for it.
  const width = preds.reduce((m, p) => Math.max(m, p + 1), classes);
  const matrix = confusionMatrix(preds, labels, width);
  const bins = options.eceBins ?? 15;
  const binSize = options.rmsBinSize ?? 100;
  return {
    n,
    nonFinite: all.length - n,
    nonFiniteIds: all.filter((r) => !r.finite).map((r) => r.id),
    top1: n ? correct.reduce((a, b) => a + b, 0) / n : NaN,
    top5: n ? top5 / n : NaN,
    meanConfidence: mean(conf),
    ece: n ? ece(conf, correct, { bins }) : NaN,
    rmsCalibrationError: n >= binSize ? rmsCalibrationError(conf, correct, { binSize }) : NaN,
    nll: mean(Float64Array.from(scored, (r) => r.nll)),
    brier: mean(Float64Array.from(scored, (r) => r.brier)),
    perClassAccuracy: Array.from(perClassAccuracy(matrix, width).subarray(0, classes)),
    confusion: width <= 100 ? rowsOf(matrix, classes, width) : undefined,
    reliability: reliabilityBins(conf, correct, bins),
  };
}

function rowsOf(matrix: Int32Array, rows: number, width: number): number[][] {
  return Array.from({ length: rows }, (_, r) =>
    Array.from(matrix.subarray(r * width, (r + 1) * width)),
  );
}

function reliabilityBins(
  conf: Float64Array,
  correct: Uint8Array,
  bins: number,
): SplitMetrics['reliability'] {
  const count = new Float64Array(bins);
  const hits = new Float64Array(bins);
  const sum = new Float64Array(bins);
  for (let i = 0; i < conf.length; i++) {
    const b = Math.min(bins - 1, Math.floor(conf[i] * bins));
    count[b]++;
    hits[b] += correct[i];
    sum[b] += conf[i];
  }
  return Array.from({ length: bins }, (_, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: count[b],
    accuracy: count[b] ? hits[b] / count[b] : NaN,
    confidence: count[b] ? sum[b] / count[b] : NaN,
  }));
}

/** The anomaly scores ortlab reports; higher means more likely out of distribution. */
export const ANOMALY_SCORES = Object.freeze({
  /** Negative maximum softmax probability (Hendrycks and Gimpel, 2017). */
  msp: (r: SampleRecord) => -r.conf,
  /** Negative maximum logit (Hendrycks et al., 2022). */
  maxLogit: (r: SampleRecord) => -r.maxLogit,
  /** Energy, -T log-sum-exp(logits / T) (Liu et al., 2020). */
  energy: (r: SampleRecord) => -r.lse,
  /** Entropy of the softmax. */
  entropy: (r: SampleRecord) => r.entropy,
});

export type AnomalyScoreName = keyof typeof ANOMALY_SCORES;

/** Detection quality with one class taken as positive. */
export interface Detection {
  auroc: number;
  aupr: number;
  fpr95: number;
}

/** OOD detection of an OOD split against its in-distribution split. */
export interface OodMetrics {
  inDistribution: string;
  nIn: number;
  nOut: number;
  /** Per anomaly score: OOD as the positive class (as ImageNet-O reports) and ID as positive. */
  scores: Record<AnomalyScoreName, { outPositive: Detection; inPositive: Detection }>;
  /** ROC and PR curves of the maximum-softmax score, OOD positive, thinned for charts. */
  curves: { roc: { fpr: number[]; tpr: number[] }; pr: { precision: number[]; recall: number[] } };
}

function detection(scores: Float64Array, labels: Uint8Array): Detection {
  return { auroc: auroc(scores, labels), aupr: aupr(scores, labels), fpr95: fpr95(scores, labels) };
}

/** Keeps at most `max` points of a curve, always the first and last. */
function thin(values: ArrayLike<number>, max = 200): number[] {
  const step = Math.max(1, Math.ceil(values.length / max));
  const out: number[] = [];
  for (let i = 0; i < values.length; i += step) out.push(values[i]);
  if ((values.length - 1) % step !== 0) out.push(values[values.length - 1]);
  return out;
}

/** OOD detection metrics from the records of an in-distribution and an OOD split. */
export function oodMetrics(
  inRecords: readonly SampleRecord[],
  outRecords: readonly SampleRecord[],
  inDistribution: string,
): OodMetrics {
  const ins = canonicalRecords(inRecords).filter((r) => r.finite);
  const outs = canonicalRecords(outRecords).filter((r) => r.finite);
  if (ins.length === 0 || outs.length === 0) {
    // Nothing to separate: every sample of one side had non-finite logits or was skipped.
    const none: Detection = { auroc: NaN, aupr: NaN, fpr95: NaN };
    const scores = Object.fromEntries(
      Object.keys(ANOMALY_SCORES).map((k) => [k, { outPositive: none, inPositive: none }]),
    ) as OodMetrics['scores'];
    const curves = { roc: { fpr: [], tpr: [] }, pr: { precision: [], recall: [] } };
    return { inDistribution, nIn: ins.length, nOut: outs.length, scores, curves };
  }
  const labels = new Uint8Array(ins.length + outs.length);
  labels.fill(1, ins.length);
  const inverted = Uint8Array.from(labels, (v) => 1 - v);
  const scores = {} as OodMetrics['scores'];
  let msp = new Float64Array(0);
  for (const [name, score] of Object.entries(ANOMALY_SCORES) as [
    AnomalyScoreName,
    (r: SampleRecord) => number,
  ][]) {
    const values = Float64Array.from([...ins, ...outs], score);
    if (name === 'msp') msp = values;
    scores[name] = {
      outPositive: detection(values, labels),
      inPositive: detection(
        values.map((v) => -v),
        inverted,
      ),
    };
  }
  const roc = rocCurve(msp, labels);
  const pr = prCurve(msp, labels);
  return {
    inDistribution,
    nIn: ins.length,
    nOut: outs.length,
    scores,
    curves: {
      roc: { fpr: thin(roc.fpr), tpr: thin(roc.tpr) },
      pr: { precision: thin(pr.precision), recall: thin(pr.recall) },
    },
  };
}
