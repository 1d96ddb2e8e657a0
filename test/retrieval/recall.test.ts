import { expect } from 'chai';
import { readFileSync } from 'node:fs';

import '../../src/index.js';
import { Session } from '../../src/runtime/session.js';
import { rankCountGraph } from '../../src/retrieval/graphs.js';
import { parseKarpathy } from '../../src/retrieval/karpathy.js';
import { recallAtK, recallFolds, type RecallResult } from '../../src/retrieval/recall.js';

/** The VSE++ protocol against tools/fixtures/retrieval_reference.py (numpy): identical ranks. */
interface Arr {
  dims: number[];
  data: number[];
}
interface Case {
  name: string;
  dim: number;
  images: Arr;
  texts: Arr;
  captionsPerImage?: number;
  textToImage?: number[];
  i2t: RecallResult['i2t'];
  t2i: RecallResult['t2i'];
  rsum: number;
  i2tRanks: number[];
  t2iRanks: number[];
  folds?: {
    count: number;
    perFold: { i2t: RecallResult['i2t']; t2i: RecallResult['t2i']; rsum: number }[];
    mean: { i2t: RecallResult['i2t']; t2i: RecallResult['t2i']; rsum: number };
  };
  all?: Omit<Case, 'name' | 'dim' | 'images' | 'texts' | 'all' | 'folds'>;
}
const ref = JSON.parse(readFileSync('test/fixtures/retrieval/reference.json', 'utf8')) as {
  cases: Case[];
};

function expectSameFigures(
  got: Omit<RecallResult, 'i2tRanks' | 't2iRanks' | 'images' | 'texts'>,
  want: Case | NonNullable<Case['all']>,
) {
  for (const side of ['i2t', 't2i'] as const) {
    for (const key of ['r1', 'r5', 'r10', 'medr', 'meanr'] as const) {
      expect(got[side][key], `${side}.${key}`).to.be.closeTo(want[side][key], 1e-9);
    }
  }
  expect(got.rsum).to.be.closeTo(want.rsum, 1e-9);
}

describe('recallAtK against the numpy VSE++ reference', function () {
  this.timeout(60_000);
  for (const c of ref.cases.filter((x) => x.name !== 'folds')) {
    it(`${c.name}: identical ranks and recalls in both directions, any chunk size`, async () => {
      const options = {
        dim: c.dim,
        captionsPerImage: c.captionsPerImage,
        textToImage: c.textToImage,
      };
      // The gallery built into the graph (the default here) and fed to every run.
      for (const [chunkSize, maxGraphGalleryBytes] of [
        [undefined, undefined],
        [7, undefined],
        [7, 0],
      ]) {
        const got = await recallAtK(
          Float32Array.from(c.images.data),
          Float32Array.from(c.texts.data),
          { ...options, chunkSize, maxGraphGalleryBytes },
        );
        expect(Array.from(got.i2tRanks)).to.deep.equal(c.i2tRanks);
        expect(Array.from(got.t2iRanks)).to.deep.equal(c.t2iRanks);
        expectSameFigures(got, c);
      }
    });
  }

  it('folds: the COCO 1K protocol averages the folds as the reference does', async () => {
    const c = ref.cases.find((x) => x.name === 'folds')!;
    const images = Float32Array.from(c.images.data);
    const texts = Float32Array.from(c.texts.data);
    const folded = await recallFolds(images, texts, {
      dim: c.dim,
      captionsPerImage: 5,
      folds: c.folds!.count,
    });
    folded.folds.forEach((f, i) =>
      expectSameFigures(f, { ...c.folds!.perFold[i], i2tRanks: [], t2iRanks: [] }),
    );
    expectSameFigures(folded.mean, { ...c.folds!.mean, i2tRanks: [], t2iRanks: [] });
    const all = await recallAtK(images, texts, { dim: c.dim, captionsPerImage: 5 });
    expect(Array.from(all.t2iRanks)).to.deep.equal(c.all!.t2iRanks);
    expectSameFigures(all, c.all!);
  });
});

describe('recallAtK: bad input', () => {
  const images = new Float32Array(4 * 3).map((_, i) => Math.sin(i + 1));
  const texts = new Float32Array(8 * 3).map((_, i) => Math.cos(i + 1));

  it('embeddings of another width', async () => {
    const error = await recallAtK(images, new Float32Array(8 * 4), {
      dim: 3,
      captionsPerImage: 2,
    }).catch((e: Error) => e);
    expect((error as Error).message).to.include(
      'text embeddings hold 32 values, not a whole number of rows of dim 3',
    );
  });

  it('a caption count that does not divide', async () => {
    const error = await recallAtK(images, texts, { dim: 3, captionsPerImage: 3 }).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).to.include(
      '8 captions do not divide into 4 images x 3 captions per image',
    );
  });

  it('NaN embeddings, naming the row', async () => {
    const bad = images.slice();
    bad[7] = NaN;
    const error = await recallAtK(bad, texts, { dim: 3, captionsPerImage: 2 }).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).to.equal('image embeddings row 2 holds NaN or an infinity');
  });

  it('an image without captions in an explicit map', async () => {
    const error = await recallAtK(images, texts, {
      dim: 3,
      textToImage: [0, 0, 1, 1, 2, 2, 0, 1],
    }).catch((e: Error) => e);
    expect((error as Error).message).to.include('image 3 has no caption');
  });
});

describe('rankCountGraph with the gallery built in', () => {
  const [n, dim, q] = [37, 16, 11];
  const gallery = new Float32Array(n * dim).map((_, i) => Math.sin(i * 0.37));
  const queries = new Float32Array(q * dim).map((_, i) => Math.cos(i * 0.53));
  const own = BigInt64Array.from({ length: q }, (_, r) => BigInt((r * 5) % n));
  const threshold = new Float32Array(n).map((_, i) => 0.8 * Math.sin(i));
  const feeds = {
    queries: { type: 'float32' as const, dims: [q, dim], data: queries },
    own: { type: 'int64' as const, dims: [q, 1], data: own },
    galleryThreshold: { type: 'float32' as const, dims: [1, n], data: threshold },
  };

  it('counts what the graph fed the gallery counts, value for value', async () => {
    const fed = await Session.create(rankCountGraph());
    const fixed = await Session.create(rankCountGraph({ data: gallery, count: n, dim }));
    try {
      expect(fixed.inputs.map((input) => input.name)).to.not.include('gallery');
      const want = await fed.run({
        ...feeds,
        gallery: { type: 'float32', dims: [n, dim], data: gallery },
      });
      const got = await fixed.run(feeds);
      for (const name of ['queryCount', 'ownScore', 'galleryCount']) {
        expect(Array.from(got[name].data as ArrayLike<number>), name).to.deep.equal(
          Array.from(want[name].data as ArrayLike<number>),
        );
      }
      // Both counts against scores computed here in float64, none within 1e-4 of a threshold.
      const score = (r: number, i: number): number => {
        let sum = 0;
        for (let k = 0; k < dim; k++) sum += queries[r * dim + k] * gallery[i * dim + k];
        return sum;
      };
      const wantGallery = new Int32Array(n);
      const wantQuery = new Int32Array(q);
      for (let r = 0; r < q; r++) {
        const own = score(r, Number(feeds.own.data[r]));
        for (let i = 0; i < n; i++) {
          const s = score(r, i);
          if (i !== Number(feeds.own.data[r])) expect(Math.abs(s - own)).to.be.above(1e-4);
          expect(Math.abs(s - threshold[i])).to.be.above(1e-4);
          if (s > own) wantQuery[r]++;
          if (s > threshold[i]) wantGallery[i]++;
        }
      }
      expect(got.galleryCount.type).to.equal('int32');
      expect(Array.from(got.galleryCount.data as Int32Array)).to.deep.equal(
        Array.from(wantGallery),
      );
      expect(Array.from(got.queryCount.data as Int32Array)).to.deep.equal(Array.from(wantQuery));
      // Counts that could not all be equal by accident: some items above, some below.
      expect(new Set(wantGallery).size).to.be.greaterThan(2);
      expect(new Set(wantQuery).size).to.be.greaterThan(2);
    } finally {
      await fed.dispose();
      await fixed.dispose();
    }
  });

  it('refuses a gallery whose data does not fill its rows', () => {
    expect(() => rankCountGraph({ data: gallery.subarray(1), count: n, dim })).to.throw(
      RangeError,
      `a gallery of 37 x 16 needs 592 floats, got 591`,
    );
  });
});

describe('Karpathy split files', () => {
  it('reads the COCO test split: paths with their folder, captions in order, the map', () => {
    const text = readFileSync('test/fixtures/retrieval/dataset_coco.json', 'utf8');
    const test = parseKarpathy(text, { file: 'dataset_coco.json' });
    const raw = JSON.parse(text) as {
      images: { split: string; filepath: string; filename: string; sentences: { raw: string }[] }[];
    };
    const expected = raw.images.filter((i) => i.split === 'test');
    expect(test.images).to.deep.equal(expected.map((i) => `${i.filepath}/${i.filename}`));
    expect(test.captions).to.deep.equal(
      expected.flatMap((i) => i.sentences.map((s) => s.raw.trim())),
    );
    expect(test.captionsPerImage).to.equal(5);
    expect(Array.from(test.textToImage)).to.deep.equal([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    const train = parseKarpathy(text, { split: 'train' });
    expect(train.images).to.have.length(
      raw.images.filter((i) => i.split === 'train' || i.split === 'restval').length,
    );
  });

  it('reads Flickr30K, and names a file that is not a split file', () => {
    const flickr = parseKarpathy(
      readFileSync('test/fixtures/retrieval/dataset_flickr30k.json', 'utf8'),
    );
    expect(flickr.dataset).to.equal('flickr30k');
    expect(flickr.images).to.have.length(1);
    expect(() => parseKarpathy('{"x": 1}', { file: 'x.json' })).to.throw(
      'x.json has no "images" list',
    );
    expect(() => parseKarpathy('{"images": []}', { split: 'dev' })).to.throw(RangeError);
  });
});
