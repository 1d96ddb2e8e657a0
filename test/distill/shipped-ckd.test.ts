import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import '../../src/index.js';
import { ckdLoss } from '../../src/distill/ckd-loss.js';
import { kdLoss } from '../../src/distill/kd-loss.js';
import { distillModel, type DistillModel } from '../../src/distill/model-outputs.js';
import { openTextData } from '../../src/distill/text-data.js';
import { Session } from '../../src/runtime/session.js';
import { loadTokenizer, type TokenBatch } from '../../src/runtime/tokenizer.js';

interface CkdCheck {
  rows: number;
  tokens: number;
  ortlab: Record<'wrPair' | 'wrAngle' | 'ltrPair' | 'ltrAngle' | 'kd', number>;
  maxRelDiff: number;
  tolerance: number;
}

/**
 * The CKD terms of the shipped teacher and student-ckd that tools/export/train_distill.py
 * recorded in models/distill/student-ckd.json (`ckdCheck`): its own PyTorch losses agreed with
 * them within `maxRelDiff` (5e-8, relative to max(1, |value|)) on the first 16 sentences of the
 * yelp test split and of imdb, tokenized by the script's own WordPiece and padded as one batch.
 * Here ortlab tokenizes the same sentences, runs both shipped models and computes the terms
 * again: within 1e-6 relative, so within 1e-6 + 5e-8 of PyTorch.
 */
describe('shipped distillation models: CKD terms of the export script', function () {
  this.timeout(60_000);

  it('reproduces the recorded terms from the sentences, tokenizer and both models', async () => {
    const card = JSON.parse(await readFile('models/distill/student-ckd.json', 'utf8')) as {
      ckdCheck: CkdCheck;
      maxLength: number;
      training: { temperature: number; mapping: { kind: string; pairs: number[][] } };
    };
    const check = card.ckdCheck;
    expect(check.maxRelDiff).to.be.below(1e-7);
    const [yelp, , imdb] = await openTextData('sentiment', { limit: 16 });
    expect([yelp.name, imdb.name]).to.deep.equal(['yelp (test)', 'imdb']);
    const texts = [...yelp.samples, ...imdb.samples].map((s) => s.text);
    expect(texts).to.have.length(check.rows);

    const tokenizer = await loadTokenizer('models/distill/tokenizer');
    const sessions = [
      await Session.create('models/distill/teacher.onnx'),
      await Session.create('models/distill/student-ckd.onnx'),
    ];
    try {
      const batch = tokenizer.encode(texts, { maxLength: card.maxLength });
      expect(batch.dims).to.deep.equal([check.rows, check.tokens]);
      const outputs = async (model: DistillModel, tokens: TokenBatch) => {
        const out = await model.run(tokens);
        return {
          hidden: model.hiddenStates.map((name) => ({
            data: out[name].data as Float32Array,
            dims: out[name].dims,
          })),
          logits: { data: out.logits.data as Float32Array, dims: out.logits.dims },
        };
      };
      const teacher = await outputs(distillModel(sessions[0], 'teacher'), batch);
      const student = await outputs(distillModel(sessions[1], 'student'), batch);
      const result = await ckdLoss(teacher, student, {
        mask: Uint8Array.from(batch.attentionMask, Number),
        mapping: 'emb+skip',
        window: 21,
        weights: { kd: 0 },
      });
      expect(result.mapping.map((p) => [p.teacher, p.student])).to.deep.equal(
        card.training.mapping.pairs,
      );
      const kd = kdLoss(teacher.logits, student.logits, {
        temperature: card.training.temperature,
        temperatureSquared: true,
      });
      const got = { ...result.terms, kd };
      for (const term of ['wrPair', 'wrAngle', 'ltrPair', 'ltrAngle', 'kd'] as const) {
        const want = check.ortlab[term];
        expect(got[term], term).to.be.closeTo(want, 1e-6 * Math.abs(want));
      }
    } finally {
      tokenizer.dispose();
      await Promise.all(sessions.map((s) => s.dispose()));
    }
  });
});
