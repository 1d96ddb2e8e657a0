/**
 * ortlab's benchmarks (`npm run bench`). Each compares ortlab with a named baseline in the same
 * run and prints the ratio; results also go to bench/out/results.json. Not tests: timing on a
 * shared machine is noisy, so rounds alternate between the two sides and medians are compared.
 *
 * A benchmark that throws (distill needs Debian's torch, for instance) is recorded with its error
 * and the others still run; the command then exits with status 1.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { benchAttribution } from './attribution.js';
import { benchBrowser } from './browser.js';
import { benchDistill } from './distill.js';
import { benchEval } from './eval.js';
import { benchFlatness } from './flatness.js';
import { benchMemory } from './memory.js';
import { benchPreprocess } from './preprocess.js';
import { benchQueue } from './queue.js';
import { benchRetrieval } from './retrieval.js';
import { benchSession } from './session.js';
import { benchSupernet } from './supernet.js';

async function attempt(name: string, bench: () => Promise<unknown>): Promise<unknown> {
  try {
    return await bench();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`${name}: failed: ${message}`);
    process.exitCode = 1;
    return { failed: message };
  }
}

const results = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.versions.node },
  session: await attempt('session', benchSession),
  preprocess: await attempt('preprocess', benchPreprocess),
  flatness: await attempt('flatness', benchFlatness),
  supernet: await attempt('supernet', benchSupernet),
  distill: await attempt('distill', benchDistill),
  attribution: await attempt('attribution', benchAttribution),
  eval: await attempt('eval', benchEval),
  memory: await attempt('memory', benchMemory),
  queue: await attempt('queue', benchQueue),
  browser: await attempt('browser', benchBrowser),
  retrieval: await attempt('retrieval', benchRetrieval),
};
await mkdir(path.resolve('bench/out'), { recursive: true });
await writeFile(path.resolve('bench/out/results.json'), JSON.stringify(results, null, 2));
console.log(`\nwrote bench/out/results.json`);
