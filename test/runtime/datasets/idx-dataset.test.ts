import { expect } from 'chai';
import { appendFile, open, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { encodeIdx } from '../../../src/runtime/datasets/idx.js';
import { openIdxDataset } from '../../../src/runtime/datasets/idx-dataset.js';
import type { Sample } from '../../../src/runtime/datasets/types.js';
import {
  collect,
  imageValues,
  makeTempFolder,
  pixel,
  rejection,
  writeBytes,
  writeIdxPair,
  type TempFolder,
} from './temp-files.js';

function pixelsOf(sample: Sample): number[] {
  if (sample.source.kind !== 'pixels') throw new Error(`sample ${sample.id} holds no pixels`);
  return Array.from(sample.source.data);
}

describe('openIdxDataset', () => {
  let temp: TempFolder;
  beforeEach(async () => {
    temp = await makeTempFolder('idx');
  });
  afterEach(async () => {
    await temp.remove();
  });

  it('reads plain and gzipped copies of the same data as identical samples', async () => {
    const plain = await writeIdxPair(join(temp.path, 'plain'), { count: 25, height: 5, width: 7 });
    const gzip = await writeIdxPair(join(temp.path, 'gzip'), {
      count: 25,
      height: 5,
      width: 7,
      gzip: true,
    });

    const fromPlain = await collect(
      (await openIdxDataset(plain.imagesPath, { name: 'd' })).samples(),
    );
    const fromGzip = await collect(
      (await openIdxDataset(gzip.imagesPath, { name: 'd' })).samples(),
    );

    expect(fromPlain).to.have.length(25);
    expect(fromGzip.map(pixelsOf)).to.deep.equal(fromPlain.map(pixelsOf));
    expect(fromGzip.map((s) => [s.index, s.id, s.label])).to.deep.equal(
      fromPlain.map((s) => [s.index, s.id, s.label]),
    );
    expect(pixelsOf(fromPlain[3])).to.deep.equal(Array.from({ length: 35 }, (_, b) => pixel(3, b)));
  });

  it('yields pixel samples with their dims, label and a name#index id', async () => {
    const { imagesPath } = await writeIdxPair(temp.path, {
      count: 12,
      height: 4,
      width: 3,
      prefix: 't10k-',
    });
    const dataset = await openIdxDataset(imagesPath);

    expect(dataset.size).to.equal(12);
    expect(dataset.name).to.equal(imagesPath);
    expect(dataset.classes).to.deep.equal(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const [first] = await collect(dataset.samples({ start: 11 }));
    expect(first.index).to.equal(11);
    expect(first.label).to.equal(1);
    expect(first.id).to.equal(`${imagesPath}#11`);
    expect(first.source).to.include({ kind: 'pixels', width: 3, height: 4, channels: 1 });
  });

  it('reads [count, height, width, channels] files as multi-channel pixels', async () => {
    for (const gzip of [false, true]) {
      const folder = join(temp.path, String(gzip));
      const { imagesPath, images } = await writeIdxPair(folder, {
        count: 6,
        height: 2,
        width: 3,
        channels: 3,
        gzip,
      });
      const samples = await collect((await openIdxDataset(imagesPath)).samples());
      expect(samples[5].source).to.include({ width: 3, height: 2, channels: 3 });
      expect(pixelsOf(samples[5])).to.deep.equal(Array.from(images.subarray(5 * 18, 6 * 18)));
    }
  });

  it('streams any range, plain and gzip, even with records straddling read chunks', async () => {
    for (const gzip of [false, true]) {
      const folder = join(temp.path, String(gzip));
      const { imagesPath } = await writeIdxPair(folder, { count: 40, height: 5, width: 7, gzip });
      const dataset = await openIdxDataset(imagesPath, { chunkBytes: 100 });

      const middle = await collect(dataset.samples({ start: 7, end: 12 }));
      expect(middle.map((s) => s.index)).to.deep.equal([7, 8, 9, 10, 11]);
      expect(middle.map(pixelsOf)).to.deep.equal(
        [7, 8, 9, 10, 11].map((i) => Array.from({ length: 35 }, (_, b) => pixel(i, b))),
      );
      expect(await collect(dataset.samples({ start: 39 }))).to.have.length(1);
      expect(await collect(dataset.samples({ start: 5, end: 5 }))).to.have.length(0);
      const all = await collect(dataset.samples());
      expect(all.map(pixelsOf)).to.deep.equal(
        Array.from({ length: 40 }, (_, i) => Array.from({ length: 35 }, (_, b) => pixel(i, b))),
      );
    }
  });

  it('rejects a range outside the dataset when samples() is called', async () => {
    const { imagesPath } = await writeIdxPair(temp.path, { count: 5 });
    const dataset = await openIdxDataset(imagesPath, { name: 'five' });
    expect(() => dataset.samples({ start: 0, end: 6 })).to.throw(
      RangeError,
      /range\.end of dataset 'five' is 6; expected an integer from 0 to 5/,
    );
    expect(() => dataset.samples({ start: 3, end: 2 })).to.throw(RangeError, /after range\.end/);
    expect(() => dataset.samples({ start: 1.5 })).to.throw(RangeError);
    expect(() => dataset.samples({ start: '1' as unknown as number })).to.throw(TypeError);
  });

  describe('a file whose size does not match its header', () => {
    const dimsText = /dims \[10, 4, 3\] of uint8 need 136 bytes/;

    it('is an Error naming a truncated plain file, dims, expected and actual bytes', async () => {
      const { imagesPath } = await writeIdxPair(temp.path, { count: 10 });
      await truncate(imagesPath, 130);
      const error = await rejection(openIdxDataset(imagesPath));
      expect(error.message)
        .to.contain(imagesPath)
        .and.match(dimsText)
        .and.contain('holds 130 bytes');
    });

    it('is an Error for an over-long plain file', async () => {
      const { imagesPath } = await writeIdxPair(temp.path, { count: 10 });
      await appendFile(imagesPath, new Uint8Array(5));
      const error = await rejection(openIdxDataset(imagesPath));
      expect(error.message)
        .to.contain(imagesPath)
        .and.match(dimsText)
        .and.contain('holds 141 bytes');
    });

    it('is an Error for a gzip file whose content is truncated or over-long', async () => {
      const { imagesPath } = await writeIdxPair(temp.path, { count: 10, gzip: true });
      const full = encodeIdx(imageValues(10, 12), [10, 4, 3]);

      await writeBytes(imagesPath, full.subarray(0, 100), true);
      const short = await rejection(openIdxDataset(imagesPath));
      expect(short.message)
        .to.contain(imagesPath)
        .and.match(dimsText)
        .and.contain('decompresses to 100 bytes');

      const long = new Uint8Array(150);
      long.set(full);
      await writeBytes(imagesPath, long, true);
      const over = await rejection(openIdxDataset(imagesPath));
      expect(over.message)
        .to.contain(imagesPath)
        .and.match(dimsText)
        .and.contain('decompresses to 150 bytes');
    });

    it('is an Error for a gzip file cut short, saying the stream is incomplete', async () => {
      const { imagesPath } = await writeIdxPair(temp.path, {
        count: 200,
        height: 8,
        width: 8,
        gzip: true,
      });
      const bytes = await readFile(imagesPath);
      await writeFile(imagesPath, bytes.subarray(0, bytes.length - 20));
      const error = await rejection(openIdxDataset(imagesPath));
      expect(error.message)
        .to.contain(imagesPath)
        .and.contain('need 12816 bytes')
        .and.contain('not a complete gzip stream');
    });

    it('is an Error for a labels file too, naming the labels file', async () => {
      const { imagesPath, labelsPath } = await writeIdxPair(temp.path, { count: 10, gzip: true });
      await writeBytes(labelsPath, encodeIdx(new Uint8Array(10), [10]).subarray(0, 15), true);
      const error = await rejection(openIdxDataset(imagesPath));
      expect(error.message)
        .to.contain(labelsPath)
        .and.contain('dims [10] of uint8 need 18 bytes')
        .and.contain('decompresses to 15 bytes');
    });
  });

  it('rejects images and labels of different counts, naming both files and counts', async () => {
    const { imagesPath, labelsPath } = await writeIdxPair(temp.path, { count: 10 });
    await writeBytes(labelsPath, encodeIdx(new Uint8Array(9), [9]));
    const error = await rejection(openIdxDataset(imagesPath));
    expect(error.message)
      .to.contain(imagesPath)
      .and.contain(labelsPath)
      .and.contain('10 images')
      .and.contain('9 labels');
  });

  it('explains a missing labels file and says to pass labelsPath', async () => {
    const { imagesPath, labelsPath } = await writeIdxPair(temp.path, { count: 3, gzip: true });
    await rename(labelsPath, join(temp.path, 'elsewhere.gz'));
    const error = await rejection(openIdxDataset(imagesPath));
    expect(error.message)
      .to.contain(`looked for '${labelsPath}'`)
      .and.contain('options.labelsPath');

    const odd = join(temp.path, 'pictures.gz');
    await rename(imagesPath, odd);
    const underived = await rejection(openIdxDataset(odd));
    expect(underived.message)
      .to.contain("neither 'images-idx3' nor 'images.idx3'")
      .and.contain('options.labelsPath');

    const dataset = await openIdxDataset(odd, { labelsPath: join(temp.path, 'elsewhere.gz') });
    expect(dataset.size).to.equal(3);
  });

  it('derives labels.idx1 names from images.idx3 names', async () => {
    await writeBytes(
      join(temp.path, 'train-images.idx3-ubyte'),
      encodeIdx(new Uint8Array(24), [2, 4, 3]),
    );
    await writeBytes(
      join(temp.path, 'train-labels.idx1-ubyte'),
      encodeIdx(new Uint8Array([1, 0]), [2]),
    );
    const dataset = await openIdxDataset(join(temp.path, 'train-images.idx3-ubyte'));
    expect((await collect(dataset.samples())).map((s) => s.label)).to.deep.equal([1, 0]);
  });

  it('takes class names from classes.json beside the images, or from options.classes', async () => {
    const { imagesPath } = await writeIdxPair(temp.path, { count: 4, label: (i) => i % 3 });
    expect((await openIdxDataset(imagesPath)).classes).to.deep.equal(['0', '1', '2']);

    await writeFile(join(temp.path, 'classes.json'), JSON.stringify(['cat', 'dog', 'fox']));
    expect((await openIdxDataset(imagesPath)).classes).to.deep.equal(['cat', 'dog', 'fox']);
    expect(
      (await openIdxDataset(imagesPath, { classes: ['a', 'b', 'c', 'd'] })).classes,
    ).to.have.length(4);
  });

  it('rejects a label with no class: a RangeError naming the labels file and sample', async () => {
    const { imagesPath, labelsPath } = await writeIdxPair(temp.path, { count: 4, label: (i) => i });
    const error = await rejection(openIdxDataset(imagesPath, { classes: ['a', 'b', 'c'] }));
    expect(error).to.be.instanceOf(RangeError);
    expect(error.message)
      .to.contain(labelsPath)
      .and.contain('sample 3 the label 3')
      .and.contain('only 3 classes');
  });

  it('rejects images that are not uint8 [count, height, width(, channels)]', async () => {
    const { imagesPath } = await writeIdxPair(temp.path, { count: 2 });
    await writeBytes(imagesPath, encodeIdx(new Uint8Array(24), [2, 12]));
    const error = await rejection(openIdxDataset(imagesPath));
    expect(error.message)
      .to.contain(imagesPath)
      .and.contain('dims [2, 12]')
      .and.contain('expected uint8 dims [count, height, width]');
  });

  it('names a missing images file', async () => {
    const missing = join(temp.path, 'nothing-images-idx3-ubyte');
    expect((await rejection(openIdxDataset(missing))).message).to.contain(
      `'${missing}' does not exist`,
    );
  });

  it('streams a 20000-image plain file, never holding more than one chunk', async function () {
    this.timeout(60000);
    const count = 20000;
    const { imagesPath } = await writeIdxPair(temp.path, { count, height: 28, width: 28 });
    const fileBytes = 16 + count * 784;
    const chunkBytes = 256 * 1024;
    const dataset = await openIdxDataset(imagesPath, { chunkBytes });

    // Spy on every FileHandle.read made while streaming.
    const probe = await open(imagesPath, 'r');
    const prototype = Object.getPrototypeOf(probe) as {
      read: (...args: unknown[]) => Promise<unknown>;
    };
    await probe.close();
    const originalRead = prototype.read;
    const readLengths: number[] = [];
    prototype.read = function (this: unknown, ...args: unknown[]) {
      readLengths.push(typeof args[2] === 'number' ? args[2] : -1);
      return originalRead.apply(this, args);
    };

    let seen = 0;
    let largestBuffer = 0;
    try {
      for await (const sample of dataset.samples()) {
        if (sample.source.kind !== 'pixels') throw new Error('expected pixels');
        largestBuffer = Math.max(largestBuffer, sample.source.data.buffer.byteLength);
        if (sample.index % 4999 === 0) {
          expect(sample.source.data[100]).to.equal(pixel(sample.index, 100));
        }
        seen++;
      }
    } finally {
      prototype.read = originalRead;
    }

    expect(seen).to.equal(count);
    expect(largestBuffer).to.be.at.most(chunkBytes);
    expect(Math.max(...readLengths)).to.be.at.most(chunkBytes);
    expect(readLengths.length).to.be.at.least(Math.ceil((fileBytes - 16) / chunkBytes));
    expect(readLengths.reduce((sum, n) => sum + n, 0)).to.be.at.most(fileBytes);
  });

  it('streams a gzip file in pieces of about one chunk, not as a whole', async () => {
    const count = 3000;
    const { imagesPath } = await writeIdxPair(temp.path, {
      count,
      height: 28,
      width: 28,
      gzip: true,
    });
    const chunkBytes = 64 * 1024;
    const dataset = await openIdxDataset(imagesPath, { chunkBytes });
    let largestBuffer = 0;
    let seen = 0;
    for await (const sample of dataset.samples({ start: 1000 })) {
      if (sample.source.kind !== 'pixels') throw new Error('expected pixels');
      largestBuffer = Math.max(largestBuffer, sample.source.data.buffer.byteLength);
      expect(sample.source.data[7]).to.equal(pixel(sample.index, 7));
      seen++;
    }
    expect(seen).to.equal(2000);
    expect(largestBuffer).to.be.at.most(2 * chunkBytes);
  });
});
