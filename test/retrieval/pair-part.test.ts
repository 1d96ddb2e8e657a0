import { expect } from 'chai';

import '../../src/index.js';
import { shardRange } from '../../src/eval/robustness.js';
import { Session } from '../../src/runtime/session.js';
import { loadTokenizer } from '../../src/runtime/tokenizer.js';
import { openRetrievalData, type RetrievalData } from '../../src/retrieval/data-node.js';
import { diversityPenalty, meanPenalty } from '../../src/retrieval/diversity.js';
import { exampleIndices } from '../../src/retrieval/examples-node.js';
import { readPairManifest, type EncoderPair } from '../../src/retrieval/manifest-node.js';
import {
  encodePairPart,
  joinItems,
  type EncodedItems,
  type PairEncoders,
  type PairPart,
} from '../../src/retrieval/pair-part-node.js';
import { scorePair } from '../../src/retrieval/run-node.js';

/**
 * A split encoded in parts (as queue shards encode it) and joined gives the bits, penalties,
 * examples and recalls of the split encoded at once: the tiny pair of
 * tools/fixtures/retrieval_encoders.py on its 6 images and 12 captions.
 */
const TINY = 'test/fixtures/retrieval/tiny';
const BATCH = 2;

describe('retrieval pairs encoded in parts', () => {
  let pair: EncoderPair;
  let data: RetrievalData;
  let encoders: PairEncoders;
  let whole: PairPart;
  let parts: PairPart[];
  const chosen = exampleIndices(6, 3);

  before(async () => {
    [pair] = await readPairManifest(`${TINY}/manifest.json`);
    data = await openRetrievalData(`${TINY}/dataset_tiny.json`, { imageRoot: `${TINY}/images` });
    encoders = {
      image: await Session.create(pair.image),
      text: await Session.create(pair.text),
      tokenizer: await loadTokenizer(pair.tokenizer),
    };
    const encode = (images: [number, number], texts: [number, number]) =>
      encodePairPart(pair, encoders, data, { images, texts }, chosen, { batchSize: BATCH });
    whole = await encode([0, 6], [0, 12]);
    parts = [];
    for (let index = 0; index < 3; index++) {
      const shard = { index, count: 3 };
      parts.push(await encode(shardRange(6, BATCH, shard), shardRange(12, BATCH, shard)));
    }
  });
  after(async () => {
    encoders.tokenizer.dispose();
    await encoders.image.dispose();
    await encoders.text.dispose();
  });

  it('three parts of whole batches join into the bits of one part', () => {
    expect(parts.map((p) => [p.images[0].items.start, p.texts.start])).to.deep.equal([
      [0, 0],
      [2, 4],
      [4, 8],
    ]);
    const texts = joinItems(
      parts.map((p) => p.texts),
      12,
      'texts',
    );
    const images = joinItems(
      parts.map((p) => p.images[0].items),
      6,
      'images',
    );
    expect(texts).to.deep.equal(whole.texts);
    expect(images).to.deep.equal(whole.images[0].items);
    expect(images.heads).to.equal(2);
    expect(images.penalties).to.have.length(6);
  });

  it('each part keeps the attention of the example items it holds', () => {
    expect(parts.map((p) => p.examples.images.map((e) => e.index))).to.deep.equal([[0], [2], [4]]);
    expect(parts.flatMap((p) => p.examples.images)).to.deep.equal(whole.examples.images);
    expect(parts.flatMap((p) => p.examples.texts)).to.deep.equal(whole.examples.texts);
    expect(whole.examples.texts.map((t) => t.index)).to.deep.equal([0, 4, 8]);
  });

  it('the parts score exactly as the whole: recalls, ranks and penalties', async () => {
    const hashes = { image: 'i', text: 't' };
    const fromParts = await scorePair(pair, data, parts, hashes);
    const fromWhole = await scorePair(pair, data, [whole], hashes);
    expect(fromParts.results).to.deep.equal(fromWhole.results);
    expect(fromParts.model).to.deep.equal(fromWhole.model);
    expect(fromParts.results[0].rsum).to.be.closeTo(pair.metrics!.test.rsum, 1e-9);
  });

  it('an empty part (a shard past the end of a short split) joins as nothing', async () => {
    const empty = await encodePairPart(
      pair,
      encoders,
      data,
      { images: [6, 6], texts: [12, 12] },
      chosen,
    );
    expect(empty.texts).to.deep.include({ start: 12, count: 0, dim: 0 });
    expect(empty.examples).to.deep.equal({ images: [], texts: [] });
    const joined = joinItems([whole.texts, empty.texts], 12, 'texts');
    expect(joined).to.equal(whole.texts);
  });

  it('parts out of order, missing or of another width are refused, naming the items', () => {
    const items = (start: number, count: number, dim = 8): EncodedItems => ({
      start,
      count,
      dim,
      embeddings: new Float32Array(count * dim),
    });
    expect(() => joinItems([items(4, 4), items(0, 4)], 8, 'text embeddings of t')).to.throw(
      Error,
      'text embeddings of t: a part starts at item 4, expected item 0',
    );
    expect(() => joinItems([items(0, 4)], 8, 'texts')).to.throw(
      Error,
      'texts: the parts hold 4 items of 8',
    );
    expect(() => joinItems([items(0, 4), items(4, 4, 16)], 8, 'texts')).to.throw(
      Error,
      'texts: parts of widths 8 and 16',
    );
  });
});

describe('meanPenalty', () => {
  it('of squared per-item penalties is diversityPenalty to the last bit', () => {
    const data = Float32Array.from({ length: 5 * 3 * 7 }, (_, i) => Math.abs(Math.sin(i * 0.37)));
    const maps = { heads: 3, positions: 7, data };
    const squared = Float64Array.from({ length: 5 }, (_, item) =>
      diversityPenalty(
        { heads: 3, positions: 7, data: data.subarray(item * 21, (item + 1) * 21) },
        { squared: true },
      ),
    );
    expect(meanPenalty(squared)).to.equal(diversityPenalty(maps));
    expect(meanPenalty(squared, { squared: true })).to.equal(
      diversityPenalty(maps, { squared: true }),
    );
    expect(() => meanPenalty([])).to.throw(RangeError, 'no attention maps to average');
  });
});
