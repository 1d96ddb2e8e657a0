import { expect } from 'chai';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { OnnxFormatError, OnnxModel, Session, loadOnnxModel } from '../../../src/index.js';
import { expectClose } from '../../helpers/assert.js';
import { B, W, linearRelu, linearReluModel, sequence } from '../../helpers/tiny-models.js';

const x = { type: 'float32' as const, data: sequence(12, 3), dims: [3, 4] };

async function run(bytes: Uint8Array, feeds: Record<string, typeof x>, fetches?: string[]) {
  const session = await Session.create(bytes);
  try {
    return await session.run(feeds, fetches);
  } finally {
    await session.dispose();
  }
}

async function rejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('OnnxModel', () => {
  it('reads opset, IR version, inputs and outputs', () => {
    const model = OnnxModel.fromBytes(linearReluModel());
    expect(model.opset).to.equal(17);
    expect(model.irVersion).to.equal(8);
    expect(model.inputs).to.deep.equal([{ name: 'x', dims: ['batch', 4], type: 'float32' }]);
    expect(model.outputs).to.deep.equal([{ name: 'y', dims: ['batch', 3], type: 'float32' }]);
  });

  it('lists initializers and Constant-node weights with name, dims, type and source', () => {
    const model = OnnxModel.fromBytes(linearReluModel({ biasInConstant: true }));
    expect(model.weights()).to.deep.equal([
      {
        name: 'W',
        dims: [4, 3],
        type: 'float32',
        size: 12,
        source: 'initializer',
        external: false,
      },
      { name: 'b', dims: [3], type: 'float32', size: 3, source: 'constant', external: false },
    ]);
    expect(model.parameterCount()).to.equal(15);
  });

  it('returns a Float32Array copy of a weight, also from a Constant node', () => {
    const model = OnnxModel.fromBytes(linearReluModel({ biasInConstant: true }));
    const w = model.getWeight('W');
    expect(Array.from(w)).to.deep.equal(Array.from(W));
    w[0] = 100;
    expect(model.getWeight('W')[0]).to.equal(1);
    expectClose(model.getWeight('b'), B, 0, 'b');
  });

  it('serializes an untouched model to bytes that give identical outputs', async () => {
    const original = linearReluModel();
    const again = OnnxModel.fromBytes(original).toBytes();
    const a = await run(original, { x });
    const b = await run(again, { x });
    expect(Array.from(b.y.data as Float32Array)).to.deep.equal(
      Array.from(a.y.data as Float32Array),
    );
  });

  it('replaces weight data and the saved model computes with the new weights', async () => {
    const model = OnnxModel.fromBytes(linearReluModel({ biasInConstant: true }));
    const w2 = W.map((v) => v * 2);
    const b2 = Float32Array.from([1, 2, 3]);
    model.setWeight('W', w2);
    model.setWeight('b', b2);
    const { y } = await run(model.toBytes(), { x });
    expectClose(y.data as Float32Array, linearRelu(x.data, 3, w2, b2), 1e-5, 'y');
  });

  it('rejects weight data of the wrong length, naming the weight and its size', () => {
    const model = OnnxModel.fromBytes(linearReluModel());
    expect(() => model.setWeight('W', new Float32Array(5))).to.throw(RangeError, /'W' has 12/);
    expect(() => model.getWeight('nope')).to.throw(RangeError, /no weight named 'nope'/);
  });

  it('lifts initializers to inputs so that one session runs with fed weights', async () => {
    const model = OnnxModel.fromBytes(linearReluModel());
    const lifted = model.liftWeightsToInputs();
    expect(lifted.map((w) => [w.name, w.type, w.dims])).to.deep.equal([
      ['W', 'float32', [4, 3]],
      ['b', 'float32', [3]],
    ]);
    expect(Array.from(lifted[0].data)).to.deep.equal(Array.from(W));
    expect(model.weights()).to.deep.equal([]);
    const session = await Session.create(model.toBytes());
    expect(session.inputs.map((i) => [i.name, i.dims])).to.deep.equal([
      ['x', ['batch', 4]],
      ['W', [4, 3]],
      ['b', [3]],
    ]);
    const fed = (w: Float32Array, b: Float32Array) =>
      session.run({
        x,
        W: { type: 'float32', data: w, dims: [4, 3] },
        b: { type: 'float32', data: b, dims: [3] },
      });
    const w2 = W.map((v) => -v);
    const first = await fed(lifted[0].data, lifted[1].data);
    const second = await fed(w2, B);
    const third = await fed(lifted[0].data, lifted[1].data);
    expectClose(first.y.data as Float32Array, linearRelu(x.data, 3), 1e-6, 'original weights');
    expectClose(second.y.data as Float32Array, linearRelu(x.data, 3, w2), 1e-6, 'fed weights');
    expect(Array.from(third.y.data as Float32Array)).to.deep.equal(
      Array.from(first.y.data as Float32Array),
    );
    await session.dispose();
  });

  it('lifts only the weights selected, by name or predicate', () => {
    const byName = OnnxModel.fromBytes(linearReluModel());
    expect(byName.liftWeightsToInputs(['b']).map((w) => w.name)).to.deep.equal(['b']);
    expect(byName.weights().map((w) => w.name)).to.deep.equal(['W']);
    const byRank = OnnxModel.fromBytes(linearReluModel());
    const lifted = byRank.liftWeightsToInputs((_name, dims) => dims.length > 1);
    expect(lifted.map((w) => w.name)).to.deep.equal(['W']);
    expect(() => OnnxModel.fromBytes(linearReluModel()).liftWeightsToInputs(['nope'])).to.throw(
      RangeError,
      /not initializers of the model: nope/,
    );
  });

  it('lifts weights held in Constant nodes when asked to', () => {
    const model = OnnxModel.fromBytes(linearReluModel({ biasInConstant: true }));
    const lifted = model.liftWeightsToInputs('float', { includeConstants: true });
    expect(lifted.map((w) => w.name)).to.deep.equal(['W', 'b']);
    expect(Array.from(lifted[1].data)).to.deep.equal(Array.from(B));
    expect(model.inputs.map((i) => i.name)).to.deep.equal(['x', 'W', 'b']);
  });

  it('exposes an inner tensor as an extra output with the right values', async () => {
    const model = OnnxModel.fromBytes(linearReluModel());
    model.addOutputs(['h']);
    const { h, y } = await run(model.toBytes(), { x });
    const expected = linearRelu(x.data, 3, W, new Float32Array(3));
    const hRelu = Array.from(h.data as Float32Array, (v) => Math.max(0, v));
    expectClose(hRelu, expected, 1e-6, 'h');
    expect(y.dims).to.deep.equal([3, 3]);
    expect(() => model.addOutputs(['missing'])).to.throw(RangeError, /'missing' is not defined/);
  });

  describe('bad input', () => {
    it('names an empty file', () => {
      expect(() => OnnxModel.fromBytes(new Uint8Array(0), { file: 'm.onnx' })).to.throw(
        OnnxFormatError,
        /'m.onnx' is empty/,
      );
    });

    it('names bytes that are not ONNX', () => {
      const text = new TextEncoder().encode('<html>not a model</html>');
      expect(() => OnnxModel.fromBytes(text, { file: 'page.onnx' })).to.throw(
        OnnxFormatError,
        /'page.onnx' is not (a valid )?(an )?ONNX model/,
      );
    });

    it('names a truncated model', async () => {
      const bytes = linearReluModel();
      const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6));
      expect(() => OnnxModel.fromBytes(cut, { file: 'cut.onnx' })).to.throw(
        OnnxFormatError,
        /cut.onnx/,
      );
      const error = await rejects(Session.create(cut));
      expect(error.message).to.match(/not (a valid )?(an )?ONNX model/);
    });

    it('names a missing model file', async () => {
      const error = await rejects(Session.create('/nonexistent/model.onnx'));
      expect(error.message).to.match(/model file '\/nonexistent\/model.onnx' not found/);
      const loadError = await rejects(loadOnnxModel('/nonexistent/model.onnx'));
      expect(loadError.message).to.match(/not found/);
    });
  });

  describe('external data', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-external-'));
      await mkdir(path.join(dir, 'model'));
      await writeFile(path.join(dir, 'outside.bin'), new Uint8Array(W.buffer.slice(0)));
      await writeFile(path.join(dir, 'model', 'weights.bin'), new Uint8Array(W.buffer.slice(0)));
    });

    it('loads external data from the model folder', async () => {
      const file = path.join(dir, 'model', 'ok.onnx');
      await writeFile(file, linearReluModel({ externalLocation: 'weights.bin' }));
      const session = await Session.create(file);
      const { y } = await session.run({ x });
      expectClose(y.data as Float32Array, linearRelu(x.data, 3), 1e-6, 'y');
      await session.dispose();
    });

    it('refuses a location that climbs out of the model folder, before onnxruntime', async () => {
      const file = path.join(dir, 'model', 'escape.onnx');
      await writeFile(file, linearReluModel({ externalLocation: '../outside.bin' }));
      const error = await rejects(Session.create(file));
      expect(error.message).to.match(/'\.\.\/outside\.bin'.*outside the model's folder/);
    });

    it('refuses an absolute location', async () => {
      const file = path.join(dir, 'model', 'absolute.onnx');
      await writeFile(file, linearReluModel({ externalLocation: path.join(dir, 'outside.bin') }));
      const error = await rejects(Session.create(file));
      expect(error.message).to.match(/absolute path/);
    });

    it('refuses a link inside the folder that points outside it', async () => {
      await symlink(path.join(dir, 'outside.bin'), path.join(dir, 'model', 'link.bin'));
      const file = path.join(dir, 'model', 'link.onnx');
      await writeFile(file, linearReluModel({ externalLocation: 'link.bin' }));
      const error = await rejects(Session.create(file));
      expect(error.message).to.match(/resolves to .*outside the model's folder/);
    });

    it('asks for the path when external data comes with bytes alone', async () => {
      const error = await rejects(
        Session.create(linearReluModel({ externalLocation: 'weights.bin' })),
      );
      expect(error.message).to.match(/create the session from the model's path/);
    });
  });
});
