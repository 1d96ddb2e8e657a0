import { expect } from 'chai';

import { checkJobData, checkTask, type Task } from '../../src/queue/jobs.js';
import { decodeResult, encodeResult } from '../../src/queue/result-codec.js';
import { collectShardResults } from '../../src/queue/shard-results.js';

const HASH = 'a'.repeat(64);
const suite: Task = {
  kind: 'suite',
  model: '/models/m.onnx',
  modelSha256: HASH,
  source: { config: '/data/suite.json' },
  dataStamps: [{ size: 10_000, fingerprint: HASH }],
  args: { batch: 64, preset: 'mnist' },
};

const retrieval: Task = {
  kind: 'retrieval',
  encoderSha256: [HASH, HASH],
  manifestSha256: HASH,
  tokenizerSha256: [HASH],
  dataStamp: { size: 5000, fingerprint: HASH },
  args: { data: '/d/dataset_coco.json', imageRoot: '/d/images', style: 'google', batch: 64 },
};

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(TypeError);
    return (error as Error).message;
  }
  throw new Error('expected the job to be refused');
}

describe('queued job data', () => {
  it('accepts the tasks ortlab submit writes', () => {
    expect(checkTask(suite)).to.equal(suite);
    const rank: Task = {
      kind: 'rank',
      manifest: '/m/manifest.json',
      manifestSha256: HASH,
      modelSha256: [HASH, HASH],
      dataStamp: { size: 10_000, fingerprint: HASH },
      args: { radii: [0.001, 0.003], engine: 'patch', limit: 100 },
    };
    expect(checkTask(rank)).to.equal(rank);
    const evaluation: Task = {
      kind: 'eval',
      model: '/models/m.onnx',
      modelSha256: HASH,
      data: '/data/val',
      dataStamp: { size: 0, fingerprint: HASH },
      args: {},
    };
    expect(checkTask(evaluation)).to.equal(evaluation);
    expect(checkTask(retrieval)).to.equal(retrieval);
    const data = { ortlabJob: 1, submission: 's1', shard: { index: 2, count: 3 }, task: suite };
    expect(checkJobData('shard', data)).to.equal(data);
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'an unknown kind',
      { ...suite, kind: 'shell' },
      /task\.kind must be suite, eval, rank or retrieval, got shell/,
    ],
    [
      'an option ortlab does not queue',
      { ...suite, args: { checkpoint: '/tmp/x' } },
      /task\.args\.checkpoint is not an option ortlab queues/,
    ],
    [
      'an option of the wrong type',
      { ...suite, args: { batch: '64; rm -rf /' } },
      /task\.args\.batch must be a finite number/,
    ],
    [
      'a model hash that is not sha256',
      { ...suite, modelSha256: 'abc' },
      /task\.modelSha256 must be a sha256 in hex/,
    ],
    [
      'two suite sources',
      { ...suite, source: { config: '/a', flags: {} } },
      /task\.source must be one of/,
    ],
    [
      'an unknown split kind',
      { ...suite, source: { eval: { data: '/d', kind: 'imagenet-z' } } },
      /task\.source\.eval\.kind must be folder, imagenet/,
    ],
    [
      'a rank engine that does not exist',
      {
        kind: 'rank',
        manifest: '/m',
        manifestSha256: HASH,
        modelSha256: [],
        dataStamp: { size: 1, fingerprint: HASH },
        args: { engine: 'gpu' },
      },
      /task\.args\.engine must be auto, inputs or patch/,
    ],
    [
      'a suite without the stamps of its data',
      { ...suite, dataStamps: undefined },
      /task\.dataStamps must list a data stamp \(\{ size, fingerprint: sha256 in hex \}\) per/,
    ],
    [
      'a data stamp whose size is not a count',
      { ...suite, dataStamps: [{ size: -1, fingerprint: HASH }] },
      /task\.dataStamps must list a data stamp/,
    ],
    [
      'an eval task whose data stamp has no sha256',
      { ...suite, kind: 'eval', data: '/d', dataStamp: { size: 3, fingerprint: 'x' } },
      /task\.dataStamp must be a data stamp/,
    ],
    [
      'a rank task without a data stamp',
      { kind: 'rank', manifest: '/m', manifestSha256: HASH, modelSha256: [], args: {} },
      /task\.dataStamp must be a data stamp/,
    ],
    [
      'a retrieval option ortlab does not queue (query-only --top)',
      { ...retrieval, args: { top: 5 } },
      /task\.args\.top is not an option ortlab queues/,
    ],
    [
      'a retrieval path that is not a string',
      { ...retrieval, args: { images: ['/a.onnx', '/b.onnx'] } },
      /task\.args\.images must be a non-empty string/,
    ],
    [
      'encoder hashes that are not one image and one text per pair',
      { ...retrieval, encoderSha256: [HASH] },
      /task\.encoderSha256 must list a sha256 per image and text encoder of each pair/,
    ],
    [
      'no encoder hashes at all',
      { ...retrieval, encoderSha256: [] },
      /task\.encoderSha256 must list/,
    ],
    [
      'tokenizer hashes that are not one per pair',
      { ...retrieval, tokenizerSha256: [HASH, HASH] },
      /task\.tokenizerSha256 must list a sha256 per tokenizer of each pair/,
    ],
    [
      'a task without tokenizer hashes',
      { ...retrieval, tokenizerSha256: undefined },
      /task\.tokenizerSha256 must list/,
    ],
    [
      'a retrieval task without the stamp of its data',
      { ...retrieval, dataStamp: undefined },
      /task\.dataStamp must be a data stamp/,
    ],
    [
      'a retrieval manifest hash that is not sha256',
      { ...retrieval, manifestSha256: 'x' },
      /task\.manifestSha256 must be a sha256 in hex/,
    ],
  ];
  for (const [what, task, message] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      expect(refusal(() => checkTask(task))).to.match(message);
    });
  }

  it('refuses a shard outside its count and a job of another program', () => {
    const shard = { ortlabJob: 1, submission: 's1', shard: { index: 3, count: 3 }, task: suite };
    expect(refusal(() => checkJobData('shard', shard))).to.match(/0 <= index < count/);
    expect(refusal(() => checkJobData('shard', { submission: 's1' }))).to.match(
      /without ortlabJob: 1/,
    );
    const merge = { ortlabJob: 1, submission: 's1', shards: 2, task: suite, command: 'x' };
    expect(refusal(() => checkJobData('cleanup', merge))).to.match(/shard or merge, got 'cleanup'/);
  });
});

describe('results through Redis', () => {
  it('keep NaN and infinities, which plain JSON turns into null', () => {
    const value = { ece: NaN, rows: [1, -Infinity, Infinity, 0.1 + 0.2], nested: { x: null } };
    const decoded = decodeResult<typeof value>(JSON.parse(JSON.stringify(encodeResult(value))));
    expect(decoded.ece).to.be.NaN;
    expect(decoded.rows).to.deep.equal([1, -Infinity, Infinity, 0.30000000000000004]);
    expect(decoded.nested.x).to.equal(null);
  });

  it('are gzipped: per-sample records shrink several times over', () => {
    const records = Array.from({ length: 2000 }, (_, i) => ({
      i,
      id: `mnist#${i}`,
      y: i % 10,
      conf: 0.99,
    }));
    const encoded = encodeResult(records);
    expect(encoded.gzip.length * 3).to.be.below(JSON.stringify(records).length);
  });

  it('carry typed arrays as their bytes: every bit back, NaN included, in their own type', () => {
    const value = {
      embeddings: Float32Array.of(0.1, -0, NaN, 3.4e38, 1e-45),
      penalties: Float64Array.of(0.1 + 0.2, Infinity),
      lengths: Int32Array.of(-1, 2 ** 31 - 1),
      view: new Float32Array(Float32Array.of(9, 1, 2).buffer, 4, 2),
    };
    const decoded = decodeResult<typeof value>(JSON.parse(JSON.stringify(encodeResult(value))));
    expect(decoded.embeddings).to.be.instanceOf(Float32Array);
    const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bits(decoded.embeddings)).to.deep.equal(bits(value.embeddings));
    expect(decoded.penalties).to.be.instanceOf(Float64Array);
    expect(bits(decoded.penalties)).to.deep.equal(bits(value.penalties));
    expect(decoded.lengths).to.deep.equal(value.lengths);
    expect(Array.from(decoded.view)).to.deep.equal([1, 2]);
  });

  it('embeddings travel at about 5.4 bytes per float32, not a JSON key and number each', () => {
    const embeddings = Float32Array.from({ length: 10_000 }, (_, i) => Math.sin(i));
    const encoded = encodeResult({ embeddings });
    expect(encoded.gzip.length).to.be.below(10_000 * 5.4);
  });

  it('refuse a typed array they do not carry', () => {
    expect(() => encodeResult({ raw: Uint8Array.of(1) })).to.throw(
      TypeError,
      'a result cannot hold a Uint8Array',
    );
  });

  it('refuses something that is not an encoded result', () => {
    expect(() => decodeResult({ gzip: 'x' })).to.throw(TypeError, /not an ortlab result/);
  });
});

describe('collecting shard results for the merge', () => {
  const result = (shard: number, value: number) => encodeResult({ shard, value });

  it('orders them by shard and counts a shard stored twice once', () => {
    const values = {
      'bull:ortlab:s.shard-1': result(1, 10),
      'bull:ortlab:s.shard-0': result(0, 20),
      'bull:ortlab:s.shard-1-again': result(1, 10),
    };
    expect(collectShardResults<{ shard: number; value: number }>(values, 2)).to.deep.equal([
      { shard: 0, value: 20 },
      { shard: 1, value: 10 },
    ]);
  });

  it('names the shards whose results are missing', () => {
    const values = { a: result(0, 1), b: result(3, 1) };
    expect(() => collectShardResults(values, 4)).to.throw(
      Error,
      'the results of shards 1, 2 of 4 are missing',
    );
  });
});
