import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import sharp from 'sharp';

import {
  ImageDecodeError,
  loadBatch,
  openDataset,
  preprocessInto,
  resolvePreset,
  type ImageSource,
  type ResolvedPreset,
  type Sample,
} from '../../../src/index.js';
import { configurePreprocessPool } from '../../../src/runtime/backend-node.js';
import { BatchBuffers } from '../../../src/runtime/preprocess/batch.js';
import { PreprocessPool } from '../../../src/runtime/preprocess/pool-node.js';
import { makeTempFolder, type TempFolder } from '../datasets/temp-files.js';

const FIXTURES = path.resolve('test/fixtures/images');
const JPEGS = ['astronaut.jpg', 'camera-gray.jpg', 'chelsea-small.jpg', 'coffee.jpg'].map(
  (name): ImageSource => ({ kind: 'file', path: path.join(FIXTURES, name) }),
);

function volumeOf(preset: ResolvedPreset): number {
  return (preset.channels === 'gray' ? 1 : 3) * preset.height * preset.width;
}

/** The floats the inline path writes for each source, one after the other. */
async function inline(sources: readonly ImageSource[], preset: ResolvedPreset) {
  const volume = volumeOf(preset);
  const out = new Float32Array(sources.length * volume);
  for (let i = 0; i < sources.length; i++) {
    await preprocessInto(sources[i], preset, out, i * volume);
  }
  return out;
}

/** Bit-for-bit equality of two float arrays, failing with the first index that differs. */
function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) {
      expect.fail(`${what}: index ${i} differs (pool ${actual[i]}, inline ${expected[i]})`);
    }
  }
}

function shared(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

/** Runs a Node child with the given ES module code; resolves with its output and timings. */
function runChild(args: string[], code: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; exitAfterMs: number }>(
    (resolve) => {
      const child = spawn(process.execPath, [...args, '--input-type=module', '-e', code], {
        cwd: path.resolve('.'),
      });
      let stdout = '';
      let stderr = '';
      let doneAt = Number.NaN;
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (Number.isNaN(doneAt) && stdout.includes('done')) doneAt = performance.now();
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (exit) =>
        resolve({ code: exit, stdout, stderr, exitAfterMs: performance.now() - doneAt }),
      );
    },
  );
}

describe('PreprocessPool (worker threads)', () => {
  const imagenet = resolvePreset('imagenet');
  let pool: PreprocessPool;
  let temp: TempFolder;

  before(async () => {
    pool = await PreprocessPool.create({ workers: 2 });
    temp = await makeTempFolder('pool');
  });
  after(async () => {
    await pool.dispose();
    await temp.remove();
  });

  it("writes the inline path's bits for the fixture JPEGs, shared or plain output", async () => {
    const sources = [...JPEGS, ...JPEGS, ...JPEGS];
    const expected = await inline(sources, imagenet);

    const direct = shared(expected.length);
    const outcomes = await pool.preprocessBatch(sources, imagenet, direct);
    expect(outcomes.map((o) => o.status)).to.deep.equal(sources.map(() => 'fulfilled'));
    expectSameBits(direct, expected, 'shared output');

    const volume = volumeOf(imagenet);
    const plain = new Float32Array(expected.length + volume);
    await pool.preprocessBatch(sources, imagenet, plain, { offset: volume });
    expectSameBits(plain.subarray(volume), expected, 'plain output at an offset');
  });

  it("writes the inline path's bits for MNIST pixels, gray and widened to RGB", async () => {
    const samples: Sample[] = [];
    for await (const s of (await openDataset('mnist')).samples({ start: 0, end: 70 })) {
      samples.push(s);
    }
    const sources = samples.map((s) => s.source);
    for (const preset of [resolvePreset('mnist'), resolvePreset('imagenet')]) {
      const expected = await inline(sources, preset);
      const actual = shared(expected.length);
      await pool.preprocessBatch(sources, preset, actual);
      expectSameBits(actual, expected, `mnist pixels, preset ${preset.name}`);
    }
  });

  it('rejects each bad file with the inline message and still writes the good ones', async () => {
    const jpeg = await readFile(JPEGS[0].kind === 'file' ? JPEGS[0].path : '');
    const files = {
      empty: path.join(temp.path, 'empty.jpg'),
      truncated: path.join(temp.path, 'truncated.jpg'),
      text: path.join(temp.path, 'notes.jpg'),
    };
    await writeFile(files.empty, new Uint8Array(0));
    await writeFile(files.truncated, jpeg.subarray(0, jpeg.length >> 1));
    await writeFile(files.text, 'not an image\n');
    const bad: ImageSource[] = Object.values(files).map((p) => ({ kind: 'file', path: p }));
    const sources = [JPEGS[1], ...bad, JPEGS[2]];

    // Three rounds: concurrent failures garble libvips' shared error buffer unless the pool
    // tries each failed image again on its own.
    for (const maxPixels of [undefined, undefined, 50_000]) {
      const outcomes = await pool.preprocessBatch(sources, imagenet, shared(5 * 150528), {
        maxPixels,
      });
      for (let i = 0; i < sources.length; i++) {
        let inlineError: unknown;
        await preprocessInto(sources[i], imagenet, new Float32Array(150528), 0, {
          maxPixels,
        }).catch((error: unknown) => (inlineError = error));
        const outcome = outcomes[i];
        if (inlineError === undefined) {
          expect(outcome.status, `image ${i}, maxPixels ${maxPixels}`).to.equal('fulfilled');
          continue;
        }
        expect(outcome.status, `image ${i}`).to.equal('rejected');
        const error = (outcome as PromiseRejectedResult).reason as Error;
        expect(error).to.be.instanceOf(ImageDecodeError);
        expect(error.message).to.equal((inlineError as Error).message);
      }
    }
    // 50,000 pixels refuses the 375x500, 320x240 and 500x375 photos, not the 200x150 one.
    const limited = await pool.preprocessBatch(JPEGS, imagenet, shared(4 * 150528), {
      maxPixels: 50_000,
    });
    expect(limited.map((o) => o.status)).to.deep.equal([
      'rejected',
      'rejected',
      'fulfilled',
      'rejected',
    ]);
    expect(((limited[0] as PromiseRejectedResult).reason as Error).message).to.match(
      /astronaut\.jpg: image is 375x500 = 187500 pixels, over the limit of 50000/,
    );
  });

  it('spreads a batch over more than one worker thread', async () => {
    const sources = Array.from({ length: 12 }, () => JPEGS).flat();
    const before = pool.imagesByThread;
    await pool.preprocessBatch(sources, imagenet, shared(sources.length * 150528));
    const after = pool.imagesByThread;
    const used = [...after].filter(([id, n]) => n > (before.get(id) ?? 0));
    expect(used.length, `images by thread: ${JSON.stringify([...after])}`).to.equal(2);
    expect(used.every(([id]) => id !== 0)).to.equal(true);
  });

  it('runs inline with workers: 0 and rejects bad options naming them', async () => {
    const inlinePool = await PreprocessPool.create({ workers: 0 });
    const out = shared(4 * 150528);
    await inlinePool.preprocessBatch(JPEGS, imagenet, out);
    expectSameBits(out, await inline(JPEGS, imagenet), 'workers: 0');
    expect(inlinePool.imagesByThread.size).to.equal(0);
    await inlinePool.dispose();

    const error = await PreprocessPool.create({ workers: -1 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RangeError);
    expect((error as Error).message).to.equal('workers must be an integer from 0 to 256, got -1');
    const short = await pool.preprocessBatch(JPEGS, imagenet, shared(10)).catch((e: unknown) => e);
    expect(short).to.be.instanceOf(RangeError);
    expect((short as Error).message).to.match(/out holds 10 floats; 4 images of 150528/);
  });

  it('inline, keeps the decoded bytes in flight under its budget, with the same bits', async () => {
    // Each fixture JPEG is 512 x 512 or smaller: at most 1 MiB decoded (4 bytes a pixel).
    const sources = [...JPEGS, ...JPEGS, ...JPEGS];
    const expected = await inline(sources, imagenet);
    const sizes = await Promise.all(
      JPEGS.map(async (s) => {
        const meta = await sharp((s as { path: string }).path).metadata();
        return (meta.width ?? 0) * (meta.height ?? 0) * 4;
      }),
    );
    const largest = Math.max(...sizes);
    for (const budget of [1, largest + 1, 2 * largest, 1 << 30]) {
      const tight = await PreprocessPool.create({ workers: 0, inlineBudgetBytes: budget });
      const out = shared(sources.length * 150528);
      await tight.preprocessBatch(sources, imagenet, out);
      expectSameBits(out, expected, `budget ${budget}`);
      // An image over the whole budget is decoded alone; otherwise the budget holds.
      expect(tight.inlinePeakBytes, `budget ${budget}`).to.be.at.most(Math.max(budget, largest));
      if (budget === 1 << 30) {
        expect(tight.inlinePeakBytes).to.equal(sources.reduce((t, _, i) => t + sizes[i % 4], 0));
      }
      await tight.dispose();
    }
    const error = await PreprocessPool.create({ workers: 0, inlineBudgetBytes: 0 }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).to.equal('inlineBudgetBytes must be a positive number, got 0');
  });

  it('dispose() may be called twice; a batch after it is an error', async () => {
    const disposable = await PreprocessPool.create({ workers: 1 });
    await disposable.dispose();
    await disposable.dispose();
    const error = await disposable
      .preprocessBatch(JPEGS, imagenet, shared(4 * 150528))
      .catch((e: unknown) => e);
    expect((error as Error).message).to.match(/called after dispose\(\)/);
  });

  it('loadBatch gives the same batch and skip reasons on workers as the main thread', async () => {
    const missing = path.join(temp.path, 'missing.jpg');
    const sources: ImageSource[] = [...JPEGS, { kind: 'file', path: missing }, JPEGS[0]];
    const samples: Sample[] = sources.map((source, index) => ({
      index,
      id: `s${index}`,
      label: index % 3,
      source,
    }));
    await configurePreprocessPool({ workers: 0 });
    const main = await loadBatch(samples, imagenet);
    await configurePreprocessPool({ workers: 2 });
    const workers = await loadBatch(samples, imagenet);
    await configurePreprocessPool();

    expect(workers.data.buffer).to.be.instanceOf(ArrayBuffer);
    expect(workers.dims).to.deep.equal(main.dims);
    expect(workers.ids).to.deep.equal(main.ids);
    expect([...workers.labels]).to.deep.equal([...main.labels]);
    expect(workers.skipped).to.deep.equal(main.skipped);
    expect(workers.skipped[0].reason).to.contain('missing.jpg');
    expectSameBits(workers.data, main.data, 'loadBatch');
  });

  it('loadBatch reuses a released buffer of the same size and fills it the same way', async () => {
    const samples: Sample[] = JPEGS.map((source, index) => ({
      index,
      id: `s${index}`,
      label: 0,
      source,
    }));
    const buffers = new BatchBuffers();
    const first = await loadBatch(samples, imagenet, { buffers });
    const expected = Float32Array.from(first.data);
    buffers.release(first.data);
    first.data.fill(Number.NaN);
    const second = await loadBatch(samples, imagenet, { buffers });
    expect(second.data.buffer).to.equal(first.data.buffer);
    expectSameBits(second.data, expected, 'reused buffer');
    const third = await loadBatch(samples.slice(1), imagenet, { buffers });
    expect(third.data.buffer).not.to.equal(first.data.buffer);
  });

  it('lets node exit once the work is done, without dispose()', async function () {
    this.timeout(90_000);
    const url = pathToFileURL(path.resolve('src/runtime/preprocess/pool-node.ts')).href;
    const presets = pathToFileURL(path.resolve('src/runtime/preprocess/presets.ts')).href;
    const code =
      `const { PreprocessPool } = await import(${JSON.stringify(url)});\n` +
      `const { resolvePreset } = await import(${JSON.stringify(presets)});\n` +
      `const pool = await PreprocessPool.create({ workers: 2 });\n` +
      `const out = new Float32Array(new SharedArrayBuffer(150528 * 4));\n` +
      `const [r] = await pool.preprocessBatch([${JSON.stringify(JPEGS[0])}], ` +
      `resolvePreset('imagenet'), out);\n` +
      `console.log(r.status, 'done');\n`;
    const run = await runChild(['--import', 'tsx'], code);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('fulfilled done');
    expect(run.exitAfterMs).to.be.below(5000);
  });

  it('runs from the compiled dist/ too (when it is built), with the same bits', async function () {
    this.timeout(90_000);
    const built = path.resolve('dist/runtime/preprocess/pool-node.js');
    if (!existsSync(built) || !existsSync(path.resolve('dist/runtime/preprocess/pool-worker.js'))) {
      this.skip();
    }
    const presets = pathToFileURL(path.resolve('dist/runtime/preprocess/presets.js')).href;
    const code =
      `const { PreprocessPool } = await import(${JSON.stringify(pathToFileURL(built).href)});\n` +
      `const { resolvePreset } = await import(${JSON.stringify(presets)});\n` +
      `const pool = await PreprocessPool.create({ workers: 2 });\n` +
      `const out = new Float32Array(new SharedArrayBuffer(4 * 150528 * 4));\n` +
      `const outcomes = await pool.preprocessBatch(${JSON.stringify(JPEGS)}, ` +
      `resolvePreset('imagenet'), out);\n` +
      `const bits = new Uint32Array(out.buffer);\n` +
      `let hash = 0; for (const b of bits) hash = (Math.imul(hash, 31) + b) | 0;\n` +
      `console.log(JSON.stringify({ statuses: outcomes.map((o) => o.status), hash }), 'done');\n`;
    const run = await runChild([], code);
    expect(run.code, run.stderr).to.equal(0);
    const expected = await inline(JPEGS, imagenet);
    let hash = 0;
    for (const b of new Uint32Array(expected.buffer)) hash = (Math.imul(hash, 31) + b) | 0;
    const reported = JSON.parse(run.stdout.replace(/ done\s*$/, '')) as {
      statuses: string[];
      hash: number;
    };
    expect(reported).to.deep.equal({ statuses: JPEGS.map(() => 'fulfilled'), hash });
    expect(run.exitAfterMs).to.be.below(5000);
  });
});
