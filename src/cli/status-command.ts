/**
 * `ortlab status --queue URL [<submission>]`: a table of submissions (state, shards done and
 * failed, rate, time left), or one submission shard by shard; `--out DIR` writes a finished
 * submission's report as the local command would; `--remove` deletes it and its results.
 */
import { checkRedis } from '../queue/connection.js';
import {
  listSubmissions,
  mergedResult,
  openQueue,
  removeSubmission,
  submissionStatus,
  type SubmissionStatus,
} from '../queue/status.js';
import type { Output } from './commands.js';
import { queueTarget, type QueueValues } from './queue-options.js';
import { presentMerged, type MergedResult } from './submission-result.js';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The table of submissions, one line each. */
export function statusTable(statuses: readonly SubmissionStatus[]): string[] {
  const rows = statuses.map((s) => [
    s.submission,
    s.state,
    `${s.done}/${s.shards}`,
    String(s.failed),
    String(s.active),
    s.rate > 0 ? `${(s.rate * 60).toFixed(1)}/min` : '-',
    s.state === 'running' || s.state === 'queued' ? duration(s.etaSeconds) : '-',
    s.command,
  ]);
  const header = ['submission', 'state', 'done', 'failed', 'active', 'rate', 'ETA', 'command'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** One submission, shard by shard. */
export function shardLines(status: SubmissionStatus): string[] {
  return status.shardStates.map((s) => {
    const progress =
      s.state === 'active' && s.progress?.done !== undefined
        ? ` ${s.progress.task ?? ''} ${s.progress.done}/${s.progress.total ?? '?'}`
        : '';
    const worker = s.worker ? ` on ${s.worker}` : '';
    const starts = s.attemptsStarted > 1 ? `, started ${s.attemptsStarted} times` : '';
    const error = s.error ? `: ${s.error}` : '';
    return `  shard ${s.index}: ${s.state}${progress}${worker}${starts}${error}`;
  });
}

/** `ortlab status`. */
export async function statusCommand(
  rest: string[],
  values: QueueValues & { json?: boolean; out?: string },
  io: Output,
): Promise<void> {
  if (rest.length > 1) throw new Error("'ortlab status' takes at most one submission id");
  const target = await queueTarget(values);
  await checkRedis(target);
  const queue = openQueue(target);
  try {
    const [id] = rest;
    if (id === undefined) {
      const all = await listSubmissions(queue);
      if (values.json) io.out(JSON.stringify(all, null, 2));
      else if (all.length === 0) io.out(`no submissions on ${target.url}`);
      else for (const line of statusTable(all)) io.out(line);
      return;
    }
    if (values.remove) {
      if (!(await removeSubmission(queue, id))) {
        throw new Error(`no submission '${id}' on ${target.url}`);
      }
      io.out(`removed submission ${id}, its shards and their results from ${target.url}`);
      return;
    }
    const status = await submissionStatus(queue, id);
    if (!status) throw new Error(`no submission '${id}' on ${target.url}`);
    if (values.out !== undefined) {
      const merged = await mergedResult<MergedResult>(queue, id);
      if (!merged) throw new Error(`submission ${id} is ${status.state}; its report is not ready`);
      return await presentMerged(merged, { out: values.out, json: values.json }, io);
    }
    if (values.json) {
      io.out(JSON.stringify(status, null, 2));
      return;
    }
    for (const line of [...statusTable([status]), ...shardLines(status)]) io.out(line);
  } finally {
    await queue.close();
  }
}
