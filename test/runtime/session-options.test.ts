import { expect } from 'chai';

import { Session, type SessionOptions, type Tensor } from '../../src/index.js';
import { linearReluModel, sequence } from '../helpers/tiny-models.js';

async function rejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

const x: Tensor = { type: 'float32', data: sequence(8, 3), dims: [2, 4] };

describe('Session options', () => {
  describe('graphOptimizationLevel', () => {
    it('rejects an unknown level with a RangeError naming it and the valid ones', async () => {
      for (const bad of ['max', 'ALL', '', '99']) {
        const options = { graphOptimizationLevel: bad } as unknown as SessionOptions;
        const error = await rejects(Session.create(linearReluModel(), options));
        expect(error, bad).to.be.instanceOf(RangeError);
        expect(error.message).to.equal(
          `graphOptimizationLevel '${bad}' is not one of disabled, basic, extended, all`,
        );
      }
    });

    it('accepts every valid level and runs the model to the same result', async () => {
      let first: number[] | undefined;
      for (const level of ['disabled', 'basic', 'extended', 'all'] as const) {
        const session = await Session.create(linearReluModel(), { graphOptimizationLevel: level });
        const { y } = await session.run({ x });
        const values = Array.from(y.data as Float32Array);
        first ??= values;
        expect(values, level).to.deep.equal(first);
        await session.dispose();
      }
    });
  });

  describe('spinning', () => {
    it('runs the model to the same result with and without spinning threads', async () => {
      const results = [];
      for (const spinning of [true, false, undefined]) {
        const session = await Session.create(linearReluModel(), { spinning, threads: 2 });
        results.push(Array.from((await session.run({ x })).y.data as Float32Array));
        expect(session.options.spinning).to.equal(spinning);
        await session.dispose();
      }
      expect(results[1]).to.deep.equal(results[0]);
      expect(results[2]).to.deep.equal(results[0]);
    });

    it('rejects what is not a boolean with a TypeError naming the value', async () => {
      const options = { spinning: 'no' } as unknown as SessionOptions;
      const error = await rejects(Session.create(linearReluModel(), options));
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.equal('spinning must be true or false, got no');
    });
  });

  describe('logLevel', () => {
    it('rejects an unknown level with a RangeError naming it and the valid ones', async () => {
      // 'off' is an ortlab logger level, not one of ONNX Runtime's severities.
      for (const bad of ['off', 'debug', 'Error', 2]) {
        const options = { logLevel: bad } as unknown as SessionOptions;
        const error = await rejects(Session.create(linearReluModel(), options));
        expect(error, String(bad)).to.be.instanceOf(RangeError);
        expect(error.message).to.equal(
          `logLevel '${String(bad)}' is not one of verbose, info, warning, error, fatal`,
        );
      }
    });

    it('accepts the valid levels and keeps the one given in the options', async () => {
      // verbose and info are valid too, but ONNX Runtime then floods standard error.
      for (const level of ['warning', 'error', 'fatal'] as const) {
        const session = await Session.create(linearReluModel(), { logLevel: level });
        expect(session.options.logLevel, level).to.equal(level);
        await session.dispose();
      }
    });
  });

  it('checks options before reading the model: a bad option wins over a missing file', async () => {
    const error = await rejects(
      Session.create('no/such/model.onnx', {
        graphOptimizationLevel: 'fast' as unknown as SessionOptions['graphOptimizationLevel'],
      }),
    );
    expect(error).to.be.instanceOf(RangeError);
    expect(error.message).to.match(/graphOptimizationLevel 'fast'/);
  });
});
