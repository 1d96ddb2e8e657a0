/**
 * `ortlab robustness`, `ortlab merge` and the suite form of `ortlab eval`: run a suite (or one
 * shard of it), write the report, or combine shards into it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { scoringSessionOptions } from '../eval/score-split.js';
import { buildReport, mergeRuns, type RobustnessReport } from '../eval/report.js';
import {
  openRunDatasets,
  runSuite,
  type DataStamp,
  type RobustnessOptions,
  type SuiteRun,
} from '../eval/robustness.js';
import {
  loadSuite,
  validateSuite,
  type SplitKind,
  type SuiteConfig,
  type SuiteSplit,
} from '../eval/suite.js';
import { folderEntriesSync } from '../runtime/datasets/folder-entries.js';
import type { ProgressCallback } from '../runtime/progress.js';
import { runConfig } from '../runtime/run-config.js';
import { warmPreprocessing } from '../runtime/preprocess/batch.js';
import { Session } from '../runtime/session.js';
import type { Output } from './commands.js';
import { readModelCard } from './model-card.js';
import { progressBar } from './progress-bar.js';
import { summaryLines } from './summary.js';
import { collectThumbnails, writeReport } from './report-files.js';

export interface RobustnessArgs {
  model: string;
  /** A suite configuration file, or the ImageNet flags below. */
  config?: string;
  val?: string;
  v2?: string;
  a?: string;
  r?: string;
  o?: string;
  preset?: string;
  batch?: number;
  ep?: string;
  threads?: number;
  maxPixels?: number;
  temperature?: number;
  checkpoint?: string;
  shard?: string;
  out?: string;
  json?: boolean;
  progress?: boolean;
}

/** A suite from the `--val --v2 --a --r --o` flags. */
export function imagenetSuite(
  args: Pick<RobustnessArgs, 'val' | 'v2' | 'a' | 'r' | 'o'>,
): SuiteConfig {
  const splits: SuiteSplit[] = [];
  const add = (
    name: string,
    data: string | undefined,
    kind: SplitKind,
    role: SuiteSplit['role'],
  ) => {
    if (data) splits.push({ name, data, kind, role });
  };
  add('val', args.val, 'imagenet', 'clean');
  add('v2', args.v2, 'imagenet-v2', 'shifted');
  add('a', args.a, 'imagenet-a', 'shifted');
  add('r', args.r, 'imagenet-r', 'shifted');
  if (args.o) {
    if (!args.val) {
      throw new Error(
        '--o (ImageNet-O) is scored against ImageNet validation images of the same 200 classes: ' +
          'pass them with --val DIR',
      );
    }
    const inDistribution = imagenetOValidation(args.val, args.o);
    if (inDistribution !== 'val') splits.push(inDistribution);
    splits.push({
      name: 'o',
      data: args.o,
      kind: 'imagenet-o',
      role: 'ood',
      inDistribution: inDistribution === 'val' ? 'val' : inDistribution.name,
    });
  }
  if (splits.length === 0) {
    throw new Error('give a suite: --config FILE, or one or more of --val --v2 --a --r --o');
  }
  return validateSuite({ name: 'ImageNet robustness', splits }, 'command line', process.cwd());
}

function classFolderNames(dir: string): string[] | undefined {
  try {
    return folderEntriesSync(dir)
      .filter((e) => e.kind === 'folder')
      .map((e) => e.name)
      .sort();
  } catch {
    return undefined; // the split's own reader says what is wrong with the folder
  }
}

/**
 * ImageNet-O is scored against validation images of its own 200 classes, on the same 200
 * logits. When `--val` holds other classes too (the whole validation set, say), a second split
 * reads just O's class folders of it: `val-o`, reported like any clean split.
 */
function imagenetOValidation(val: string, o: string): 'val' | SuiteSplit {
  const oFolders = classFolderNames(o);
  const valFolders = classFolderNames(val);
  if (!oFolders || !valFolders) return 'val';
  if (oFolders.length === valFolders.length && oFolders.every((f, i) => f === valFolders[i])) {
    return 'val';
  }
  return {
    name: 'val-o',
    data: val,
    kind: 'imagenet',
    role: 'clean',
    classFolders: oFolders,
    description: "validation images of ImageNet-O's classes: its in-distribution side",
  };
}

/** The variable a Kubernetes Indexed Job sets to the pod's completion index. */
export const SHARD_INDEX_VARIABLE = 'JOB_COMPLETION_INDEX';

/**
 * Parses `i/n`, or `env/n` (the index from `JOB_COMPLETION_INDEX`, as a Kubernetes Indexed Job
 * sets it) or `env:NAME/n` (the index from the variable `NAME`, e.g. `SLURM_ARRAY_TASK_ID`).
 * @throws RangeError naming the value (and the variable) when it is not a shard of `n`.
 */
export function parseShard(
  value: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): { index: number; count: number } {
  const fromEnv = /^env(?::([A-Za-z_][A-Za-z0-9_]*))?\/(\d+)$/.exec(value);
  if (fromEnv) {
    const name = fromEnv[1] ?? SHARD_INDEX_VARIABLE;
    const index = env[name];
    if (index === undefined || index === '') {
      throw new RangeError(
        `--shard ${value} reads the shard index from the environment variable ${name}, ` +
          'which is not set; set it (a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX) ' +
          'or pass i/n',
      );
    }
    if (!/^\d+$/.test(index) || Number(index) >= Number(fromEnv[2])) {
      throw new RangeError(
        `--shard ${value}: ${name}='${index}' ` +
          `is not a shard index from 0 to ${Number(fromEnv[2]) - 1}`,
      );
    }
    return parseShard(`${Number(index)}/${fromEnv[2]}`);
  }
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || !(count >= 1 && index < count)) {
    throw new RangeError(
      `--shard takes i/n with 0 <= i < n (e.g. 0/4) or env/n (the index from ` +
        `${SHARD_INDEX_VARIABLE}), got '${value}'`,
    );
  }
  return { index, count };
}

/** What a suite run (or one shard of it) produced, with its configuration block. */
export interface SuiteOutcome {
  run: SuiteRun;
  config: Record<string, unknown>;
}

/**
 * Runs `suite` (or one shard of it) with an open session, with the options of the command line:
 * the preset from `--preset`, else the suite's, else the model card's.
 */
export async function executeSuite(
  session: Session,
  suite: SuiteConfig,
  args: RobustnessArgs,
  part: {
    shard?: { index: number; count: number };
    onProgress?: ProgressCallback;
    /** The stamps of the splits' data as a submitter listed them (a queued shard). */
    expectData?: readonly DataStamp[];
    /** See `RobustnessOptions.checkDataset`. */
    checkDataset?: RobustnessOptions['checkDataset'];
  } = {},
): Promise<SuiteOutcome> {
  const card = await readModelCard(args.model);
  const { shard, expectData, checkDataset } = part;
  const onProgress = part.onProgress ?? (args.progress === false ? undefined : progressBar());
  const run = await runSuite(session, suite, {
    preset: args.preset ?? suite.preset ?? card?.preset,
    batchSize: args.batch,
    maxPixels: args.maxPixels,
    temperature: args.temperature,
    checkpoint: args.checkpoint,
    shard,
    expectData,
    checkDataset,
    onProgress,
  });
  const config = { ...runConfig(session, args.model, args.threads), shard: shard ?? null };
  return { run, config };
}

/** Runs a suite and reports it, or writes one shard's results. */
export async function runSuiteCommand(
  suite: SuiteConfig,
  args: RobustnessArgs,
  io: Output,
): Promise<void> {
  warmPreprocessing();
  const session = await Session.create(
    args.model,
    scoringSessionOptions({ executionProviders: args.ep, threads: args.threads }),
  );
  try {
    const shard = args.shard ? parseShard(args.shard) : undefined;
    const { run, config } = await executeSuite(session, suite, args, { shard });
    if (shard) {
      const file = args.out ?? `shard-${shard.index}-of-${shard.count}.json`;
      await writeFile(file, JSON.stringify({ ortlabShard: 1, run, config }));
      io.out(
        `wrote shard ${shard.index}/${shard.count} to ${file}; combine shards with 'ortlab merge'`,
      );
      return;
    }
    await finish(run, config, args, io);
  } finally {
    await session.dispose();
  }
}

async function finish(
  run: SuiteRun,
  config: Record<string, unknown>,
  args: { out?: string; json?: boolean },
  io: Output,
): Promise<void> {
  const report: RobustnessReport = buildReport(run, config);
  const thumbnails = await collectThumbnails(report, await openRunDatasets(run));
  await presentReport(report, thumbnails, args, io);
}

/**
 * Writes `report.json` and `report.html` to `--out` (default `ortlab-report/`) and prints the
 * report's JSON (`--json`) or its summary table.
 */
export async function presentReport(
  report: RobustnessReport,
  thumbnails: ReadonlyMap<string, string>,
  args: { out?: string; json?: boolean },
  io: Output,
): Promise<void> {
  const dir = args.out ?? 'ortlab-report';
  const files = await writeReport(report, dir, { thumbnails });
  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  for (const line of summaryLines(report)) io.out(line);
  io.out('');
  io.out(`report: ${files.html} (JSON: ${files.json})`);
}

/** `ortlab robustness <model> --config FILE | --val DIR ...`. */
export async function robustnessCommand(args: RobustnessArgs, io: Output): Promise<void> {
  const suite = args.config ? await loadSuite(args.config) : imagenetSuite(args);
  await runSuiteCommand(suite, args, io);
}

/**
 * The suite of `ortlab eval <model> <dir> --suite P`: one split read with an ImageNet kind (or a
 * plain folder). ImageNet-O needs `val` for its in-distribution side.
 */
export function suiteForEval(data: string, kind: SplitKind, val?: string): SuiteConfig {
  const splits: SuiteSplit[] =
    kind === 'imagenet-o'
      ? imagenetSuite({ o: data, val }).splits
      : [{ name: path.basename(path.resolve(data)), data, kind, role: 'clean' }];
  return validateSuite({ name: `${kind} ${data}`, splits }, 'command line', process.cwd());
}

/**
 * `ortlab eval <model> <dir> --suite P`: one split read with an ImageNet kind (or a plain
 * folder), reported like a suite.
 */
export async function suiteEvalCommand(
  data: string,
  kind: SplitKind,
  args: RobustnessArgs,
  io: Output,
): Promise<void> {
  await runSuiteCommand(suiteForEval(data, kind, args.val), args, io);
}

/** `ortlab merge <shard files>`: one report from the shards of one run. */
export async function mergeCommand(
  args: { files: string[]; out?: string; json?: boolean },
  io: Output,
): Promise<void> {
  const shards = await Promise.all(
    args.files.map(async (file) => {
      const parsed = JSON.parse(
        await readFile(file, 'utf8').catch(() => {
          throw new Error(`shard file '${file}' not found`);
        }),
      ) as { ortlabShard?: number; run: SuiteRun; config: Record<string, unknown> };
      if (parsed.ortlabShard !== 1) {
        throw new Error(
          `'${file}' is not an ortlab shard (written by 'ortlab robustness --shard i/n')`,
        );
      }
      return parsed;
    }),
  );
  const run = mergeRuns(shards.map((s) => restoreNaN(s.run)));
  const config = {
    ...shards[0].config,
    shard: null,
    mergedFrom: args.files.map((f) => path.basename(f)),
  };
  await finish(run, config, args, io);
}

/** JSON turns NaN into null; records need them back as numbers. */
function restoreNaN(run: SuiteRun): SuiteRun {
  for (const split of run.splits) {
    for (const r of split.records) {
      for (const key of ['conf', 'maxLogit', 'lse', 'entropy', 'nll', 'brier'] as const) {
        if (r[key] === null) r[key] = NaN;
      }
    }
  }
  return run;
}
