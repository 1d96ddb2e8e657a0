import { expect } from 'chai';

import { kendallTau, spearman } from '../../src/search/correlation.js';
import { predictor, rankCorrelations, type RankedModel } from '../../src/search/rank.js';

/**
 * Five hand-made architectures. Test accuracy rises with the index; validation loss falls with
 * it; the combined score ranks them differently from both its parts; the two shifted splits
 * disagree, and their mean (exact in binary) is a third ranking, with a tie.
 */
const MODELS: RankedModel[] = [
  [0.95, 0.003, 0.5, 0.9, { v2: 0.75, a: 0.25 }],
  [0.97, 0.0012, 0.4, 0.92, { v2: 0.625, a: 0.5 }],
  [0.96, 0.0005, 0.3, 0.94, { v2: 0.875, a: 0.125 }],
  [0.94, 0.0045, 0.2, 0.96, { v2: 0.5, a: 0.75 }],
  [0.98, 0.002, 0.1, 0.98, { v2: 0.8125, a: 0.5 }],
].map(([valAccuracy, flatness, valLoss, testAccuracy, shifted], i) => ({
  id: `m${i}`,
  parameters: [300, 100, 500, 200, 400][i],
  valAccuracy: valAccuracy as number,
  flatness: flatness as number,
  poor: 1 / (flatness as number),
  valLoss: valLoss as number,
  testAccuracy: testAccuracy as number,
  shifted: shifted as Record<string, number>,
}));

describe('ranking predictors', () => {
  it('combined is validation accuracy + gamma x flatness / s1 (GeNAS)', () => {
    const m = MODELS[0];
    expect(predictor('combined', m, 0.01, 0.001)).to.be.closeTo(
      0.95 + (0.01 * 0.003) / 0.001,
      1e-15,
    );
    expect(predictor('combined', m, 0, 0.001)).to.equal(m.valAccuracy);
    expect(predictor('flatness', m, 0.01, 0.001)).to.equal(0.003);
    expect(predictor('parameters', m, 0.01, 0.001)).to.equal(300);
    // Rounded by hand: 0.98, 0.982, 0.965, 0.985, 1.0; an order neither part has.
    const combined = MODELS.map((x) => predictor('combined', x, 0.01, 0.001));
    expect(combined.map((v) => Math.round(v * 1000) / 1000)).to.deep.equal([
      0.98, 0.982, 0.965, 0.985, 1,
    ]);
  });

  it('correlates each predictor with test accuracy, each shifted split and their mean', () => {
    const result = rankCorrelations(MODELS, { gamma: 0.01, s1: 0.001 });
    expect(Object.keys(result.flatness)).to.deep.equal(['test', 'v2', 'a', 'shifted']);
    const test = MODELS.map((m) => m.testAccuracy);
    const meanShifted = [0.5, 0.5625, 0.5, 0.625, 0.65625];
    MODELS.forEach((m, i) => expect((m.shifted.v2 + m.shifted.a) / 2).to.equal(meanShifted[i]));
    const combined = MODELS.map((m) => m.valAccuracy + (0.01 * m.flatness) / 0.001);
    const cases: [keyof typeof result, number[]][] = [
      ['flatness', MODELS.map((m) => m.flatness)],
      ['valAccuracy', MODELS.map((m) => m.valAccuracy)],
      ['valLoss', MODELS.map((m) => m.valLoss)],
      ['combined', combined],
      ['parameters', [300, 100, 500, 200, 400]],
    ];
    for (const [name, x] of cases) {
      const targets: Record<string, number[]> = {
        test,
        v2: MODELS.map((m) => m.shifted.v2),
        a: MODELS.map((m) => m.shifted.a),
        shifted: MODELS.map((m) => (m.shifted.v2 + m.shifted.a) / 2),
      };
      for (const [target, y] of Object.entries(targets)) {
        expect(result[name][target].kendall, `${name} ${target}`).to.be.closeTo(
          kendallTau(x, y),
          1e-15,
        );
        expect(result[name][target].spearman, `${name} ${target}`).to.be.closeTo(
          spearman(x, y),
          1e-15,
        );
      }
    }
    // The mean of the splits ranks m0 and m2 together: tau-b with one tie, by hand.
    // Pairs of (flatness, shifted): concordant 6, discordant 3, tied in shifted 1:
    // (6 - 3) / sqrt(10 * 9).
    expect(result.flatness.shifted.kendall).to.be.closeTo(3 / Math.sqrt(90), 1e-15);
  });

  it('keeps validation loss raw: a loss that falls as test accuracy rises correlates at -1', () => {
    const result = rankCorrelations(MODELS, { gamma: 0.01, s1: 0.001 });
    expect(result.valLoss.test.kendall).to.be.closeTo(-1, 1e-15);
    expect(result.valLoss.test.spearman).to.be.closeTo(-1, 1e-15);
    expect(result.valAccuracy.test.kendall).to.be.greaterThan(0);
  });

  it('needs three models', () => {
    expect(() => rankCorrelations(MODELS.slice(0, 2), { gamma: 0.01, s1: 0.001 })).to.throw(
      RangeError,
      'ranking needs at least 3 models, got 2',
    );
  });
});
