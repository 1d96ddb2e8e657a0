/**
 * The metric reference fixture written by tools/fixtures/metrics_reference.py (scikit-learn
 * 1.2.1 and numpy), and a comparison that prints the index and both values of the worst miss.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';

/** Absolute tolerance of every fixture comparison: float64 on both sides, different sum orders. */
export const TOLERANCE = 1e-9;

export interface OodCase {
  name: string;
  scores: number[];
  labels: number[];
  auroc: number;
  aupr: number;
  fprAtRecall: { recall: number; fpr: number }[];
  roc: { fpr: number[]; tpr: number[]; thresholds: number[] };
  pr: { precision: number[]; recall: number[]; thresholds: number[] };
}

export interface CalibrationCase {
  name: string;
  confidences: number[];
  correct: number[];
  ece: { bins: number; value: number }[];
  /** `value` is null where the reference code fails (fewer samples than binSize). */
  rms: { binSize: number; value: number | null }[];
}

export interface LogitsCase {
  name: string;
  rows: number;
  classes: number;
  logits: number[];
  labels: number[];
  softmax: number[];
  nll: number;
  brier: number;
  negMaxSoftmax: number[];
  negMaxLogit: number[];
  energy: { temperature: number; value: number[] }[];
  entropy: number[];
  argmax: number[];
  /** Non-zero cells as [label, prediction, count]. */
  confusion: [number, number, number][];
  /** null for a class with no samples. */
  perClassAccuracy: (number | null)[];
  labelRanks: number[];
  topK: { k: number; value: number }[];
}

export interface MetricsReference {
  sklearn: string;
  numpy: string;
  ood: OodCase[];
  calibration: CalibrationCase[];
  logits: LogitsCase[];
}

export const reference = JSON.parse(
  readFileSync('test/fixtures/metrics-reference.json', 'utf8'),
) as MetricsReference;

/**
 * Fails with the index and both values of the largest difference above `tolerance`. NaN (or a
 * null in the fixture) matches only NaN.
 */
export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number | null>,
  what: string,
  tolerance = TOLERANCE,
): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? NaN;
    const a = actual[i];
    const d = a === e || (Number.isNaN(a) && Number.isNaN(e)) ? 0 : Math.abs(a - e);
    if (Number.isNaN(d)) {
      expect.fail(`${what}: index ${i} is ${a}, expected ${e}`);
    }
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  if (worst > tolerance) {
    expect.fail(
      `${what}: |difference| ${worst} at index ${at} (actual ${actual[at]}, expected ` +
        `${expected[at]}) exceeds ${tolerance}`,
    );
  }
}

/** Scalar version of `expectAllClose`. */
export function expectClose(actual: number, expected: number, what: string): void {
  expectAllClose([actual], [expected], what);
}
