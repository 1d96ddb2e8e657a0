/**
 * `ortlab distill <teacher> <student> --data D`: how far a distilled student stays from its
 * teacher, per domain: every CKD term, classic distillation, agreement and accuracy.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { CkdTerm } from '../distill/ckd-loss.js';
import {
  MAPPING_KINDS,
  type LayerMappingSpec,
  type MappingKind,
} from '../distill/layer-mapping.js';
import type { AngleWindow } from '../distill/loss-options.js';
import { renderDistillHtml } from '../distill/report-html.js';
import { runDistillation, type DistillReport } from '../distill/run-node.js';
import type { Output } from './commands.js';
import { progressBar } from './progress-bar.js';

export interface DistillArgs {
  teacher: string;
  student: string;
  data?: string;
  mapping?: string;
  window?: string;
  temperature?: number;
  limit?: number;
  batch?: number;
  /** Sentences whose relation maps the report draws: a count, or sentences separated by `|`. */
  examples?: string;
  tokenizer?: string;
  ep?: string;
  threads?: number;
  out?: string;
  json?: boolean;
  progress?: boolean;
}

/**
 * Parses `--mapping`: a named mapping or explicit pairs `teacher:student,...` such as
 * `0:0,6:1,12:2`.
 */
export function parseMapping(value: string): LayerMappingSpec {
  if ((MAPPING_KINDS as readonly string[]).includes(value)) return value as MappingKind;
  const pairs = value.split(',').map((pair) => pair.trim().split(':').map(Number));
  if (pairs.some((p) => p.length !== 2 || !p.every((n) => Number.isInteger(n) && n >= 0))) {
    throw new RangeError(
      `--mapping takes ${MAPPING_KINDS.join(', ')} or pairs teacher:student separated by ` +
        `commas (such as 0:0,2:1,4:2), got '${value}'`,
    );
  }
  return pairs.map(([t, s]) => [t, s] as const);
}

function parseWindow(value: string | undefined): AngleWindow | undefined {
  if (value === undefined || value === 'full') return value;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new RangeError(`--window takes a positive token count or 'full', got '${value}'`);
  }
  return n;
}

/**
 * Parses `--examples`: a count of sentences from the first domain (`3`), or the sentences
 * themselves separated by `|` (`"great food|cold and late"`).
 */
export function parseExamples(value: string | undefined): number | string[] | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const sentences = value
    .split('|')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (sentences.length === 0) {
    throw new RangeError(
      `--examples takes a count or sentences separated by '|' (such as "great food|cold and ` +
        `late"), got '${value}'`,
    );
  }
  return sentences;
}

const TERMS: readonly CkdTerm[] = ['kd', 'wrPair', 'wrAngle', 'ltrPair', 'ltrAngle', 'wrDistance'];
function pct(x: number | undefined): string {
  return x === undefined ? '–' : `${(100 * x).toFixed(1)}%`;
}
const num = (x: number | undefined): string => (x === undefined ? '–' : x.toPrecision(4));

/** The lines of a domain's file that were skipped, each with its number and reason. */
function skippedLines(domain: DistillReport['domains'][number]): string[] {
  const shown = domain.skipped
    .slice(0, 10)
    .map((s) => `${domain.source} line ${s.line} skipped: ${s.reason}`);
  const more = domain.skipped.length - shown.length;
  return more > 0 ? [...shown, `${domain.source}: ${more} more lines skipped`] : shown;
}

function summary(report: DistillReport): string[] {
  const terms = TERMS.filter((t) => report.weights[t] > 0);
  const header = ['domain', 'n', 'teacher', 'student', 'agree', ...terms, 'total'];
  const rows = report.domains.map((d) => [
    d.name + (d.inDomain ? ' *' : ''),
    String(d.sentences),
    pct(d.teacherAccuracy),
    pct(d.studentAccuracy),
    pct(d.agreement),
    ...terms.map((t) => num(d.terms[t])),
    num(d.total),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const mapping = report.mapping.map((p) => `${p.teacher}->${p.student}`).join(', ');
  return [
    `teacher ${report.teacher.path} (${report.teacher.hiddenStates} hidden states) · ` +
      `student ${report.student.path} (${report.student.hiddenStates})`,
    `mapping ${mapping}; window ${report.window}; temperature ${report.temperature}`,
    line(header),
    ...rows.map(line),
    ...(report.domains.some((d) => d.inDomain) ? ['* the domain the student was trained on'] : []),
    ...report.notes,
    ...report.domains.flatMap(skippedLines),
  ];
}

/** Runs the command; `--out DIR` writes report.json and report.html there. */
export async function distillCommand(args: DistillArgs, io: Output): Promise<void> {
  const report = await runDistillation(args.teacher, args.student, args.data ?? 'sentiment', {
    mapping: args.mapping === undefined ? undefined : parseMapping(args.mapping),
    window: parseWindow(args.window),
    temperature: args.temperature,
    limit: args.limit,
    batchSize: args.batch,
    examples: parseExamples(args.examples),
    tokenizer: args.tokenizer,
    session: { executionProviders: args.ep, threads: args.threads },
    onProgress: args.progress === false ? undefined : progressBar(),
  });
  if (args.out !== undefined) {
    await mkdir(args.out, { recursive: true });
    await writeFile(path.join(args.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(path.join(args.out, 'report.html'), renderDistillHtml(report, report.labels));
  }
  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  for (const line of summary(report)) io.out(line);
  if (args.out !== undefined) io.out(`report written to ${path.join(args.out, 'report.html')}`);
}
