import { expect } from 'chai';

import {
  argmax,
  confusionMatrix,
  emptyConfusion,
  labelRanks,
  perClassAccuracy,
  topK,
} from '../../../src/eval/metrics/index.js';
import { expectAllClose, expectClose, reference, type LogitsCase } from './reference.js';

/** Dense [classes, classes] matrix from the fixture's non-zero cells. */
function denseConfusion(c: LogitsCase): Int32Array {
  const out = new Int32Array(c.classes * c.classes);
  for (const [label, pred, count] of c.confusion) out[label * c.classes + pred] = count;
  return out;
}

describe('accuracy metrics against numpy (tools/fixtures/metrics_reference.py)', () => {
  for (const c of reference.logits) {
    describe(`case ${c.name} [${c.rows}, ${c.classes}]`, () => {
      const logits = Float64Array.from(c.logits);

      it('argmax equals numpy.argmax, first index on ties', () => {
        expectAllClose(argmax(logits, c.rows, c.classes), c.argmax, 'argmax', 0);
      });

      it('confusionMatrix equals the numpy counts cell for cell', () => {
        const matrix = confusionMatrix(c.argmax, c.labels, c.classes);
        expectAllClose(matrix, denseConfusion(c), 'confusion', 0);
      });

      it('perClassAccuracy matches within 1e-9, NaN for a class without samples', () => {
        const acc = perClassAccuracy(denseConfusion(c), c.classes);
        expectAllClose(acc, c.perClassAccuracy, 'perClassAccuracy');
      });

      it('labelRanks and topK match numpy', () => {
        expectAllClose(labelRanks(logits, c.labels, c.classes), c.labelRanks, 'ranks', 0);
        for (const { k, value } of c.topK) {
          expectClose(topK(logits, c.labels, { classes: c.classes, k }), value, `top-${k}`);
        }
      });
    });
  }
});

describe('accuracy metrics: edge cases', () => {
  it('argmax returns the first NaN of a row, as numpy does', () => {
    const out = argmax(new Float64Array([1, NaN, 3, NaN, 2, 0]), 2, 3);
    expect(Array.from(out)).to.deep.equal([1, 0]);
  });

  it('argmax on an empty batch returns an empty array', () => {
    expect(argmax(new Float32Array(0), 0, 10).length).to.equal(0);
  });

  it('argmax rejects scores whose length is not rows * classes', () => {
    expect(() => argmax(new Float32Array(5), 2, 3)).to.throw(RangeError, /scores holds 5 values/);
  });

  it('confusionMatrix of empty input is all zeros', () => {
    expect(Array.from(confusionMatrix([], [], 3))).to.deep.equal(new Array<number>(9).fill(0));
  });

  it('confusionMatrix names an out-of-range prediction and its index', () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).to.throw(RangeError, /preds\[1\] is 3/);
  });

  it('confusionMatrix rejects preds and labels of different lengths', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).to.throw(
      RangeError,
      /preds holds 2 .* labels holds 1/,
    );
  });

  it('emptyConfusion rejects a class count that is not a positive integer', () => {
    expect(() => emptyConfusion(0)).to.throw(RangeError, /classes must be an integer >= 1, got 0/);
  });

  it('perClassAccuracy gives NaN for a class with no samples', () => {
    const acc = perClassAccuracy(new Int32Array([2, 0, 0, 0]), 2);
    expect(acc[0]).to.equal(1);
    expect(acc[1]).to.be.NaN;
  });
});
