import { expect } from 'chai';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import '../../src/index.js';
import { SessionCache } from '../../src/queue/session-cache.js';
import { sha256 } from '../../src/runtime/run-config.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('sessions kept by a worker process', () => {
  let dir: string;
  let hash: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-sessions-'));
    hash = sha256(new Uint8Array(await readFile(MODEL)));
  });

  it('reuses the open session for the next shard of the same model', async () => {
    const cache = new SessionCache({ idleMs: 60_000 });
    const first = await cache.acquire(MODEL, hash);
    cache.release(first);
    const second = await cache.acquire(MODEL, hash);
    expect(second).to.equal(first);
    const otherThreads = await cache.acquire(MODEL, hash, { threads: 1 });
    expect(otherThreads).not.to.equal(first);
    expect(cache.size).to.equal(2);
    await cache.dispose();
    expect(cache.size).to.equal(0);
    await cache.dispose();
  });

  it('releases a session no shard used for the idle time, and opens a new one after', async () => {
    const cache = new SessionCache({ idleMs: 100 });
    const session = await cache.acquire(MODEL, hash);
    cache.release(session);
    await sleep(300);
    expect(cache.size).to.equal(0);
    const released = await session.run({}).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(released).to.equal('session.run() called after dispose()');
    const fresh = await cache.acquire(MODEL, hash);
    expect(fresh).not.to.equal(session);
    await cache.dispose();
  });

  it('keeps a session in use past the idle time', async () => {
    const cache = new SessionCache({ idleMs: 50 });
    const session = await cache.acquire(MODEL, hash);
    await sleep(150);
    expect(cache.size).to.equal(1);
    cache.release(session);
    await sleep(150);
    expect(cache.size).to.equal(0);
  });

  it('refuses a model file whose sha256 is not the submitted one, even when cached', async () => {
    const file = path.join(dir, 'model.onnx');
    await copyFile(MODEL, file);
    const cache = new SessionCache();
    cache.release(await cache.acquire(file, hash));
    // Another file at the same path: the size and time change, the hash is taken again.
    await writeFile(file, new Uint8Array(1234));
    const found = sha256(new Uint8Array(1234));
    let message = '';
    try {
      await cache.acquire(file, hash);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.match(
      new RegExp(
        `^model '${file}' on this worker \\(.+\\) has sha256 ${found}, ` +
          `but the shard was submitted for ${hash}`,
      ),
    );
    await cache.dispose();
  });
});
