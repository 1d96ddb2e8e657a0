/**
 * The commands of `ortlab`: each takes parsed arguments and writes its report; `main.ts` parses
 * and dispatches.
 */
import path from 'node:path';

import { scoringSessionOptions } from '../eval/score-split.js';
import { evaluateClassifier, type ClassifyOptions, type ClassifyResult } from '../eval/classify.js';
import { openDataset } from '../runtime/datasets/open-dataset.js';
import { packageRoot } from '../runtime/datasets/package-root.js';
import { EXECUTION_PROVIDERS, type ExecutionProviderName } from '../runtime/execution-providers.js';
import { loadOnnxModel } from '../runtime/onnx/load-node.js';
import { preprocessWorkerCount } from '../runtime/backend-node.js';
import { warmPreprocessing } from '../runtime/preprocess/batch.js';
import { activeResampler, type ResamplerKind } from '../runtime/preprocess/resample-wasm.js';
import { Session } from '../runtime/session.js';
import { getBackend } from '../runtime/backend.js';
import { runConfig, type RunConfig } from '../runtime/run-config.js';
import type { Dataset } from '../runtime/datasets/types.js';
import { readModelCard } from './model-card.js';
import { progressBar } from './progress-bar.js';
import { robustnessCommand } from './robustness-command.js';

export interface Output {
  out: (text: string) => void;
}

export interface EvalArgs {
  model: string;
  data: string;
  preset?: string;
  batch?: number;
  ep?: string;
  threads?: number;
  maxPixels?: number;
  json?: boolean;
  progress?: boolean;
}

const percent = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** Which execution providers start on this machine for the model. */
async function probeProviders(
  model: Uint8Array,
): Promise<{ name: ExecutionProviderName; starts: boolean; reason?: string }[]> {
  const kind = getBackend().kind;
  const results = [];
  for (const name of Object.keys(EXECUTION_PROVIDERS) as ExecutionProviderName[]) {
    if (EXECUTION_PROVIDERS[name][kind] === null) continue;
    try {
      const session = await Session.create(model, {
        executionProviders: [name],
        logLevel: 'fatal',
      });
      await session.dispose();
      results.push({ name, starts: true });
    } catch (error) {
      const reason = (error as Error).message.split('\n')[1]?.replace(/^\s*\w+: /, '');
      results.push({ name, starts: false, reason });
    }
  }
  return results;
}

/** `ortlab info <model>`. */
export async function infoCommand(
  args: { model: string; json?: boolean },
  io: Output,
): Promise<void> {
  const model = await loadOnnxModel(args.model);
  const bytes = model.toBytes();
  const session = await Session.create(args.model);
  const report = {
    model: args.model,
    inputs: session.inputs,
    outputs: session.outputs,
    parameters: model.parameterCount(),
    opset: model.opset,
    irVersion: model.irVersion,
    providers: await probeProviders(bytes),
  };
  await session.dispose();
  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  const dims = (d: (number | string)[]): string => `[${d.join(', ')}]`;
  io.out(
    `${args.model}: opset ${report.opset}, IR ${report.irVersion}, ${report.parameters} parameters`,
  );
  for (const i of report.inputs) io.out(`  input  ${i.name} ${i.type}${dims(i.dims)}`);
  for (const o of report.outputs) io.out(`  output ${o.name} ${o.type}${dims(o.dims)}`);
  for (const p of report.providers) {
    io.out(`  provider ${p.name}: ${p.starts ? 'starts' : `does not start (${p.reason ?? '?'})`}`);
  }
}

/** What `ortlab eval <model> <data> --json` prints. */
export interface EvalReport {
  n: number;
  top1: number;
  top5: number;
  skipped: { id: string; reason: string }[];
  data: { name: string; location: string; size: number; classes: number };
  config: RunConfig & {
    preset: ClassifyResult['preset'];
    batchSize: number;
    output: string;
  } & Record<string, unknown>;
  /**
   * How long the run took (`ortlab eval` on one machine): the process's start-up before the
   * first image (modules, model, session) and the evaluation itself, from the first image
   * read to the last result, with its throughput; and how it preprocessed (worker threads, 0
   * for the main thread; the resampler's implementation; the threads sharp decodes on), which
   * changes speed, never results.
   */
  timing?: {
    startupSeconds: number;
    evalSeconds: number;
    imagesPerSecond: number;
    preprocessWorkers: number;
    resampler: ResamplerKind;
    /** libuv's thread pool, on which sharp decodes: `UV_THREADPOOL_SIZE`, else Node's 4. */
    decodeThreads: number;
  };
}

/** The options of `evaluateClassifier` that `ortlab eval` passes, from its arguments. */
export async function evalOptions(args: EvalArgs): Promise<ClassifyOptions> {
  const card = await readModelCard(args.model);
  return {
    preset: args.preset ?? card?.preset ?? 'imagenet',
    batchSize: args.batch,
    maxPixels: args.maxPixels,
    onProgress: args.progress === false ? undefined : progressBar(),
  };
}

/** The report of `ortlab eval`: the result, what was read and the run's configuration. */
export function evalReport(
  result: ClassifyResult,
  dataset: Dataset,
  config: RunConfig,
): EvalReport {
  return {
    n: result.n,
    top1: result.top1,
    top5: result.top5,
    skipped: result.skipped,
    data: {
      name: dataset.name,
      location: dataset.location,
      size: dataset.size,
      classes: dataset.classes.length,
    },
    config: {
      ...config,
      preset: result.preset,
      batchSize: result.batchSize,
      output: result.output,
    },
  };
}

/** Prints the report of `ortlab eval` as JSON (`--json`) or as lines. */
export function presentEval(report: EvalReport, args: EvalArgs, io: Output): void {
  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  io.out(
    `${path.basename(args.model)} on ${report.data.name} (${report.n} images, ` +
      `${report.skipped.length} skipped): ` +
      `top-1 ${percent(report.top1)}, top-5 ${percent(report.top5)}`,
  );
  io.out(
    `  preset ${report.config.preset.name}, provider ${report.config.executionProvider}, ` +
      `batch ${report.config.batchSize}`,
  );
  if (report.timing !== undefined) {
    const { startupSeconds, evalSeconds, imagesPerSecond, preprocessWorkers } = report.timing;
    const threads =
      preprocessWorkers === 0 ? 'the main thread' : `${preprocessWorkers} worker threads`;
    const resampler = report.timing.resampler === 'wasm' ? 'WebAssembly' : 'JavaScript';
    io.out(
      `  ${evalSeconds.toFixed(2)} s (${imagesPerSecond.toFixed(1)} images/s) after ` +
        `${startupSeconds.toFixed(2)} s of start-up; preprocessed on ${threads}, resampled ` +
        `in ${resampler}`,
    );
  }
  for (const s of report.skipped.slice(0, 20)) io.out(`  skipped ${s.id}: ${s.reason}`);
  if (report.skipped.length > 20) io.out(`  ... and ${report.skipped.length - 20} more skipped`);
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** `ortlab eval <model> <data>`. */
export async function evalCommand(args: EvalArgs, io: Output): Promise<void> {
  const options = await evalOptions(args);
  const dataset = await openDataset(args.data);
  warmPreprocessing();
  const session = await Session.create(
    args.model,
    scoringSessionOptions({ executionProviders: args.ep, threads: args.threads }),
  );
  try {
    const started = performance.now();
    const result = await evaluateClassifier(session, dataset, options);
    const evalSeconds = (performance.now() - started) / 1000;
    const report = evalReport(result, dataset, runConfig(session, args.model, args.threads));
    const images = result.n + result.skipped.length;
    report.timing = {
      startupSeconds: round3(started / 1000),
      evalSeconds: round3(evalSeconds),
      imagesPerSecond: round3(images / evalSeconds),
      preprocessWorkers: await preprocessWorkerCount(),
      resampler: activeResampler(),
      decodeThreads: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    };
    presentEval(report, args, io);
  } finally {
    await session.dispose();
  }
}

/** `ortlab demo`: the bundled model on the embedded mini robustness suite. */
export async function demoCommand(
  args: { json?: boolean; out?: string; progress?: boolean },
  io: Output,
): Promise<void> {
  const root = packageRoot();
  await robustnessCommand(
    {
      model: path.join(root, 'models', 'mnist-cnn.onnx'),
      config: path.join(root, 'data', 'suite', 'suite.json'),
      out: args.out,
      json: args.json,
      progress: args.progress,
      batch: 256,
    },
    io,
  );
}
