import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { Session, setLogSink, type Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/assert.js';
import { linearRelu, linearReluModel, sequence } from '../helpers/tiny-models.js';

function input(rows: number, seed = 1): Tensor {
  return { type: 'float32', data: sequence(rows * 4, seed), dims: [rows, 4] };
}

async function rejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('Session', () => {
  it('runs a model from bytes and matches the hand-computed outputs', async () => {
    const session = await Session.create(linearReluModel());
    const x = input(5);
    const { y } = await session.run({ x });
    expect(y.dims).to.deep.equal([5, 3]);
    expectClose(y.data as Float32Array, linearRelu(x.data as Float32Array, 5), 1e-6, 'y');
    await session.dispose();
  });

  it('reports inputs and outputs with names, dims and types', async () => {
    const session = await Session.create(linearReluModel());
    expect(session.inputs).to.deep.equal([{ name: 'x', dims: ['batch', 4], type: 'float32' }]);
    expect(session.outputs).to.deep.equal([{ name: 'y', dims: ['batch', 3], type: 'float32' }]);
    expect(session.executionProvider).to.equal('cpu');
    await session.dispose();
  });

  it('loads a model from a path', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-session-'));
    const file = path.join(dir, 'm.onnx');
    await writeFile(file, linearReluModel());
    const session = await Session.create(file, { threads: 1, graphOptimizationLevel: 'basic' });
    const { y } = await session.run({ x: input(2) });
    expect(y.dims).to.deep.equal([2, 3]);
    await session.dispose();
  });

  it('runBatched splits along the batch axis and concatenates to the same result', async () => {
    const session = await Session.create(linearReluModel());
    const x = input(23, 7);
    const whole = await session.run({ x });
    const batched = await session.runBatched({ x }, { batchSize: 5 });
    expect(batched.y.dims).to.deep.equal([23, 3]);
    expect(Array.from(batched.y.data as Float32Array)).to.deep.equal(
      Array.from(whole.y.data as Float32Array),
    );
    await session.dispose();
  });

  it('dispose() is safe to call twice and run() after it fails clearly', async () => {
    const session = await Session.create(linearReluModel());
    await session.dispose();
    await session.dispose();
    const error = await rejects(session.run({ x: input(1) }));
    expect(error.message).to.match(/after dispose/);
  });

  describe('execution providers', () => {
    let warnings: string[] = [];
    beforeEach(() => {
      warnings = [];
      setLogSink((level, category, message) => {
        if (level === 'warning') warnings.push(`${category}: ${message}`);
      });
    });
    afterEach(() => setLogSink(undefined));

    it('drops a provider that does not start, warns its name and reason, runs on cpu', async () => {
      const session = await Session.create(linearReluModel(), { executionProviders: 'cuda,cpu' });
      expect(session.executionProvider).to.equal('cpu');
      expect(session.failedProviders.map((f) => f.name)).to.deep.equal(['cuda']);
      expect(session.failedProviders[0].reason).to.have.length.greaterThan(0);
      expect(warnings.join('\n')).to.match(/'cuda' did not start/);
      await session.dispose();
    });

    it('lists every provider with its reason when none starts', async () => {
      const error = await rejects(
        Session.create(linearReluModel(), { executionProviders: ['cuda', 'wasm'] }),
      );
      expect(error.message).to.match(/no execution provider could run/);
      expect(error.message).to.match(/cuda: .+/);
      expect(error.message).to.match(/wasm: not available in onnxruntime-node/);
    });

    it('rejects an unknown provider name, listing the valid ones', async () => {
      const error = await rejects(Session.create(linearReluModel(), { executionProviders: 'tpu' }));
      expect(error).to.be.instanceOf(RangeError);
      expect(error.message).to.match(/unknown execution provider 'tpu'.*cuda, webgpu, wasm, cpu/);
    });

    it('rejects a bad thread count', async () => {
      const error = await rejects(Session.create(linearReluModel(), { threads: 0 }));
      expect(error).to.be.instanceOf(RangeError);
      expect(error.message).to.match(/threads/);
    });
  });

  describe('feeds', () => {
    let session: Session;
    before(async () => {
      session = await Session.create(linearReluModel());
    });
    after(() => session.dispose());

    it('names a feed that is not an input and lists the inputs', async () => {
      const error = await rejects(session.run({ input: input(1) }));
      expect(error.message).to.match(/feed 'input' is not an input.*'x' float32\[batch, 4\]/);
    });

    it('names the input whose dims do not fit', async () => {
      const error = await rejects(
        session.run({ x: { type: 'float32', data: new Float32Array(10), dims: [2, 5] } }),
      );
      expect(error).to.be.instanceOf(RangeError);
      expect(error.message).to.match(/feed 'x' has dims \[2, 5\]; the model expects \[batch, 4\]/);
    });

    it('names the input whose type is wrong', async () => {
      const error = await rejects(
        session.run({ x: { type: 'float64', data: new Float64Array(4), dims: [1, 4] } }),
      );
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.match(/feed 'x' has type float64; the model expects float32/);
    });

    it('names a missing input', async () => {
      const error = await rejects(session.run({}));
      expect(error.message).to.match(/input 'x' .* has no feed/);
    });
  });
});
