import { expect } from 'chai';

import {
  addConfusion,
  addEce,
  addTopK,
  confusionMatrix,
  ece,
  eceFromState,
  emptyConfusion,
  emptyEce,
  emptyTopK,
  mergeConfusion,
  mergeEce,
  mergeTopK,
  type ConfusionState,
  type EceState,
  type TopKState,
} from '../../../src/eval/metrics/index.js';
import { reference } from './reference.js';

/** Uneven shard boundaries, as fractions of the sample count. */
const CUTS = [0, 0.137, 0.5, 0.731, 1];

function shards(n: number): [number, number][] {
  const edges = CUTS.map((f) => Math.round(f * n));
  return edges.slice(1).map((end, i) => [edges[i], end]);
}

describe('mergeable states: whole run vs merged disjoint shards', () => {
  const calib = reference.calibration[0];
  const logitsCase = reference.logits[2];

  it(`confusion counts are identical (${logitsCase.name})`, () => {
    const { classes, argmax: preds, labels } = logitsCase;
    let merged: ConfusionState = emptyConfusion(classes);
    for (const [start, end] of shards(labels.length)) {
      const shard = emptyConfusion(classes);
      addConfusion(shard, preds.slice(start, end), labels.slice(start, end));
      merged = mergeConfusion(merged, shard);
    }
    expect(Array.from(merged.counts)).to.deep.equal(
      Array.from(confusionMatrix(preds, labels, classes)),
    );
  });

  it(`top-k counts are identical (${logitsCase.name})`, () => {
    const { classes, rows, logits, labels } = logitsCase;
    const scores = Float64Array.from(logits);
    const whole = emptyTopK(5);
    addTopK(whole, scores, labels, classes);
    let merged: TopKState = emptyTopK(5);
    for (const [start, end] of shards(rows)) {
      const shard = emptyTopK(5);
      addTopK(
        shard,
        scores.subarray(start * classes, end * classes),
        labels.slice(start, end),
        classes,
      );
      merged = mergeTopK(merged, shard);
    }
    expect(merged).to.deep.equal(whole);
  });

  it(`ece agrees within 1e-12 (${calib.name})`, () => {
    const confidences = Float64Array.from(calib.confidences);
    const correct = Uint8Array.from(calib.correct);
    let merged: EceState = emptyEce(15);
    for (const [start, end] of shards(confidences.length)) {
      const shard = emptyEce(15);
      addEce(shard, confidences.subarray(start, end), correct.subarray(start, end));
      merged = mergeEce(merged, shard);
    }
    const whole = ece(confidences, correct);
    const diff = Math.abs(eceFromState(merged) - whole);
    expect(diff, `merged ${eceFromState(merged)} vs whole ${whole}`).to.be.at.most(1e-12);
    expect(Array.from(merged.count)).to.deep.equal(
      Array.from(emptyEceWith(confidences, correct).count),
    );
  });

  it('states built with different sizes refuse to merge', () => {
    expect(() => mergeEce(emptyEce(10), emptyEce(15))).to.throw(RangeError, /10 and 15 bins/);
    expect(() => mergeConfusion(emptyConfusion(2), emptyConfusion(3))).to.throw(
      RangeError,
      /2-class confusion state with a 3-class one/,
    );
  });

  it('an empty ECE state gives NaN', () => {
    expect(eceFromState(emptyEce(15))).to.be.NaN;
  });
});

/** One-pass ECE state over all samples. */
function emptyEceWith(confidences: Float64Array, correct: Uint8Array): EceState {
  const state = emptyEce(15);
  addEce(state, confidences, correct);
  return state;
}
