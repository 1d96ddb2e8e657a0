/**
 * The `ortlab` command run as a separate process, as users run it: one-shot commands whose
 * output and exit code are returned, and long-running workers that a test can kill.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve('bin/ortlab.cjs');

/** What a finished command printed, and how it ended. */
export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ortlab ...args` to the end (it never throws for a non-zero exit). */
export function ortlab(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `ortlab(args)` with the arguments spread: `run('eval', model, data, '--json')`. */
export function runOrtlab(...args: string[]): Promise<Finished> {
  return ortlab(args);
}

/** A report as JSON: any fields, and its configuration block. */
export type ReportJson = Record<string, unknown> & { config: Record<string, unknown> };

/** Runs `ortlab ...args`, expects it to succeed, and parses what it printed as JSON. */
export async function ortlabJson(args: string[]): Promise<ReportJson> {
  const run = await ortlab(args);
  expect(run.code, run.stderr).to.equal(0);
  return JSON.parse(run.stdout) as ReportJson;
}

/**
 * A report without what differs between two runs of the same work: the date, where it ran (the
 * queue) and one process's timing.
 */
export function comparable<T extends { config: Record<string, unknown> }>(report: T): T {
  const config = { ...report.config };
  delete config.date;
  delete config.queue;
  const rest: Partial<T> & { timing?: unknown } = { ...report };
  delete rest.timing;
  return { ...rest, config } as T;
}

/** A running `ortlab worker`. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** The worker's name in job records (`host:pid`), once it has said it is ready. */
  name(): Promise<string>;
  /** Resolves with the signal (or exit code) it ended with. */
  exited: Promise<NodeJS.Signals | number | null>;
  /** Sends `signal` (default SIGTERM) and waits for the end. */
  stop(signal?: NodeJS.Signals): Promise<NodeJS.Signals | number | null>;
}

/** Starts `ortlab worker --queue url ...extra`. */
export function startWorkerProcess(url: string, extra: string[] = []): WorkerProcess {
  const child = spawn('node', [BIN, 'worker', '--queue', url, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const name = async (): Promise<string> => {
    for (let waited = 0; waited < 20_000; waited += 50) {
      const match = /worker (\S+) on /.exec(text);
      if (match) return match[1];
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`worker did not start:\n${text}`);
  };
  return {
    child,
    output: () => text,
    name,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
