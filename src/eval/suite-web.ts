/**
 * Robustness suites in the browser: the suite file and its IDX splits fetched by URL, scored by
 * the same code as in Node (suite-run.ts), and the same report (report.ts). Splits that need a
 * file system (image folders, the ImageNet protocols) are refused with the reason.
 */
import { openIdxUrl } from '../runtime/datasets/idx-web.js';
import type { Dataset } from '../runtime/datasets/types.js';
import { getBackend } from '../runtime/backend.js';
import { resolvePreset, type Preset } from '../runtime/preprocess/presets.js';
import type { ProgressCallback } from '../runtime/progress.js';
import type { Session } from '../runtime/session.js';
import { inspectWebEnvironment } from '../runtime/web-environment.js';
import { buildReport, type RobustnessReport } from './report.js';
import { checkSuite, type SuiteConfig } from './suite-config.js';
import {
  checkSplit,
  fingerprintText,
  scoreSuite,
  type ResolvedSplit,
  type SuiteRun,
} from './suite-run.js';

/** Options of {@link runSuiteWeb}. */
export interface WebSuiteOptions {
  /** Preprocessing preset; default the suite's, else `imagenet`. */
  preset?: string | Preset;
  /** Images per run (default 32). */
  batchSize?: number;
  /** Temperature of the energy score (default 1). */
  temperature?: number;
  /** The model's URL, for the report (default `'model bytes'`). */
  modelUrl?: string;
  onProgress?: ProgressCallback;
}

/** What {@link runSuiteWeb} returns: the run (records), its report, and the open datasets. */
export interface WebSuiteResult {
  run: SuiteRun;
  report: RobustnessReport;
  /** Each split's dataset by split name, to show the report's mistakes. */
  datasets: Map<string, Dataset>;
}

/**
 * Fetches and checks a suite file; its data paths are resolved against the suite's URL.
 * @throws Error naming the URL when it cannot be fetched or is not JSON; RangeError naming the
 *   split and field that is wrong.
 * @example
 * ```ts
 * const suite = await loadSuiteUrl('/data/suite/suite.json');
 * suite.splits.map((s) => s.name); // ['clean', 'v2', 'a', 'o']
 * ```
 */
export async function loadSuiteUrl(url: string): Promise<SuiteConfig> {
  const base = new URL(url, globalThis.location?.href);
  const response = await fetch(base.href).catch((error: Error) => {
    throw new Error(`suite configuration '${url}' could not be fetched: ${error.message}`);
  });
  if (!response.ok) {
    throw new Error(`suite configuration '${url}' could not be fetched: HTTP ${response.status}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await response.text());
  } catch (error) {
    throw new Error(`suite configuration '${url}' is not valid JSON: ${(error as Error).message}`);
  }
  return checkSuite(parsed, url, (data) => new URL(data, base).href);
}

async function resolveSplitWeb(split: SuiteConfig['splits'][number]): Promise<ResolvedSplit> {
  const kind = split.kind ?? 'folder';
  if (kind !== 'folder' || !/idx\d?-ubyte(\.gz)?$|\.idx\d?(\.gz)?$/.test(split.data)) {
    const source = kind === 'folder' ? `'${split.data}'` : `a ${kind} folder`;
    throw new Error(
      `split '${split.name}' reads ${source}; ` +
        'the browser reads IDX files only (folders and file lists need the file system): ' +
        "run this suite with 'ortlab robustness' in Node",
    );
  }
  if (split.classMap !== undefined) {
    throw new Error(`split '${split.name}': a classMap needs the file system; run it in Node`);
  }
  const dataset = await openIdxUrl(split.data, { name: split.name });
  return {
    split,
    dataset,
    classes: [...dataset.classes],
    classIndices: split.classIndices,
    fingerprint: await fingerprint(dataset),
  };
}

/** The fingerprint Node computes for the same data (SHA-256 through Web Crypto). */
async function fingerprint(dataset: Dataset): Promise<string> {
  let text = '';
  for await (const piece of fingerprintText(dataset)) text += piece;
  return sha256Hex(new TextEncoder().encode(text));
}

/** SHA-256 of bytes (the model's, a fingerprint's text), hex, with the browser's Web Crypto. */
async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Runs a suite in the browser and builds its report: the same records, metrics and report as
 * `runSuite` and `buildReport` in Node on the same data and model (the configuration block says
 * where it ran: onnxruntime-web, the execution provider, the user agent).
 *
 * @param suite a suite, or the URL of a suite file.
 * @throws Error for a split the browser cannot read, an empty split, or a model of the wrong
 *   width (as `runSuite`).
 * @example
 * ```ts
 * const session = await Session.create('/models/mnist-cnn.onnx');
 * const { report } = await runSuiteWeb(session, '/data/suite/suite.json', { preset: 'mnist' });
 * report.splits[0].metrics.top1; // 0.993
 * ```
 */
export async function runSuiteWeb(
  session: Session,
  suite: SuiteConfig | string,
  options: WebSuiteOptions = {},
): Promise<WebSuiteResult> {
  const config = typeof suite === 'string' ? await loadSuiteUrl(suite) : suite;
  const batchSize = options.batchSize ?? 32;
  const temperature = options.temperature ?? 1;
  const preset = resolvePreset(
    options.preset ?? config.preset ?? 'imagenet',
    session.inputs[0].dims,
  );
  const resolved: ResolvedSplit[] = [];
  for (const split of config.splits) {
    const r = await resolveSplitWeb(split);
    checkSplit(session, r);
    resolved.push(r);
  }
  const modelSha256 = await sha256Hex(session.modelBytes);
  const environment = await inspectWebEnvironment();
  const run = await scoreSuite(session, config, resolved, {
    preset,
    batchSize,
    temperature,
    modelSha256,
    onProgress: options.onProgress,
  });
  const report = buildReport(run, {
    model: { path: options.modelUrl ?? 'model bytes', sha256: modelSha256 },
    executionProvider: session.executionProvider,
    failedProviders: [...session.failedProviders],
    threads: session.options.threads ?? 'default',
    wasmThreads: environment.wasmThreads,
    crossOriginIsolated: environment.crossOriginIsolated,
    versions: getBackend().versions(),
    userAgent: typeof navigator === 'undefined' ? undefined : navigator.userAgent,
    date: new Date().toISOString(),
  });
  const datasets = new Map(resolved.map((r) => [r.split.name, r.dataset]));
  return { run, report, datasets };
}
