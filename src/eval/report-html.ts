/**
 * The robustness report as one self-contained HTML page: inline CSS, charts drawn here as inline
 * SVG, images as data: URIs, no script and no external resource (a Content-Security-Policy says
 * so to the browser). Pure string building without Node modules, so the browser build can use it.
 */
import type { Mistake, RobustnessReport, SplitReport } from './report.js';
import {
  accuracyChart,
  escapeHtml as esc,
  formatCount,
  formatNumber,
  formatPercent,
  prChart,
  reliabilityChart,
  rocChart,
} from './report-charts.js';
import { reportPage } from './report-style.js';
import type { Detection, OodMetrics } from './split-metrics.js';

/** Options of `renderReportHtml`. */
export interface ReportHtmlOptions {
  /**
   * Images of the mistakes by `thumbnailKey(split, index)`, as `data:image/...` URIs. Default
   * none: every mistake shows a placeholder box. Other URIs are ignored (the page loads nothing).
   */
  thumbnails?: ReadonlyMap<string, string>;
  /** The page title. Default `ortlab robustness report: <suite name>`. */
  title?: string;
}

/** How many skipped files each split lists before it only counts the rest. */
const SKIPPED_LISTED = 50;

const SCORE_LABELS: Readonly<Record<string, string>> = Object.freeze({
  msp: 'MSP',
  maxLogit: 'Max logit',
  energy: 'Energy',
  entropy: 'Entropy',
});

/** The key of a mistake's thumbnail: `${split}#${index}`. */
export function thumbnailKey(split: string, index: number): string {
  return `${split}#${index}`;
}

/**
 * Renders a robustness report as one HTML document that needs nothing but itself: the header
 * (suite, model hash, preset, provider, date, versions), the summary table, an accuracy chart, a
 * reliability diagram per labelled split, OOD detection tables with ROC and PR curves, the most
 * confident mistakes with their images, the skipped files and the full configuration. Every text
 * is escaped; a missing or non-finite metric (NaN, or `null` in a report read back from JSON)
 * shows as "–".
 *
 * @example
 * ```ts
 * const html = renderReportHtml(report, { thumbnails });
 * html.startsWith('<!doctype html>'); // true
 * ```
 */
export function renderReportHtml(
  report: RobustnessReport,
  options: ReportHtmlOptions = {},
): string {
  const title = options.title ?? `ortlab robustness report: ${report.suite.name}`;
  const thumbnails = options.thumbnails ?? new Map<string, string>();
  const labelled = report.splits.filter((s) => s.metrics);
  const body = [
    header(report, title),
    nav(),
    section('summary', 'Summary', summaryTable(report.splits) + splitNotes(report.splits)),
    section('accuracy', 'Accuracy per split', accuracyChart(labelled)),
    section('calibration', 'Reliability', reliability(labelled)),
    section('ood', 'Out-of-distribution detection', report.ood.map(oodBlock).join('')),
    section('mistakes', 'Most confident mistakes', mistakes(report.splits, thumbnails)),
    section('skipped', 'Skipped files', skipped(report.splits)),
    configBlock(report.config),
  ];
  return reportPage(title, body);
}

function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function header(report: RobustnessReport, title: string): string {
  const config = report.config;
  const sha = text(config.modelSha256) ?? text(field(config.model, 'sha256'));
  const versions = field(config, 'versions');
  const versionText =
    versions && typeof versions === 'object'
      ? Object.entries(versions)
          .map(([name, v]) => `${name} ${text(v) ?? ''}`)
          .join(' · ')
      : undefined;
  const items: [string, string | undefined, string?][] = [
    ['Suite', report.suite.name],
    ['Model', text(field(config.model, 'path'))],
    ['SHA-256', sha?.slice(0, 12), sha],
    ['Preset', text(config.preset) ?? text(field(config.preset, 'name'))],
    ['Provider', text(config.executionProvider)],
    ['Threads', text(config.threads)],
    ['Batch size', text(config.batchSize)],
    ['Date', text(config.date)],
    ['Versions', versionText],
  ];
  const meta = items
    .map(([name, value, full]) => {
      const hover = full ? ` title="${esc(full)}"` : '';
      return `<div><dt>${name}</dt><dd${hover}>${esc(value ?? '–')}</dd></div>`;
    })
    .join('');
  const description = report.suite.description
    ? `<p class="description">${esc(report.suite.description)}</p>`
    : '';
  return `<header><h1>${esc(title)}</h1>${description}<dl class="meta">${meta}</dl></header>`;
}

function nav(): string {
  const links = [
    ['summary', 'Summary'],
    ['accuracy', 'Accuracy'],
    ['calibration', 'Reliability'],
    ['ood', 'OOD'],
    ['mistakes', 'Mistakes'],
    ['skipped', 'Skipped'],
    ['config', 'Configuration'],
  ];
  return `<nav>${links.map(([id, name]) => `<a href="#${id}">${name}</a>`).join('')}</nav>`;
}

function section(id: string, heading: string, content: string): string {
  const inner = content || '<p class="empty">Nothing to show.</p>';
  return `<section id="${id}"><h2>${heading}</h2>${inner}</section>`;
}

function row(cells: readonly string[], tag: 'td' | 'th' = 'td', firstNumeric = 1): string {
  const cell = (c: string, k: number): string =>
    `<${tag}${k >= firstNumeric ? ' class="num"' : ''}>${c}</${tag}>`;
  return `<tr>${cells.map(cell).join('')}</tr>`;
}

function summaryTable(splits: readonly SplitReport[]): string {
  const head = ['Split', 'Role', 'n', 'Skipped', 'Top-1', 'Top-5', 'ECE', 'RMS calib. error'];
  const rows = splits.map((s) => {
    const m = s.metrics;
    const cells = [
      esc(s.name),
      `<span class="role role-${esc(s.role)}">${esc(s.role)}</span>`,
      formatCount(s.scored),
      formatCount(s.skipped.length),
      formatPercent(m?.top1),
      formatPercent(m?.top5),
      formatPercent(m?.ece),
      formatPercent(m?.rmsCalibrationError),
      formatNumber(m?.nll),
      formatNumber(m?.brier),
      formatCount(m?.nonFinite ?? s.nonFinite),
    ];
    return row(cells, 'td', 2).replace('<tr>', `<tr data-split="${esc(s.name)}">`);
  });
  return (
    `<table class="summary"><thead>${row([...head, 'NLL', 'Brier', 'Non-finite'], 'th', 2)}` +
    `</thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function splitNotes(splits: readonly SplitReport[]): string {
  const items = splits.map((s) => {
    const words = [s.description, s.protocol].filter((w): w is string => Boolean(w));
    const about = words.length ? ` — ${esc(words.join(' '))}` : '';
    return (
      `<li><b>${esc(s.name)}</b> ` +
      `<span class="muted">${esc(s.kind ?? '')} · ${esc(s.data)}</span>` +
      `${about}</li>`
    );
  });
  return `<ul class="split-notes">${items.join('')}</ul>`;
}

function reliability(labelled: readonly SplitReport[]): string {
  const figures = labelled.map((s) => {
    const m = s.metrics as NonNullable<SplitReport['metrics']>;
    const caption =
      `<b>${esc(s.name)}</b> · ECE ${formatPercent(m.ece)} · ` +
      `mean confidence ${formatPercent(m.meanConfidence)} · n ${formatCount(m.n)}`;
    const chart = reliabilityChart(s.name, m.reliability);
    return `<figure>${chart}<figcaption>${caption}</figcaption></figure>`;
  });
  const note =
    '<p class="note">Bars: accuracy per confidence bin; shaded: the gap to the bin\'s mean ' +
    'confidence (red: over-confident, pale: under-confident); dashed: perfect calibration; ' +
    'below: samples per bin.</p>';
  return figures.length ? `${note}<div class="charts">${figures.join('')}</div>` : '';
}

function detectionCells(d: Detection | undefined): string[] {
  return [formatPercent(d?.auroc), formatPercent(d?.aupr), formatPercent(d?.fpr95)];
}

function oodBlock(entry: OodMetrics & { split: string }): string {
  const scores = Object.entries(entry.scores ?? {});
  const rows = scores.map(([name, s]) =>
    row([
      esc(SCORE_LABELS[name] ?? name),
      ...detectionCells(s?.outPositive),
      ...detectionCells(s?.inPositive),
    ]),
  );
  const groups =
    '<tr><th></th><th colspan="3" class="group">OOD positive</th>' +
    '<th colspan="3" class="group">ID positive</th></tr>';
  const metrics = ['AUROC', 'AUPR', 'FPR95'];
  const table =
    `<table class="ood-scores" data-split="${esc(entry.split)}"><thead>${groups}` +
    `${row(['Anomaly score', ...metrics, ...metrics], 'th')}</thead>` +
    `<tbody>${rows.join('')}</tbody></table>`;
  const msp = entry.scores?.msp?.outPositive;
  const share = entry.nOut / (entry.nIn + entry.nOut);
  const charts =
    `<div class="charts"><figure>${rocChart(entry.split, entry.curves?.roc)}` +
    `<figcaption>ROC, MSP score, OOD positive · AUROC ${formatPercent(msp?.auroc)}</figcaption>` +
    `</figure><figure>${prChart(entry.split, entry.curves?.pr, share)}` +
    `<figcaption>Precision–recall, MSP score, OOD positive · AUPR ${formatPercent(msp?.aupr)}` +
    '</figcaption></figure></div>';
  return (
    `<div class="ood-split" data-split="${esc(entry.split)}"><h3>${esc(entry.split)} ` +
    `<span class="muted">against ${esc(entry.inDistribution)} · ${formatCount(entry.nOut)} OOD, ` +
    `${formatCount(entry.nIn)} in-distribution</span></h3>${table}${charts}</div>`
  );
}

function thumbnail(uri: string | undefined, alt: string): string {
  if (uri && /^data:image\/[a-z0-9.+-]+;base64,[a-z0-9+/=]*$/i.test(uri)) {
    return `<img class="thumb" src="${esc(uri)}" alt="${esc(alt)}">`;
  }
  return '<div class="thumb placeholder" role="img" aria-label="no image">no image</div>';
}

function mistakeFigure(
  split: SplitReport,
  m: Mistake,
  thumbnails: ReadonlyMap<string, string>,
): string {
  const truth = m.label ? esc(m.label) : '<i>OOD</i>';
  const image = thumbnail(thumbnails.get(thumbnailKey(split.name, m.index)), m.id);
  return (
    `<figure class="mistake">${image}` +
    `<figcaption><span class="labels">${truth} → <b>${esc(m.predicted)}</b></span>` +
    `<span class="conf">${formatPercent(m.confidence, 1)}</span>` +
    `<span class="id" title="${esc(m.id)}">${esc(m.id)}</span></figcaption></figure>`
  );
}

function mistakes(splits: readonly SplitReport[], thumbnails: ReadonlyMap<string, string>): string {
  return splits
    .filter((s) => s.mistakes.length > 0)
    .map(
      (s) =>
        `<h3>${esc(s.name)} <span class="muted">${
          s.role === 'ood'
            ? 'most confident ' + 'predictions on OOD images'
            : 'label → predicted, confidence'
        }</span></h3>` +
        `<div class="mistakes" data-split="${esc(s.name)}">` +
        `${s.mistakes.map((m) => mistakeFigure(s, m, thumbnails)).join('')}</div>`,
    )
    .join('');
}

function skipped(splits: readonly SplitReport[]): string {
  const blocks = splits
    .filter((s) => s.skipped.length > 0)
    .map((s) => {
      const items = s.skipped
        .slice(0, SKIPPED_LISTED)
        .map(
          (k) => `<li><code>${esc(k.id)}</code> <span class="reason">${esc(k.reason)}</span></li>`,
        );
      const rest = s.skipped.length - SKIPPED_LISTED;
      const more = rest > 0 ? `<p class="more">… and ${formatCount(rest)} more</p>` : '';
      return (
        `<div class="skipped" data-split="${esc(s.name)}"><h3>${esc(s.name)} ` +
        `<span class="muted">${formatCount(s.skipped.length)} skipped</span></h3>` +
        `<ul>${items.join('')}</ul>${more}</div>`
      );
    });
  return blocks.length ? blocks.join('') : '<p class="empty">No file was skipped.</p>';
}

function configBlock(config: Record<string, unknown>): string {
  return (
    '<section id="config"><details class="config"><summary>Configuration</summary>' +
    `<pre>${esc(JSON.stringify(config, null, 2) ?? '')}</pre></details></section>`
  );
}
