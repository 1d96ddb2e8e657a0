/**
 * Browser latency: per-image (batch 1) latency of the bundled MNIST CNN and of a ResNet-18-sized
 * model, run by ortlab's browser build on onnxruntime-web's wasm in Debian's Chromium (headless,
 * cross-origin isolated page served by ortlab's own server) at 1 and 2 threads, against bare
 * `onnxruntime-node` on the CPU at the same thread counts, in one run. The ratios are browser
 * latency / Node latency (above 1: the browser is slower).
 *
 * Each measurement is a phase: a fresh page (the wasm thread count is fixed when a page starts
 * onnxruntime-web) or a fresh Node session, a warm-up, then timed single-image runs; Node and
 * browser phases alternate and the medians of the phases' median latencies are compared.
 * The ResNet-18 is exported by tools/export/export_resnet18.py when Debian's torch is present
 * (see eval.ts); without it that part is skipped with a message. Run alone:
 * `npx tsx bench/browser.ts`.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import * as ort from 'onnxruntime-node';

import { startStaticServer } from '../src/server/static-server.js';
import { buildWebBundle } from '../src/server/web-bundle.js';
import { launchBrowser, type TestBrowser } from '../test/helpers/browser.js';
import { MODEL as RESNET18, ensureModel } from './eval.js';
import { median } from './timing.js';

const PHASES = Math.max(1, Number(process.env.ORTLAB_BENCH_ROUNDS ?? 3) || 3);
const THREADS = [1, 2];

interface ModelCase {
  name: string;
  file: string;
  dims: number[];
  /** Timed runs per phase. */
  runs: number;
}

/** One image of deterministic values. */
function input(dims: readonly number[]): Float32Array {
  const size = dims.reduce((a, b) => a * b, 1);
  return new Float32Array(size).map((_, i) => Math.sin(i * 0.37));
}

async function nodePhase(model: ModelCase, threads: number): Promise<number> {
  const session = await ort.InferenceSession.create(model.file, {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  try {
    const feeds = {
      [session.inputNames[0]]: new ort.Tensor('float32', input(model.dims), model.dims),
    };
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < model.runs; i++) {
      const start = performance.now();
      await session.run(feeds);
      times.push(performance.now() - start);
    }
    return median(times);
  } finally {
    await session.release();
  }
}

async function browserPhase(
  browser: TestBrowser,
  url: string,
  model: ModelCase,
  threads: number,
): Promise<{ ms: number; threads: number; provider: string }> {
  const { page, errors } = await browser.newPage();
  try {
    await page.goto(`${url}bench.html`);
    const result = await page.evaluate(
      async ({ file, dims, runs, threads }) => {
        const entry: string = '/bundle/ortlab.js';
        const ortlab = await import(entry);
        ortlab.configureWebRuntime({ wasmPaths: '/ort/', threads });
        const session = await ortlab.Session.create(`/models/${file}`, {
          executionProviders: 'wasm',
        });
        const size = dims.reduce((a: number, b: number) => a * b, 1);
        const data = new Float32Array(size).map((_, i) => Math.sin(i * 0.37));
        const feeds = { [session.inputs[0].name]: { type: 'float32', data, dims } };
        for (let i = 0; i < 3; i++) await session.run(feeds);
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const start = performance.now();
          await session.run(feeds);
          times.push(performance.now() - start);
        }
        const environment = await ortlab.inspectWebEnvironment();
        const provider: string = session.executionProvider;
        await session.dispose();
        times.sort((a, b) => a - b);
        return {
          ms: times[times.length >> 1],
          threads: environment.wasmThreads as number,
          provider,
        };
      },
      { file: path.basename(model.file), dims: model.dims, runs: model.runs, threads },
    );
    if (errors.length > 0) throw new Error(`the bench page logged errors: ${errors.join('; ')}`);
    return result;
  } finally {
    await page.close();
  }
}

/** A folder to serve: a blank page, the two models, and the bundle. */
async function stage(models: ModelCase[]): Promise<{ root: string; bundle: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'ortlab-bench-browser-'));
  await mkdir(path.join(root, 'web'));
  await mkdir(path.join(root, 'models'));
  await writeFile(
    path.join(root, 'web', 'bench.html'),
    '<!doctype html><link rel="icon" href="data:," /><title>bench</title>\n',
  );
  for (const model of models) {
    await copyFile(model.file, path.join(root, 'models', path.basename(model.file)));
  }
  const bundle = path.join(root, 'bundle');
  await buildWebBundle({ root: process.cwd(), outDir: bundle });
  return { root, bundle };
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

export async function benchBrowser(): Promise<unknown> {
  const models: ModelCase[] = [
    {
      name: 'mnist-cnn',
      file: path.resolve('models/mnist-cnn.onnx'),
      dims: [1, 1, 28, 28],
      runs: 200,
    },
  ];
  const skipped = ensureModel();
  if (skipped) console.log(`browser: ResNet-18 part skipped: ${skipped}`);
  else models.push({ name: 'resnet18', file: RESNET18, dims: [1, 3, 224, 224], runs: 12 });

  const { root, bundle } = await stage(models);
  const server = await startStaticServer({ root, bundleDir: bundle, port: 0 });
  const browser = await launchBrowser();
  const results = [];
  try {
    for (const model of models) {
      for (const threads of THREADS) {
        const node: number[] = [];
        const web: number[] = [];
        let seen = { threads: 0, provider: '' };
        for (let p = 0; p < PHASES; p++) {
          const order = p % 2 === 0 ? ['node', 'web'] : ['web', 'node'];
          for (const side of order) {
            if (side === 'node') node.push(await nodePhase(model, threads));
            else {
              const run = await browserPhase(browser, server.url, model, threads);
              web.push(run.ms);
              seen = run;
            }
          }
        }
        const ratio = median(web) / median(node);
        const line = {
          model: model.name,
          threads,
          browserThreads: seen.threads,
          browserProvider: seen.provider,
          browserMs: round(median(web), 3),
          nodeMs: round(median(node), 3),
          ratio: round(ratio),
        };
        console.log(
          `browser: ${model.name} per image, ${threads} thread(s): Chromium wasm ` +
            `${line.browserMs} ms, onnxruntime-node ${line.nodeMs} ms, ratio ${line.ratio}`,
        );
        results.push(line);
      }
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
  return { phases: PHASES, results, resnet18: skipped ? { skipped } : 'measured' };
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  console.log(JSON.stringify(await benchBrowser(), null, 2));
}
