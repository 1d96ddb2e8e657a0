/**
 * The `ortlab` command line: parses arguments, dispatches to a command, turns errors into one
 * clear line and an exit code (1 for a failed command, 2 for a usage mistake).
 */
import { parseArgs } from 'node:util';

import '../index.js';
import { setLogLevel, type LogLevel } from '../runtime/logger.js';
import { demoCommand, evalCommand, infoCommand, type Output } from './commands.js';

const USAGE = `ortlab: evaluate exported ONNX models

Usage:
  ortlab info <model> [--json]
  ortlab eval <model> <data> [--preset P] [--batch N] [--ep LIST] [--threads N]
              [--max-pixels N] [--json] [--no-progress]
  ortlab demo [--json]

<data> is a bundled set (mnist, fashion-mnist, digits), an image folder with one sub-folder
per class, an IDX images file (its labels file beside it), or a file list.
--ep takes an ordered list such as cuda,cpu; a provider that does not start is skipped with a
warning. --log-level (or ORTLAB_LOG_LEVEL) sets verbose, info, warning, error or fatal.
`;

class UsageError extends Error {}

function positiveInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${name} takes a positive integer, got '${value}'`);
  }
  return n;
}

/** Runs the command line; resolves to the exit code. */
export async function main(
  argv: string[],
  io: Output = { out: (t) => console.log(t) },
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        preset: { type: 'string' },
        batch: { type: 'string' },
        ep: { type: 'string' },
        threads: { type: 'string' },
        'max-pixels': { type: 'string' },
        'no-progress': { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
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
    const needs = (count: number, names: string): void => {
      if (rest.length !== count) throw new UsageError(`'ortlab ${command}' takes ${names}`);
    };
    const progress = !values['no-progress'];
    switch (command) {
      case 'info':
        needs(1, '<model>');
        await infoCommand({ model: rest[0], json: values.json }, io);
        return 0;
      case 'eval':
        needs(2, '<model> <data>');
        await evalCommand(
          {
            model: rest[0],
            data: rest[1],
            preset: values.preset,
            batch: positiveInteger('batch', values.batch),
            ep: values.ep,
            threads: positiveInteger('threads', values.threads),
            maxPixels: positiveInteger('max-pixels', values['max-pixels']),
            json: values.json,
            progress,
          },
          io,
        );
        return 0;
      case 'demo':
        needs(0, 'no arguments');
        await demoCommand({ json: values.json, progress }, io);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'; commands are info, eval, demo`);
    }
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
