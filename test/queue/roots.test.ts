import { expect } from 'chai';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { WorkerRoots } from '../../src/queue/roots.js';
import { openDataset } from '../../src/runtime/datasets/open-dataset.js';

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the path to be refused');
}

describe("a worker's roots", () => {
  let inside: string;
  let outside: string;
  let roots: WorkerRoots;
  before(async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'ortlab-roots-'));
    inside = path.join(base, 'models');
    outside = path.join(base, 'private');
    await mkdir(inside);
    await mkdir(outside);
    await writeFile(path.join(inside, 'm.onnx'), 'model');
    await writeFile(path.join(outside, 'secret.onnx'), 'secret');
    await symlink(path.join(outside, 'secret.onnx'), path.join(inside, 'link.onnx'));
    roots = await WorkerRoots.create([inside]);
  });

  it('accepts a file inside a root, and the root itself', async () => {
    expect(await roots.check(path.join(inside, 'm.onnx'), 'model')).to.equal(
      path.join(inside, 'm.onnx'),
    );
    expect(await roots.check(inside, 'data')).to.equal(inside);
  });

  it('refuses a file outside every root, naming it, the roots and the fix', async () => {
    const message = await refusal(() => roots.check(path.join(outside, 'secret.onnx'), 'model'));
    expect(message).to.equal(
      `model '${path.join(outside, 'secret.onnx')}' is outside this worker's roots (${inside}); ` +
        'start the worker with --root for its folder',
    );
  });

  it('refuses a way out through .. and through a symbolic link', async () => {
    const dots = path.join(inside, '..', 'private', 'secret.onnx');
    expect(await refusal(() => roots.check(dots, 'model'))).to.match(
      /is outside this worker's roots/,
    );
    const link = path.join(inside, 'link.onnx');
    expect(await refusal(() => roots.check(link, 'model'))).to.contain(
      `model '${link}' (${path.join(outside, 'secret.onnx')}) is outside this worker's roots`,
    );
  });

  it("refuses a root's neighbour whose name starts like the root", async () => {
    const sibling = `${inside}-old`;
    await mkdir(sibling, { recursive: true });
    expect(await refusal(() => roots.check(sibling, 'data'))).to.match(/is outside/);
  });

  it('says a file is missing on this worker; accepts bundled data sets by name', async () => {
    const missing = path.join(inside, 'gone.onnx');
    expect(await refusal(() => roots.check(missing, 'model'))).to.match(
      new RegExp(`^model '${missing.replace(/[.]/g, '\\.')}' not found on this worker`),
    );
    await roots.checkData('mnist', 'data');
    expect(await refusal(() => roots.checkData(outside, 'data'))).to.match(/is outside/);
  });

  describe('the files a dataset reads', () => {
    let data: string;
    before(async () => {
      // An image folder inside the root (class folders a, b), and an image outside it.
      data = path.join(inside, 'data');
      for (const c of ['a', 'b']) await mkdir(path.join(data, c), { recursive: true });
      await writeFile(path.join(data, 'a', '1.png'), 'png');
      await writeFile(path.join(data, 'b', '2.png'), 'png');
      await writeFile(path.join(outside, 'leak.png'), 'png');
    });

    it('accepts a folder whose files all lie inside the roots, and in-memory sets', async () => {
      await roots.checkDataset(await openDataset(data), 'data');
      await roots.checkDataset(await openDataset('digits'), 'data');
      // A link that stays inside the roots is fine.
      await symlink(path.join(data, 'a', '1.png'), path.join(data, 'a', 'again.png'));
      await roots.checkDataset(await openDataset(data), 'data');
    });

    it('refuses a link inside a root folder that leads out, naming it and its target', async () => {
      const link = path.join(data, 'b', 'leak.png');
      await symlink(path.join(outside, 'leak.png'), link);
      try {
        expect(
          await refusal(async () => roots.checkDataset(await openDataset(data), 'data')),
        ).to.equal(
          `data: '${link}' (${path.join(outside, 'leak.png')}) is outside this worker's roots ` +
            `(${inside}); a link or list entry leads out of them: start the worker with ` +
            '--root for its folder',
        );
      } finally {
        await rm(link);
      }
    });

    it('refuses a class folder that is a link out of the roots', async () => {
      await mkdir(path.join(outside, 'c'));
      await writeFile(path.join(outside, 'c', '3.png'), 'png');
      const link = path.join(data, 'c');
      await symlink(path.join(outside, 'c'), link);
      try {
        expect(
          await refusal(async () => roots.checkDataset(await openDataset(data), 'data')),
        ).to.match(new RegExp(`^data: '${path.join(link, '3.png')}' \\(.+\\) is outside`));
      } finally {
        await rm(link);
      }
    });

    it('refuses a file list entry outside the roots, by .. or by absolute path', async () => {
      const list = path.join(inside, 'val.txt');
      await writeFile(list, 'data/a/1.png a\n../private/leak.png b\n');
      expect(
        await refusal(async () => roots.checkDataset(await openDataset(list), 'data')),
      ).to.match(/^data: '.+private\/leak\.png' is outside this worker's roots/);
      await writeFile(list, `data/a/1.png a\n${path.join(outside, 'leak.png')} b\n`);
      expect(
        await refusal(async () => roots.checkDataset(await openDataset(list), 'data')),
      ).to.match(/is outside this worker's roots/);
      await writeFile(list, 'data/a/1.png a\ndata/b/2.png b\n');
      await roots.checkDataset(await openDataset(list), 'data');
    });

    it('checkFiles takes paths; including() adds folders the worker may read besides', async () => {
      const leak = path.join(outside, 'leak.png');
      expect(await refusal(() => roots.checkFiles([leak], 'images'))).to.match(/is outside/);
      await roots.including([outside]).checkFiles([leak], 'images');
    });
  });

  it('refuses to start on a root that does not exist, or on none', async () => {
    expect(await refusal(() => WorkerRoots.create(['/no/such/root']))).to.equal(
      "root '/no/such/root' does not exist on this worker; check --root",
    );
    expect(await refusal(() => WorkerRoots.create([]))).to.match(/at least one root/);
  });
});
