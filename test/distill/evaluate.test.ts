import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import '../../src/index.js';
import { evaluateDistillation } from '../../src/distill/evaluate.js';
import { distillModel, sentenceOutputs } from '../../src/distill/model-outputs.js';
import { runDistillation, type DistillReport } from '../../src/distill/run-node.js';
import { openTextData } from '../../src/distill/text-data.js';
import { Session } from '../../src/runtime/session.js';
import { loadTokenizer } from '../../src/runtime/tokenizer.js';

const TEACHER = 'models/distill/teacher.onnx';
const STUDENTS = ['student-kd', 'student-ckd'] as const;

interface Card {
  accuracy: Record<string, number>;
  teacherAgreement?: Record<string, number>;
}

async function card(name: string): Promise<Card> {
  return JSON.parse(await readFile(`models/distill/${name}.json`, 'utf8')) as Card;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('teacher-student evaluation of the shipped models', function () {
  this.timeout(120_000);
  const reports = new Map<string, DistillReport>();

  before(async () => {
    for (const student of STUDENTS) {
      const path = `models/distill/${student}.onnx`;
      reports.set(student, await runDistillation(TEACHER, path, 'sentiment', { examples: 1 }));
    }
  });

  // The cards were measured by tools/export/train_distill.py: its own Python WordPiece
  // encoding and bare onnxruntime-node, so this checks ortlab's tokenizer, feeds and counting.
  for (const student of STUDENTS) {
    it(`${student}: accuracy and agreement equal what the export script measured`, async () => {
      const report = reports.get(student)!;
      const [teacherCard, studentCard] = [await card('teacher'), await card(student)];
      const split: Record<string, string> = {
        'yelp (test)': 'test',
        amazon: 'amazon',
        imdb: 'imdb',
      };
      expect(report.domains.map((d) => d.name)).to.deep.equal(Object.keys(split));
      for (const domain of report.domains) {
        const key = split[domain.name];
        expect(domain.teacherAccuracy, `${domain.name} teacher`).to.equal(
          teacherCard.accuracy[key],
        );
        expect(domain.studentAccuracy, `${domain.name} student`).to.equal(
          studentCard.accuracy[key],
        );
        expect(domain.agreement, `${domain.name} agreement`).to.equal(
          studentCard.teacherAgreement?.[key],
        );
      }
    });
  }

  it('matches emb+skip layers 0-0, 2-1, 4-2 and reports every term per pair', () => {
    const report = reports.get('student-ckd')!;
    expect(report.mapping).to.deep.equal([
      { teacher: 0, student: 0 },
      { teacher: 2, student: 1 },
      { teacher: 4, student: 2 },
    ]);
    for (const domain of report.domains) {
      expect(domain.terms).to.have.all.keys('kd', 'wrPair', 'wrAngle', 'ltrPair', 'ltrAngle');
      expect(domain.perLayer).to.have.length(3);
      for (const pair of domain.perLayer) {
        expect(pair.wrPair).to.be.greaterThan(0);
        expect(pair.wrAngle).to.be.greaterThan(0);
      }
      const total = Object.entries(domain.terms).reduce(
        (sum, [term, value]) => sum + report.weights[term as keyof typeof report.weights] * value,
        0,
      );
      expect(domain.total).to.be.closeTo(total, 1e-12);
    }
  });

  it('the CKD-trained student keeps closer relations to its teacher than the KD-only one', () => {
    const kd = reports.get('student-kd')!;
    const ckd = reports.get('student-ckd')!;
    for (const [i, domain] of ckd.domains.entries()) {
      for (const term of ['wrPair', 'wrAngle', 'ltrPair', 'ltrAngle'] as const) {
        expect(domain.terms[term], `${domain.name} ${term}`).to.be.lessThan(
          kd.domains[i].terms[term]!,
        );
      }
    }
  });

  it('draws relation maps of the example sentence: symmetric, unit diagonal, one per pair', () => {
    const [example] = reports.get('student-ckd')!.examples;
    const n = example.tokens.length;
    expect(example.tokens[0]).to.equal('[CLS]');
    expect(example.word).to.have.length(3);
    for (const pair of example.word) {
      for (const map of [pair.teacherMap, pair.studentMap]) {
        expect(map).to.have.length(n);
        for (let i = 0; i < n; i++) {
          expect(map[i][i]).to.be.closeTo(1, 1e-4);
          for (let j = 0; j < n; j++) expect(map[i][j]).to.equal(map[j][i]);
        }
      }
    }
    expect(example.layer.teacherMap).to.have.length(3);
  });
});

describe('teacher-student evaluation: batching and padding', function () {
  this.timeout(120_000);

  it('gives the same terms with batches of 1 (no padding) and of 16 (padded)', async () => {
    const teacher = await Session.create(TEACHER);
    const student = await Session.create('models/distill/student-ckd.onnx');
    const tokenizer = await loadTokenizer('models/distill/tokenizer');
    try {
      const domains = await openTextData('sentiment', { limit: 24 });
      const run = (batchSize: number) =>
        evaluateDistillation(teacher, student, tokenizer, domains.slice(0, 1), {
          batchSize,
          examples: 0,
        });
      const [one, sixteen] = [await run(1), await run(16)];
      const a = one.domains[0];
      const b = sixteen.domains[0];
      expect(b.agreement).to.equal(a.agreement);
      for (const [term, value] of Object.entries(a.terms)) {
        const other = b.terms[term as keyof typeof b.terms]!;
        // Padding changes ONNX Runtime's summation order, not the real tokens' states.
        expect(Math.abs(other - value) / Math.abs(value), term).to.be.lessThan(1e-4);
      }
    } finally {
      tokenizer.dispose();
      await teacher.dispose();
      await student.dispose();
    }
  });
});

describe('teacher-student evaluation: chosen example sentences', function () {
  this.timeout(120_000);

  it('draws the relation maps of the given sentences, or of the first N of the data', async () => {
    const teacher = await Session.create(TEACHER);
    const student = await Session.create('models/distill/student-ckd.onnx');
    const tokenizer = await loadTokenizer('models/distill/tokenizer');
    try {
      const domains = (await openTextData('sentiment', { limit: 4 })).slice(0, 1);
      const chosen = ['The soup was cold.', 'Friendly staff and a quick lunch, we will be back!'];
      const given = await evaluateDistillation(teacher, student, tokenizer, domains, {
        examples: chosen,
      });
      expect(given.examples.map((e) => e.text)).to.deep.equal(chosen);
      for (const [i, example] of given.examples.entries()) {
        const ids = tokenizer.encode([chosen[i]]).inputIds;
        expect(example.tokens).to.have.length(ids.length);
        expect(example.tokens[0]).to.equal('[CLS]');
        expect(example.word[0].teacherMap).to.have.length(ids.length);
      }
      expect(given.examples[0].tokens.length).to.be.lessThan(given.examples[1].tokens.length);
      const counted = await evaluateDistillation(teacher, student, tokenizer, domains, {
        examples: 2,
      });
      expect(counted.examples.map((e) => e.text)).to.deep.equal(
        domains[0].samples.slice(0, 2).map((s) => s.text),
      );
    } finally {
      tokenizer.dispose();
      await teacher.dispose();
      await student.dispose();
    }
  });
});

describe('teacher-student evaluation: bad input', function () {
  this.timeout(60_000);

  it('a mapping that names a layer the student lacks', async () => {
    const error = await rejection(
      runDistillation(TEACHER, 'models/distill/student-kd.onnx', 'sentiment', {
        mapping: [
          [0, 0],
          [4, 5],
        ],
        limit: 2,
      }),
    );
    expect(error.message)
      .to.match(/student/)
      .and.match(/5/);
  });

  it('a model without hidden-state outputs', async () => {
    const error = await rejection(
      runDistillation(TEACHER, 'models/mnist-cnn.onnx', 'sentiment', {
        tokenizer: 'models/distill/tokenizer',
        limit: 2,
      }),
    );
    expect(error.message).to.include('the student model has no hidden-state outputs');
    expect(error.message).to.include('logits [batch, 10]');
  });

  it('a tokenizer folder without its files', async () => {
    const error = await rejection(
      runDistillation(TEACHER, 'models/distill/student-kd.onnx', 'sentiment', {
        tokenizer: 'models/distill',
        limit: 2,
      }),
    );
    expect(error.message).to.include('tokenizer.json');
  });

  it('a missing model file names it', async () => {
    const error = await rejection(
      runDistillation(TEACHER, 'models/distill/nope.onnx', 'sentiment', { limit: 2 }),
    );
    expect(error.message).to.include("student model 'models/distill/nope.onnx' does not exist");
  });

  it('hidden states whose token count does not fit the mask', async () => {
    const session = await Session.create('models/distill/student-kd.onnx');
    try {
      const model = distillModel(session, 'student');
      const outputs = Object.fromEntries(
        model.hiddenStates.map((name) => [
          name,
          { type: 'float32' as const, dims: [1, 3, 64], data: new Float32Array(192) },
        ]),
      );
      expect(() => sentenceOutputs(model, outputs, new BigInt64Array(4).fill(1n), 0)).to.throw(
        /returned hidden_0 \[1, 3, 64\] for a batch of 4 tokens/,
      );
    } finally {
      await session.dispose();
    }
  });
});
