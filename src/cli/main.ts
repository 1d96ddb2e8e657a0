/**
 * The `ortlab` command line: parses arguments, dispatches to a command, turns errors into one
 * clear line and an exit code (1 for a failed command, 2 for a usage mistake).
 */
import { parseArgs } from 'node:util';

import '../index.js';
import { SPLIT_KINDS, type SplitKind } from '../eval/suite.js';
import { setLogLevel, type LogLevel } from '../runtime/logger.js';
import { demoCommand, infoCommand, type Output } from './commands.js';
import { attributionCommand } from './attribution-command.js';
import { compressCommand } from './compress-command.js';
import { distillCommand } from './distill-command.js';
import { flatnessCommand } from './flatness-command.js';
import * as retrieval from './retrieval-command.js';
import { evolveCommand } from './search-command.js';
import { serveCommand } from './serve-command.js';
import { QUEUE_HELP, QUEUE_OPTIONS, QUEUE_USAGE } from './queue-options.js';
import { LOCAL_RUNNERS, type Runners } from './runners.js';
import { mergeCommand, type RobustnessArgs } from './robustness-command.js';
import {
  UsageError,
  positiveInteger,
  integer,
  wholeNumber,
  nonNegative,
  positiveNumber,
  ratio,
} from './arg-values.js';

const USAGE = `ortlab: evaluate exported ONNX models

Usage:
  ortlab info <model> [--json]
  ortlab eval <model> <data> [--suite S] [--preset P] [--batch N] [--ep LIST] [--threads N]
              [--max-pixels N] [--json] [--no-progress]
  ortlab robustness <model> (--config suite.json | --val DIR --v2 DIR --a DIR --r DIR --o DIR)
              [--checkpoint FILE] [--shard i/n] [--out PATH] [--temperature T] [--json]
              [and the options of eval]
  ortlab merge <shard.json>... [--out DIR] [--json]
  ortlab flatness <model> <data> [--radii 0.001,0.003,0.006] [--draws K] [--seed S]
              [--noise cumulative|independent] [--directions gaussian|filter-normalized]
              [--weights all|no-bias-norm] [--engine auto|inputs|patch] [--limit N] [--json]
  ortlab search rank <manifest.json> [--data SPEC] [--limit N] [--radii LIST] [--gamma G]
              [--preset P] [--out DIR] [--json]
  ortlab search evolve <supernet.onnx> <data> [--fitness accuracy|flatness|combined]
              [--population 50] [--generations 20] [--top 10] [--mutations 25]
              [--crossovers 25] [--mutation-prob 0.1] [--gamma G] [--limit N] [--preset P]
              [--out FILE]
  ortlab distill <teacher.onnx> <student.onnx> [--data sentiment|FILE] [--mapping M]
              [--window N|full] [--temperature T] [--limit N] [--batch N] [--tokenizer DIR]
              [--examples 3|"SENTENCE|SENTENCE"] [--out DIR] [--json]
  ortlab compress <model> (--prune R | --prune-filters R | --quantize int8) -o OUT.onnx
              [--channel-multiple 8] [--data D] [--limit N] [--json]
  ortlab attribution <original.onnx> <compressed.onnx>... [--data D] [--masks FILE]
              [--limit N] [--top-fraction 0.2] [--out DIR] [--json] [--feature NAME]
              [--method gradcam|occlusion|rise|score-cam] [--patch 8] [--stride 4]
              [--masks-count 1000] [--seed S]
${retrieval.USAGE}
  ortlab demo [--json] [--out DIR]
  ortlab serve [--port 8080] [--no-isolation]
${QUEUE_USAGE}

<data> is a bundled set (mnist, fashion-mnist, digits), an image folder with one sub-folder
per class, an IDX images file (its labels file beside it), or a file list. --suite reads a
folder as imagenet-v2 (folders 0..999), imagenet-a, imagenet-r (wnid folders; the 1000 logits
are restricted to their classes), imagenet-o (needs --val), or a plain folder.
distill's --data is the bundled 'sentiment' set (yelp test, amazon, imdb) or .jsonl/.txt files
separated by commas; --mapping is emb+skip, uniform, last or pairs such as 0:0,2:1,4:2.
serve starts the demo page (classifier with Grad-CAM, the suite, emoji retrieval) on
127.0.0.1 with the COOP/COEP headers that multi-threaded wasm needs; it opens no browser.
A suite writes report.json and report.html to --out (default ortlab-report/); with --shard it
writes that shard's results (default shard-i-of-n.json) for 'ortlab merge'. --checkpoint FILE
saves results as they are computed; the same command resumes from it after an interruption.
--ep takes an ordered list such as cuda,cpu; a provider that does not start is skipped with a
warning. --log-level (or ORTLAB_LOG_LEVEL) sets verbose, info, warning, error or fatal.
${QUEUE_HELP}
`;

const OPTIONS = {
  json: { type: 'boolean' },
  preset: { type: 'string' },
  batch: { type: 'string' },
  ep: { type: 'string' },
  threads: { type: 'string' },
  'max-pixels': { type: 'string' },
  'no-progress': { type: 'boolean' },
  'log-level': { type: 'string' },
  suite: { type: 'string' },
  config: { type: 'string' },
  val: { type: 'string' },
  v2: { type: 'string' },
  a: { type: 'string' },
  r: { type: 'string' },
  o: { type: 'string' },
  temperature: { type: 'string' },
  checkpoint: { type: 'string' },
  shard: { type: 'string' },
  out: { type: 'string' },
  radii: { type: 'string' },
  draws: { type: 'string' },
  seed: { type: 'string' },
  noise: { type: 'string' },
  directions: { type: 'string' },
  weights: { type: 'string' },
  engine: { type: 'string' },
  limit: { type: 'string' },
  data: { type: 'string' },
  gamma: { type: 'string' },
  fitness: { type: 'string' },
  population: { type: 'string' },
  generations: { type: 'string' },
  top: { type: 'string' },
  mutations: { type: 'string' },
  crossovers: { type: 'string' },
  'mutation-prob': { type: 'string' },
  mapping: { type: 'string' },
  prune: { type: 'string' },
  'prune-filters': { type: 'string' },
  'channel-multiple': { type: 'string' },
  quantize: { type: 'string' },
  masks: { type: 'string' },
  'top-fraction': { type: 'string' },
  method: { type: 'string' },
  feature: { type: 'string' },
  'masks-count': { type: 'string' },
  patch: { type: 'string' },
  stride: { type: 'string' },
  output: { type: 'string', short: 'o' },
  window: { type: 'string' },
  tokenizer: { type: 'string' },
  port: { type: 'string' },
  'no-isolation': { type: 'boolean' },
  // retrieval's options include --examples, a string as distill's is.
  ...retrieval.OPTIONS,
  help: { type: 'boolean', short: 'h' },
  ...QUEUE_OPTIONS,
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

function robustnessArgs(model: string, values: Values): RobustnessArgs {
  return {
    model,
    config: values.config,
    val: values.val,
    v2: values.v2,
    a: values.a,
    r: values.r,
    o: values.o,
    preset: values.preset,
    batch: positiveInteger('batch', values.batch),
    ep: values.ep,
    threads: positiveInteger('threads', values.threads),
    maxPixels: positiveInteger('max-pixels', values['max-pixels']),
    temperature: positiveNumber('temperature', values.temperature),
    checkpoint: values.checkpoint,
    shard: values.shard,
    out: values.out,
    json: values.json,
    progress: !values['no-progress'],
  };
}

async function dispatch(
  command: string,
  rest: string[],
  values: Values,
  io: Output,
  run: Runners = LOCAL_RUNNERS,
): Promise<void> {
  const needs = (count: number, names: string): void => {
    if (rest.length !== count) throw new UsageError(`'ortlab ${command}' takes ${names}`);
  };
  switch (command) {
    case 'info':
      needs(1, '<model>');
      return infoCommand({ model: rest[0], json: values.json }, io);
    case 'eval': {
      needs(2, '<model> <data>');
      if (values.suite !== undefined) {
        if (!SPLIT_KINDS.includes(values.suite as SplitKind)) {
          throw new UsageError(
            `--suite must be one of ${SPLIT_KINDS.join(', ')}, got '${values.suite}'`,
          );
        }
        const args = robustnessArgs(rest[0], values);
        return run.suiteEval(rest[1], values.suite as SplitKind, args, io);
      }
      return run.eval(
        {
          model: rest[0],
          data: rest[1],
          preset: values.preset,
          batch: positiveInteger('batch', values.batch),
          ep: values.ep,
          threads: positiveInteger('threads', values.threads),
          maxPixels: positiveInteger('max-pixels', values['max-pixels']),
          json: values.json,
          progress: !values['no-progress'],
        },
        io,
      );
    }
    case 'robustness':
      needs(1, '<model>');
      return run.robustness(robustnessArgs(rest[0], values), io);
    case 'flatness':
      needs(2, '<model> <data>');
      return flatnessCommand(
        {
          model: rest[0],
          data: rest[1],
          radii: values.radii,
          draws: positiveInteger('draws', values.draws),
          seed: integer('seed', values.seed),
          noise: values.noise,
          directions: values.directions,
          weights: values.weights,
          engine: values.engine,
          limit: positiveInteger('limit', values.limit),
          preset: values.preset,
          batch: positiveInteger('batch', values.batch),
          ep: values.ep,
          threads: positiveInteger('threads', values.threads),
          json: values.json,
          progress: !values['no-progress'],
        },
        io,
      );
    case 'search': {
      const [sub, ...params] = rest;
      const args = {
        data: values.data,
        preset: values.preset,
        limit: positiveInteger('limit', values.limit),
        radii: values.radii,
        seed: integer('seed', values.seed),
        gamma: nonNegative('gamma', values.gamma),
        engine: values.engine,
        fitness: values.fitness,
        population: positiveInteger('population', values.population),
        generations: wholeNumber('generations', values.generations),
        top: positiveInteger('top', values.top),
        mutations: wholeNumber('mutations', values.mutations),
        crossovers: wholeNumber('crossovers', values.crossovers),
        mutationProbability: nonNegative('mutation-prob', values['mutation-prob']),
        out: values.out,
        json: values.json,
        progress: !values['no-progress'],
      };
      if (sub === 'rank' && params.length === 1) return run.rank(params[0], args, io);
      if (sub === 'evolve' && params.length === 2) {
        return evolveCommand(params[0], params[1], args, io);
      }
      throw new UsageError("'ortlab search' takes 'rank <manifest>' or 'evolve <supernet> <data>'");
    }
    case 'distill':
      needs(2, '<teacher> <student>');
      return distillCommand(
        {
          teacher: rest[0],
          student: rest[1],
          data: values.data,
          mapping: values.mapping,
          window: values.window,
          temperature: positiveNumber('temperature', values.temperature),
          limit: positiveInteger('limit', values.limit),
          batch: positiveInteger('batch', values.batch),
          examples: values.examples,
          tokenizer: values.tokenizer,
          ep: values.ep,
          threads: positiveInteger('threads', values.threads),
          out: values.out,
          json: values.json,
          progress: !values['no-progress'],
        },
        io,
      );
    case 'compress':
      needs(1, '<model>');
      return compressCommand(
        {
          model: rest[0],
          prune: ratio('prune', values.prune),
          pruneFilters: ratio('prune-filters', values['prune-filters']),
          channelMultiple: positiveInteger('channel-multiple', values['channel-multiple']),
          quantize: values.quantize,
          out: values.output ?? values.out,
          data: values.data,
          limit: positiveInteger('limit', values.limit),
          preset: values.preset,
          threads: positiveInteger('threads', values.threads),
          json: values.json,
        },
        io,
      );
    case 'attribution':
      if (rest.length < 2) {
        throw new UsageError(
          "'ortlab attribution' takes <original> and one or more compressed models",
        );
      }
      return attributionCommand(
        {
          models: rest,
          data: values.data,
          masks: values.masks,
          limit: positiveInteger('limit', values.limit),
          batch: positiveInteger('batch', values.batch),
          preset: values.preset,
          top: positiveNumber('top-fraction', values['top-fraction']),
          method: values.method,
          feature: values.feature,
          masksCount: positiveInteger('masks-count', values['masks-count']),
          seed: integer('seed', values.seed),
          patch: positiveInteger('patch', values.patch),
          stride: positiveInteger('stride', values.stride),
          threads: positiveInteger('threads', values.threads),
          out: values.out,
          json: values.json,
        },
        io,
      );
    case 'retrieval':
      if (!retrieval.isCall(rest)) throw new UsageError(retrieval.CALLS);
      return retrieval.retrievalCommand(rest, values, io, (a, o) => run.retrievalEval(a, o));
    case 'merge':
      if (rest.length === 0) throw new UsageError("'ortlab merge' takes one or more shard files");
      return mergeCommand({ files: rest, out: values.out, json: values.json }, io);
    case 'demo':
      needs(0, 'no arguments');
      return demoCommand(
        { json: values.json, out: values.out, progress: !values['no-progress'] },
        io,
      );
    case 'submit':
    case 'worker':
    case 'status': {
      const { queueCommand } = await import('./queue-command.js');
      const inner = (r: Runners) => dispatch(rest[0] ?? '', rest.slice(1), values, io, r);
      return queueCommand(command, rest, values, io, inner);
    }
    case 'serve': {
      needs(0, 'no arguments');
      const port = wholeNumber('port', values.port);
      if (port !== undefined && port > 65535) {
        throw new UsageError(`--port takes a port from 0 to 65535, got '${values.port}'`);
      }
      return serveCommand({ port, noIsolation: values['no-isolation'] }, io);
    }
    default:
      throw new UsageError(
        `unknown command '${command}'; commands are info, eval, robustness, merge, flatness, ` +
          'search, distill, compress, attribution, retrieval, demo, serve, submit, worker, status',
      );
  }
}

/** Runs the command line; resolves to the exit code. */
export async function main(
  argv: string[],
  io: Output = { out: (t) => console.log(t) },
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    process.stderr.write(`ortlab: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    io.out(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    if (values['log-level']) setLogLevel(values['log-level'] as LogLevel);
    await dispatch(command, rest, values, io);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`ortlab: ${message}\n`);
    if (error instanceof UsageError) {
      process.stderr.write(`\n${USAGE}`);
      return 2;
    }
    return 1;
  }
}
