import { expect } from 'chai';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { openImageFolder } from '../../../src/runtime/datasets/image-folder.js';
import { setLogSink } from '../../../src/runtime/logger.js';
import { collect, makeTempFolder, rejection, writeFiles, type TempFolder } from './temp-files.js';

describe('openImageFolder', () => {
  let temp: TempFolder;
  beforeEach(async () => {
    temp = await makeTempFolder('folder');
  });
  afterEach(async () => {
    await temp.remove();
  });

  it('labels class folders 0..999 by natural order, not code-unit order', async () => {
    const names = Array.from({ length: 12 }, (_, i) => String(i * 91)); // 0, 91, ..., 1001
    await writeFiles(
      temp.path,
      names.map((name) => `${name}/a.png`),
    );
    const dataset = await openImageFolder(temp.path);

    expect(dataset.classes).to.deep.equal(names);
    const samples = await collect(dataset.samples());
    expect(samples.map((s) => [s.id, s.label])).to.deep.equal(
      names.map((name, i) => [`${name}/a.png`, i]),
    );
  });

  it('reads only the class folders options.folders names, and names a missing one', async () => {
    await writeFiles(temp.path, ['a/1.png', 'b/1.png', 'c/1.png', 'c/2.png']);
    const dataset = await openImageFolder(temp.path, { folders: ['c', 'a'] });
    expect(dataset.classes).to.deep.equal(['a', 'c']);
    const samples = await collect(dataset.samples());
    expect(samples.map((s) => [s.id, s.label])).to.deep.equal([
      ['a/1.png', 0],
      ['c/1.png', 1],
      ['c/2.png', 1],
    ]);
    expect(await rejection(openImageFolder(temp.path, { folders: ['a', 'zebra'] }))).to.match(
      /class folder 'zebra' was asked for but .* has no such folder/,
    );
  });

  it('sorts files naturally per folder and gives file samples with absolute paths', async () => {
    await writeFiles(temp.path, [
      'cat/img10.jpg',
      'cat/img9.JPG',
      'cat/img100.jpeg',
      'dog/b.png',
      'dog/a.webp',
    ]);
    const dataset = await openImageFolder(temp.path, { name: 'pets' });
    const samples = await collect(dataset.samples());

    expect(dataset.name).to.equal('pets');
    expect(dataset.location).to.equal(temp.path);
    expect(samples.map((s) => s.id)).to.deep.equal([
      'cat/img9.JPG',
      'cat/img10.jpg',
      'cat/img100.jpeg',
      'dog/a.webp',
      'dog/b.png',
    ]);
    expect(samples.map((s) => s.index)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(samples[4].source).to.deep.equal({
      kind: 'file',
      path: join(temp.path, 'dog', 'b.png'),
    });
    expect((await collect(dataset.samples({ start: 1, end: 3 }))).map((s) => s.id)).to.deep.equal([
      'cat/img10.jpg',
      'cat/img100.jpeg',
    ]);
  });

  it('skips hidden files and folders, files of other types and files at the root', async () => {
    await writeFiles(temp.path, [
      'a/1.png',
      'a/.DS_Store',
      'a/._1.png',
      'a/notes.txt',
      'a/.thumbs/2.png',
      'a/deeper/3.gif',
      '.git/x.png',
      'root.png',
    ]);
    const dataset = await openImageFolder(temp.path);
    expect(dataset.classes).to.deep.equal(['a']);
    expect((await collect(dataset.samples())).map((s) => s.id)).to.deep.equal([
      'a/1.png',
      'a/deeper/3.gif',
    ]);
  });

  it("follows links to class folders and files as torchvision's ImageFolder does", async () => {
    // torchvision 0.x's find_classes and make_dataset list this layout as:
    // a/1.png 0, a/link.png 0, b/3.png 1, b/4.png 1, c/5.png 2, d/broken.png 3.
    const root = join(temp.path, 'root');
    const outside = join(temp.path, 'outside');
    await writeFiles(temp.path, ['root/a/1.png', 'outside/b/3.png', 'outside/b/4.png']);
    await writeFiles(temp.path, ['root/c/5.png']);
    await mkdir(join(root, 'd'));
    await symlink(join(outside, 'b', '3.png'), join(root, 'a', 'link.png'));
    await symlink(join(outside, 'b'), join(root, 'b'));
    await symlink('/nowhere/x.png', join(root, 'd', 'broken.png'));
    // A link back to a folder above: torchvision would walk it forever; ortlab skips it, saying so.
    await symlink(join(root, 'c'), join(root, 'c', 'again'));
    const warnings: string[] = [];
    setLogSink((level, _scope, message) => {
      if (level === 'warning') warnings.push(message);
    });
    try {
      const dataset = await openImageFolder(root);
      expect(dataset.classes).to.deep.equal(['a', 'b', 'c', 'd']);
      expect((await collect(dataset.samples())).map((s) => [s.id, s.label])).to.deep.equal([
        ['a/1.png', 0],
        ['a/link.png', 0],
        ['b/3.png', 1],
        ['b/4.png', 1],
        ['c/5.png', 2],
        ['d/broken.png', 3],
      ]);
    } finally {
      setLogSink(undefined);
    }
    expect(warnings).to.deep.equal([
      `'${join(root, 'c', 'again')}' links back to a folder above it; skipped (a loop)`,
    ]);
  });

  it('accepts only the given extensions when options.extensions is set, in any case', async () => {
    await writeFiles(temp.path, ['a/1.png', 'a/2.PPM', 'a/3.jpg']);
    const dataset = await openImageFolder(temp.path, { extensions: ['.ppm', 'PNG'] });
    expect((await collect(dataset.samples())).map((s) => s.id)).to.deep.equal([
      'a/1.png',
      'a/2.PPM',
    ]);
  });

  it('takes labels from a class map object, keeping samples in natural folder order', async () => {
    await writeFiles(temp.path, ['cat/1.png', 'dog/1.png', 'ant/1.png']);
    const dataset = await openImageFolder(temp.path, {
      classMap: { dog: 0, cat: 1, ant: 2, bee: 3 },
    });

    expect(dataset.classes).to.deep.equal(['dog', 'cat', 'ant', 'bee']);
    const samples = await collect(dataset.samples());
    expect(samples.map((s) => [s.id, s.label])).to.deep.equal([
      ['ant/1.png', 2],
      ['cat/1.png', 1],
      ['dog/1.png', 0],
    ]);
  });

  it('takes labels from a class map JSON file, as an object or an array of names', async () => {
    await writeFiles(temp.path, ['data/n02/1.png', 'data/n01/1.png']);
    const root = join(temp.path, 'data');
    const objectFile = join(temp.path, 'map.json');
    await writeFile(objectFile, JSON.stringify({ n01: 5, n02: 2 }));
    const fromObject = await openImageFolder(root, { classMap: objectFile });
    expect((await collect(fromObject.samples())).map((s) => s.label)).to.deep.equal([5, 2]);
    expect(fromObject.classes).to.deep.equal(['0', '1', 'n02', '3', '4', 'n01']);

    const arrayFile = join(temp.path, 'names.json');
    await writeFile(arrayFile, JSON.stringify(['n02', 'n01']));
    const fromArray = await openImageFolder(root, { classMap: arrayFile });
    expect((await collect(fromArray.samples())).map((s) => s.label)).to.deep.equal([1, 0]);
  });

  it('rejects a folder missing from the class map, naming the folder and map file', async () => {
    await writeFiles(temp.path, ['data/cat/1.png', 'data/emu/1.png']);
    const mapFile = join(temp.path, 'map.json');
    await writeFile(mapFile, JSON.stringify({ cat: 0 }));
    const error = await rejection(openImageFolder(join(temp.path, 'data'), { classMap: mapFile }));
    expect(error.message).to.contain("'emu'").and.contain(mapFile);

    const inline = await rejection(
      openImageFolder(join(temp.path, 'data'), { classMap: { cat: 0 } }),
    );
    expect(inline.message).to.contain("'emu'").and.contain('classMap option');
  });

  it('rejects a class map with a negative or repeated index', async () => {
    await writeFiles(temp.path, ['a/1.png']);
    const negative = await rejection(openImageFolder(temp.path, { classMap: { a: -1 } }));
    expect(negative).to.be.instanceOf(RangeError);
    const repeated = await rejection(openImageFolder(temp.path, { classMap: { a: 0, b: 0 } }));
    expect(repeated.message).to.contain('index 0 to more than one name');
  });

  it('calls a folder with no class sub-folder or no image an empty dataset folder', async () => {
    const noClasses = await rejection(openImageFolder(temp.path));
    expect(noClasses.message)
      .to.contain('empty dataset folder')
      .and.contain(temp.path)
      .and.contain('jpg jpeg png');

    await writeFiles(temp.path, ['a/readme.md', 'b/.hidden.png']);
    const warnings: string[] = [];
    setLogSink((level, category, message) => warnings.push(`${level} ${message}`));
    const noImages = await rejection(openImageFolder(temp.path)).finally(() =>
      setLogSink(undefined),
    );
    expect(warnings).to.deep.equal([
      `warning class folder '${join(temp.path, 'a')}' holds no image`,
      `warning class folder '${join(temp.path, 'b')}' holds no image`,
    ]);
    expect(noImages.message)
      .to.contain('empty dataset folder')
      .and.contain('webp gif tif tiff bmp avif');
  });

  it('names a missing root and a root that is a file', async () => {
    const missing = join(temp.path, 'nope');
    expect((await rejection(openImageFolder(missing))).message).to.contain(
      `'${missing}' does not exist`,
    );
    await mkdir(join(temp.path, 'x'));
    await writeFile(join(temp.path, 'x', 'f.png'), 'x');
    const file = join(temp.path, 'x', 'f.png');
    expect((await rejection(openImageFolder(file))).message).to.contain(
      `'${file}' is a file, not a directory`,
    );
  });

  it('rejects arguments of the wrong type with a TypeError', async () => {
    expect(await rejection(openImageFolder(3 as unknown as string))).to.be.instanceOf(TypeError);
    await writeFiles(temp.path, ['a/1.png']);
    const badExtensions = await rejection(
      openImageFolder(temp.path, { extensions: 'png' as unknown as string[] }),
    );
    expect(badExtensions).to.be.instanceOf(TypeError);
  });
});
