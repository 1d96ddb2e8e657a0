/**
 * Turns progress events into a bar with rate and ETA on a terminal, or into plain lines (at most
 * one every few seconds) when standard error is a file or a pipe.
 */
import type { ProgressCallback } from '../runtime/progress.js';

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** A progress callback writing to `stream` (default standard error). */
export function progressBar(
  stream: NodeJS.WriteStream = process.stderr,
  options: { plainEverySeconds?: number } = {},
): ProgressCallback {
  let started = Date.now();
  let lastPlain = 0;
  const every = (options.plainEverySeconds ?? 5) * 1000;
  return (event) => {
    if (event.status === 'initiate') {
      started = Date.now();
      lastPlain = 0;
      if (!stream.isTTY) stream.write(`${event.task}: ${event.total ?? '?'} items\n`);
      return;
    }
    const elapsed = (Date.now() - started) / 1000;
    const rate = event.done / Math.max(elapsed, 1e-3);
    const total = event.total;
    const eta = total ? (total - event.done) / rate : NaN;
    const skipped = event.skipped ? `, ${event.skipped} skipped` : '';
    const speed = `${rate.toFixed(0)}/s`;
    const counts = `${event.done}/${total ?? '?'} ${speed} ETA ${formatSeconds(eta)}${skipped}`;
    if (stream.isTTY) {
      const width = 30;
      const filled = total
        ? Math.min(width, Math.max(0, Math.round((width * event.done) / total)))
        : 0;
      const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
      stream.write(`\r${event.task} [${bar}] ${counts}\x1b[K`);
      if (event.status === 'done') stream.write('\n');
    } else if (event.status === 'done' || Date.now() - lastPlain >= every) {
      lastPlain = Date.now();
      stream.write(`${event.task}: ${counts}\n`);
    }
  };
}
