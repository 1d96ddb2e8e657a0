import { expect } from 'chai';

import { aupr, auroc, fpr95, prCurve, rocCurve } from '../../../src/eval/metrics/index.js';
import { expectAllClose, expectClose, reference } from './reference.js';

describe(`OOD metrics against scikit-learn ${reference.sklearn}`, () => {
  for (const c of reference.ood) {
    describe(`case ${c.name} (${c.labels.length} samples)`, () => {
      const scores = Float64Array.from(c.scores);
      const labels = Uint8Array.from(c.labels);

      it('auroc equals roc_auc_score within 1e-9', () => {
        expectClose(auroc(scores, labels), c.auroc, 'auroc');
      });

      it('aupr equals average_precision_score within 1e-9', () => {
        expectClose(aupr(scores, labels), c.aupr, 'aupr');
      });

      it('fpr95 at each recall level equals the first roc_curve point reaching it', () => {
        for (const { recall, fpr } of c.fprAtRecall) {
          expectClose(fpr95(scores, labels, { recall }), fpr, `fpr at recall ${recall}`);
        }
      });

      it('rocCurve equals roc_curve(drop_intermediate=False), first threshold Infinity', () => {
        const roc = rocCurve(scores, labels);
        expectAllClose(roc.fpr, c.roc.fpr, 'fpr');
        expectAllClose(roc.tpr, c.roc.tpr, 'tpr');
        // scikit-learn < 1.3 writes max(scores) + 1 where newer versions and ortlab write Infinity.
        expect(roc.thresholds[0]).to.equal(Infinity);
        expectAllClose(roc.thresholds.subarray(1), c.roc.thresholds.slice(1), 'thresholds', 0);
      });

      it('prCurve equals precision_recall_curve', () => {
        const pr = prCurve(scores, labels);
        expectAllClose(pr.precision, c.pr.precision, 'precision');
        expectAllClose(pr.recall, c.pr.recall, 'recall');
        expectAllClose(pr.thresholds, c.pr.thresholds, 'thresholds', 0);
      });
    });
  }
});

describe('OOD metrics: edge cases', () => {
  it('all-equal scores form one ROC step: auroc 0.5, aupr = prevalence, fpr95 = 1', () => {
    const scores = new Float32Array(8).fill(0.3);
    const labels = [1, 0, 0, 1, 0, 0, 0, 0];
    expect(auroc(scores, labels)).to.equal(0.5);
    expect(aupr(scores, labels)).to.equal(0.25);
    expect(fpr95(scores, labels)).to.equal(1);
    const roc = rocCurve(scores, labels);
    expect(Array.from(roc.fpr)).to.deep.equal([0, 1]);
    expect(Array.from(roc.tpr)).to.deep.equal([0, 1]);
  });

  it('a single positive: auroc is its rank among the negatives, ties counting half', () => {
    const scores = [0.1, 0.5, 0.9, 0.5, 0.2];
    const labels = [0, 1, 0, 0, 0];
    expect(auroc(scores, labels)).to.equal(2.5 / 4);
    expect(aupr(scores, labels)).to.equal(1 / 3);
    expect(fpr95(scores, labels)).to.equal(0.5);
  });

  it('fpr95 at recall 0 is 0 (the point (0, 0)) and at recall 1 reaches every positive', () => {
    const scores = [0.1, 0.9, 0.3, 0.7];
    const labels = [1, 1, 0, 0];
    expect(fpr95(scores, labels, { recall: 0 })).to.equal(0);
    expect(fpr95(scores, labels, { recall: 1 })).to.equal(1);
  });

  it('results do not depend on the order of the samples', () => {
    const c = reference.ood[1];
    const order = c.labels.map((_, i) => (i * 37) % c.labels.length);
    const scores = order.map((i) => c.scores[i]);
    const labels = order.map((i) => c.labels[i]);
    expectClose(auroc(scores, labels), c.auroc, 'permuted auroc');
    expectClose(aupr(scores, labels), c.aupr, 'permuted aupr');
  });

  it('NaN or Infinity in scores is a RangeError naming the index', () => {
    expect(() => auroc([0.1, NaN, 0.3], [0, 1, 1])).to.throw(RangeError, /scores\[1\] is NaN/);
    expect(() => aupr([Infinity, 0.2], [0, 1])).to.throw(RangeError, /scores\[0\] is Infinity/);
  });

  it('labels other than 0 and 1 are a RangeError naming the value', () => {
    expect(() => rocCurve([0.1, 0.2], [0, 2])).to.throw(
      RangeError,
      /labels\[1\] is 2; expected 0 or 1/,
    );
  });

  it('scores and labels of different lengths are a RangeError', () => {
    expect(() => prCurve([0.1, 0.2], [0, 1, 1])).to.throw(
      RangeError,
      /scores holds 2 values but labels holds 3/,
    );
  });

  it('only one class present is a RangeError, as in scikit-learn', () => {
    for (const metric of [auroc, aupr, fpr95, rocCurve, prCurve]) {
      expect(() => metric([0.1, 0.2], [1, 1]), metric.name).to.throw(
        RangeError,
        /2 positives \(1\) and 0 negatives \(0\)/,
      );
      expect(() => metric([0.1, 0.2], [0, 0]), metric.name).to.throw(RangeError, /0 positives/);
    }
  });

  it('empty input is a RangeError (no class present)', () => {
    expect(() => auroc(new Float64Array(0), new Uint8Array(0))).to.throw(
      RangeError,
      /0 positives \(1\) and 0 negatives/,
    );
  });

  it('fpr95 rejects a recall level outside [0, 1]', () => {
    expect(() => fpr95([0, 1], [0, 1], { recall: 95 })).to.throw(
      RangeError,
      /options.recall is 95/,
    );
  });

  it('float32 scores give the same result as the same values in float64', () => {
    const f32 = new Float32Array(reference.ood[3].scores);
    const labels = reference.ood[3].labels;
    expect(auroc(f32, labels)).to.equal(auroc(Float64Array.from(f32), labels));
  });
});
