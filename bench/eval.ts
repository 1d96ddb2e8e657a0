/**
 * The evaluation benchmark: 500 JPEGs at 224x224 through a ResNet-18-sized model, four ways in
 * one run, each in its own process so that its peak RSS is its own:
 *
 * (a) `ortlab eval` end to end from files: the built CLI, timed over its loop and as a process;
 * (b) bare `onnxruntime-node` on the same images already decoded to tensors in memory, same batch
 *     and threads: the ceiling, timed over the run loop only;
 * (c) a PyTorch evaluation loop (tools/bench/torch_eval.py: ImageFolder, the standard eval
 *     transform, a DataLoader with 2 workers, the same architecture and weights), loop only;
 * (d) transformers.js's image-classification pipeline on a local folder around the same model,
 *     loop only.
 *
 * Targets: a/b >= 0.85, a/c >= 1.3, a/d >= 1.5. Each side is timed over its loop, from its
 * first image to its last result, after its session or pipeline exists: (a) by the time its
 * JSON report gives (`timing.evalSeconds`: decoding, preprocessing, inference, records), (b)
 * and (d) by their own clocks. (a)'s whole process, start-up included, is reported beside it
 * with the ratios it gives, and so are the baselines' end-to-end figures.
 * (a) also runs as two controls: preprocessing on the threads its default does not choose (the
 * main thread, `ORTLAB_PREPROCESS_WORKERS=0`, where the default starts worker threads), and
 * with the resampler's JavaScript loops (`ORTLAB_RESAMPLER=js`). Every side, the controls and
 * the baselines too, runs once in each of ORTLAB_BENCH_ROUNDS rounds (default 2), in an order
 * that reverses each round, and the fastest run of each counts; ortlab's runs are printed with
 * the CPU time other processes took while they ran (from /proc/stat), since a shared 2-core
 * machine makes single runs unreliable.
 * The model is exported by tools/export/export_resnet18.py when Debian's torch is present; the
 * benchmark says so and skips otherwise. Run `npx tsx bench/eval.ts` alone, or through run.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

import { loadBatch, loadOnnxModel, openDataset, resolvePreset } from '../src/index.js';
import type { Sample } from '../src/index.js';
import { defaultPreprocessWorkers } from '../src/runtime/preprocess/pool-node.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = path.join(ROOT, 'bench/assets');
export const MODEL = path.join(ASSETS, 'resnet18.onnx');
const IMAGES = path.join(ASSETS, 'images');
const HF_NAME = 'resnet18-transformers';
const PYTHON = '/usr/bin/python3';
const TIME = '/usr/bin/time';
const SOURCES = ['astronaut.jpg', 'camera-gray.jpg', 'chelsea-small.jpg', 'coffee.jpg'];
const IMAGE_SET = { count: 500, size: 224, classes: 5, quality: 90, seed: 20240601 };
const BATCH = 32;
const TARGETS = { bare: 0.85, torch: 1.3, transformers: 1.5 };
const ROUNDS = Math.max(1, Number(process.env.ORTLAB_BENCH_ROUNDS ?? 2) || 2);

/** A child process's outcome: exit code, output, wall time, peak RSS and CPU time. */
export interface Measured {
  code: number;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  peakRssMb: number | null;
  cpuSeconds: number | null;
  /** CPU seconds the rest of the machine used meanwhile (null without /proc/stat). */
  foreignCpuSeconds: number | null;
}

/** Busy CPU seconds of the whole machine so far, from /proc/stat; null elsewhere. */
async function machineBusySeconds(): Promise<number | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0];
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1);
    const ticks = [user, nice, system, irq, softirq, steal].reduce((t, v) => t + Number(v), 0);
    return ticks / 100;
  } catch {
    return null;
  }
}

/** Runs a command under /usr/bin/time (peak RSS and CPU time, when present) and times it. */
export async function measure(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Measured> {
  const temp = await mkdtemp(path.join(os.tmpdir(), 'ortlab-bench-'));
  const usageFile = path.join(temp, 'usage');
  const timed = existsSync(TIME);
  const [file, argv] = timed
    ? [TIME, ['-f', '%M %U %S', '-o', usageFile, command, ...args]]
    : [command, args];
  const busy = await machineBusySeconds();
  const started = performance.now();
  const child = spawn(file, argv, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const wallSeconds = (performance.now() - started) / 1000;
  const busyAfter = await machineBusySeconds();
  let peakRssMb: number | null = null;
  let cpuSeconds: number | null = null;
  if (timed) {
    const last = (await readFile(usageFile, 'utf8')).trim().split('\n').pop() ?? '';
    const [kib, user, system] = last.split(' ').map(Number);
    if (Number.isFinite(kib)) peakRssMb = Math.round(kib / 1024);
    if (Number.isFinite(user + system)) cpuSeconds = user + system;
  }
  await rm(temp, { recursive: true, force: true });
  const foreignCpuSeconds =
    busy === null || busyAfter === null || cpuSeconds === null
      ? null
      : Math.max(0, busyAfter - busy - cpuSeconds);
  return { code, stdout, stderr, wallSeconds, peakRssMb, cpuSeconds, foreignCpuSeconds };
}

/** A child's standard output as JSON: all of it, or its last line. */
function outputJson<T>(run: Measured, what: string, lastLine = true): T {
  if (run.code !== 0)
    throw new Error(`${what} exited with ${run.code}:\n${run.stderr.slice(-2000)}`);
  return JSON.parse(lastLine ? (run.stdout.trim().split('\n').pop() ?? '') : run.stdout) as T;
}

/** Exports the model when it is missing; returns why it cannot when torch is absent. */
export function ensureModel(): string | undefined {
  if (existsSync(MODEL)) return undefined;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return (
      `${PYTHON} cannot import torch, torchvision and onnx ` +
      '(apt-get install python3-torch python3-torchvision python3-onnx)'
    );
  }
  console.log(`eval: exporting ${path.relative(ROOT, MODEL)} with tools/export/export_resnet18.py`);
  const run = spawnSync(PYTHON, ['tools/export/export_resnet18.py', '--out', MODEL], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`export_resnet18.py failed:\n${run.stderr}`);
  return undefined;
}

/** Mulberry32: a small seeded generator, so the image set is the same on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes the image set: random crops (40 to 100% of the shorter side, aspect 3:4 to 4:3),
 * horizontal flips and colour jitter of the four fixture photos, resized to 224x224, JPEG 90,
 * image i in class folder `class-(i mod 5)`. Kept when a manifest with the same settings exists.
 */
async function ensureImages(): Promise<void> {
  const manifest = path.join(IMAGES, 'manifest.json');
  const wanted = JSON.stringify(IMAGE_SET);
  if (existsSync(manifest) && (await readFile(manifest, 'utf8')) === wanted) return;
  await rm(IMAGES, { recursive: true, force: true });
  const next = random(IMAGE_SET.seed);
  const sources = SOURCES.map((f) => path.join(ROOT, 'test/fixtures/images', f));
  const sizes = await Promise.all(sources.map((s) => sharp(s).metadata()));
  for (let i = 0; i < IMAGE_SET.count; i++) {
    const k = Math.floor(next() * sources.length);
    const { width = 0, height = 0 } = sizes[k];
    const side = Math.min(width, height) * (0.4 + 0.6 * next());
    const aspect = Math.exp((next() - 0.5) * 2 * Math.log(4 / 3));
    const w = Math.max(16, Math.min(width, Math.round(side * Math.sqrt(aspect))));
    const h = Math.max(16, Math.min(height, Math.round(side / Math.sqrt(aspect))));
    const left = Math.floor(next() * (width - w + 1));
    const top = Math.floor(next() * (height - h + 1));
    let image = sharp(sources[k])
      .extract({ left, top, width: w, height: h })
      .resize(IMAGE_SET.size, IMAGE_SET.size, { fit: 'fill' });
    if (next() < 0.5) image = image.flop();
    image = image.modulate({
      brightness: 0.8 + 0.4 * next(),
      saturation: 0.8 + 0.4 * next(),
      hue: Math.round((next() - 0.5) * 20),
    });
    const folder = path.join(IMAGES, `class-${i % IMAGE_SET.classes}`);
    await mkdir(folder, { recursive: true });
    const name = `img-${String(i).padStart(4, '0')}.jpg`;
    await image.jpeg({ quality: IMAGE_SET.quality }).toFile(path.join(folder, name));
  }
  await writeFile(manifest, wanted);
}

/** The transformers.js layout around the model: config, preprocessor config, onnx/model.onnx. */
async function ensureTransformersFolder(): Promise<string> {
  const folder = path.join(ASSETS, HF_NAME);
  if (existsSync(path.join(folder, 'onnx/model.onnx'))) return folder;
  const model = await loadOnnxModel(MODEL);
  // transformers.js feeds image models by the name `pixel_values`.
  const from = model.graph.input[0].name;
  model.graph.input[0].name = 'pixel_values';
  for (const node of model.graph.node) {
    node.input = (node.input ?? []).map((name: string) => (name === from ? 'pixel_values' : name));
  }
  const labels = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [i, `class-${i}`]));
  const config = {
    model_type: 'resnet',
    architectures: ['ResNetForImageClassification'],
    num_labels: 1000,
    id2label: labels,
    label2id: Object.fromEntries(Object.entries(labels).map(([k, v]) => [v, Number(k)])),
  };
  // Resize the shorter side to 224 / 0.875 = 256, centre-crop 224: the ImageNet evaluation.
  const preprocessor = {
    image_processor_type: 'ConvNextImageProcessor',
    do_resize: true,
    size: { shortest_edge: 224 },
    crop_pct: 0.875,
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
  };
  await mkdir(path.join(folder, 'onnx'), { recursive: true });
  await writeFile(path.join(folder, 'config.json'), JSON.stringify(config, null, 2));
  await writeFile(path.join(folder, 'preprocessor_config.json'), JSON.stringify(preprocessor));
  await writeFile(path.join(folder, 'onnx/model.onnx'), model.toBytes());
  return folder;
}

/** Samples of the image folder in batches of BATCH. */
async function sampleBatches(): Promise<Sample[][]> {
  const dataset = await openDataset(IMAGES);
  const all: Sample[] = [];
  for await (const sample of dataset.samples()) all.push(sample);
  const out: Sample[][] = [];
  for (let i = 0; i < all.length; i += BATCH) out.push(all.slice(i, i + BATCH));
  return out;
}

/** Child (b): decodes everything first, then times bare `InferenceSession.run` over it. */
async function bareChild(): Promise<void> {
  const preset = resolvePreset('imagenet');
  const batches = [];
  for (const samples of await sampleBatches()) batches.push(await loadBatch(samples, preset));
  const created = performance.now();
  // The options `Session.create` passes when `ortlab eval` is given no --threads: same threads.
  const session = await ort.InferenceSession.create(MODEL, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  const started = performance.now();
  for (const batch of batches) {
    await session.run({ input: new ort.Tensor('float32', batch.data, batch.dims) });
  }
  const seconds = (performance.now() - started) / 1000;
  const images = batches.reduce((n, b) => n + b.labels.length, 0);
  await session.release();
  const sessionSeconds = (started - created) / 1000;
  console.log(
    JSON.stringify({ images, seconds, imagesPerSecond: images / seconds, sessionSeconds }),
  );
}

/** Child (d): transformers.js's pipeline over the image files, BATCH at a time. */
async function transformersChild(): Promise<void> {
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = ASSETS;
  const classifier = await pipeline('image-classification', HF_NAME, {
    device: 'cpu',
    dtype: 'fp32',
  });
  const files = (await sampleBatches()).map((b) =>
    b.map((s) => (s.source.kind === 'file' ? s.source.path : '')),
  );
  const started = performance.now();
  let images = 0;
  for (const chunk of files) {
    await classifier(chunk, { top_k: 1 });
    images += chunk.length;
  }
  const seconds = (performance.now() - started) / 1000;
  await classifier.dispose();
  console.log(JSON.stringify({ images, seconds, imagesPerSecond: images / seconds }));
}

const tsxChild = (mode: string): Promise<Measured> =>
  measure(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), mode]);

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

function versusTarget(name: string, ratio: number, target: number): string {
  return `${name} ${ratio.toFixed(2)} (target >= ${target}: ${ratio >= target ? 'met' : 'MISSED'})`;
}

interface OrtlabReport {
  n: number;
  top1: number;
  skipped: unknown[];
  config: Record<string, unknown>;
  timing: { startupSeconds: number; evalSeconds: number; imagesPerSecond: number };
}

/** One timed run of a side: its images per second and the process behind it. */
interface Run {
  side: string;
  seconds: number;
  imagesPerSecond: number;
  measured: Measured;
}

/**
 * (a): the built CLI, timed by its own report from the first image read to the last result
 * (the loop, as (b) and (d) are timed) and from spawn to exit (the whole process); `env` sets
 * the controls' variables (ORTLAB_PREPROCESS_WORKERS, ORTLAB_RESAMPLER).
 */
async function runOrtlab(
  side: string,
  env: Record<string, string> = {},
): Promise<Run & { report: OrtlabReport; processSeconds: number }> {
  const args = ['bin/ortlab.cjs', 'eval', MODEL, IMAGES, '--preset', 'imagenet'];
  args.push('--batch', String(BATCH), '--json', '--no-progress');
  const measured = await measure(process.execPath, args, env);
  const report = outputJson<OrtlabReport>(measured, 'ortlab eval', false);
  const seconds = report.timing.evalSeconds;
  const processSeconds = measured.wallSeconds;
  return { side, seconds, imagesPerSecond: report.n / seconds, measured, report, processSeconds };
}

/** (b): bare onnxruntime-node, run loop only. */
async function runBare(): Promise<Run & { sessionSeconds: number }> {
  const measured = await tsxChild('bare');
  const b = outputJson<{ imagesPerSecond: number; seconds: number; sessionSeconds: number }>(
    measured,
    'bare onnxruntime-node',
  );
  return { side: 'b', ...b, measured };
}

function describeRun(run: Run & { processSeconds?: number }): string {
  const m = run.measured;
  const foreign = m.foreignCpuSeconds === null ? '?' : m.foreignCpuSeconds.toFixed(1);
  const process =
    run.processSeconds === undefined ? '' : `, process ${round(run.processSeconds, 2)} s`;
  return (
    `eval run ${run.side}: ${round(run.imagesPerSecond)} images/s (${round(run.seconds, 2)} s` +
    `${process}), ` +
    `peak RSS ${m.peakRssMb ?? '?'} MB, CPU ${m.cpuSeconds?.toFixed(1) ?? '?'} s, other ` +
    `processes ${foreign} CPU s meanwhile`
  );
}

const fastest = <T extends Run>(runs: T[]): T =>
  runs.reduce((best, r) => (r.seconds < best.seconds ? r : best));

const summary = (run: Run) => ({
  imagesPerSecond: round(run.imagesPerSecond),
  seconds: round(run.seconds, 2),
  peakRssMb: run.measured.peakRssMb,
  cpuSeconds: run.measured.cpuSeconds === null ? null : round(run.measured.cpuSeconds),
  foreignCpuSeconds:
    run.measured.foreignCpuSeconds === null ? null : round(run.measured.foreignCpuSeconds),
});

/** Exports the model, writes the images and builds dist/; returns why it skips, if it does. */
async function prepare(): Promise<string | undefined> {
  const skip = ensureModel();
  if (skip !== undefined) return skip;
  await ensureImages();
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) {
    // tsc still writes dist/ when it reports type errors; without dist/ (a) cannot run at all.
    if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
      throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    }
    console.log(`eval: warning: npm run build reported errors; using dist/ as built`);
  }
  return undefined;
}

/** Runs the four sides, prints each figure and ratio, returns them for results.json. */
export async function benchEval(): Promise<unknown> {
  const skip = await prepare();
  if (skip !== undefined) {
    console.log(`eval: skipped: no ResNet-18 model and it cannot be exported: ${skip}`);
    return { skipped: skip };
  }

  // The controls: (a) with the preprocessing threads the default does not choose here (worker
  // threads where it preprocesses inline, inline where it starts workers), and (a) with the
  // resampler's JavaScript loops instead of WebAssembly.
  const inlineByDefault = defaultPreprocessWorkers() === 0;
  const otherMode = inlineByDefault ? 'on 2 worker threads' : 'inline';
  const controls = {
    a0: {
      side: `a, preprocessing ${otherMode}`,
      env: { ORTLAB_PREPROCESS_WORKERS: inlineByDefault ? '2' : '0' },
    },
    aj: { side: 'a, resampling in JavaScript', env: { ORTLAB_RESAMPLER: 'js' } },
  };
  type TorchResult = {
    imagesPerSecond: number;
    top1: number;
    threads: number;
    workerPeakRssMb: number;
  };
  const threads = os.availableParallelism();
  const torchArgs = ['tools/bench/torch_eval.py', IMAGES, '--batch', String(BATCH)];
  torchArgs.push('--threads', String(threads));
  let dSkipped: string | undefined;
  try {
    await ensureTransformersFolder();
  } catch (error) {
    dSkipped = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  }

  // Every side runs once a round, in an order that reverses each round, and its fastest run
  // counts: the baselines get the same chances as ortlab.
  const ortlabRuns: Awaited<ReturnType<typeof runOrtlab>>[] = [];
  const modeRuns: Run[] = [];
  const jsRuns: Run[] = [];
  const bareRuns: Awaited<ReturnType<typeof runBare>>[] = [];
  const torchRuns: { result: TorchResult; measured: Measured }[] = [];
  const transformersRuns: { result: { imagesPerSecond: number }; measured: Measured }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const sides = ['a', 'a0', 'aj', 'b', 'c', 'd'];
    for (const side of r % 2 === 0 ? sides : sides.reverse()) {
      if (side === 'c') {
        const measured = await measure(PYTHON, torchArgs);
        const result = outputJson<TorchResult>(measured, 'torch_eval.py');
        console.log(`eval run c: ${round(result.imagesPerSecond)} images/s in the loop`);
        torchRuns.push({ result, measured });
        continue;
      }
      if (side === 'd') {
        if (dSkipped !== undefined) continue;
        try {
          const measured = await tsxChild('transformers');
          const result = outputJson<{ imagesPerSecond: number }>(measured, 'transformers.js');
          console.log(`eval run d: ${round(result.imagesPerSecond)} images/s in the loop`);
          transformersRuns.push({ result, measured });
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error);
          dSkipped = text.split('\n').slice(0, 3).join(' ');
        }
        continue;
      }
      const run =
        side === 'a'
          ? await runOrtlab('a')
          : side === 'a0' || side === 'aj'
            ? await runOrtlab(controls[side].side, controls[side].env)
            : await runBare();
      console.log(describeRun(run));
      if (side === 'a') ortlabRuns.push(run as Awaited<ReturnType<typeof runOrtlab>>);
      else if (side === 'a0') modeRuns.push(run);
      else if (side === 'aj') jsRuns.push(run);
      else bareRuns.push(run as Awaited<ReturnType<typeof runBare>>);
    }
  }
  const a = fastest(ortlabRuns);
  const a0 = fastest(modeRuns);
  const aj = fastest(jsRuns);
  const b = fastest(bareRuns);
  const { report } = a;
  const quickest = <T extends { result: { imagesPerSecond: number } }>(runs: T[]): T | undefined =>
    runs.reduce<T | undefined>(
      (best, r) => (best && best.result.imagesPerSecond >= r.result.imagesPerSecond ? best : r),
      undefined,
    );
  const torchBest = quickest(torchRuns) as { result: TorchResult; measured: Measured };
  const c = torchBest.result;
  const torchRun = torchBest.measured;
  const transformersBest = dSkipped === undefined ? quickest(transformersRuns) : undefined;
  const d = transformersBest?.result;
  const dRun = transformersBest?.measured;

  const processRate = (run: { report: OrtlabReport; processSeconds: number }): number =>
    run.report.n / run.processSeconds;
  const whole = ortlabRuns.reduce((best, r) => (r.processSeconds < best.processSeconds ? r : best));
  const ratios = {
    bare: a.imagesPerSecond / b.imagesPerSecond,
    bareWholeProcess: processRate(whole) / b.imagesPerSecond,
    transformersWholeProcess: d ? processRate(whole) / d.imagesPerSecond : null,
    otherMode: a0.imagesPerSecond / b.imagesPerSecond,
    javascript: aj.imagesPerSecond / b.imagesPerSecond,
    torch: a.imagesPerSecond / c.imagesPerSecond,
    transformers: d ? a.imagesPerSecond / d.imagesPerSecond : null,
  };
  const mb = (m: Measured | undefined): string => `${m?.peakRssMb ?? '?'} MB`;
  console.log(
    `eval (a) ortlab eval: ${round(a.imagesPerSecond)} images/s from files to results ` +
      `(fastest of ${ROUNDS}: ${round(a.seconds, 2)} s for ${report.n}, top-1 ${report.top1}); ` +
      `${round(processRate(whole))} images/s for the whole process ` +
      `(${round(whole.processSeconds, 2)} s, ` +
      `${round(whole.report.timing.startupSeconds, 2)} s of it start-up), ` +
      `peak RSS ${mb(a.measured)}, preprocessing ${inlineByDefault ? 'inline' : 'on workers'}; ` +
      `preprocessing ${otherMode} instead: ${round(a0.imagesPerSecond)} images/s ` +
      `(a0/b ${ratios.otherMode.toFixed(2)}), peak RSS ${mb(a0.measured)}; resampling in ` +
      `JavaScript instead of WebAssembly: ${round(aj.imagesPerSecond)} images/s ` +
      `(aj/b ${ratios.javascript.toFixed(2)})`,
  );
  console.log(
    `eval (b) bare onnxruntime-node: ${round(b.imagesPerSecond)} images/s in the run loop, ` +
      `peak RSS ${mb(b.measured)} (all tensors in memory)`,
  );
  console.log(
    `eval (c) PyTorch loop (${c.threads} threads): ${round(c.imagesPerSecond)} images/s in the ` +
      `loop (${round(report.n / torchRun.wallSeconds)} end to end, top-1 ${c.top1}), peak RSS ` +
      `${mb(torchRun)} (largest DataLoader worker ${round(c.workerPeakRssMb, 0)} MB)`,
  );
  console.log(
    d
      ? `eval (d) transformers.js pipeline: ${round(d.imagesPerSecond)} images/s in the loop ` +
          `(${round(report.n / (dRun?.wallSeconds ?? NaN))} end to end), peak RSS ${mb(dRun)}`
      : `eval (d) transformers.js pipeline: skipped: ${dSkipped}`,
  );
  console.log(
    `eval ratios: ${versusTarget('a/b', ratios.bare, TARGETS.bare)}, ` +
      `${versusTarget('a/c', ratios.torch, TARGETS.torch)}, ` +
      (ratios.transformers === null
        ? 'a/d skipped'
        : versusTarget('a/d', ratios.transformers, TARGETS.transformers)),
  );
  console.log(
    `eval ratios with (a) timed as a whole process: a/b ${ratios.bareWholeProcess.toFixed(2)}` +
      (ratios.transformersWholeProcess === null
        ? ''
        : `, a/d ${ratios.transformersWholeProcess.toFixed(2)}`),
  );

  return {
    name: 'ortlab eval end to end vs bare onnxruntime-node, PyTorch and transformers.js',
    model: {
      path: path.relative(ROOT, MODEL),
      sha256: createHash('sha256')
        .update(await readFile(MODEL))
        .digest('hex'),
      generator: 'tools/export/export_resnet18.py',
    },
    images: { ...IMAGE_SET, folder: path.relative(ROOT, IMAGES), sources: SOURCES },
    preset: 'imagenet',
    batchSize: BATCH,
    rounds: ROUNDS,
    threads: report.config.threads,
    executionProvider: report.config.executionProvider,
    versions: report.config.versions,
    ortlab: {
      ...summary(a),
      top1: report.top1,
      skipped: report.skipped.length,
      wholeProcess: {
        seconds: round(whole.processSeconds, 2),
        imagesPerSecond: round(processRate(whole)),
        startupSeconds: round(whole.report.timing.startupSeconds, 2),
      },
    },
    preprocessing: inlineByDefault ? 'inline' : 'worker threads',
    ortlabOtherPreprocessing: { mode: otherMode, ...summary(a0) },
    ortlabJavaScriptResampler: summary(aj),
    bare: { ...summary(b), sessionSeconds: round(b.sessionSeconds, 2) },
    runs: [...ortlabRuns, ...modeRuns, ...jsRuns, ...bareRuns].map((run) => ({
      side: run.side,
      ...summary(run),
    })),
    torch: {
      ...c,
      imagesPerSecond: round(c.imagesPerSecond),
      endToEndImagesPerSecond: round(report.n / torchRun.wallSeconds),
      peakRssMb: torchRun.peakRssMb,
      runs: torchRuns.map((run) => round(run.result.imagesPerSecond)),
    },
    transformers: d
      ? {
          imagesPerSecond: round(d.imagesPerSecond),
          endToEndImagesPerSecond: round(report.n / (dRun?.wallSeconds ?? NaN)),
          peakRssMb: dRun?.peakRssMb ?? null,
          runs: transformersRuns.map((run) => round(run.result.imagesPerSecond)),
        }
      : { skipped: dSkipped },
    ratios: {
      ortlabVsBare: round(ratios.bare, 3),
      ortlabWholeProcessVsBare: round(ratios.bareWholeProcess, 3),
      ortlabWholeProcessVsTransformers:
        ratios.transformersWholeProcess === null ? null : round(ratios.transformersWholeProcess, 3),
      ortlabOtherPreprocessingVsBare: round(ratios.otherMode, 3),
      ortlabJavaScriptResamplerVsBare: round(ratios.javascript, 3),
      ortlabVsTorch: round(ratios.torch, 3),
      ortlabVsTransformers: ratios.transformers === null ? null : round(ratios.transformers, 3),
    },
    targets: { ortlabVsBare: '>= 0.85', ortlabVsTorch: '>= 1.3', ortlabVsTransformers: '>= 1.5' },
  };
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const mode = process.argv[2];
  if (mode === 'bare') await bareChild();
  else if (mode === 'transformers') await transformersChild();
  else console.log(JSON.stringify(await benchEval(), null, 2));
}
