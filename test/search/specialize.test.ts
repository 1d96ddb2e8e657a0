import { expect } from 'chai';
import onnxProto from 'onnx-proto';

import { Session } from '../../src/index.js';
import { specializeSupernet } from '../../src/search/specialize.js';
import { archFeeds, candidateAccuracy, loadSupernet } from '../../src/search/supernet.js';
import { openDataset, resolvePreset } from '../../src/index.js';
import { loadValidationSet } from '../../src/search/validation-set.js';

const { onnx } = onnxProto;
const SUPERNET = 'models/nas/supernet.onnx';

/** Seeded pixels in [0, 1). */
function images(count: number): Float32Array {
  let state = 12345;
  return Float32Array.from({ length: count * 784 }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  });
}

describe('specializeSupernet', function () {
  this.timeout(120_000);

  it("gives the supernet's logits bit for bit, with and without dropped edges", async () => {
    const supernet = await loadSupernet(SUPERNET);
    const shared = await Session.create(supernet.bytes);
    const image = { type: 'float32' as const, data: images(64), dims: [64, 1, 28, 28] };
    // none everywhere, skip everywhere, a mix, nodes fed only by 'none', pooling only.
    const encodings = [
      [0, 0, 0, 0, 0, 0],
      [1, 1, 1, 1, 1, 1],
      [2, 3, 4, 0, 1, 2],
      [0, 0, 0, 3, 3, 3],
      [3, 0, 0, 3, 0, 0],
      [4, 4, 4, 4, 4, 4],
    ];
    try {
      for (const encoding of encodings) {
        const feeds = archFeeds(supernet, encoding);
        const arch = feeds[supernet.archInput];
        const own = specializeSupernet(supernet.bytes, supernet.archInput, {
          data: arch.data as Float32Array,
          dims: arch.dims,
        });
        expect(own, encoding.join('')).to.be.instanceOf(Uint8Array);
        const session = await Session.create(own!);
        expect(session.inputs.map((i) => i.name)).to.deep.equal([supernet.imageInput]);
        const want = (await shared.run({ ...feeds, [supernet.imageInput]: image })).logits;
        const got = (await session.run({ [supernet.imageInput]: image })).logits;
        expect(Array.from(got.data as Float32Array), encoding.join('')).to.deep.equal(
          Array.from(want.data as Float32Array),
        );
        // The candidate's own network is smaller: dropped branches leave the graph.
        expect(own!.byteLength, encoding.join('')).to.be.below(supernet.bytes.byteLength);
        await session.dispose();
      }
    } finally {
      await shared.dispose();
    }
  });

  it('candidateAccuracy is the same specialized and through the shared session', async () => {
    const supernet = await loadSupernet(SUPERNET);
    const session = await Session.create(supernet.bytes);
    const data = await loadValidationSet(
      await openDataset('data/nas-val/images-idx3-ubyte.gz'),
      resolvePreset('mnist'),
      { batchSize: 256, limit: 512 },
    );
    try {
      for (const encoding of [
        [3, 3, 2, 1, 0, 4],
        [0, 1, 0, 2, 0, 3],
      ]) {
        const own = await candidateAccuracy(session, supernet, data, encoding);
        const shared = await candidateAccuracy(session, supernet, data, encoding, {
          specialize: false,
        });
        expect(own, encoding.join('')).to.equal(shared);
      }
    } finally {
      await session.dispose();
    }
  });

  it('returns undefined when the architecture input is used otherwise than as gates', () => {
    // y = MatMul(x, arch): no gate to read, nothing to cut.
    const info = (name: string, dims: number[]) => ({
      name,
      type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
    const model = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 8,
        opsetImport: [{ domain: '', version: 17 }],
        graph: {
          name: 'not-a-supernet',
          node: [{ opType: 'MatMul', input: ['x', 'arch'], output: ['y'] }],
          input: [info('x', [1, 2]), info('arch', [2, 3])],
          output: [info('y', [1, 3])],
        },
      }),
    ).finish();
    const arch = { data: new Float32Array(6), dims: [2, 3] };
    expect(specializeSupernet(model, 'arch', arch)).to.equal(undefined);
  });
});
