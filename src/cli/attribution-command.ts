/**
 * `ortlab attribution <original> <compressed...> --data D`: how far compression moved the
 * Grad-CAM maps, and how well each model's maps localize the object when the data has masks.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Localization } from '../eval/attribution/compare-maps.js';
import { NoGapHeadError } from '../eval/attribution/gap-head.js';
import { ATTRIBUTION_METHODS, type AttributionMethod } from '../eval/attribution/map-source.js';
import { renderAttributionHtml } from '../eval/attribution/report-html.js';
import {
  exampleOverlays,
  runAttribution,
  type AttributionReport,
} from '../eval/attribution/run-node.js';
import type { Output } from './commands.js';
import { readModelCard } from './model-card.js';

export interface AttributionArgs {
  models: string[];
  data?: string;
  masks?: string;
  limit?: number;
  batch?: number;
  preset?: string;
  top?: number;
  /** gradcam (default), occlusion, rise or score-cam. */
  method?: string;
  feature?: string;
  /** RISE: masks per image and their seed. */
  masksCount?: number;
  seed?: number;
  /** Occlusion: patch side and stride in pixels. */
  patch?: number;
  stride?: number;
  threads?: number;
  out?: string;
  json?: boolean;
}

const pct = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`;
const num = (x: number | undefined, digits = 3): string =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);

function summary(report: AttributionReport): string[] {
  const header = [
    'model',
    'acc',
    'agree',
    'wcam x1e4',
    'spearman',
    'iou',
    'argmax',
    'auroc',
    'pointing',
  ];
  const rows = [
    [
      `${report.original.name} (original)`,
      pct(report.original.accuracy),
      '–',
      '–',
      '–',
      '–',
      '–',
      num(report.original.localization?.auroc),
      pct(report.original.localization?.pointingGame),
    ],
    ...report.compressed.map((m) => [
      m.name,
      pct(m.accuracy),
      pct(m.top1Agreement),
      num(m.wcamDistance * 1e4),
      num(m.spearman),
      num(m.topIoU),
      pct(m.argmaxAgreement),
      num(m.localization?.auroc),
      pct(m.localization?.pointingGame),
    ]),
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const undefinedOf = (
    name: string,
    values: Record<string, number> | undefined,
    localization: Localization | undefined,
  ): string[] => {
    const listed = Object.entries({ ...values, ...localization?.undefinedValues });
    const nonzero = listed.filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
    return nonzero.length ? [`${name} ${nonzero.join(', ')}`] : [];
  };
  const counts = [
    ...undefinedOf(report.original.name, undefined, report.original.localization),
    ...report.compressed.flatMap((m) => undefinedOf(m.name, m.undefinedValues, m.localization)),
  ];
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `${report.config.method} maps, ${report.samples} images of ${report.data.name}` +
      (report.data.masks ? ` with masks (${report.data.masks})` : ', no masks'),
    line(header),
    ...rows.map(line),
    `images whose value was undefined, left out of the means: ${counts.join('; ') || 'none'}`,
  ];
}

function methodOf(args: AttributionArgs): AttributionMethod {
  const method = (args.method ?? 'gradcam') as AttributionMethod;
  if (!ATTRIBUTION_METHODS.includes(method)) {
    throw new RangeError(
      `--method takes ${ATTRIBUTION_METHODS.join(', ')}, got '${String(args.method)}'`,
    );
  }
  const misplaced = [
    ['--masks-count', args.masksCount, 'rise'],
    ['--patch', args.patch, 'occlusion'],
    ['--stride', args.stride, 'occlusion'],
  ] as const;
  for (const [flag, value, owner] of misplaced) {
    if (value !== undefined && method !== owner) {
      throw new RangeError(`${flag} is an option of --method ${owner}, not of ${method}`);
    }
  }
  return method;
}

/** Runs the command; `--out DIR` writes report.json and report.html there. */
export async function attributionCommand(args: AttributionArgs, io: Output): Promise<void> {
  const [original, ...compressed] = args.models;
  if (!original || compressed.length === 0) {
    throw new RangeError(
      "'ortlab attribution' takes the original model and one or more compressed ones",
    );
  }
  const method = methodOf(args);
  const card = await readModelCard(original);
  const data = args.data ?? (card?.dataset === 'localization' ? 'localization' : undefined);
  if (data === undefined) throw new RangeError('--data names the images to explain');
  const report = await runAttribution(original, compressed, data, {
    masks: args.masks,
    limit: args.limit,
    batchSize: args.batch,
    preset: args.preset,
    topFraction: args.top,
    method,
    feature: args.feature,
    occlusion: { patch: args.patch, stride: args.stride },
    rise: { masks: args.masksCount, seed: args.seed },
    session: { threads: args.threads },
  }).catch((error: unknown) => {
    if (!(error instanceof NoGapHeadError)) throw error;
    throw new Error(
      `${error.message}: pass --method occlusion, --method rise or --method score-cam ` +
        '--feature NAME',
    );
  });
  const { examples, ...rest } = report;
  const json = {
    ...rest,
    examples: examples.map(({ index, label, target }) => ({ index, label, target })),
  };
  if (args.out !== undefined) {
    await mkdir(args.out, { recursive: true });
    await writeFile(path.join(args.out, 'report.json'), `${JSON.stringify(json, null, 2)}\n`);
    const html = renderAttributionHtml(report, await exampleOverlays(report), card?.labels);
    await writeFile(path.join(args.out, 'report.html'), html);
  }
  if (args.json) {
    io.out(JSON.stringify(json, null, 2));
    return;
  }
  for (const l of summary(report)) io.out(l);
  if (args.out !== undefined) io.out(`report written to ${path.join(args.out, 'report.html')}`);
}
