import { expect } from 'chai';

import {
  addEce,
  brier,
  ece,
  emptyEce,
  nll,
  rmsCalibrationError,
  softmax,
} from '../../../src/eval/metrics/index.js';
import { expectAllClose, expectClose, reference } from './reference.js';

describe('calibration metrics against numpy (tools/fixtures/metrics_reference.py)', () => {
  for (const c of reference.calibration) {
    describe(`case ${c.name} (${c.confidences.length} samples)`, () => {
      const confidences = Float64Array.from(c.confidences);
      const correct = Uint8Array.from(c.correct);

      for (const { bins, value } of c.ece) {
        it(`ece with ${bins} bins matches within 1e-9`, () => {
          expectClose(ece(confidences, correct, { bins }), value, `ece(${bins})`);
        });
      }

      for (const { binSize, value } of c.rms) {
        if (value === null) {
          it(`rmsCalibrationError with binSize ${binSize} throws where the reference fails`, () => {
            expect(() => rmsCalibrationError(confidences, correct, { binSize })).to.throw(
              RangeError,
              `needs at least binSize = ${binSize} samples, got ${confidences.length}`,
            );
          });
        } else {
          it(`rmsCalibrationError with binSize ${binSize} matches within 1e-9`, () => {
            const rms = rmsCalibrationError(confidences, correct, { binSize });
            expectClose(rms, value, `rms(${binSize})`);
          });
        }
      }
    });
  }

  for (const c of reference.logits) {
    describe(`case ${c.name} [${c.rows}, ${c.classes}]`, () => {
      const logits = Float64Array.from(c.logits);

      it('softmax matches within 1e-9', () => {
        expectAllClose(softmax(logits, c.rows, c.classes), c.softmax, 'softmax');
      });

      it('nll matches within 1e-9', () => {
        expectClose(nll(logits, c.labels, c.classes), c.nll, 'nll');
      });

      it('brier of the reference softmax matches within 1e-9', () => {
        expectClose(brier(Float64Array.from(c.softmax), c.labels, c.classes), c.brier, 'brier');
      });
    });
  }
});

describe('calibration metrics: edge cases', () => {
  it('ece puts a confidence of exactly 1.0 in the last bin and 0.0 in the first', () => {
    const state = emptyEce(15);
    addEce(state, new Float32Array([1, 0]), [1, 0]);
    expect(state.count[14]).to.equal(1);
    expect(state.count[0]).to.equal(1);
    expect(ece([1, 0], [1, 0])).to.equal(0);
  });

  it('ece bins a confidence on an inner edge into the bin above it', () => {
    const state = emptyEce(4);
    addEce(state, [0.5], [1]);
    expect(Array.from(state.count)).to.deep.equal([0, 0, 1, 0]);
  });

  it('ece of empty input is NaN', () => {
    expect(ece([], [])).to.be.NaN;
  });

  it('ece rejects NaN and out-of-range confidences, naming the index', () => {
    expect(() => ece([0.5, NaN], [1, 0])).to.throw(RangeError, /confidences\[1\] is NaN/);
    expect(() => ece([1.5], [1])).to.throw(
      RangeError,
      /confidences\[0\] is 1.5; expected .* \[0, 1\]/,
    );
  });

  it('ece rejects correctness values other than 0 and 1', () => {
    expect(() => ece([0.5], [2])).to.throw(RangeError, /correct\[0\] is 2; expected 0 or 1/);
  });

  it('ece rejects a bin count that is not a positive integer', () => {
    expect(() => ece([0.5], [1], { bins: 0 })).to.throw(RangeError, /bins must be an integer >= 1/);
  });

  it('rmsCalibrationError throws on fewer samples than binSize, saying how many it needs', () => {
    expect(() => rmsCalibrationError([0.5, 0.6], [1, 0])).to.throw(
      RangeError,
      'needs at least binSize = 100 samples, got 2',
    );
    expect(() => rmsCalibrationError([], [], { binSize: 1 })).to.throw(RangeError, 'got 0');
  });

  it('rmsCalibrationError is 0 for binSize <= n < 2 * binSize (the one bin is skipped)', () => {
    expect(rmsCalibrationError([0.9, 0.9, 0.9], [0, 0, 0], { binSize: 2 })).to.equal(0);
  });

  it('rmsCalibrationError leaves the last (highest-confidence) bin out of the sum', () => {
    // Bin 1 (0.2, 0.2; both correct) counts; bin 2 (0.9 x 3, all wrong) does not.
    const rms = rmsCalibrationError([0.9, 0.2, 0.9, 0.2, 0.9], [0, 1, 0, 1, 0], { binSize: 2 });
    expect(rms).to.be.closeTo(Math.sqrt((2 / 5) * 0.8 ** 2), 1e-15);
  });

  it('rmsCalibrationError sorts ties stably: tied samples keep their input order', () => {
    // All confidences tie; the first two samples form the counted bin.
    const first = rmsCalibrationError([0.75, 0.75, 0.75, 0.75], [1, 1, 0, 0], { binSize: 2 });
    const reversed = rmsCalibrationError([0.75, 0.75, 0.75, 0.75], [0, 0, 1, 1], { binSize: 2 });
    expect(first).to.be.closeTo(Math.sqrt(0.5 * 0.25 ** 2), 1e-15);
    expect(reversed).to.be.closeTo(Math.sqrt(0.5 * 0.75 ** 2), 1e-15);
  });

  it('softmax stays finite for logits of +-1000 and keeps -Infinity at probability 0', () => {
    const p = softmax([1000, -1000, -Infinity, 1000], 1, 4);
    expect(Array.from(p)).to.deep.equal([0.5, 0, 0, 0.5]);
  });

  it('nll of large logits is finite and exact', () => {
    expect(nll([1000, 0], [1], 2)).to.equal(1000);
    expect(nll([1000, 1000], [0], 2)).to.be.closeTo(Math.LN2, 1e-15);
  });

  it('nll and brier of empty input are NaN', () => {
    expect(nll([], [], 3)).to.be.NaN;
    expect(brier([], [], 3)).to.be.NaN;
  });

  it('nll propagates NaN logits', () => {
    expect(nll([NaN, 0], [1], 2)).to.be.NaN;
  });

  it('nll and brier name a label outside [0, classes)', () => {
    expect(() => nll([0, 0], [2], 2)).to.throw(RangeError, /labels\[0\] is 2/);
    expect(() => brier([0.5, 0.5], [-1], 2)).to.throw(RangeError, /labels\[0\] is -1/);
  });

  it('brier is 0 for one-hot probabilities on the label and 2 for one-hot elsewhere', () => {
    expect(brier([0, 1, 0], [1], 3)).to.equal(0);
    expect(brier([1, 0, 0], [1], 3)).to.equal(2);
  });
});
