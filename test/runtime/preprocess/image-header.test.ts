import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import sharp from 'sharp';

import { decodedBytesEstimate, headerSize } from '../../../src/runtime/preprocess/image-header.js';
import { ImageDecodeError, readImageFile } from '../../../src/runtime/preprocess/image-node.js';

describe('image sizes from file headers', () => {
  /** A noisy RGB image of the given size, as raw input for sharp. */
  const noise = (width: number, height: number) =>
    sharp(Buffer.from(Array.from({ length: width * height * 3 }, (_, i) => (i * 97) % 256)), {
      raw: { width, height, channels: 3 },
    });

  it('reads what sharp reads: baseline, progressive, EXIF JPEGs; RGB and RGBA PNG', async () => {
    const files: [string, Promise<Buffer>][] = [
      ['baseline.jpg', noise(301, 77).jpeg().toBuffer()],
      ['progressive.jpg', noise(64, 300).jpeg({ progressive: true }).toBuffer()],
      [
        'exif.jpg',
        noise(33, 21)
          .withMetadata({ exif: { IFD0: { Artist: 'ortlab '.repeat(500) } } })
          .jpeg()
          .toBuffer(),
      ],
      ['gray.jpg', noise(50, 40).greyscale().jpeg().toBuffer()],
      ['rgb.png', noise(17, 300).png().toBuffer()],
      ['rgba.png', noise(250, 3).ensureAlpha().png().toBuffer()],
    ];
    for (const fixture of ['astronaut.jpg', 'camera-gray.jpg', 'coffee.jpg']) {
      files.push([fixture, readFile(path.join('test/fixtures/images', fixture))]);
    }
    for (const [name, made] of files) {
      const bytes = await made;
      const meta = await sharp(bytes).metadata();
      expect(headerSize(bytes), name).to.deep.equal({ width: meta.width, height: meta.height });
      expect(decodedBytesEstimate(bytes), name).to.equal(
        (meta.width ?? 0) * (meta.height ?? 0) * 4,
      );
    }
  });

  it('says nothing for other formats or a cut header; estimates those by size', async () => {
    const webp = await noise(40, 30).webp().toBuffer();
    expect(headerSize(webp)).to.equal(undefined);
    const jpeg = await noise(40, 30).jpeg().toBuffer();
    expect(headerSize(jpeg.subarray(0, 20)), 'a JPEG cut before its frame header').to.equal(
      undefined,
    );
    expect(headerSize(new Uint8Array(0))).to.equal(undefined);
    expect(decodedBytesEstimate(webp)).to.equal(webp.length * 32);
    const missing = path.join(os.tmpdir(), 'ortlab-no-such-image.jpg');
    expect(() => readImageFile(missing)).to.throw(
      ImageDecodeError,
      `${missing}: cannot read the file (no such file)`,
    );
  });
});
