import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import type { QueryResult } from '../../src/retrieval/query-node.js';
import type { DirectionRecall } from '../../src/retrieval/recall.js';
import type { RetrievalReport } from '../../src/retrieval/run-node.js';
import { launchBrowser } from '../helpers/browser.js';
import { ortlab as ortlabProcess, type Finished } from '../helpers/ortlab-process.js';
import { nanImageEncoder, narrowTextEncoder } from '../helpers/retrieval-models.js';
import { linearReluModel } from '../helpers/tiny-models.js';

/**
 * `ortlab retrieval` on the tiny pair of tools/fixtures/retrieval_encoders.py: its recalls,
 * diversity and nearest items against what PyTorch and numpy computed there.
 */
const DIR = 'test/fixtures/retrieval/tiny';
const DATA = ['--data', `${DIR}/dataset_tiny.json`, '--image-root', `${DIR}/images`];
const MANIFEST = ['--manifest', `${DIR}/manifest.json`];
const PAIR = ['--images', `${DIR}/image.onnx`, '--texts', `${DIR}/text.onnx`];
const TOKENIZER = ['--tokenizer', 'test/fixtures/tokenizer'];

interface Figures {
  i2t: Partial<DirectionRecall>;
  t2i: Partial<DirectionRecall>;
  rsum: number;
}
const ref = JSON.parse(await readFile(`${DIR}/reference.json`, 'utf8')) as {
  recall: Figures;
  image: { diversity: { mean: number } };
  text: { diversity: { mean: number } };
  topText: { indices: number[]; scores: number[] };
  topImage: { indices: number[]; scores: number[] };
  captions: string[];
};
const files = (
  JSON.parse(await readFile(`${DIR}/dataset_tiny.json`, 'utf8')) as {
    images: { filename: string }[];
  }
).images.map((i) => i.filename);

/** The gallery cache of these tests' queries: never the user's own. */
const CACHE = await mkdtemp(path.join(tmpdir(), 'ortlab-retrieval-cache-'));
after(() => rm(CACHE, { recursive: true, force: true }));

function ortlab(...args: string[]): Promise<Finished> {
  return ortlabWith({ ORTLAB_CACHE_DIR: CACHE }, ...args);
}

function ortlabWith(env: Record<string, string>, ...args: string[]): Promise<Finished> {
  return ortlabProcess(args, { ...process.env, ...env });
}

function expectFigures(got: Figures, want: Figures): void {
  for (const side of ['i2t', 't2i'] as const) {
    for (const key of ['r1', 'r5', 'r10', 'medr', 'meanr'] as const) {
      expect(got[side][key], `${side}.${key}`).to.be.closeTo(want[side][key] ?? NaN, 1e-9);
    }
  }
  expect(got.rsum).to.be.closeTo(want.rsum, 1e-9);
}

describe('ortlab retrieval', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ortlab-retrieval-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("eval --manifest: PyTorch's recalls, the models' hashes and run configuration", async () => {
    const run = await ortlab('retrieval', 'eval', ...MANIFEST, ...DATA, '--json', '--no-progress');
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as RetrievalReport;
    expect(report.data).to.include({ dataset: 'tiny', split: 'test', images: 6, captions: 12 });
    expect(report.results).to.have.length(1);
    const [result] = report.results;
    expect(result).to.include({ model: 'r2', protocol: 'all', images: 6, texts: 12 });
    expectFigures(result, ref.recall);
    expectFigures(result.reference!, ref.recall);
    expect(result.diversity.image).to.be.closeTo(ref.image.diversity.mean, 1e-6);
    expect(result.diversity.text).to.be.closeTo(ref.text.diversity.mean, 1e-6);
    const [model] = report.models;
    const hash = createHash('sha256')
      .update(await readFile(`${DIR}/image.onnx`))
      .digest('hex');
    expect(model.image).to.include({ sha256: hash, heads: 2 });
    expect(model.preset).to.include({ name: 'tiny', height: 16, width: 16 });
    expect(report.config.executionProvider).to.equal('cpu');
    expect(report.config.versions).to.have.property('onnxruntime-node');
  });

  it('eval --images --texts: the preset from the model card, no recorded recalls', async () => {
    const run = await ortlab('retrieval', 'eval', ...PAIR, ...TOKENIZER, ...DATA, '--no-progress');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/tiny-image\s+images\s+all\s+66\.7\s+83\.3\s+100\.0\s+1\s+66\.7/);
    expect(run.stdout).to.match(/516\.7\s+–\n/);
  });

  it('eval --images --texts --manifest --out: records, head overlays in Chromium', async () => {
    const out = path.join(dir, 'page');
    const run = await ortlab('retrieval', 'eval', ...PAIR, ...MANIFEST, ...DATA, '--out', out);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/r2\s+images\s+all\s+66\.7\s+83\.3\s+100\.0\s+1\s+66\.7\s+100\.0/);
    expect(run.stdout).to.include('every one equals ortlab’s');
    const browser = await launchBrowser();
    try {
      const { page, errors } = await browser.newPage();
      await page.goto(pathToFileURL(path.join(out, 'report.html')).href, { waitUntil: 'load' });
      expect(await page.locator('table.recall tbody tr').count()).to.equal(1);
      const widths = await page
        .locator('img.overlay')
        .evaluateAll((list) =>
          list.map((e) => (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth),
        );
      expect(widths).to.have.length(4 * 2); // 4 example images x 2 heads
      for (const width of widths) expect(width).to.equal(128);
      expect(await page.locator('.caption').count()).to.equal(4);
      expect(await page.locator('.caption .head').count()).to.equal(4 * 2);
      const first = await page.locator('.caption').first().locator('.token').allTextContents();
      expect(first.slice(0, 3)).to.deep.equal(['[CLS]', 'a', 'red']);
      expect(errors).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });

  it('query "words": the nearest pictures and their scores, as numpy ranks them', async () => {
    const run = await ortlab(
      'retrieval',
      'query',
      ref.captions[0],
      ...MANIFEST,
      ...DATA,
      '--top',
      '3',
      '--json',
    );
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout) as QueryResult;
    expect(result.model).to.equal('r2');
    expect(result.matches.map((m) => path.basename(m.image))).to.deep.equal(
      ref.topText.indices.map((i) => files[i]),
    );
    result.matches.forEach((m, i) => expect(m.score).to.be.closeTo(ref.topText.scores[i], 1e-5));
    const plain = await ortlab(
      'retrieval',
      'query',
      ref.captions[0],
      ...MANIFEST,
      ...DATA,
      '--top',
      '2',
    );
    expect(plain.stdout.split('\n')[1]).to.match(
      new RegExp(`^ 1  ${ref.topText.scores[0].toFixed(3)}  .*${files[ref.topText.indices[0]]}$`),
    );
  });

  it('query --image: the nearest captions, with the picture each belongs to', async () => {
    const image = `${DIR}/images/${files[0]}`;
    const run = await ortlab(
      'retrieval',
      'query',
      '--image',
      image,
      ...MANIFEST,
      ...DATA,
      '--top',
      '3',
      '--json',
    );
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout) as QueryResult;
    expect(result.matches.map((m) => m.caption)).to.deep.equal(
      ref.topImage.indices.map((i) => ref.captions[i]),
    );
    result.matches.forEach((m, i) => expect(m.score).to.be.closeTo(ref.topImage.scores[i], 1e-5));
  });

  it('query keeps the gallery embeddings, and encodes them again when a file changes', async () => {
    const cache = await mkdtemp(path.join(tmpdir(), 'ortlab-query-cache-'));
    const root = await mkdtemp(path.join(tmpdir(), 'ortlab-query-images-'));
    try {
      await cp(`${DIR}/images`, root, { recursive: true });
      const data = ['--data', `${DIR}/dataset_tiny.json`, '--image-root', root];
      const query = async (...extra: string[]): Promise<QueryResult> => {
        const run = await ortlabWith(
          { ORTLAB_CACHE_DIR: cache },
          'retrieval',
          'query',
          ...extra,
          ...MANIFEST,
          ...data,
          '--top',
          '3',
          '--json',
        );
        expect(run.code, run.stderr).to.equal(0);
        return JSON.parse(run.stdout) as QueryResult;
      };
      const entries = async (): Promise<string[]> =>
        (await readdir(path.join(cache, 'retrieval'))).sort();
      const expected = ref.topText.indices.map((i) => files[i]);

      const first = await query(ref.captions[0]);
      expect(first.data.galleryCached).to.equal(false);
      expect(first.matches.map((m) => path.basename(m.image))).to.deep.equal(expected);
      const [entry] = await entries();
      expect(await entries()).to.deep.equal([entry]);
      const second = await query(ref.captions[0]);
      expect(second.data.galleryCached).to.equal(true);
      expect(second.matches).to.deep.equal(first.matches);

      // A gallery image touched: its stamp is in the key, so a new entry is encoded.
      const touched = path.join(root, files[1]);
      await utimes(touched, new Date(), new Date(Date.now() + 5000));
      const third = await query(ref.captions[0]);
      expect(third.data.galleryCached).to.equal(false);
      expect(third.matches).to.deep.equal(first.matches);
      expect(await entries()).to.have.length(2);

      // A damaged entry is encoded again and rewritten whole, not read.
      for (const name of await entries()) {
        await writeFile(path.join(cache, 'retrieval', name), 'ORTLABG1 half an entry');
      }
      const repaired = await query(ref.captions[0]);
      expect(repaired.data.galleryCached).to.equal(false);
      expect(repaired.matches).to.deep.equal(first.matches);
      expect((await query(ref.captions[0])).data.galleryCached).to.equal(true);

      // --no-cache neither reads nor writes; an image query caches the captions apart.
      const before = await entries();
      const uncached = await query(ref.captions[0], '--no-cache');
      expect(uncached.data.galleryCached).to.equal(false);
      expect(uncached.matches).to.deep.equal(first.matches);
      expect(await entries()).to.deep.equal(before);
      const image = path.join(root, files[0]);
      const byImage = await query('--image', image);
      expect(byImage.data.galleryCached).to.equal(false);
      expect(byImage.matches.map((m) => m.caption)).to.deep.equal(
        ref.topImage.indices.map((i) => ref.captions[i]),
      );
      const byImageAgain = await query('--image', image);
      expect(byImageAgain.data.galleryCached).to.equal(true);
      expect(byImageAgain.matches).to.deep.equal(byImage.matches);
      expect(await entries()).to.have.length(before.length + 1);
    } finally {
      await rm(cache, { recursive: true, force: true });
      await rm(root, { recursive: true, force: true });
    }
  });

  it('an empty query, a lone --images, and an unknown style are clear errors', async () => {
    const empty = await ortlab('retrieval', 'query', '  ', ...MANIFEST, ...DATA);
    expect(empty.code).to.equal(1);
    expect(empty.stderr).to.include('the query is empty: give words to search for');
    const none = await ortlab('retrieval', 'query', ...MANIFEST, ...DATA);
    expect(none.stderr).to.include('the query is empty');
    const lone = await ortlab('retrieval', 'eval', '--images', `${DIR}/image.onnx`, ...DATA);
    expect(lone.stderr).to.include('--images and --texts go together');
    const style = await ortlab(
      'retrieval',
      'eval',
      ...MANIFEST,
      ...DATA.slice(0, 2),
      '--style',
      'google',
    );
    expect(style.stderr).to.include('has no styles; --style applies to sets such as emoji');
  });

  it('refuses an encoder with no embedding output, and encoders of different widths', async () => {
    const plain = path.join(dir, 'plain.onnx');
    await writeFile(plain, linearReluModel());
    const missing = await ortlab(
      'retrieval',
      'eval',
      '--images',
      plain,
      '--texts',
      `${DIR}/text.onnx`,
      '--preset',
      'raw',
      ...TOKENIZER,
      ...DATA,
    );
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include(`has outputs [y] but no 'embedding'`);
    const narrow = path.join(dir, 'narrow.onnx');
    await writeFile(narrow, narrowTextEncoder(3));
    const widths = await ortlab(
      'retrieval',
      'eval',
      '--images',
      `${DIR}/image.onnx`,
      '--texts',
      narrow,
      ...TOKENIZER,
      ...DATA,
    );
    expect(widths.stderr).to.include(
      `gives 8-dim embeddings but text encoder '${path.resolve(narrow)}' gives 3-dim ones`,
    );
  });

  it('an encoder giving NaN embeddings is named with the image it failed on', async () => {
    const nan = path.join(dir, 'nan.onnx');
    await writeFile(nan, nanImageEncoder(16));
    const run = await ortlab(
      'retrieval',
      'eval',
      '--images',
      nan,
      '--texts',
      `${DIR}/text.onnx`,
      '--preset',
      'raw',
      ...TOKENIZER,
      ...DATA,
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(
      /gave NaN or an infinity in the embedding of '.*red-disk\.png' \(item 0\)/,
    );
  });
});
