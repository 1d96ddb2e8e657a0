import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

import {
  Session,
  evaluateClassifier,
  openDataset,
  openImageFolder,
  type ProgressEvent,
  type Sample,
} from '../../src/index.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');

/** The first `n` MNIST test samples, with their pixels. */
async function mnistSamples(n: number): Promise<Sample[]> {
  const dataset = await openDataset('mnist');
  const out: Sample[] = [];
  for await (const s of dataset.samples({ end: n })) out.push(s);
  return out;
}

/** Writes samples as PNG files into class folders, plus the broken files the tests need. */
async function imageFolder(samples: Sample[]): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ortlab-folder-'));
  for (let c = 0; c < 10; c++) await mkdir(path.join(root, String(c)));
  for (const s of samples) {
    if (s.source.kind !== 'pixels') throw new Error('expected pixels');
    const { data, width, height, channels } = s.source;
    await sharp(Buffer.from(data), { raw: { width, height, channels } })
      .png()
      .toFile(path.join(root, String(s.label), `img${s.index}.png`));
  }
  await writeFile(path.join(root, '3', 'empty.png'), new Uint8Array(0));
  await writeFile(path.join(root, '4', 'notes.jpg'), 'this is text, not a JPEG');
  const jpeg = await sharp({
    create: { width: 64, height: 64, channels: 3, background: '#808080' },
  })
    .jpeg()
    .toBuffer();
  await writeFile(path.join(root, '5', 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  return root;
}

describe('evaluateClassifier', () => {
  let session: Session;
  before(async () => {
    session = await Session.create(MODEL);
  });
  after(() => session.dispose());

  it('scores the bundled MNIST test set at the accuracy the model card records', async () => {
    const card = JSON.parse(await readFile('models/mnist-cnn.json', 'utf8')) as {
      testAccuracy: number;
    };
    const result = await evaluateClassifier(session, await openDataset('mnist'), {
      preset: 'mnist',
      batchSize: 256,
    });
    expect(result.n).to.equal(10000);
    expect(result.skipped).to.deep.equal([]);
    expect(result.top1).to.be.closeTo(card.testAccuracy, 1e-4);
    expect(result.top5).to.be.at.least(result.top1);
    expect(result.counts.correct[0]).to.equal(Math.round(result.top1 * 10000));
  });

  it('gives the same result whatever the batch size', async () => {
    const dataset = await openDataset('digits');
    const a = await evaluateClassifier(session, dataset, { preset: 'mnist', batchSize: 7 });
    const b = await evaluateClassifier(session, dataset, { preset: 'mnist', batchSize: 500 });
    expect(a.counts).to.deep.equal(b.counts);
    expect(a.n).to.equal(1797);
  });

  it('counts and lists zero-byte, truncated and non-image files, and goes on', async () => {
    const samples = await mnistSamples(40);
    const root = await imageFolder(samples);
    const events: ProgressEvent[] = [];
    const result = await evaluateClassifier(session, await openImageFolder(root), {
      preset: 'mnist',
      batchSize: 8,
      onProgress: (e) => events.push(e),
    });
    expect(result.n).to.equal(40);
    expect(result.skipped.map((s) => s.id).sort()).to.deep.equal([
      path.join('3', 'empty.png'),
      path.join('4', 'notes.jpg'),
      path.join('5', 'cut.jpg'),
    ]);
    for (const s of result.skipped) expect(s.reason).to.have.length.greaterThan(10);
    expect(events[0].status).to.equal('initiate');
    const last = events[events.length - 1];
    expect(last).to.deep.include({ status: 'done', done: 43, skipped: 3 });
  });

  it('predicts the same for PNG files as for the IDX pixels they were written from', async () => {
    const samples = await mnistSamples(40);
    const root = await imageFolder(samples);
    const fromFiles = await evaluateClassifier(session, await openImageFolder(root), {
      preset: 'mnist',
    });
    const fromIdx = await evaluateClassifier(
      session,
      { ...(await openDataset('mnist')), size: 40, samples: () => toAsync(samples) },
      { preset: 'mnist' },
    );
    expect(fromFiles.counts).to.deep.equal(fromIdx.counts);
  });

  it('refuses an image over the pixel limit as a decompression bomb, naming it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ortlab-bomb-'));
    await mkdir(path.join(root, '0'));
    await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#000' } })
      .png()
      .toFile(path.join(root, '0', 'big.png'));
    await sharp({ create: { width: 28, height: 28, channels: 3, background: '#000' } })
      .png()
      .toFile(path.join(root, '0', 'small.png'));
    const result = await evaluateClassifier(session, await openImageFolder(root), {
      preset: 'mnist',
      maxPixels: 1_000_000,
    });
    expect(result.n).to.equal(1);
    expect(result.skipped).to.have.length(1);
    expect(result.skipped[0].reason).to.match(/big\.png: image is 3000x3000 = 9000000 pixels/);
    expect(result.skipped[0].reason).to.match(/decompression bomb/);
  });

  it('names an output that the model does not have', async () => {
    const error = await evaluateClassifier(session, await openDataset('digits'), {
      preset: 'mnist',
      output: 'probs',
    }).catch((e: unknown) => e as Error);
    expect((error as Error).message).to.match(/output 'probs' is not an output.*logits/);
  });
});

async function* toAsync(samples: Sample[]): AsyncGenerator<Sample> {
  for (const s of samples) yield await Promise.resolve(s);
}
