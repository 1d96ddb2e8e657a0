import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { openFileList } from '../../../src/runtime/datasets/file-list.js';
import { collect, makeTempFolder, rejection, type TempFolder } from './temp-files.js';

describe('openFileList', () => {
  let temp: TempFolder;
  beforeEach(async () => {
    temp = await makeTempFolder('list');
  });
  afterEach(async () => {
    await temp.remove();
  });

  async function list(name: string, text: string): Promise<string> {
    const path = join(temp.path, name);
    await writeFile(path, text);
    return path;
  }

  it('parses space, tab and comma separated lines, skipping comments and blank lines', async () => {
    const path = await list(
      'val.txt',
      '# validation split\n\nimages/a.jpg 2\nimages/b.jpg\t0\r\n' +
        'images/c.jpg,1\n  images/my photo.png   3  \n',
    );
    const dataset = await openFileList(path);
    const samples = await collect(dataset.samples());

    expect(dataset.size).to.equal(4);
    expect(dataset.classes).to.deep.equal(['0', '1', '2', '3']);
    expect(samples.map((s) => [s.id, s.label])).to.deep.equal([
      ['images/a.jpg', 2],
      ['images/b.jpg', 0],
      ['images/c.jpg', 1],
      ['images/my photo.png', 3],
    ]);
    expect(samples[0].source).to.deep.equal({
      kind: 'file',
      path: join(temp.path, 'images', 'a.jpg'),
    });
  });

  it('resolves paths against options.root when given', async () => {
    const path = await list('l.txt', 'a.jpg 0\n');
    const [sample] = await collect((await openFileList(path, { root: '/data/set' })).samples());
    expect(sample.source).to.deep.equal({ kind: 'file', path: '/data/set/a.jpg' });
  });

  it('maps class names through options.classes and takes integer labels beside them', async () => {
    const path = await list('l.csv', 'path,label\nx.png,dog\ny.png,0\n');
    const dataset = await openFileList(path, { classes: ['cat', 'dog'] });
    expect((await collect(dataset.samples())).map((s) => s.label)).to.deep.equal([1, 0]);
  });

  it('infers classes from names in natural order when no classes are given', async () => {
    const path = await list('l.tsv', 'a.png\tclass10\nb.png\tclass2\nc.png\tclass10\n');
    const dataset = await openFileList(path);
    expect(dataset.classes).to.deep.equal(['class2', 'class10']);
    expect((await collect(dataset.samples())).map((s) => s.label)).to.deep.equal([1, 0, 1]);
  });

  it('rejects a malformed line with an Error naming the file and the line number', async () => {
    const path = await list('bad.txt', '# header\na.jpg 1\njust-a-path.jpg\n');
    const error = await rejection(openFileList(path));
    expect(error.message)
      .to.contain(`'${path}' line 3`)
      .and.contain("expected 'relative/path label'");
  });

  it('rejects an unknown class name or an out-of-range label, with file and line', async () => {
    const path = await list('l.txt', 'a.jpg cat\nb.jpg emu\n');
    const unknown = await rejection(openFileList(path, { classes: ['cat', 'dog'] }));
    expect(unknown.message)
      .to.contain(`'${path}' line 2`)
      .and.contain("label 'emu' is not one of options.classes");

    const range = await list('r.txt', 'a.jpg 0\nb.jpg 7\n');
    const outOfRange = await rejection(openFileList(range, { classes: ['cat', 'dog'] }));
    expect(outOfRange).to.be.instanceOf(RangeError);
    expect(outOfRange.message)
      .to.contain(`'${range}' line 2`)
      .and.contain('label 7 is out of range');
  });

  it('rejects a list mixing names and integers without classes, and an empty list', async () => {
    const mixed = await list('m.txt', 'a.jpg 0\nb.jpg dog\n');
    expect((await rejection(openFileList(mixed))).message)
      .to.contain('line 2')
      .and.contain('pass options.classes');

    const empty = await list('e.txt', '# nothing\n\n');
    expect((await rejection(openFileList(empty))).message).to.contain('lists no file');
  });

  it('names a list file that cannot be read', async () => {
    const missing = join(temp.path, 'missing.txt');
    expect((await rejection(openFileList(missing))).message).to.contain(
      `cannot read file list '${missing}'`,
    );
  });
});
