/**
 * Checkpoints of long evaluations: a JSON-lines file whose first line says what run it belongs
 * to (model hash, preset, splits, options) and whose other lines are per-sample results,
 * appended batch by batch as they are computed. After a kill at any point, the same command
 * reads it back and goes on; a checkpoint of another run is refused, never mixed in.
 */
import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';

import type { SampleRecord } from './records.js';

/** A sample that could not be decoded, as stored. */
export interface SkippedEntry {
  i: number;
  id: string;
  reason: string;
}

/** What a checkpoint holds for each split. */
export interface CheckpointContents {
  records: Map<string, SampleRecord[]>;
  skipped: Map<string, SkippedEntry[]>;
}

const NUMERIC = ['conf', 'maxLogit', 'lse', 'entropy', 'nll', 'brier'] as const;

function describeDifference(
  expected: Record<string, unknown>,
  found: Record<string, unknown>,
): string {
  const keys = new Set([...Object.keys(expected), ...Object.keys(found)]);
  const differ = [...keys].filter((k) => JSON.stringify(expected[k]) !== JSON.stringify(found[k]));
  return differ.length ? differ.join(', ') : 'its format';
}

function parseLine(line: string, file: string, number: number): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(
      `checkpoint '${file}' line ${number} is not valid JSON; the file is damaged: delete it to ` +
        'start the run again',
    );
  }
}

/**
 * An open checkpoint. `key` identifies the run; `contents` is what an earlier, interrupted run
 * of the same key left.
 */
export class Checkpoint {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    readonly contents: CheckpointContents,
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Opens `file` for the run described by `key`, reading what it holds.
   * @throws Error naming the file and the fields that differ when it belongs to another run.
   */
  static open(file: string, key: Record<string, unknown>): Checkpoint {
    const contents: CheckpointContents = { records: new Map(), skipped: new Map() };
    const header = JSON.stringify({ ortlabCheckpoint: 1, key });
    if (!existsSync(file)) {
      const fd = openSync(file, 'a');
      writeSync(fd, header + '\n');
      return new Checkpoint(file, contents, fd);
    }
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    // The text after the last newline is empty, or a line a kill cut short: drop it.
    const complete = lines.slice(0, -1);
    const first = complete.length ? parseLine(complete[0], file, 1) : undefined;
    if (!first || first.ortlabCheckpoint !== 1) {
      throw new Error(`'${file}' is not an ortlab checkpoint; pass another --checkpoint path`);
    }
    const found = (first.key ?? {}) as Record<string, unknown>;
    if (JSON.stringify(found) !== JSON.stringify(key)) {
      throw new Error(
        `checkpoint '${file}' belongs to another run (differs in: ` +
          `${describeDifference(key, found)}); delete it or pass another --checkpoint path`,
      );
    }
    for (let n = 1; n < complete.length; n++) {
      const entry = parseLine(complete[n], file, n + 1);
      const split = String(entry.s);
      if ('reason' in entry) {
        const list = contents.skipped.get(split) ?? [];
        list.push({ i: Number(entry.i), id: String(entry.id), reason: String(entry.reason) });
        contents.skipped.set(split, list);
        continue;
      }
      const record = entry as unknown as SampleRecord & { s?: string };
      delete record.s;
      for (const field of NUMERIC) if (record[field] === null) record[field] = NaN;
      const list = contents.records.get(split) ?? [];
      list.push(record);
      contents.records.set(split, list);
    }
    // Cut a partial last line so that the next append starts on a line of its own.
    const keep = Buffer.byteLength(complete.map((l) => l + '\n').join(''), 'utf8');
    if (keep !== Buffer.byteLength(text, 'utf8')) truncateSync(file, keep);
    const appendFd = openSync(file, 'a');
    return new Checkpoint(file, contents, appendFd);
  }

  /** Samples of `split` already done (scored or skipped). */
  done(split: string): Set<number> {
    const records = this.contents.records.get(split) ?? [];
    const skipped = this.contents.skipped.get(split) ?? [];
    return new Set([...records.map((r) => r.i), ...skipped.map((s) => s.i)]);
  }

  /** Appends one batch's results with a single write. */
  append(split: string, records: readonly SampleRecord[], skipped: readonly SkippedEntry[]): void {
    if (this.fd === undefined) throw new Error(`checkpoint '${this.file}' is closed`);
    const lines = [
      ...records.map((r) => JSON.stringify({ s: split, ...r })),
      ...skipped.map((k) => JSON.stringify({ s: split, i: k.i, id: k.id, reason: k.reason })),
    ];
    if (lines.length) writeSync(this.fd, lines.join('\n') + '\n');
  }

  /** Closes the file. Safe to call twice. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
