import { expect } from 'chai';

import {
  auroc,
  energy,
  entropy,
  negMaxLogit,
  negMaxSoftmax,
} from '../../../src/eval/metrics/index.js';
import { expectAllClose, reference } from './reference.js';

describe('anomaly scores against numpy (tools/fixtures/metrics_reference.py)', () => {
  for (const c of reference.logits) {
    describe(`case ${c.name} [${c.rows}, ${c.classes}]`, () => {
      const logits = Float64Array.from(c.logits);

      it('negMaxSoftmax matches within 1e-9', () => {
        expectAllClose(negMaxSoftmax(logits, c.rows, c.classes), c.negMaxSoftmax, 'negMaxSoftmax');
      });

      it('negMaxLogit matches within 1e-9', () => {
        expectAllClose(negMaxLogit(logits, c.rows, c.classes), c.negMaxLogit, 'negMaxLogit');
      });

      for (const { temperature, value } of c.energy) {
        it(`energy at temperature ${temperature} matches within 1e-9`, () => {
          const e = energy(logits, c.rows, c.classes, { temperature });
          expectAllClose(e, value, `energy(T=${temperature})`);
        });
      }

      it('entropy matches within 1e-9', () => {
        expectAllClose(entropy(logits, c.rows, c.classes), c.entropy, 'entropy');
      });
    });
  }
});

describe('anomaly scores: edge cases', () => {
  it('a uniform row scores higher than a confident one on every score', () => {
    const logits = [0, 0, 0, 9, 0, 0];
    for (const score of [negMaxSoftmax, negMaxLogit, energy, entropy]) {
      const s = score(logits, 2, 3);
      expect(s[0], score.name).to.be.greaterThan(s[1]);
    }
  });

  it('scores feed auroc with OOD samples labelled 1', () => {
    const logits = new Float32Array([8, 0, 0, 0.2, 0.1, 0, 0, 7, 0, 0, 0.3, 0.1]);
    expect(auroc(energy(logits, 4, 3), [0, 1, 0, 1])).to.equal(1);
  });

  it('stay finite for logits of 1e4', () => {
    const logits = [1e4, 0, -1e4, 1e4, 1e4, 1e4];
    for (const score of [negMaxSoftmax, energy, entropy]) {
      expect(Array.from(score(logits, 2, 3)).every(Number.isFinite), score.name).to.equal(true);
    }
    expect(Array.from(energy(logits, 2, 3))).to.deep.equal([-1e4, -1e4 - Math.log(3)]);
  });

  it('entropy counts -Infinity logits as probability 0 (0 * log 0 = 0)', () => {
    const h = entropy([0, -Infinity, 0, 5, -Infinity, -Infinity], 2, 3);
    expect(h[0]).to.be.closeTo(Math.LN2, 1e-15);
    expect(h[1]).to.equal(0);
  });

  it('a NaN logit makes only its own row NaN', () => {
    const logits = [NaN, 1, 0, 1];
    for (const score of [negMaxSoftmax, negMaxLogit, energy, entropy]) {
      const s = score(logits, 2, 2);
      expect(s[0], score.name).to.be.NaN;
      expect(Number.isFinite(s[1]), score.name).to.equal(true);
    }
  });

  it('energy rejects a temperature that is not a positive finite number', () => {
    for (const temperature of [0, -1, NaN, Infinity]) {
      expect(() => energy([0, 1], 1, 2, { temperature })).to.throw(
        RangeError,
        `options.temperature is ${temperature}`,
      );
    }
  });

  it('empty input gives empty scores', () => {
    for (const score of [negMaxSoftmax, negMaxLogit, energy, entropy]) {
      expect(score(new Float32Array(0), 0, 10).length, score.name).to.equal(0);
    }
  });

  it('logits whose length is not rows * classes are rejected', () => {
    expect(() => entropy([0, 1, 2], 2, 2)).to.throw(RangeError, /logits holds 3 values/);
  });
});
