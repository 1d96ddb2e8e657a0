import { expect } from 'chai';

import {
  ckdLoss,
  kdLoss,
  ltrPairLoss,
  wrAngleLoss,
  wrDistanceLoss,
  wrPairLoss,
  type HiddenStates,
} from '../../src/distill/index.js';

function states(batch: number, tokens: number, hidden: number): HiddenStates {
  const data = Float32Array.from({ length: batch * tokens * hidden }, (_, i) => Math.sin(i));
  return { data, dims: [batch, tokens, hidden] };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('distillation losses: bad input gives errors that say what to fix', () => {
  const teacher = states(2, 4, 6);
  const student = states(2, 4, 3);

  it('different batch sizes of teacher and student', () => {
    expect(() => wrPairLoss(teacher, states(3, 4, 3))).to.throw(
      RangeError,
      'teacher has [batch 2, tokens 4] but student has [batch 3, tokens 4]',
    );
  });

  it('different token counts of teacher and student', () => {
    expect(() => wrAngleLoss(teacher, states(2, 5, 3))).to.throw(
      RangeError,
      /student has \[batch 2, tokens 5\]; both must be run on the same batch/,
    );
  });

  it('a mask that does not fit [batch, tokens]', () => {
    expect(() => wrPairLoss(teacher, student, { mask: new Uint8Array(7) })).to.throw(
      RangeError,
      'mask has 7 entries but the hidden states have batch 2 and tokens 4, so it needs 8',
    );
    expect(() => wrPairLoss(teacher, student, { mask: 3 as unknown as Uint8Array })).to.throw(
      TypeError,
      /mask must be an array-like/,
    );
  });

  it('a mapping naming layers a model does not have', async () => {
    const error = await rejection(
      ckdLoss(
        { hidden: [teacher, teacher, teacher] },
        { hidden: [student, student] },
        {
          mapping: [
            [0, 0],
            [3, 1],
          ],
        },
      ),
    );
    expect(error).to.be.instanceOf(RangeError);
    expect(error.message).to.contain(
      'mapping[1] names teacher layer 3, but the teacher has hidden states 0..2',
    );
    expect(() =>
      ltrPairLoss([teacher, teacher], [student, student], {
        mapping: [
          [0, 0],
          [1, 2],
        ],
      }),
    ).to.throw(RangeError, 'names student layer 2, but the student has hidden states 0..1');
  });

  it("an 'emb+skip' mapping whose counts do not divide", async () => {
    const error = await rejection(
      ckdLoss(
        { hidden: [teacher, teacher, teacher, teacher] },
        { hidden: [student, student, student] },
      ),
    );
    expect(error.message).to.match(/'emb\+skip' needs the teacher's 3 layers to be a multiple/);
  });

  it('hidden states that are not Float32Array, or whose dims do not match the data', () => {
    const wrong = { data: [1, 2, 3] as unknown as Float32Array, dims: [1, 3, 1] };
    expect(() => wrPairLoss(wrong, student)).to.throw(
      TypeError,
      'teacher.data must be a Float32Array, got Array',
    );
    expect(() => wrPairLoss(teacher, { data: new Float32Array(5), dims: [2, 4, 3] })).to.throw(
      RangeError,
      'student.data has 5 values but dims [2, 4, 3] need 24',
    );
    expect(() => wrPairLoss({ data: new Float32Array(8), dims: [2, 4] }, student)).to.throw(
      RangeError,
      'teacher.dims must be three positive integers [batch, tokens, hidden], got [2,4]',
    );
  });

  it('layers of one model with different dims, or unmatched lists without a mapping', () => {
    expect(() => ltrPairLoss([teacher, states(2, 4, 5)], [student, student])).to.throw(
      RangeError,
      'teacher[1] has dims [2, 4, 5] but teacher[0] has [2, 4, 6]',
    );
    expect(() => ltrPairLoss([teacher, teacher, teacher], [student, student])).to.throw(
      RangeError,
      'got 3 teacher and 2 student layers without a mapping',
    );
    expect(() => ltrPairLoss([], [])).to.throw(TypeError, /teacher must be a non-empty array/);
  });

  it('a window below 3 or a distance loss that does not exist', () => {
    expect(() => wrAngleLoss(teacher, student, { window: 2 })).to.throw(
      RangeError,
      /at least 3.*got 2/,
    );
    expect(() => wrAngleLoss(teacher, student, { window: 'half' as 'full' })).to.throw(
      RangeError,
      /"half"/,
    );
    expect(() => wrDistanceLoss(teacher, student, { loss: 'l2' as 'l1' })).to.throw(
      RangeError,
      "loss 'l2' is not one of l1, mse, huber",
    );
    expect(() => wrDistanceLoss(teacher, student, { huberDelta: 0 })).to.throw(
      RangeError,
      /huberDelta/,
    );
  });

  it('weights naming unknown terms, negative, or asking for terms the inputs lack', async () => {
    const t = { hidden: [teacher, teacher, teacher] };
    const s = { hidden: [student, student, student] };
    expect(
      (await rejection(ckdLoss(t, s, { weights: { wrPairs: 1 } as object }))).message,
    ).to.contain('weights.wrPairs is not a CKD term');
    expect((await rejection(ckdLoss(t, s, { weights: { wrAngle: -1 } }))).message).to.contain(
      'weights.wrAngle must be a finite number >= 0, got -1',
    );
    expect((await rejection(ckdLoss(t, s, { weights: { kd: 1 } }))).message).to.contain(
      'weights.kd is 1 but teacher and student do not both give logits',
    );
    const last = await rejection(ckdLoss(t, s, { mapping: 'last' }));
    expect(last.message).to.contain('weights.ltrPair is 1 but the mapping matches 1 layer pair(s)');
    const fine = await ckdLoss(t, s, {
      mapping: 'last',
      weights: { ltrPair: 0, ltrAngle: 0 },
    });
    expect(Object.keys(fine.terms)).to.deep.equal(['wrPair', 'wrAngle']);
  });

  it('logits of different dims, a bad temperature or task', () => {
    const a = { data: new Float32Array(6), dims: [2, 3] };
    const b = { data: new Float32Array(6), dims: [3, 2] };
    expect(() => kdLoss(a, b)).to.throw(
      RangeError,
      'teacher logits have dims [2, 3] but student logits [3, 2]',
    );
    expect(() => kdLoss(a, a, { temperature: 0 })).to.throw(
      RangeError,
      'temperature must be a positive number, got 0',
    );
    expect(() => kdLoss(a, a, { task: 'ranking' as 'regression' })).to.throw(
      RangeError,
      /'ranking'/,
    );
    expect(() => kdLoss({ data: new Float32Array(5), dims: [2, 3] }, a)).to.throw(
      RangeError,
      /5 values/,
    );
    const tokens = { data: new Float32Array(24), dims: [2, 4, 3] };
    expect(() => kdLoss(tokens, tokens, { mask: new Uint8Array(7) })).to.throw(
      RangeError,
      'mask has 7 entries but the logits have 2 x 4 tokens',
    );
  });
});
