/**
 * `ortlab submit <command> ... --queue URL --shards N`: the command is parsed as a local run
 * parses it, then queued as shards (paths made absolute, the model's sha256 attached) and a
 * merge; unless `--detach`, the command waits and writes the same report a local run writes.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { suiteForEval, imagenetSuite, type RobustnessArgs } from './robustness-command.js';
import { dataStamp, suiteDataStamps } from '../eval/robustness.js';
import { loadSuite, type SuiteConfig } from '../eval/suite.js';
import { EMOJI, openRetrievalData, retrievalDataStamp } from '../retrieval/data-node.js';
import { shippedManifest } from '../retrieval/manifest-node.js';
import type { ScoreArgs, Task } from '../queue/jobs.js';
import type { RedisTarget } from '../queue/redis-url.js';
import { submitTask } from '../queue/submit.js';
import { bundledDatasets, openDataset } from '../runtime/datasets/open-dataset.js';
import { sha256 } from '../runtime/run-config.js';
import { tokenizerSha256 } from '../runtime/tokenizer.js';
import { planRanking, rankModelFile } from '../search/rank-manifest.js';
import type { EvalArgs, Output } from './commands.js';
import { queueNumber, queueTarget, type QueueValues } from './queue-options.js';
import { pairsOf, type RetrievalArgs } from './retrieval-command.js';
import type { Runners } from './runners.js';
import { rankOptions } from './search-command.js';
import { waitAndPresent } from './submission-result.js';

/** How `ortlab submit` was called, besides its command. */
interface SubmitSettings {
  target: RedisTarget;
  shards: number;
  attempts?: number;
  detach: boolean;
}

const absolute = (file: string): string => path.resolve(file);
const dataSpec = (spec: string): string => (bundledDatasets.includes(spec) ? spec : absolute(spec));

async function hashFile(file: string, what: string): Promise<string> {
  const bytes = await readFile(file).catch(() => {
    throw new Error(`${what} '${file}' not found; check the path`);
  });
  return sha256(new Uint8Array(bytes));
}

/** The options that change results, without the ones left unset. */
function scoreArgs(args: RobustnessArgs | EvalArgs): ScoreArgs {
  const picked: ScoreArgs = {
    preset: args.preset,
    batch: args.batch,
    ep: args.ep,
    threads: args.threads,
    maxPixels: args.maxPixels,
    temperature: 'temperature' in args ? args.temperature : undefined,
  };
  return Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined));
}

function refuseLocalOnly(args: { checkpoint?: string; shard?: string }): void {
  if (args.shard !== undefined) {
    throw new Error('--shard picks one shard of a local run; ortlab submit cuts shards itself');
  }
  if (args.checkpoint !== undefined) {
    throw new Error('--checkpoint is for local runs; on the queue a shard is the unit of retry');
  }
}

/**
 * A suite as a task, with the stamp of each split's data: resolving the splits here also checks
 * them (folder names, class maps) before anything is queued.
 */
async function suiteTask(
  args: RobustnessArgs,
  source: Extract<Task, { kind: 'suite' }>['source'],
  suite: SuiteConfig,
): Promise<Task> {
  refuseLocalOnly(args);
  const model = absolute(args.model);
  return {
    kind: 'suite' as const,
    model,
    modelSha256: await hashFile(model, 'model file'),
    source,
    dataStamps: await suiteDataStamps(suite),
    args: scoreArgs(args),
  };
}

/** A retrieval evaluation as a task, checked as a local run checks it: pairs and data. */
async function retrievalTask(args: RetrievalArgs): Promise<Task> {
  const abs = (p?: string) => (p === undefined ? undefined : absolute(p));
  const picked: Extract<Task, { kind: 'retrieval' }>['args'] = {
    images: abs(args.images),
    texts: abs(args.texts),
    manifest: abs(args.manifest),
    tokenizer: abs(args.tokenizer),
    preset: args.preset,
    data: args.data === undefined || args.data === EMOJI ? args.data : absolute(args.data),
    split: args.split,
    style: args.style,
    imageRoot: abs(args.imageRoot),
    batch: args.batch,
    examples: args.examples,
    ep: args.ep,
    threads: args.threads,
  };
  const taskArgs = Object.fromEntries(
    Object.entries(picked).filter(([, v]) => v !== undefined),
  ) as typeof picked;
  const pairs = await pairsOf(taskArgs);
  const { split, style, imageRoot } = taskArgs;
  const data = await openRetrievalData(taskArgs.data ?? EMOJI, { split, style, imageRoot });
  const encoderSha256 = [];
  const tokenizerHashes = [];
  for (const pair of pairs) {
    encoderSha256.push(await hashFile(pair.image, `image encoder of pair '${pair.name}'`));
    encoderSha256.push(await hashFile(pair.text, `text encoder of pair '${pair.name}'`));
    tokenizerHashes.push(await tokenizerSha256(pair.tokenizer));
  }
  const manifest = taskArgs.manifest ?? shippedManifest();
  const manifestSha256 = existsSync(manifest)
    ? await hashFile(manifest, 'encoder manifest')
    : undefined;
  return {
    kind: 'retrieval',
    encoderSha256,
    ...(manifestSha256 === undefined ? {} : { manifestSha256 }),
    tokenizerSha256: tokenizerHashes,
    dataStamp: retrievalDataStamp(data),
    args: taskArgs,
  };
}

function submitRunners(settings: SubmitSettings, io: Output): Runners {
  const run = (task: Task, args: { out?: string; json?: boolean; progress?: boolean }) =>
    submitAndFollow(settings, task, args, io);
  return {
    robustness: async (args) => {
      const abs = (p?: string) => (p === undefined ? undefined : absolute(p));
      if (args.config) {
        const suite = await loadSuite(args.config);
        return run(await suiteTask(args, { config: absolute(args.config) }, suite), args);
      }
      const flags = { val: abs(args.val), v2: abs(args.v2), a: abs(args.a), r: abs(args.r) };
      const all = Object.fromEntries(
        Object.entries({ ...flags, o: abs(args.o) }).filter(([, v]) => v !== undefined),
      );
      return run(await suiteTask(args, { flags: all }, imagenetSuite(all)), args);
    },
    suiteEval: async (data, kind, args) => {
      const source = {
        data: dataSpec(data),
        kind,
        ...(args.val ? { val: absolute(args.val) } : {}),
      };
      const suite = suiteForEval(source.data, kind, source.val);
      return run(await suiteTask(args, { eval: source }, suite), args);
    },
    eval: async (args) => {
      const model = absolute(args.model);
      const data = dataSpec(args.data);
      const task: Task = {
        kind: 'eval',
        model,
        modelSha256: await hashFile(model, 'model file'),
        data,
        dataStamp: await dataStamp(await openDataset(data)),
        args: scoreArgs(args),
      };
      return run(task, args);
    },
    rank: async (manifest, args) => {
      const options = rankOptions(args);
      const plan = await planRanking(absolute(manifest), {
        ...options,
        data: args.data === undefined ? undefined : dataSpec(args.data),
      });
      const modelSha256 = [];
      for (let n = 0; n < plan.manifest.models.length; n++) {
        modelSha256.push(await hashFile(rankModelFile(plan, n), 'model file'));
      }
      const picked = { ...options, data: plan.data };
      const task: Task = {
        kind: 'rank',
        manifest: plan.manifestPath,
        manifestSha256: await hashFile(plan.manifestPath, 'manifest'),
        modelSha256,
        dataStamp: await dataStamp(await openDataset(plan.data)),
        args: Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined)),
      };
      return run(task, args);
    },
    retrievalEval: async (args) => run(await retrievalTask(args), args),
  };
}

async function submitAndFollow(
  settings: SubmitSettings,
  task: Task,
  args: { out?: string; json?: boolean; progress?: boolean },
  io: Output,
): Promise<void> {
  const submission = await submitTask(settings.target, task, {
    ...settings,
    command: describeTask(task),
  });
  const follow = `ortlab status --queue ${settings.target.url} ${submission}`;
  if (settings.detach) {
    if (args.json) io.out(JSON.stringify({ submission, queue: settings.target.url }));
    else io.out(`submitted ${submission} (${settings.shards} shards); follow it with '${follow}'`);
    return;
  }
  process.stderr.write(
    `submitted ${submission} (${settings.shards} shards) to ${settings.target.url}; ` +
      `waiting for workers ('ortlab worker --queue ...'); Ctrl-C stops waiting, not the work\n`,
  );
  await waitAndPresent(settings.target, submission, args, io);
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The submitted command in words, for `ortlab status`: what runs on what, with its options. */
export function describeTask(task: Task): string {
  const options = Object.entries(task.args)
    .map(([k, v]) => `--${kebab(k)} ${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
  let what: string;
  if (task.kind === 'rank') what = `search rank ${task.manifest}`;
  else if (task.kind === 'retrieval') what = 'retrieval eval';
  else if (task.kind === 'eval') what = `eval ${task.model} ${task.data}`;
  else if ('config' in task.source)
    what = `robustness ${task.model} --config ${task.source.config}`;
  else if ('eval' in task.source) {
    what = `eval ${task.model} ${task.source.eval.data} --suite ${task.source.eval.kind}`;
  } else {
    const flags = Object.entries(task.source.flags).map(([k, v]) => `--${k} ${v}`);
    what = `robustness ${task.model} ${flags.join(' ')}`;
  }
  return options ? `${what} ${options}` : what;
}

const SHARDABLE =
  "ortlab submit takes 'eval', 'robustness', 'search rank' or 'retrieval eval' and its arguments";

/**
 * `ortlab submit`. `dispatch` runs the command line's own dispatch on `rest` with the given
 * runners, so the submitted command is parsed and checked exactly as a local run.
 */
export async function submitCommand(
  rest: string[],
  values: QueueValues & { checkpoint?: string; shard?: string },
  io: Output,
  dispatch: (runners: Runners) => Promise<void>,
): Promise<void> {
  const [command, sub] = rest;
  const ok =
    command === 'eval' ||
    command === 'robustness' ||
    (command === 'search' && sub === 'rank') ||
    (command === 'retrieval' && sub === 'eval');
  if (!ok) throw new Error(`${SHARDABLE}; got '${rest.slice(0, 2).join(' ') || 'nothing'}'`);
  const shards = queueNumber('shards', values.shards);
  if (shards === undefined)
    throw new Error('ortlab submit needs --shards N (how many jobs to cut)');
  const target = await queueTarget(values);
  const { checkRedis } = await import('../queue/connection.js');
  await checkRedis(target);
  const settings: SubmitSettings = {
    target,
    shards,
    attempts: queueNumber('attempts', values.attempts),
    detach: values.detach === true,
  };
  await dispatch(submitRunners(settings, io));
}
