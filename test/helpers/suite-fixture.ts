/**
 * A small robustness suite written to a temporary folder from the bundled data: clean MNIST
 * digits, scikit-learn's digits as a shifted split, Fashion-MNIST as the OOD split.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { encodeIdx, openDataset, type Sample } from '../../src/index.js';

async function take(name: string, count: number): Promise<Sample[]> {
  const dataset = await openDataset(name);
  const out: Sample[] = [];
  for await (const s of dataset.samples({ end: count })) out.push(s);
  return out;
}

async function writeSplit(dir: string, samples: Sample[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const first = samples[0].source;
  if (first.kind !== 'pixels') throw new Error('expected pixel samples');
  const pixels = new Uint8Array(samples.length * first.width * first.height);
  samples.forEach((s, i) => {
    if (s.source.kind === 'pixels') pixels.set(s.source.data, i * first.width * first.height);
  });
  await writeFile(
    path.join(dir, 'images-idx3-ubyte'),
    encodeIdx(pixels, [samples.length, first.height, first.width]),
  );
  await writeFile(
    path.join(dir, 'labels-idx1-ubyte'),
    encodeIdx(
      Uint8Array.from(samples, (s) => s.label),
      [samples.length],
    ),
  );
}

/** Writes the suite and returns the path of its suite.json. */
export async function smallSuite(sizes = { clean: 300, shifted: 150, ood: 200 }): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ortlab-suite-'));
  await writeSplit(path.join(root, 'clean'), await take('mnist', sizes.clean));
  await writeSplit(path.join(root, 'shifted'), await take('digits', sizes.shifted));
  await writeSplit(path.join(root, 'ood'), await take('fashion-mnist', sizes.ood));
  const suite = {
    name: 'test suite',
    preset: 'mnist',
    splits: [
      { name: 'clean', role: 'clean', data: 'clean/images-idx3-ubyte' },
      { name: 'shifted', role: 'shifted', data: 'shifted/images-idx3-ubyte' },
      { name: 'ood', role: 'ood', data: 'ood/images-idx3-ubyte', inDistribution: 'clean' },
    ],
  };
  const file = path.join(root, 'suite.json');
  await writeFile(file, JSON.stringify(suite, null, 2));
  return file;
}
