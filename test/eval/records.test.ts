import { expect } from 'chai';

import { recordsFromLogits, canonicalRecords } from '../../src/eval/records.js';
import {
  brier,
  energy,
  entropy,
  negMaxLogit,
  negMaxSoftmax,
  nll,
  softmax,
} from '../../src/eval/metrics/index.js';
import { expectClose } from '../helpers/assert.js';
import { sequence } from '../helpers/tiny-models.js';

const ROWS = 40;
const CLASSES = 7;

function batch(): {
  logits: Float32Array;
  samples: { index: number; id: string; label: number }[];
} {
  const logits = sequence(ROWS * CLASSES, 11).map((v) => v * 6);
  const samples = Array.from({ length: ROWS }, (_, i) => ({
    index: i,
    id: `s${i}`,
    label: (i * 3) % CLASSES,
  }));
  return { logits, samples };
}

/**
 * Records are what every report metric is computed from; each field must agree with the metric
 * functions (which are themselves checked against scikit-learn and numpy) within 1e-12.
 */
describe('recordsFromLogits', () => {
  it('agrees with the metric functions field by field', () => {
    const { logits, samples } = batch();
    const records = recordsFromLogits(logits, CLASSES, samples, { temperature: 2 });
    const labels = samples.map((s) => s.label);
    expectClose(
      records.map((r) => -r.conf),
      negMaxSoftmax(logits, ROWS, CLASSES),
      1e-12,
      'conf',
    );
    expectClose(
      records.map((r) => -r.maxLogit),
      negMaxLogit(logits, ROWS, CLASSES),
      1e-12,
      'maxLogit',
    );
    expectClose(
      records.map((r) => -r.lse),
      energy(logits, ROWS, CLASSES, { temperature: 2 }),
      1e-12,
      'energy',
    );
    expectClose(
      records.map((r) => r.entropy),
      entropy(logits, ROWS, CLASSES),
      1e-12,
      'entropy',
    );
    const meanNll = records.reduce((a, r) => a + r.nll, 0) / ROWS;
    expect(meanNll).to.be.closeTo(nll(logits, labels, CLASSES), 1e-12);
    const meanBrier = records.reduce((a, r) => a + r.brier, 0) / ROWS;
    expect(meanBrier).to.be.closeTo(brier(softmax(logits, ROWS, CLASSES), labels, CLASSES), 1e-12);
  });

  it('ranks the label among the scores and predicts the argmax', () => {
    const logits = new Float32Array([0.1, 0.9, 0.5, 0.3, 0.2, 0.1]);
    const records = recordsFromLogits(logits, 3, [
      { index: 0, id: 'a', label: 2 },
      { index: 1, id: 'b', label: 0 },
    ]);
    expect(records.map((r) => [r.pred, r.rank])).to.deep.equal([
      [1, 1],
      [0, 0],
    ]);
  });

  it('restricts the logits to classIndices, in their order, before softmax and argmax', () => {
    // Class 3 has the largest logit but is not scored; among [4, 1] the label 0 (index 4) wins.
    const logits = new Float32Array([0, 1, 0, 9, 2]);
    const [r] = recordsFromLogits(logits, 5, [{ index: 0, id: 'x', label: 0 }], {
      classIndices: [4, 1],
    });
    expect(r.pred).to.equal(0);
    expect(r.rank).to.equal(0);
    expect(r.conf).to.be.closeTo(Math.exp(2) / (Math.exp(2) + Math.exp(1)), 1e-12);
  });

  it('marks a row with NaN or an infinite logit as not finite, excluded from every metric', () => {
    const logits = new Float32Array([1, NaN, 0, 1, Infinity, 0, 1, 2, 3]);
    const records = recordsFromLogits(
      logits,
      3,
      [0, 1, 2].map((i) => ({ index: i, id: `${i}`, label: 0 })),
    );
    expect(records.map((r) => r.finite)).to.deep.equal([false, false, true]);
  });

  it('records no label, NLL or Brier for unlabelled (OOD) samples', () => {
    const [r] = recordsFromLogits(new Float32Array([1, 2]), 2, [{ index: 0, id: 'o', label: -1 }]);
    expect(r.y).to.equal(-1);
    expect(r.rank).to.equal(-1);
    expect(r.nll).to.be.NaN;
    expect(r.conf).to.be.closeTo(1 / (1 + Math.exp(-1)), 1e-12);
  });

  it('rejects a label outside the scored classes and a class index outside the output', () => {
    expect(() =>
      recordsFromLogits(new Float32Array([1, 2]), 2, [{ index: 0, id: 'a.png', label: 2 }]),
    ).to.throw(RangeError, /label 2 of sample 'a.png'/);
    expect(() =>
      recordsFromLogits(new Float32Array([1, 2]), 2, [{ index: 0, id: 'a', label: 0 }], {
        classIndices: [5],
      }),
    ).to.throw(RangeError, /class index 5/);
  });

  it('orders records by index and counts a sample scored twice once', () => {
    const { logits, samples } = batch();
    const records = recordsFromLogits(logits, CLASSES, samples);
    const shuffled = [...records.slice(20), ...records.slice(0, 25)];
    expect(canonicalRecords(shuffled).map((r) => r.i)).to.deep.equal(samples.map((s) => s.index));
  });
});
