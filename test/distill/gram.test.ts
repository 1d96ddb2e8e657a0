import { expect } from 'chai';

import '../../src/index.js';
import { OnnxModel } from '../../src/index.js';
import { ckdLoss, createOrtGram, gramInto, gramModel } from '../../src/distill/index.js';
import { expectClose } from '../helpers/assert.js';
import { cases, expectRelative } from './reference.js';

function naiveGram(x: Float32Array, n: number, d: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k] * x[j * d + k];
      out.push(s);
    }
  }
  return out;
}

const random = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 3);

describe('Gram matrices', () => {
  it('gramInto equals the naive product for every row count 1..13 (all tile remainders)', () => {
    for (const d of [1, 5, 33]) {
      for (let n = 1; n <= 13; n++) {
        const x = random(n * d);
        const out = new Float64Array(n * n);
        gramInto(x, { rows: Int32Array.from({ length: n }, (_, i) => i * d), d, out });
        expectClose(out, naiveGram(x, n, d), 1e-12 * d, `n ${n}, d ${d}`);
      }
    }
  });

  it('gramInto reads rows at any offsets and writes at outOffset', () => {
    const x = Float32Array.from([1, 2, 9, 9, 3, 4]);
    const out = new Float64Array(6);
    gramInto(x, { rows: [0, 4], d: 2, out, outOffset: 2 });
    expect([...out]).to.deep.equal([0, 0, 5, 11, 11, 25]);
  });

  it('gramModel is Transpose then MatMul', () => {
    const model = OnnxModel.fromBytes(gramModel());
    expect(model.graph.node?.map((n) => n.opType)).to.deep.equal(['Transpose', 'MatMul']);
  });

  describe('createOrtGram (onnxruntime-node, cpu)', () => {
    let ortGram: Awaited<ReturnType<typeof createOrtGram>>;
    before(async () => {
      ortGram = await createOrtGram({ threads: 1, executionProviders: 'cpu' });
    });
    after(async () => {
      await ortGram.dispose();
      await ortGram.dispose(); // safe twice
    });

    it('computes x x^T per batch entry, within float32 rounding', async () => {
      const [batch, rows, cols] = [3, 9, 17];
      const x = random(batch * rows * cols);
      const g = await ortGram.gram(x, [batch, rows, cols]);
      expect(ortGram.executionProvider).to.equal('cpu');
      for (let b = 0; b < batch; b++) {
        const expected = naiveGram(x.subarray(b * rows * cols), rows, cols);
        expectClose(
          g.subarray(b * rows * rows, (b + 1) * rows * rows),
          expected,
          1e-4,
          `batch ${b}`,
        );
      }
    });

    it('ckdLoss on the ONNX Runtime Gram matches PyTorch within 1e-5 relative', async () => {
      for (const c of cases) {
        for (const entry of c.ckd) {
          const result = await ckdLoss(
            { hidden: c.teacher, logits: c.logits.teacher },
            { hidden: c.student, logits: c.logits.student },
            {
              mask: c.maskArray,
              mapping: entry.mapping === 'list' ? c.mappings.list : (entry.mapping as 'last'),
              weights: entry.weights,
              window: entry.window,
              kd: { temperature: entry.temperature },
              gram: ortGram.gram,
            },
          );
          for (const [term, expected] of Object.entries(entry.terms)) {
            const actual = result.terms[term as keyof typeof result.terms]!;
            expectRelative(actual, expected, `${c.name} ${entry.mapping} ${term}`);
          }
        }
      }
    });

    it('a gram function returning the wrong size is a RangeError', async () => {
      const c = cases[0];
      const error = await ckdLoss(
        { hidden: c.teacher },
        { hidden: c.student },
        {
          mask: c.maskArray,
          gram: () => new Float32Array(3),
        },
      ).catch((e: Error) => e);
      expect(error).to.be.instanceOf(RangeError);
      expect((error as Error).message).to.contain('the gram function returned 3 values');
    });
  });
});
