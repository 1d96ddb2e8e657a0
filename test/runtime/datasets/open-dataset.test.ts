import { expect } from 'chai';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { bundledDatasets, openDataset } from '../../../src/runtime/datasets/open-dataset.js';
import {
  collect,
  makeTempFolder,
  rejection,
  writeFiles,
  writeIdxPair,
  type TempFolder,
} from './temp-files.js';

describe('openDataset', () => {
  let temp: TempFolder;
  beforeEach(async () => {
    temp = await makeTempFolder('open');
  });
  afterEach(async () => {
    await temp.remove();
  });

  it('lists the bundled datasets in a frozen array', () => {
    expect(bundledDatasets).to.deep.equal(['mnist', 'fashion-mnist', 'digits', 'localization']);
    expect(Object.isFrozen(bundledDatasets)).to.equal(true);
  });

  it('opens a bundled name from the data folder given in options.dataDir', async () => {
    const folder = join(temp.path, 'digits');
    await writeIdxPair(folder, { count: 15, height: 8, width: 8, gzip: true });
    await writeFile(
      join(folder, 'classes.json'),
      JSON.stringify([
        'zero',
        'one',
        'two',
        'three',
        'four',
        'five',
        'six',
        'seven',
        'eight',
        'nine',
      ]),
    );

    const dataset = await openDataset('digits', { dataDir: temp.path });
    expect(dataset.name).to.equal('digits');
    expect(dataset.size).to.equal(15);
    expect(dataset.classes[3]).to.equal('three');
    const [sample] = await collect(dataset.samples({ start: 13, end: 14 }));
    expect(sample.id).to.equal('digits#13');
    expect(sample.label).to.equal(3);
  });

  it("opens the package's own MNIST test set: 10000 images 28x28, first label 7", async () => {
    const mnist = await openDataset('mnist');
    expect(mnist.size).to.equal(10000);
    expect(mnist.classes).to.deep.equal(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const [first] = await collect(mnist.samples({ end: 1 }));
    expect(first.label).to.equal(7);
    expect(first.source).to.include({ kind: 'pixels', width: 28, height: 28, channels: 1 });
  });

  it('opens the bundled digits and fashion-mnist sets with their class names', async () => {
    const digits = await openDataset('digits');
    expect(digits.size).to.equal(1797);
    const [sample] = await collect(digits.samples({ end: 1 }));
    expect(sample.source).to.include({ width: 8, height: 8 });

    const fashion = await openDataset('fashion-mnist');
    expect(fashion.size).to.equal(10000);
    expect(fashion.classes[0]).to.equal('T-shirt/top');
  });

  it('reports a bundled dataset whose files are missing, naming them', async () => {
    const error = await rejection(openDataset('mnist', { dataDir: temp.path }));
    expect(error.message)
      .to.contain("bundled dataset 'mnist' is incomplete")
      .and.contain(join(temp.path, 'mnist', 'images-idx3-ubyte.gz'));
  });

  it('opens a directory as an image folder', async () => {
    await writeFiles(temp.path, ['photos/b/1.png', 'photos/a/2.jpg']);
    const dataset = await openDataset(join(temp.path, 'photos'));
    expect(dataset.classes).to.deep.equal(['a', 'b']);
    expect((await collect(dataset.samples())).map((s) => s.id)).to.deep.equal([
      'a/2.jpg',
      'b/1.png',
    ]);
  });

  it('opens an IDX file by its magic, plain or gzipped, whatever its extension', async () => {
    const plain = await writeIdxPair(join(temp.path, 'plain'), { count: 4 });
    expect((await openDataset(plain.imagesPath)).size).to.equal(4);

    const gzip = await writeIdxPair(join(temp.path, 'gz'), { count: 5, gzip: true });
    const renamedImages = join(temp.path, 'gz', 'x-images-idx3-ubyte.bin');
    const renamedLabels = join(temp.path, 'gz', 'x-labels-idx1-ubyte.bin');
    await copyFile(gzip.imagesPath, renamedImages);
    await copyFile(gzip.labelsPath, renamedLabels);
    const dataset = await openDataset(renamedImages);
    expect(dataset.size).to.equal(5);
    expect((await openDataset(renamedImages, { labelsPath: gzip.labelsPath })).size).to.equal(5);
  });

  it('opens .txt, .csv and .tsv files as file lists', async () => {
    for (const [name, text] of [
      ['list.txt', 'a.jpg 1\nb.jpg 0\n'],
      ['list.csv', 'path,label\na.jpg,1\nb.jpg,0\n'],
      ['list.tsv', 'a.jpg\t1\nb.jpg\t0\n'],
    ]) {
      const path = join(temp.path, name);
      await writeFile(path, text);
      const dataset = await openDataset(path, { classes: ['no', 'yes'] });
      expect(
        (await collect(dataset.samples())).map((s) => [s.id, s.label]),
        name,
      ).to.deep.equal([
        ['a.jpg', 1],
        ['b.jpg', 0],
      ]);
    }
  });

  it('rejects an unknown spec, listing the bundled names and the accepted forms', async () => {
    const error = await rejection(openDataset('imagenet-val'));
    expect(error.message)
      .to.contain("unknown dataset 'imagenet-val'")
      .and.contain('mnist, fashion-mnist, digits')
      .and.contain('sub-folder per class')
      .and.contain('IDX')
      .and.contain('.txt, .csv, .tsv');

    const png = join(temp.path, 'cat.png');
    await writeFile(png, new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    const notData = await rejection(openDataset(png));
    expect(notData.message)
      .to.contain(`unknown dataset '${png}'`)
      .and.contain('neither IDX')
      .and.contain('mnist, fashion-mnist, digits');
  });

  it('rejects a spec that is not a string with a TypeError', async () => {
    expect(await rejection(openDataset(42 as unknown as string))).to.be.instanceOf(TypeError);
  });
});
