import { expect } from 'chai';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { WorkerRoots } from '../../src/queue/roots.js';

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

  it('refuses to start on a root that does not exist, or on none', async () => {
    expect(await refusal(() => WorkerRoots.create(['/no/such/root']))).to.equal(
      "root '/no/such/root' does not exist on this worker; check --root",
    );
    expect(await refusal(() => WorkerRoots.create([]))).to.match(/at least one root/);
  });
});
