import { expect } from 'chai';
import { readFileSync } from 'node:fs';

import { kendallTau, rankData, spearman } from '../../src/search/correlation.js';
import { expectClose } from '../helpers/assert.js';

interface Case {
  name: string;
  x: number[];
  y: number[];
  /** null where scipy returns nan. */
  kendallTau: number | null;
  spearman: number | null;
  ranksX: number[];
  ranksY: number[];
}

const reference = JSON.parse(readFileSync('test/fixtures/correlation-reference.json', 'utf8')) as {
  tolerance: number;
  cases: Case[];
};

/** Absolute tolerance against scipy: both sides are float64 over exact integer counts. */
const TOLERANCE = 1e-12;

function expectMatch(actual: number, expected: number | null, what: string): void {
  if (expected === null) {
    expect(actual, `${what}: scipy gives nan`).to.be.NaN;
    return;
  }
  expect(
    Math.abs(actual - expected),
    `${what}: ${actual} against scipy's ${expected}`,
  ).to.be.at.most(TOLERANCE);
}

describe('rank correlations against scipy (tools/fixtures/correlation_reference.py)', () => {
  it('the fixture states the tolerance these tests use (1e-12)', () => {
    expect(reference.tolerance).to.equal(TOLERANCE);
  });

  for (const c of reference.cases) {
    describe(`case '${c.name}'`, () => {
      it('rankData equals scipy.stats.rankdata(method="average")', () => {
        expectClose(rankData(c.x), c.ranksX, 0, 'ranks of x');
        expectClose(rankData(c.y), c.ranksY, 0, 'ranks of y');
      });

      it('kendallTau equals scipy.stats.kendalltau (tau-b) within 1e-12', () => {
        expectMatch(kendallTau(c.x, c.y), c.kendallTau, 'tau-b');
      });

      it('spearman equals scipy.stats.spearmanr within 1e-12', () => {
        expectMatch(spearman(c.x, c.y), c.spearman, 'rho');
      });

      it('typed arrays give the same values as plain arrays', () => {
        const x = Float64Array.from(c.x);
        const y = Float64Array.from(c.y);
        expect(Object.is(kendallTau(x, y), kendallTau(c.x, c.y))).to.equal(true);
        expect(Object.is(spearman(x, y), spearman(c.x, c.y))).to.equal(true);
      });
    });
  }
});

describe('rank correlations: definitions and edge cases', () => {
  it('the TSDoc examples give the values they state', () => {
    expect(Array.from(rankData([10, 30, 20, 20]))).to.deep.equal([1, 4, 2.5, 2.5]);
    expect(kendallTau([1, 2, 3, 4], [1, 3, 2, 4])).to.equal(0.6666666666666669);
    expect(kendallTau([1, 1, 2, 3], [1, 2, 2, 3])).to.equal(0.7999999999999999);
    expect(spearman([1, 2, 3, 4], [1, 3, 2, 4])).to.equal(0.8);
    expect(spearman([1, 2, 3], [9, 4, 1])).to.equal(-1);
  });

  it('kendallTau matches the O(n^2) pair count on random tied data', () => {
    let s = 12345;
    const next = (): number => (s = (s * 1103515245 + 12345) % 2147483648) % 7;
    for (let trial = 0; trial < 20; trial++) {
      const n = 2 + trial * 3;
      const x = Array.from({ length: n }, next);
      const y = Array.from({ length: n }, next);
      let p = 0;
      let tx = 0;
      let ty = 0;
      let all = 0;
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const sign = Math.sign(x[i] - x[j]) * Math.sign(y[i] - y[j]);
          p += sign;
          all++;
          if (x[i] === x[j]) tx++;
          if (y[i] === y[j]) ty++;
        }
      }
      const naive = tx === all || ty === all ? NaN : p / Math.sqrt((all - tx) * (all - ty));
      const tau = kendallTau(x, y);
      if (Number.isNaN(naive)) expect(tau, `n=${n}`).to.be.NaN;
      else expect(Math.abs(tau - naive), `n=${n}`).to.be.at.most(TOLERANCE);
    }
  });

  it('-0 and 0 are ties, and infinities rank at the ends', () => {
    expect(Array.from(rankData([0, -0, -Infinity, Infinity]))).to.deep.equal([2.5, 2.5, 1, 4]);
    expect(kendallTau([-Infinity, 0, Infinity], [1, 2, 3])).to.equal(1);
    expect(spearman([-Infinity, 0, Infinity], [3, 2, 1])).to.equal(-1);
  });

  it('a constant vector gives NaN, as scipy returns', () => {
    expect(kendallTau([1, 1, 1], [1, 2, 3])).to.be.NaN;
    expect(spearman([1, 2, 3], [5, 5, 5])).to.be.NaN;
  });

  it('lengths that differ throw RangeError naming both lengths', () => {
    expect(() => kendallTau([1, 2, 3], [1, 2])).to.throw(RangeError, /got 3 and 2/);
    expect(() => spearman([1, 2], [1, 2, 3])).to.throw(RangeError, /got 2 and 3/);
  });

  it('fewer than 2 pairs throw RangeError', () => {
    expect(() => kendallTau([1], [2])).to.throw(RangeError, /at least 2 pairs, got 1/);
    expect(() => spearman([], [])).to.throw(RangeError, /at least 2 pairs, got 0/);
  });

  it('a NaN throws RangeError naming its position', () => {
    expect(() => kendallTau([1, NaN, 3], [1, 2, 3])).to.throw(RangeError, /x\[1\] is NaN/);
    expect(() => spearman([1, 2, 3], [1, 2, NaN])).to.throw(RangeError, /y\[2\] is NaN/);
    expect(() => rankData([NaN])).to.throw(RangeError, /values\[0\] is NaN/);
  });

  it('rankData of an empty list is empty', () => {
    expect(rankData([]).length).to.equal(0);
  });
});
