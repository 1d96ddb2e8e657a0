import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import '../../src/index.js';
import { expectClose } from '../helpers/assert.js';
import { imageSources, openRetrievalData } from '../../src/retrieval/data-node.js';
import { readPairManifest, type EncoderPair } from '../../src/retrieval/manifest-node.js';
import { runRetrievalQuery, widestPair } from '../../src/retrieval/query-node.js';
import { encodeImages, encodeTexts } from '../../src/retrieval/encode.js';
import { Session } from '../../src/runtime/session.js';
import { loadTokenizer } from '../../src/runtime/tokenizer.js';
import { runRetrievalEval, type RetrievalRun } from '../../src/retrieval/run-node.js';

/**
 * The shipped emoji encoders on the shipped test emoji: ortlab's recalls against those the
 * training script measured in PyTorch and recorded in models/retrieval/manifest.json.
 *
 * Tolerance: a Recall@K may differ by at most one query's worth (100 / queries percent: 0.31 for
 * the 324 images, 0.09 for the 1124 captions), the amount one float32 near-tie between ONNX
 * Runtime and PyTorch can move it (the manifest rounds to 4 decimals, far below that); rsum by
 * three times the sum of one query's worth in each direction; medr exactly; meanr by two ranks
 * over the queries. Measured: every R@K and medr equal; meanr differs by one rank in two of the
 * eight cells (r1 twitter t2i, r4 twitter i2t), where a caption and an image score within 2e-8
 * and 6e-8 of the deciding similarity, below float32's resolution.
 */
const FILES = [
  'models/retrieval/manifest.json',
  'data/emoji/dataset_emoji.json',
  'test/fixtures/retrieval/emoji-encoders.json',
];

interface Arr {
  dims: number[];
  data: number[];
}
interface EncoderReference {
  images: string[];
  models: Record<
    string,
    {
      captions: string[];
      inputIds: number[][];
      text: { embedding: Arr; attention: Arr };
    } & Record<string, { embedding: Arr; attention: Arr }>
  >;
}

describe('shipped emoji encoders', function () {
  this.timeout(120_000);
  let pairs: EncoderPair[];
  let run: RetrievalRun;

  before(async function () {
    const missing = FILES.filter((f) => !existsSync(f));
    if (missing.length) throw new Error(`shipped retrieval files missing: ${missing.join(', ')}`);
    pairs = await readPairManifest();
    run = await runRetrievalEval(pairs, await openRetrievalData('emoji'), { examples: 2 });
  });

  it('recalls on both art styles equal the PyTorch measurements of the manifest', () => {
    const { images, captions } = run.report.data;
    const slack = { i2t: 100 / images, t2i: 100 / captions };
    expect(run.report.results).to.have.length(pairs.length * 2);
    for (const result of run.report.results) {
      const where = `${result.model} ${result.style}`;
      const ref = result.reference;
      expect(ref, `${where}: recorded recalls`).to.not.equal(undefined);
      for (const side of ['i2t', 't2i'] as const) {
        for (const key of ['r1', 'r5', 'r10'] as const) {
          const want = ref![side][key] as number;
          expect(result[side][key], `${where} ${side}.${key}`).to.be.closeTo(want, slack[side]);
        }
        const medr = ref![side].medr;
        if (medr !== undefined) expect(result[side].medr, `${where} ${side}.medr`).to.equal(medr);
        const meanr = ref![side].meanr;
        const queries = side === 'i2t' ? images : captions;
        if (meanr !== undefined) {
          expect(result[side].meanr, `${where} ${side}.meanr`).to.be.closeTo(meanr, 2 / queries);
        }
      }
      expect(result.rsum, `${where} rsum`).to.be.closeTo(ref!.rsum, 3 * (slack.i2t + slack.t2i));
    }
  });

  it("diversity penalties (squared, as in the manifest) equal PyTorch's within 1e-5", async () => {
    const manifest = JSON.parse(await readFile(FILES[0], 'utf8')) as {
      models: { name: string; diversityPenalty: { image: Record<string, number>; text: number } }[];
    };
    for (const result of run.report.results) {
      const recorded = manifest.models.find((m) => m.name === result.model)!.diversityPenalty;
      const where = `${result.model} ${result.style}`;
      expect(result.diversity.squared.image, where).to.be.closeTo(
        recorded.image[result.style],
        1e-5,
      );
      expect(result.diversity.squared.text, where).to.be.closeTo(recorded.text, 1e-5);
    }
  });

  it("both pairs' embeddings and attention match train_retrieval.py's within 1e-6", async () => {
    const ref = JSON.parse(await readFile(FILES[2], 'utf8')) as EncoderReference;
    for (const pair of pairs) {
      const want = ref.models[pair.name];
      const image = await Session.create(pair.image);
      const text = await Session.create(pair.text);
      const tokenizer = await loadTokenizer(pair.tokenizer);
      try {
        for (const style of ['google', 'twitter']) {
          const sources = ref.images.map((f) => ({
            kind: 'file' as const,
            path: `data/emoji/${style}/${f}`,
          }));
          const got = await encodeImages(image, sources, { preset: pair.preset });
          const where = `${pair.name} ${style}`;
          expectClose(got.embeddings, want[style].embedding.data, 1e-6, `${where} embeddings`);
          expectClose(got.attention!.data, want[style].attention.data, 1e-6, `${where} attention`);
        }
        const ids = tokenizer.encode(want.captions, { maxLength: pair.maxTokens }).inputIds;
        expect(Array.from(ids, Number)).to.deep.equal(want.inputIds.flat());
        const got = await encodeTexts(text, tokenizer, want.captions, {
          maxLength: pair.maxTokens,
        });
        expectClose(got.embeddings, want.text.embedding.data, 1e-6, `${pair.name} text embeddings`);
        expect([got.count, got.attention!.heads, got.attention!.positions]).to.deep.equal(
          want.text.attention.dims,
        );
        expectClose(
          got.attention!.data,
          want.text.attention.data,
          1e-6,
          `${pair.name} text attention`,
        );
      } finally {
        tokenizer.dispose();
        await image.dispose();
        await text.dispose();
      }
    }
  });

  it('r4 attention: 4 maps over the 8x8 grid per image and over the tokens per caption', () => {
    const r4 = pairs.find((p) => p.heads === 4)!;
    const model = run.report.models.find((m) => m.name === r4.name)!;
    expect(model.image.heads).to.equal(4);
    expect(model.text.heads).to.equal(4);
    const image = run.images.find((e) => e.model === r4.name)!;
    expect(image.grid).to.deep.equal([8, 8]);
    expect(image.maps.length).to.equal(4 * 64);
    for (let h = 0; h < 4; h++) {
      const sum = image.maps.subarray(h * 64, (h + 1) * 64).reduce((a, b) => a + b, 0);
      expect(sum, `head ${h} sums to 1 over the grid`).to.be.closeTo(1, 1e-4);
    }
    const text = run.texts.find((e) => e.model === r4.name)!;
    expect(text.maps.length).to.equal(4 * text.tokens.length);
    const r4Result = run.report.results.find((r) => r.model === r4.name)!;
    expect(r4Result.diversity.image).to.be.a('number');
  });

  it('query "a red heart": the top google emoji of a float64 dot product over all', async () => {
    const result = await runRetrievalQuery({ text: 'a red heart' }, { top: 5, cache: false });
    const pair = widestPair(pairs);
    expect(result.model).to.equal(pair.name);
    expect(result.data).to.include({ style: 'google', gallery: run.report.data.images });

    const data = await openRetrievalData('emoji', { style: 'google' });
    const image = await Session.create(pair.image);
    const text = await Session.create(pair.text);
    const tokenizer = await loadTokenizer(pair.tokenizer);
    try {
      const gallery = await encodeImages(image, imageSources(data, data.roots[0]), {
        preset: pair.preset,
      });
      const query = await encodeTexts(text, tokenizer, ['a red heart'], {
        maxLength: pair.maxTokens,
      });
      const dim = query.dim;
      const dots = Array.from({ length: gallery.count }, (_, i) => {
        let sum = 0;
        for (let k = 0; k < dim; k++) sum += query.embeddings[k] * gallery.embeddings[i * dim + k];
        return { i, sum };
      }).sort((a, b) => b.sum - a.sum);
      const expected = dots.slice(0, 5).map((d) => path.join(data.roots[0].root, data.images[d.i]));
      expect(result.matches.map((m) => m.image)).to.deep.equal(expected);
      result.matches.forEach((m, r) => expect(m.score).to.be.closeTo(dots[r].sum, 1e-5));
    } finally {
      tokenizer.dispose();
      await image.dispose();
      await text.dispose();
    }
  });
});
