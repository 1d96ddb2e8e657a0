/**
 * Peak memory against dataset size: `ortlab eval` and `ortlab robustness` (which keeps every
 * sample's record for exact merging and resuming) on image folders of N and 4N MNIST digits, each
 * run in its own process under /usr/bin/time. Target: peak RSS does not grow with the number of
 * images (ratio 4N / N close to 1; the records add a few hundred bytes per image). A third run
 * caps the JavaScript heap to show that what survives is bounded.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import sharp from 'sharp';

import { openDataset } from '../src/index.js';
import { measure } from './eval.js';

const HEAP_CAP_MB = 48;
const SIZES = (process.env.ORTLAB_MEMORY_SIZES ?? '2000,8000').split(',').map(Number);

async function digitFolder(root: string, count: number): Promise<string> {
  const dir = path.join(root, `digits-${count}`);
  const mnist = await openDataset('mnist');
  for (let done = 0; done < count;) {
    for await (const s of mnist.samples({ end: Math.min(mnist.size, count - done) })) {
      if (s.source.kind !== 'pixels') throw new Error('expected pixels');
      const folder = path.join(dir, String(s.label));
      await mkdir(folder, { recursive: true });
      await sharp(Buffer.from(s.source.data), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(path.join(folder, `${done++}.png`));
    }
  }
  return dir;
}

async function peakRss(args: string[], env: Record<string, string> = {}): Promise<number> {
  const run = await measure('node', ['bin/ortlab.cjs', ...args, '--no-progress'], env);
  if (run.code !== 0) throw new Error(`ortlab ${args[0]} exited ${run.code}: ${run.stderr}`);
  if (run.peakRssMb === null) throw new Error('peak RSS needs /usr/bin/time (Debian: time)');
  return run.peakRssMb;
}

export async function benchMemory(): Promise<unknown> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ortlab-memory-'));
  try {
    const rows: Record<string, Record<number, number>> = { eval: {}, robustness: {} };
    for (const n of SIZES) {
      const data = await digitFolder(root, n);
      const suite = path.join(root, `suite-${n}.json`);
      const split = { name: 'digits', role: 'clean', data };
      await writeFile(suite, JSON.stringify({ name: 'memory', preset: 'mnist', splits: [split] }));
      rows.eval[n] = await peakRss(['eval', 'models/mnist-cnn.onnx', data, '--json']);
      rows.robustness[n] = await peakRss([
        'robustness',
        'models/mnist-cnn.onnx',
        '--config',
        suite,
        '--json',
        '--out',
        path.join(root, `report-${n}`),
      ]);
    }
    const [small, large] = SIZES;
    // V8 lets its heap grow on a long run even when little survives; with the old generation
    // capped, the large run still finishes: what it keeps is under the cap.
    const capped = await peakRss(
      ['eval', 'models/mnist-cnn.onnx', path.join(root, `digits-${large}`), '--json'],
      { NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}` },
    );
    const result = Object.fromEntries(
      Object.entries(rows).map(([command, mb]) => [
        command,
        {
          [small]: mb[small],
          [large]: mb[large],
          ratio: Number((mb[large] / mb[small]).toFixed(3)),
        },
      ]),
    );
    for (const [command, r] of Object.entries(result)) {
      console.log(
        `memory: ortlab ${command} peak RSS ${r[small]} MB on ${small} images, ${r[large]} MB on ` +
          `${large} (x${r.ratio})`,
      );
    }
    console.log(
      `memory: ortlab eval on ${large} images with the JS heap capped at ${HEAP_CAP_MB} MB: ` +
        `finished, peak RSS ${capped} MB`,
    );
    return {
      images: SIZES,
      peakRssMb: result,
      cappedHeap: { heapCapMb: HEAP_CAP_MB, peakRssMb: capped },
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchMemory());
