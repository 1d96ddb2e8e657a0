import { expect } from 'chai';

import {
  ckdLoss,
  kdLoss,
  ltrAngleLoss,
  ltrPairLoss,
  wrAngleLoss,
  wrDistanceLoss,
  wrPairLoss,
  type HiddenStates,
} from '../../src/distill/index.js';
import { windowStart } from '../../src/distill/relations.js';
import { cases, expectRelative } from './reference.js';

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    out[i] = (s >>> 8) / 8388608 - 1;
  }
  return out;
}

function states(batch: number, tokens: number, hidden: number, seed: number): HiddenStates {
  return { data: values(batch * tokens * hidden, seed), dims: [batch, tokens, hidden] };
}

/** The rows of `layer` whose tokens `keep` marks, as a batch of one sequence. */
function gather(layer: HiddenStates, row: number, keep: number[]): HiddenStates {
  const [, tokens, hidden] = layer.dims;
  const data = new Float32Array(keep.length * hidden);
  keep.forEach((t, i) => {
    const from = (row * tokens + t) * hidden;
    data.set(layer.data.subarray(from, from + hidden), i * hidden);
  });
  return { data, dims: [1, keep.length, hidden] };
}

describe('distillation losses: edge cases', () => {
  const teacher = states(3, 10, 12, 1);
  const student = states(3, 10, 5, 2);

  it('an all-padding batch gives 0 for every term instead of NaN', async () => {
    const mask = new Uint8Array(30);
    expect(wrPairLoss(teacher, student, { mask })).to.equal(0);
    expect(wrAngleLoss(teacher, student, { mask })).to.equal(0);
    expect(wrDistanceLoss(teacher, student, { mask })).to.equal(0);
    expect(ltrPairLoss([teacher, teacher], [student, student], { mask })).to.equal(0);
    const result = await ckdLoss(
      { hidden: [teacher, teacher, teacher] },
      { hidden: [student, student, student] },
      { mask },
    );
    expect(result.total).to.equal(0);
  });

  it('an all-padding row adds nothing: the loss equals that of the other rows alone', () => {
    const mask = Uint8Array.from({ length: 30 }, (_, i) => (i >= 10 && i < 20 ? 0 : 1));
    const rows = [0, 2].map((r) => [
      gather(teacher, r, [...Array(10).keys()]),
      gather(student, r, [...Array(10).keys()]),
    ]);
    const joined = (k: 0 | 1): HiddenStates => ({
      data: Float32Array.from([...rows[0][k].data, ...rows[1][k].data]),
      dims: [2, 10, rows[0][k].dims[2]],
    });
    for (const [name, loss] of [
      ['pair', wrPairLoss],
      ['angle', wrAngleLoss],
      ['distance', wrDistanceLoss],
    ] as const) {
      expectRelative(loss(teacher, student, { mask }), loss(joined(0), joined(1)), name);
    }
  });

  it('padded positions are ignored whatever they hold, holes in the mask included', () => {
    const c = cases[0];
    const row = 3; // the row with holes
    const keep = [...Array(c.tokens).keys()].filter((t) => c.mask[row * c.tokens + t] !== 0);
    const t = gather(c.teacher[2], row, keep);
    const s = gather(c.student[1], row, keep);
    const mask = Uint8Array.from(c.mask.map((m, i) => (Math.floor(i / c.tokens) === row ? m : 0)));
    for (const window of [3, 4, 'full'] as const) {
      expectRelative(
        wrAngleLoss(c.teacher[2], c.student[1], { mask, window }),
        wrAngleLoss(t, s, { window }),
        `window ${window}`,
      );
    }
    expectRelative(wrPairLoss(c.teacher[2], c.student[1], { mask }), wrPairLoss(t, s), 'pair');
  });

  it('a sequence of 1 token has no pair: every word relation is 0', () => {
    const t = states(1, 1, 4, 3);
    const s = states(1, 1, 3, 4);
    expect(wrPairLoss(t, s)).to.equal(0);
    expect(wrAngleLoss(t, s)).to.equal(0);
    expect(wrDistanceLoss(t, s)).to.equal(0);
  });

  it('a sequence of 2 tokens: one-token softmax rows (KL 0), no triplet (angles 0)', () => {
    const t = { data: Float32Array.from([0, 0, 3, 4]), dims: [1, 2, 2] };
    const s = { data: Float32Array.from([1, 1, 1, 2, 2, 2]), dims: [1, 2, 3] };
    expect(wrPairLoss(t, s)).to.equal(0);
    expect(wrAngleLoss(t, s, { window: 'full' })).to.equal(0);
    // |t1 - t0| = 5 and |s1 - s0| = sqrt(3): L1 and MSE without normalization, Huber at delta 1.
    const gap = 5 - Math.sqrt(3);
    expectRelative(wrDistanceLoss(t, s, { loss: 'l1', normalize: false }), gap, 'l1');
    expectRelative(wrDistanceLoss(t, s, { loss: 'mse', normalize: false }), gap * gap, 'mse');
    expectRelative(wrDistanceLoss(t, s, { normalize: false }), gap - 0.5, 'huber');
    expect(wrDistanceLoss(t, s, { normalize: true })).to.equal(0);
  });

  it('a window larger than the sequence, or equal to it, is the full relation', () => {
    const mask = Uint8Array.from({ length: 30 }, (_, i) => (i % 10 < 7 ? 1 : 0));
    const full = wrAngleLoss(teacher, student, { mask, window: 'full' });
    expect(wrAngleLoss(teacher, student, { mask, window: 7 })).to.equal(full);
    expect(wrAngleLoss(teacher, student, { mask, window: 21 })).to.equal(full);
    expect(wrAngleLoss(teacher, student, { mask })).to.equal(full); // default 21
    expect(wrAngleLoss(teacher, student, { mask, window: 5 })).not.to.equal(full);
  });

  it('windows are centred on the anchor and shifted to stay inside the real tokens', () => {
    const starts = (n: number, w: number) =>
      Array.from({ length: n }, (_, i) => windowStart(i, n, w));
    expect(starts(10, 5)).to.deep.equal([0, 0, 0, 1, 2, 3, 4, 5, 5, 5]);
    expect(starts(10, 4)).to.deep.equal([0, 0, 0, 1, 2, 3, 4, 5, 6, 6]);
    expect(starts(3, 21)).to.deep.equal([0, 0, 0]);
  });

  it('angles and distances ignore a shift of every token, cosines do not', () => {
    const shifted = { data: teacher.data.map((v, i) => v + (i % 12) * 0.5), dims: teacher.dims };
    expectRelative(wrAngleLoss(shifted, student), wrAngleLoss(teacher, student), 'angle');
    expectRelative(wrDistanceLoss(shifted, student), wrDistanceLoss(teacher, student), 'distance');
    expect(wrPairLoss(shifted, student)).not.to.be.closeTo(wrPairLoss(teacher, student), 1e-6);
  });

  it('identical teacher and student relations give 0, whatever the hidden sizes', () => {
    // Each student layer is its teacher layer scaled by 2 and padded with zeros to 16 values:
    // the same cosines, angles and normalized distances.
    const widen = (layer: HiddenStates): HiddenStates => {
      const data = new Float32Array(3 * 10 * 16);
      for (let r = 0; r < 30; r++) {
        for (let k = 0; k < 12; k++) data[r * 16 + k] = 2 * layer.data[r * 12 + k];
      }
      return { data, dims: [3, 10, 16] };
    };
    const layers = [teacher, states(3, 10, 12, 5), states(3, 10, 12, 6)];
    const wide = layers.map(widen);
    expect(wrPairLoss(teacher, wide[0])).to.be.below(1e-15);
    expect(wrAngleLoss(teacher, wide[0])).to.be.below(1e-15);
    expect(wrDistanceLoss(teacher, wide[0])).to.be.below(1e-15);
    expect(ltrPairLoss(layers, wide)).to.be.below(1e-15);
    expect(ltrAngleLoss(layers, wide)).to.be.below(1e-15);
  });

  it('kdLoss of identical logits is the teacher entropy, and 0 for regression', () => {
    const logits = { data: Float32Array.from([0, 0, 0, 0]), dims: [1, 4] };
    expectRelative(kdLoss(logits, logits), Math.log(4), 'entropy');
    expect(kdLoss(logits, logits, { task: 'regression' })).to.equal(0);
  });

  it('kdLoss keeps huge logits finite', () => {
    const t = { data: Float32Array.from([1e30, 0]), dims: [1, 2] };
    const s = { data: Float32Array.from([0, 1e30]), dims: [1, 2] };
    expect(kdLoss(t, s)).to.equal(Math.fround(1e30));
  });
});
