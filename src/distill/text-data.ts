/**
 * Labelled sentences for teacher-student evaluation: JSON Lines files (`{"text", "label"}` per
 * line), plain text files (one sentence per line, no labels), and the bundled `sentiment` set
 * (its yelp test split, the students' training domain, and amazon and imdb whole, as shifts).
 * Node only: it reads the file system.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { packageRoot } from '../runtime/datasets/package-root.js';

/** One sentence; `label` is a class index when the file gives one. */
export interface TextSample {
  readonly text: string;
  readonly label?: number;
}

/** A line that could not be used, and why. */
export interface SkippedLine {
  readonly line: number;
  readonly reason: string;
}

/** The sentences of one domain, in file order. */
export interface TextDomain {
  /** Short name for reports, e.g. `yelp` or the file's name without extension. */
  readonly name: string;
  /** Where the sentences come from: a path, with the line range when it is a split. */
  readonly source: string;
  /** Whether this is the domain the student was trained on (bundled set only). */
  readonly inDomain?: boolean;
  readonly samples: TextSample[];
  readonly skipped: SkippedLine[];
}

/** Options of {@link openTextData}. */
export interface TextDataOptions {
  /** Class names, so that string labels such as `"positive"` map to their index. */
  labels?: readonly string[];
  /** Keep at most this many sentences per domain (the first ones). */
  limit?: number;
}

interface SentimentSplits {
  trainingDomain: string;
  labels: string[];
  splits: Record<string, { domain: string; start: number; end: number }>;
}

const BUNDLED = 'sentiment';
const HELD_OUT = ['amazon', 'imdb'] as const;

function parseLabel(value: unknown, labels: readonly string[] | undefined): number | string {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 ? value : `label ${value} is not a class index`;
  }
  if (typeof value === 'string') {
    const index = labels?.indexOf(value) ?? -1;
    if (index >= 0) return index;
    const known = labels ? `; the classes are ${labels.join(', ')}` : '';
    return `label '${value}' is not a class name${known}`;
  }
  return `label must be a class index or name, got ${JSON.stringify(value)}`;
}

/**
 * Parses JSON Lines text: one `{"text": ..., "label": ...}` object per line; blank lines
 * skipped.
 */
export function parseJsonLines(
  content: string,
  options: { labels?: readonly string[]; firstLine?: number } = {},
): { samples: TextSample[]; skipped: SkippedLine[] } {
  const samples: TextSample[] = [];
  const skipped: SkippedLine[] = [];
  const lines = content.split('\n');
  lines.forEach((raw, i) => {
    const line = (options.firstLine ?? 1) + i;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      skipped.push({ line, reason: `not valid JSON (${(error as Error).message})` });
      return;
    }
    const record = value as { text?: unknown; label?: unknown };
    if (typeof record?.text !== 'string' || record.text.trim() === '') {
      skipped.push({ line, reason: 'no "text" string' });
      return;
    }
    if (record.label === undefined || record.label === null) {
      samples.push({ text: record.text });
      return;
    }
    const label = parseLabel(record.label, options.labels);
    if (typeof label === 'string') skipped.push({ line, reason: label });
    else samples.push({ text: record.text, label });
  });
  return { samples, skipped };
}

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.message})`;
    throw new Error(
      `text data '${file}' ${why}; pass a .jsonl file ({"text", "label"} per line), a .txt ` +
        `file (one sentence per line) or the bundled name '${BUNDLED}'`,
    );
  });
}

async function openFile(file: string, options: TextDataOptions): Promise<TextDomain> {
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    throw new Error(
      `text data '${file}' is a folder; pass its .jsonl or .txt files separated by commas`,
    );
  }
  const content = await readText(file);
  const name = path.basename(file).replace(/\.(jsonl|txt)$/i, '');
  const extension = path.extname(file).toLowerCase();
  if (extension === '.txt') {
    const samples = content
      .split('\n')
      .map((line) => line.replace(/\r$/, ''))
      .filter((line) => line.trim() !== '')
      .map((text) => ({ text }));
    return { name, source: file, samples, skipped: [] };
  }
  if (extension !== '.jsonl') {
    throw new Error(
      `text data '${file}' is neither .jsonl ({"text", "label"} per line) nor .txt (one ` +
        'sentence per line); rename it or convert it',
    );
  }
  return { name, source: file, ...parseJsonLines(content, { labels: options.labels }) };
}

async function openBundled(options: TextDataOptions): Promise<TextDomain[]> {
  const folder = path.join(packageRoot(), 'data', BUNDLED);
  const splits = JSON.parse(await readText(path.join(folder, 'splits.json'))) as SentimentSplits;
  const labels = options.labels ?? splits.labels;
  const domain = async (
    name: string,
    range?: { start: number; end: number },
  ): Promise<TextDomain> => {
    const file = path.join(folder, `${name}.jsonl`);
    const lines = (await readText(file)).split('\n');
    const start = range?.start ?? 0;
    const end = range?.end ?? lines.length;
    const parsed = parseJsonLines(lines.slice(start, end).join('\n'), {
      labels,
      firstLine: start + 1,
    });
    const source = range ? `${file} lines ${start + 1}-${end}` : file;
    const inDomain = name === splits.trainingDomain;
    const label = range ? `${name} (test)` : name;
    return { name: label, source, inDomain, ...parsed };
  };
  const test = splits.splits.test;
  return [
    await domain(test.domain, test),
    ...(await Promise.all(HELD_OUT.map((name) => domain(name)))),
  ];
}

/**
 * Opens text data: the bundled name `sentiment`, or one or more `.jsonl` / `.txt` files
 * separated by commas, one domain each. Lines that cannot be used are skipped and listed.
 * @throws Error naming a file that does not exist, is a folder or has another extension.
 *
 * @example
 * ```ts
 * const domains = await openTextData('sentiment');
 * domains.map((d) => `${d.name}: ${d.samples.length}`);
 * // ['yelp (test): 200', 'amazon: 1000', 'imdb: 1000']
 * ```
 */
export async function openTextData(
  spec: string,
  options: TextDataOptions = {},
): Promise<TextDomain[]> {
  const { limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
  }
  const domains =
    spec === BUNDLED
      ? await openBundled(options)
      : await Promise.all(
          spec
            .split(',')
            .filter((part) => part.trim() !== '')
            .map((part) => openFile(part.trim(), options)),
        );
  if (domains.length === 0) throw new Error(`text data '${spec}' names no file`);
  for (const domain of domains) {
    if (domain.samples.length === 0) {
      const why = domain.skipped[0]
        ? ` (line ${domain.skipped[0].line}: ${domain.skipped[0].reason})`
        : '';
      throw new Error(`text data '${domain.source}' has no usable sentence${why}`);
    }
  }
  return limit === undefined
    ? domains
    : domains.map((d) => ({ ...d, samples: d.samples.slice(0, limit) }));
}
