import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import '../../src/index.js';
import { openRetrievalData, type RetrievalData } from '../../src/retrieval/data-node.js';
import { parseKarpathy } from '../../src/retrieval/karpathy.js';
import { readPairManifest } from '../../src/retrieval/manifest-node.js';
import { upsampleGrid } from '../../src/retrieval/overlays-node.js';
import { protocolsOf, runRetrievalEval } from '../../src/retrieval/run-node.js';

const TINY = 'test/fixtures/retrieval/tiny';

function fakeData(dataset: string, images: number): RetrievalData {
  return {
    dataset,
    split: 'test',
    images: Array.from({ length: images }, (_, i) => `${i}.jpg`),
    captions: [],
    textToImage: new Int32Array(0),
    name: dataset,
    file: `${dataset}.json`,
    roots: [],
  };
}

describe('retrieval protocols and data', () => {
  it('COCO 5K test is reported as 1K (five folds) and 5K; Flickr30K as 1K; others whole', () => {
    expect(protocolsOf(fakeData('coco', 5000))).to.deep.equal([
      { protocol: '1K', folds: 5 },
      { protocol: '5K', folds: 1 },
    ]);
    expect(protocolsOf(fakeData('coco', 1000))).to.deep.equal([{ protocol: 'all', folds: 1 }]);
    expect(protocolsOf(fakeData('flickr30k', 1000))).to.deep.equal([{ protocol: '1K', folds: 1 }]);
    expect(protocolsOf(fakeData('emoji', 324))).to.deep.equal([{ protocol: 'all', folds: 1 }]);
  });

  it('a Karpathy file with styles and labels: an image root per style, the labels as names', () => {
    const text = JSON.stringify({
      dataset: 'emoji',
      styles: ['google', 'twitter'],
      images: [
        {
          filepath: '',
          filename: 'a.png',
          split: 'test',
          label: 'red heart',
          sentences: [{ raw: 'red heart' }],
        },
        {
          filepath: '',
          filename: 'b.png',
          split: 'val',
          label: 'cat',
          sentences: [{ raw: 'cat' }],
        },
      ],
    });
    const split = parseKarpathy(text);
    expect(split.images).to.deep.equal(['a.png']);
    expect(split.names).to.deep.equal(['red heart']);
    expect(split.styles).to.deep.equal(['google', 'twitter']);
  });

  it('openRetrievalData: the image root, and the errors that name the file or folder', async () => {
    const data = await openRetrievalData(`${TINY}/dataset_tiny.json`, {
      imageRoot: `${TINY}/images`,
    });
    expect(data.roots).to.deep.equal([{ style: 'images', root: `${TINY}/images` }]);
    expect(data.textToImage.length).to.equal(12);
    const noRoot = await openRetrievalData(`${TINY}/dataset_tiny.json`).catch((e: Error) => e);
    expect((noRoot as Error).message).to.match(
      new RegExp(
        "image '.*tiny/red-disk\\.png' of dataset_tiny\\.json not found: " +
          'give the folder .* --image-root',
      ),
    );
    const missing = await openRetrievalData('none.json').catch((e: Error) => e);
    expect((missing as Error).message).to.include("data file 'none.json' not found");
  });

  it('readPairManifest resolves paths from the manifest’s folder', async () => {
    const [pair] = await readPairManifest(`${TINY}/manifest.json`);
    expect(pair.image).to.equal(path.resolve(TINY, 'image.onnx'));
    expect(pair.tokenizer).to.equal(path.resolve('test/fixtures/tokenizer'));
    const recorded = JSON.parse(readFileSync(`${TINY}/reference.json`, 'utf8')) as {
      recall: { rsum: number };
    };
    expect(pair.metrics?.test.rsum).to.equal(recorded.recall.rsum);
    const bad = await readPairManifest(`${TINY}/dataset_tiny.json`).catch((e: Error) => e);
    expect((bad as Error).message).to.include('lists no encoder pairs');
  });

  it('recorded recalls are compared only on the file and split they come from', async function () {
    this.timeout(20_000);
    const [pair] = await readPairManifest(`${TINY}/manifest.json`);
    const data = await openRetrievalData(`${TINY}/dataset_tiny.json`, {
      imageRoot: `${TINY}/images`,
    });
    const byStyle = { images: pair.metrics!.test };
    const on = (file: string, split: string) => ({
      ...pair,
      metrics: byStyle,
      recordedOn: { file, split },
    });
    const references = [];
    for (const candidate of [
      on('dataset_tiny.json', 'test'),
      on('dataset_tiny.json', 'val'),
      on('dataset_coco.json', 'test'),
    ]) {
      const { report } = await runRetrievalEval([candidate], data, { examples: 0 });
      references.push(report.results[0].reference?.rsum);
    }
    expect(references).to.deep.equal([pair.metrics!.test.rsum, undefined, undefined]);
  });

  it('upsampleGrid: each grid cell becomes a block of the image, scaled by the peak', () => {
    const map = Float32Array.of(0.1, 0.2, 0.3, 0.4);
    const full = upsampleGrid(map, [2, 2], 4, 4);
    expect(Array.from(full, (v) => Math.round(v * 100) / 100)).to.deep.equal([
      0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 0.75, 0.75, 1, 1,
    ]);
  });
});
