/**
 * ortlab's benchmarks (`npm run bench`). Each compares ortlab with a named baseline in the same
 * run and prints the ratio; results also go to bench/out/results.json. Not tests: timing on a
 * shared machine is noisy, so rounds alternate between the two sides and medians are compared.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { benchEval } from './eval.js';
import { benchSession } from './session.js';
import { benchPreprocess } from './preprocess.js';

const results = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.versions.node },
  session: await benchSession(),
  preprocess: await benchPreprocess(),
  eval: await benchEval(),
};
await mkdir(path.resolve('bench/out'), { recursive: true });
await writeFile(path.resolve('bench/out/results.json'), JSON.stringify(results, null, 2));
console.log(`\nwrote bench/out/results.json`);
