import { expect } from 'chai';
import { readFileSync } from 'node:fs';

import '../../src/index.js';
import { diversityPenalties, diversityPenalty } from '../../src/retrieval/diversity.js';
import { encodeImages, encodeTexts } from '../../src/retrieval/encode.js';
import { recallAtK } from '../../src/retrieval/recall.js';
import { topMatches } from '../../src/retrieval/top-matches.js';
import type { ImageSource } from '../../src/runtime/datasets/types.js';
import type { Preset } from '../../src/runtime/preprocess/presets.js';
import { Session } from '../../src/runtime/session.js';
import { loadTokenizer, type TextTokenizer } from '../../src/runtime/tokenizer.js';
import { expectClose } from '../helpers/assert.js';
import { linearReluModel } from '../helpers/tiny-models.js';

/**
 * The tiny MHSAN-style pair of tools/fixtures/retrieval_encoders.py against the PyTorch outputs
 * it stored. The PNGs are lossless and need no resize, so ortlab's input equals PyTorch's; the
 * stated tolerances cover float32 kernels (the export's own ONNX Runtime parity is ~1e-7).
 */
const DIR = 'test/fixtures/retrieval/tiny';
interface Arr {
  dims: number[];
  data: number[];
}
interface Side {
  embedding: Arr;
  attention: Arr;
  diversity: { perItem: number[]; mean: number };
  attentionPerText?: number[][][];
}
const ref = JSON.parse(readFileSync(`${DIR}/reference.json`, 'utf8')) as {
  heads: number;
  dim: number;
  captions: string[];
  textToImage: number[];
  tokens: number[][];
  image: Side;
  text: Side;
  recall: { i2tRanks: number[]; t2iRanks: number[]; rsum: number };
  topText: { indices: number[]; scores: number[] };
  topImage: { indices: number[]; scores: number[] };
  randomAttention: { attention: Arr; perItem: number[]; squared: number[]; mean: number };
};
const dataset = JSON.parse(readFileSync(`${DIR}/dataset_tiny.json`, 'utf8')) as {
  images: { filename: string }[];
};
const preset = (JSON.parse(readFileSync(`${DIR}/image.json`, 'utf8')) as { preset: Preset }).preset;
const sources: ImageSource[] = dataset.images.map((i) => ({
  kind: 'file',
  path: `${DIR}/images/${i.filename}`,
}));

describe('retrieval encoders against PyTorch (tiny MHSAN pair)', function () {
  this.timeout(30_000);
  let image: Session;
  let text: Session;
  let tokenizer: TextTokenizer;

  before(async () => {
    image = await Session.create(`${DIR}/image.onnx`);
    text = await Session.create(`${DIR}/text.onnx`);
    tokenizer = await loadTokenizer('test/fixtures/tokenizer');
  });
  after(async () => {
    await image.dispose();
    await text.dispose();
    tokenizer.dispose();
  });

  it("encodeImages: PyTorch's embeddings (1e-5) and attention (1e-6), any batch size", async () => {
    for (const batchSize of [undefined, 4, 1]) {
      const got = await encodeImages(image, sources, { preset, batchSize });
      expect([got.count, got.dim]).to.deep.equal(ref.image.embedding.dims);
      expectClose(got.embeddings, ref.image.embedding.data, 1e-5, 'image embeddings');
      expect(got.attention?.heads).to.equal(ref.heads);
      expect(got.attention?.positions).to.equal(16);
      expectClose(got.attention!.data, ref.image.attention.data, 1e-6, 'image attention');
    }
  });

  it('encodeTexts: reference token ids; embeddings and per-text attention match', async () => {
    const batch = tokenizer.encode(ref.captions);
    const width = batch.dims[1];
    ref.tokens.forEach((ids, i) => {
      const row = Array.from(batch.inputIds.subarray(i * width, i * width + ids.length), Number);
      expect(row, ref.captions[i]).to.deep.equal(ids);
    });
    // Batches of 5 pad each batch to its own longest caption: results must not depend on it.
    for (const batchSize of [undefined, 5]) {
      const got = await encodeTexts(text, tokenizer, ref.captions, { batchSize });
      expectClose(got.embeddings, ref.text.embedding.data, 1e-5, 'text embeddings');
      expect(Array.from(got.lengths!)).to.deep.equal(ref.tokens.map((t) => t.length));
      const { heads, positions, data } = got.attention!;
      expect(heads).to.equal(ref.heads);
      expect(positions).to.equal(Math.max(...ref.tokens.map((t) => t.length)));
      ref.text.attentionPerText!.forEach((maps, i) => {
        maps.forEach((row, h) => {
          const from = (i * heads + h) * positions;
          expectClose(data.subarray(from, from + row.length), row, 1e-6, `text ${i} head ${h}`);
          const rest = data.subarray(from + row.length, from + positions);
          expect(Math.max(0, ...rest), `padding of text ${i}`).to.be.below(1e-12);
        });
      });
    }
  });

  it('diversity penalty of the encoders’ attention equals PyTorch’s within 1e-6', async () => {
    const images = await encodeImages(image, sources, { preset });
    const texts = await encodeTexts(text, tokenizer, ref.captions, { batchSize: 5 });
    expectClose(diversityPenalties(images.attention!), ref.image.diversity.perItem, 1e-6);
    expect(diversityPenalty(texts.attention!)).to.be.closeTo(ref.text.diversity.mean, 1e-6);
  });

  it('recalls of the encoded set equal the numpy protocol on the PyTorch embeddings', async () => {
    const images = await encodeImages(image, sources, { preset });
    const texts = await encodeTexts(text, tokenizer, ref.captions);
    const got = await recallAtK(images.embeddings, texts.embeddings, {
      dim: images.dim,
      textToImage: ref.textToImage,
    });
    expect(Array.from(got.i2tRanks)).to.deep.equal(ref.recall.i2tRanks);
    expect(Array.from(got.t2iRanks)).to.deep.equal(ref.recall.t2iRanks);
    expect(got.rsum).to.be.closeTo(ref.recall.rsum, 1e-9);
  });

  it("topMatches ranks a caption's pictures and a picture's captions as numpy does", async () => {
    const images = await encodeImages(image, sources, { preset });
    const texts = await encodeTexts(text, tokenizer, ref.captions);
    const dim = images.dim;
    const byText = await topMatches(texts.embeddings.subarray(0, dim), images.embeddings, {
      dim,
      k: 3,
    });
    expect(Array.from(byText.indices)).to.deep.equal(ref.topText.indices);
    expectClose(byText.scores, ref.topText.scores, 1e-5, 'text query scores');
    const byImage = await topMatches(images.embeddings, texts.embeddings, { dim, k: 3 });
    expect(Array.from(byImage.indices.subarray(0, 3))).to.deep.equal(ref.topImage.indices);
    expectClose(byImage.scores.subarray(0, 3), ref.topImage.scores, 1e-5, 'image query scores');
    const all = await topMatches(images.embeddings, texts.embeddings, { dim, k: 50 });
    expect(all.k).to.equal(ref.captions.length);
  });

  it('refuses an encoder without the declared embedding output, naming its outputs', async () => {
    const plain = await Session.create(linearReluModel());
    try {
      const error = await encodeImages(plain, sources, { preset, name: 'plain.onnx' }).catch(
        (e: Error) => e,
      );
      expect((error as Error).message).to.include("plain.onnx has outputs [y] but no 'embedding'");
      const textError = await encodeTexts(plain, tokenizer, ['a cat']).catch((e: Error) => e);
      expect((textError as Error).message).to.include("no 'embedding'");
    } finally {
      await plain.dispose();
    }
  });

  it('an image that cannot be read is an error naming the file', async () => {
    const missing: ImageSource[] = [...sources, { kind: 'file', path: `${DIR}/images/none.png` }];
    const error = await encodeImages(image, missing, { preset }).catch((e: Error) => e);
    expect((error as Error).message).to.match(/1 image\(s\) could not be read .*none\.png/);
  });
});

describe('diversityPenalty against PyTorch on random attention', () => {
  const { attention, perItem, squared, mean } = ref.randomAttention;
  const maps = { heads: 4, positions: 9, data: Float32Array.from(attention.data) };

  it('per item, squared, and the batch mean within 1e-9 of torch.linalg.matrix_norm', () => {
    expectClose(diversityPenalties(maps), perItem, 1e-9, 'penalties');
    expectClose(diversityPenalties(maps, { squared: true }), squared, 1e-9, 'squared');
    expect(diversityPenalty(maps)).to.be.closeTo(mean, 1e-9);
  });

  it('one-hot heads on distinct positions have no penalty; identical heads do', () => {
    expect(
      diversityPenalty({ heads: 2, positions: 3, data: Float32Array.of(1, 0, 0, 0, 1, 0) }),
    ).to.equal(0);
    expect(
      diversityPenalty({ heads: 2, positions: 2, data: Float32Array.of(1, 0, 1, 0) }),
    ).to.be.closeTo(Math.SQRT2, 1e-12);
  });

  it('maps that do not fit heads x positions, and NaN maps, are refused', () => {
    expect(() => diversityPenalty({ heads: 2, positions: 4, data: new Float32Array(6) })).to.throw(
      'attention holds 6 values, not a whole number of [2, 4] maps',
    );
    expect(() =>
      diversityPenalty({ heads: 1, positions: 2, data: Float32Array.of(NaN, 1) }),
    ).to.throw('attention map 0 holds NaN');
  });
});

describe('topMatches: bad input', () => {
  it('no query, and rows of another width', async () => {
    const gallery = Float32Array.of(1, 0, 0, 1);
    const none = await topMatches(new Float32Array(0), gallery, { dim: 2 }).catch((e: Error) => e);
    expect((none as Error).message).to.include('no query to match');
    const wide = await topMatches(Float32Array.of(1, 2, 3), gallery, { dim: 2 }).catch(
      (e: Error) => e,
    );
    expect((wide as Error).message).to.include('query embeddings hold 3 values');
  });
});
