import { expect } from 'chai';

import {
  NAS_BENCH_201,
  edges,
  genotype,
  isConnected,
  oneHot,
  parseGenotype,
} from '../../src/search/cell-space.js';
import { evolve } from '../../src/search/evolution.js';

describe('cell space', () => {
  it('orders the 6 edges of a 4-node cell as NAS-Bench-201 does', () => {
    expect(edges(NAS_BENCH_201)).to.deep.equal([
      [1, 0],
      [2, 0],
      [2, 1],
      [3, 0],
      [3, 1],
      [3, 2],
    ]);
  });

  it('writes and parses NAS-Bench-201 genotype strings', () => {
    const text = '|conv3x3~0|+|none~0|skip~1|+|avgpool3x3~0|conv1x1~1|conv3x3~2|';
    const encoding = parseGenotype(NAS_BENCH_201, text);
    expect(encoding).to.deep.equal([3, 0, 1, 4, 2, 3]);
    expect(genotype(NAS_BENCH_201, encoding)).to.equal(text);
    expect(() =>
      parseGenotype(NAS_BENCH_201, '|conv5x5~0|+|none~0|skip~1|+|none~0|none~1|none~2|'),
    ).to.throw(RangeError, /conv5x5~0/);
  });

  it('one-hot encodes a candidate as [edges, ops]', () => {
    const hot = oneHot(NAS_BENCH_201, [0, 1, 2, 3, 4, 0]);
    expect(hot.length).to.equal(30);
    expect(Array.from(hot.subarray(5, 10))).to.deep.equal([0, 1, 0, 0, 0]);
    expect(hot.reduce((a, b) => a + b, 0)).to.equal(6);
  });

  it('tells connected cells from cells whose output is cut off', () => {
    expect(isConnected(NAS_BENCH_201, [0, 0, 0, 1, 0, 0])).to.equal(true);
    expect(isConnected(NAS_BENCH_201, [1, 0, 0, 0, 0, 1])).to.equal(false);
    expect(isConnected(NAS_BENCH_201, [1, 0, 2, 0, 0, 3])).to.equal(true);
    expect(isConnected(NAS_BENCH_201, [0, 0, 0, 0, 0, 0])).to.equal(false);
  });
});

describe('evolve', () => {
  /** Fitness: how many edges hold conv3x3; the optimum is all six. */
  const conv3x3s = (encoding: number[]) =>
    Promise.resolve({ fitness: encoding.filter((o) => o === 3).length, scores: { n: 1 } });

  it('finds the optimum of a simple fitness and scores each candidate once', async () => {
    const calls = new Set<string>();
    let count = 0;
    const { ranked, history } = await evolve(
      NAS_BENCH_201,
      async (encoding) => {
        count++;
        calls.add(encoding.join(','));
        return conv3x3s(encoding);
      },
      { seed: 1 },
    );
    expect(ranked[0].fitness).to.equal(6);
    expect(ranked[0].encoding).to.deep.equal([3, 3, 3, 3, 3, 3]);
    expect(calls.size).to.equal(count);
    expect(history).to.have.length(21);
    expect(history[0].evaluated).to.equal(50);
    expect(
      history.every((h, i) => i === 0 || h.bestFitness >= history[i - 1].bestFitness),
    ).to.equal(true);
    expect(ranked.every((c) => isConnected(NAS_BENCH_201, c.encoding))).to.equal(true);
  });

  it('is deterministic under a seed and differs across seeds', async () => {
    const a = await evolve(NAS_BENCH_201, conv3x3s, { seed: 5, generations: 3 });
    const b = await evolve(NAS_BENCH_201, conv3x3s, { seed: 5, generations: 3 });
    const c = await evolve(NAS_BENCH_201, conv3x3s, { seed: 6, generations: 3 });
    expect(a.ranked.map((r) => r.encoding)).to.deep.equal(b.ranked.map((r) => r.encoding));
    expect(a.ranked.map((r) => r.encoding)).to.not.deep.equal(c.ranked.map((r) => r.encoding));
  });

  it('honours population, generations, mutations and crossovers', async () => {
    const { history } = await evolve(NAS_BENCH_201, conv3x3s, {
      seed: 2,
      population: 12,
      generations: 2,
      topK: 4,
      mutations: 3,
      crossovers: 2,
    });
    expect(history.map((h) => h.evaluated)).to.deep.equal([12, 5, 5]);
    expect(history[2].top).to.have.length(4);
  });

  it('rejects a mutation probability outside [0, 1]', async () => {
    let error: Error | undefined;
    try {
      await evolve(NAS_BENCH_201, conv3x3s, { mutationProbability: 2 });
    } catch (e) {
      error = e as Error;
    }
    expect(error).to.be.instanceOf(RangeError);
  });
});
