import { expect } from 'chai';
import { gzipSync } from 'node:zlib';

import { openIdxDataset, type Dataset, type Sample } from '../../../src/index.js';
import { openIdxUrl } from '../../../src/runtime/datasets/idx-web.js';
import { encodeIdx } from '../../../src/runtime/datasets/idx.js';

/** A fetch over an in-memory file table: what a server would answer, without one. */
function fetchFrom(files: Record<string, Uint8Array | string>): typeof fetch {
  return (input) => {
    const url = String(input instanceof Request ? input.url : input);
    const body = files[new URL(url).pathname];
    if (body === undefined) return Promise.resolve(new Response('not found', { status: 404 }));
    return Promise.resolve(new Response(body as BodyInit));
  };
}

async function all(dataset: Dataset, start = 0, end = dataset.size): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of dataset.samples({ start, end })) out.push(s);
  return out;
}

const images = (count: number) =>
  encodeIdx(
    Uint8Array.from({ length: count * 4 * 3 }, (_, i) => (i * 37) % 256),
    [count, 4, 3],
  );
const labels = (values: number[]) => encodeIdx(Uint8Array.from(values), [values.length]);

describe('IDX datasets by URL (the browser reader)', () => {
  it("yields Node's samples, ids, labels and classes for the bundled suite split", async () => {
    const { readFile } = await import('node:fs/promises');
    const files = {
      '/data/suite/a/images-idx3-ubyte.gz': new Uint8Array(
        await readFile('data/suite/a/images-idx3-ubyte.gz'),
      ),
      '/data/suite/a/labels-idx1-ubyte.gz': new Uint8Array(
        await readFile('data/suite/a/labels-idx1-ubyte.gz'),
      ),
      '/data/suite/a/classes.json': await readFile('data/suite/a/classes.json', 'utf8'),
    };
    const web = await openIdxUrl('http://page.test/data/suite/a/images-idx3-ubyte.gz', {
      name: 'a',
      fetch: fetchFrom(files),
    });
    const node = await openIdxDataset('data/suite/a/images-idx3-ubyte.gz', { name: 'a' });
    expect(web.size).to.equal(374);
    expect(web.classes).to.deep.equal(node.classes);
    expect(web.location).to.equal('http://page.test/data/suite/a/images-idx3-ubyte.gz');
    const [fromWeb, fromNode] = await Promise.all([all(web), all(node)]);
    expect(fromWeb.map((s) => [s.id, s.label])).to.deep.equal(fromNode.map((s) => [s.id, s.label]));
    for (let i = 0; i < fromWeb.length; i++) {
      expect(fromWeb[i].source).to.deep.equal(fromNode[i].source, `sample ${i}`);
    }
    expect((await all(web, 370, 372)).map((s) => s.index)).to.deep.equal([370, 371]);
  });

  it('reads plain files, names classes from the labels without classes.json', async () => {
    const fetcher = fetchFrom({
      '/x/images-idx3-ubyte': images(3),
      '/x/labels-idx1-ubyte': labels([2, 0, 1]),
    });
    const dataset = await openIdxUrl('http://page.test/x/images-idx3-ubyte', { fetch: fetcher });
    expect(dataset.classes).to.deep.equal(['0', '1', '2']);
    const [first] = await all(dataset, 0, 1);
    expect(first.id).to.equal('http://page.test/x/images-idx3-ubyte#0');
    expect(first.source).to.include({ kind: 'pixels', width: 3, height: 4, channels: 1 });
  });

  it('names the URL and fix for a missing, truncated, mismatched or unlabelled file', async () => {
    const gz = gzipSync(images(3));
    const cases: [Record<string, Uint8Array | string>, string, RegExp][] = [
      [
        {},
        '/x/images-idx3-ubyte.gz',
        /^IDX file 'http:\/\/page\.test\/x\/images-idx3-ubyte\.gz' could not be fetched: HTTP 404$/,
      ],
      [
        {
          '/x/images-idx3-ubyte.gz': gz.subarray(0, 40),
          '/x/labels-idx1-ubyte.gz': labels([0, 1, 2]),
        },
        '/x/images-idx3-ubyte.gz',
        new RegExp(
          "^IDX file '.*images-idx3-ubyte\\.gz' is not a complete gzip stream " +
            '.*rebuild or re-download it$',
        ),
      ],
      [
        {
          '/x/images-idx3-ubyte': images(3).subarray(0, 30),
          '/x/labels-idx1-ubyte': labels([0, 1, 2]),
        },
        '/x/images-idx3-ubyte',
        /does not match its header: dims \[3, 4, 3\] of uint8 need 52 bytes .* holds 30 bytes/,
      ],
      [
        { '/x/images-idx3-ubyte': images(3), '/x/labels-idx1-ubyte': labels([0, 1]) },
        '/x/images-idx3-ubyte',
        /holds 3 images but labels file '.*labels-idx1-ubyte' holds 2 labels/,
      ],
      [
        { '/x/pictures.bin': images(3) },
        '/x/pictures.bin',
        /neither 'images-idx3' nor 'images\.idx3'.*options\.labelsUrl$/,
      ],
    ];
    for (const [files, file, message] of cases) {
      const error = await openIdxUrl(`http://page.test${file}`, { fetch: fetchFrom(files) }).catch(
        (e: unknown) => e as Error,
      );
      expect(error, file).to.be.instanceOf(Error);
      expect((error as Error).message).to.match(message);
    }
    const unnamed = await openIdxUrl('http://page.test/x/images-idx3-ubyte', {
      fetch: fetchFrom({
        '/x/images-idx3-ubyte': images(2),
        '/x/labels-idx1-ubyte': labels([0, 5]),
      }),
      classes: ['a', 'b'],
    }).catch((e: unknown) => e as Error);
    expect(unnamed).to.be.instanceOf(RangeError);
    expect((unnamed as Error).message).to.equal(
      "IDX labels file 'http://page.test/x/labels-idx1-ubyte' gives sample 1 the label 5, but " +
        'options.classes names only 2 classes (0 to 1)',
    );
  });
});
