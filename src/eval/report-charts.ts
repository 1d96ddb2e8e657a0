/**
 * The robustness report's charts as inline SVG strings (accuracy bars, reliability diagram, ROC
 * and PR curves), with the escaping and number formatting the HTML page shares. No script, no
 * Node module: the browser build renders the same page.
 */
import type { SplitMetrics } from './split-metrics.js';
import type { SplitReport } from './report.js';

/** A metric as a report holds it: NaN in memory, `null` once written to JSON, or absent. */
export type MaybeNumber = number | null | undefined;

/** What a missing or non-finite metric shows. */
export const MISSING = '–';

const ENTITIES: Readonly<Record<string, string>> = Object.freeze({
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
});

/** Escapes text for HTML and SVG content and for quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

function isFiniteNumber(value: MaybeNumber): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A fraction as a percentage, `0.8765` → `87.65%`; "–" when missing or non-finite. */
export function formatPercent(value: MaybeNumber, digits = 2): string {
  return isFiniteNumber(value) ? `${(value * 100).toFixed(digits)}%` : MISSING;
}

/** A number with fixed decimals; "–" when missing or non-finite. */
export function formatNumber(value: MaybeNumber, digits = 3): string {
  return isFiniteNumber(value) ? value.toFixed(digits) : MISSING;
}

/** A count with thousands separators; "–" when missing. */
export function formatCount(value: MaybeNumber): string {
  return isFiniteNumber(value) ? value.toLocaleString('en-US') : MISSING;
}

/** A plot area inside an SVG, in pixels. */
interface Frame {
  x: number;
  y: number;
  width: number;
  height: number;
}

const px = (v: number): string => (Math.round(v * 10) / 10).toString();
const sx = (f: Frame, v: number): number => f.x + v * f.width;
const sy = (f: Frame, v: number): number => f.y + f.height - v * f.height;

function svg(kind: string, split: string | undefined, width: number, height: number): string {
  const data = split === undefined ? '' : ` data-split="${escapeHtml(split)}"`;
  return (
    `<svg class="chart ${kind}"${data} xmlns="http://www.w3.org/2000/svg" width="${width}" ` +
    `height="${height}" viewBox="0 0 ${width} ${height}" role="img">`
  );
}

function shorten(name: string, max: number): string {
  return name.length > max ? `${name.slice(0, max - 1)}…` : name;
}

/** Grid, ticks at 0, 0.25, ..., 1 on both axes, and the axis names, of a unit-square plot. */
function unitAxes(f: Frame, xName: string, yName: string): string {
  const parts: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const x = px(sx(f, t));
    const y = px(sy(f, t));
    parts.push(
      `<line class="grid" x1="${x}" y1="${f.y}" x2="${x}" y2="${f.y + f.height}"/>`,
      `<line class="grid" x1="${f.x}" y1="${y}" x2="${f.x + f.width}" y2="${y}"/>`,
      `<text class="tick" x="${x}" y="${f.y + f.height + 14}" text-anchor="middle">${t}</text>`,
      `<text class="tick" x="${f.x - 6}" y="${px(sy(f, t) + 4)}" text-anchor="end">${t}</text>`,
    );
  }
  const midY = px(f.y + f.height / 2);
  parts.push(
    `<rect class="frame" x="${f.x}" y="${f.y}" width="${f.width}" height="${f.height}"/>`,
    `<text class="axis" x="${px(f.x + f.width / 2)}" y="${f.y + f.height + 32}" ` +
      `text-anchor="middle">${xName}</text>`,
    `<text class="axis" x="14" y="${midY}" text-anchor="middle" ` +
      `transform="rotate(-90 14 ${midY})">${yName}</text>`,
  );
  return parts.join('');
}

function noData(f: Frame): string {
  return (
    `<text class="nodata" x="${px(f.x + f.width / 2)}" y="${px(f.y + f.height / 2)}" ` +
    'text-anchor="middle">no data</text>'
  );
}

/** A polyline through the finite (x, y) pairs, both in [0, 1]. */
function curve(f: Frame, xs: readonly MaybeNumber[], ys: readonly MaybeNumber[]): string {
  const points: string[] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i];
    const y = ys[i];
    if (isFiniteNumber(x) && isFiniteNumber(y)) points.push(`${px(sx(f, x))},${px(sy(f, y))}`);
  }
  if (points.length === 0) return noData(f);
  return `<polyline class="curve" points="${points.join(' ')}"/>`;
}

/**
 * Horizontal bars of top-1 (dark) over top-5 (light) accuracy, one row per labelled split.
 */
export function accuracyChart(splits: readonly SplitReport[]): string {
  if (splits.length === 0) return '';
  const rowHeight = 30;
  const f: Frame = { x: 150, y: 28, width: 420, height: splits.length * rowHeight };
  const height = f.y + f.height + 24;
  const parts = [svg('accuracy', undefined, 720, height)];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const x = px(sx(f, t));
    parts.push(
      `<line class="grid" x1="${x}" y1="${f.y}" x2="${x}" y2="${f.y + f.height}"/>`,
      `<text class="tick" x="${x}" y="${f.y + f.height + 16}" text-anchor="middle">` +
        `${t * 100}%</text>`,
    );
  }
  parts.push(
    `<rect class="bar top5" x="${f.x}" y="6" width="12" height="12"/>` +
      `<text class="tick" x="${f.x + 16}" y="16">top-5</text>` +
      `<rect class="bar top1" x="${f.x + 70}" y="6" width="12" height="12"/>` +
      `<text class="tick" x="${f.x + 86}" y="16">top-1</text>`,
  );
  splits.forEach((s, k) => {
    const m = s.metrics;
    const y = f.y + k * rowHeight + 5;
    const bar = (cls: string, value: MaybeNumber, top: number, h: number): string =>
      isFiniteNumber(value)
        ? `<rect class="bar ${cls}" x="${f.x}" y="${top}" width="${px(value * f.width)}" ` +
          `height="${h}"/>`
        : '';
    parts.push(
      `<g data-split="${escapeHtml(s.name)}"><title>${escapeHtml(s.name)}: top-1 ` +
        `${formatPercent(m?.top1)}, top-5 ${formatPercent(m?.top5)}</title>`,
      `<text class="label" x="${f.x - 8}" y="${y + 14}" text-anchor="end">` +
        `${escapeHtml(shorten(s.name, 20))}</text>`,
      bar('top5', m?.top5, y, 20),
      bar('top1', m?.top1, y + 4, 12),
      `<text class="value" x="${f.x + f.width + 8}" y="${y + 14}">${formatPercent(m?.top1, 1)}` +
        ` · ${formatPercent(m?.top5, 1)}</text></g>`,
    );
  });
  return `${parts.join('')}</svg>`;
}

/**
 * Reliability diagram (Guo et al., 2017): accuracy per confidence bin as bars, the gap to the
 * bin's mean confidence shaded, the diagonal of perfect calibration, and the samples per bin as
 * a histogram strip with their counts.
 */
export function reliabilityChart(split: string, bins: SplitMetrics['reliability']): string {
  const f: Frame = { x: 46, y: 12, width: 270, height: 270 };
  const strip = { top: f.y + f.height + 44, height: 46 };
  const parts = [svg('reliability', split, 336, strip.top + strip.height + 8)];
  parts.push(unitAxes(f, 'confidence', 'accuracy'));
  const maxCount = Math.max(1, ...bins.map((b) => b.count ?? 0));
  for (const b of bins) {
    const x = sx(f, b.lower);
    const w = Math.max(1, (b.upper - b.lower) * f.width - 2);
    const tip =
      `<title>${b.lower.toFixed(2)}–${b.upper.toFixed(2)}: ${formatCount(b.count)} samples, ` +
      `accuracy ${formatPercent(b.accuracy, 1)}, confidence ${formatPercent(b.confidence, 1)}` +
      '</title>';
    if (isFiniteNumber(b.accuracy) && b.count > 0) {
      const confidence = isFiniteNumber(b.confidence) ? b.confidence : b.accuracy;
      const over = confidence > b.accuracy;
      const gap = Math.abs(confidence - b.accuracy);
      parts.push(
        `<g class="bin">${tip}`,
        `<rect class="bar acc" x="${px(x + 1)}" y="${px(sy(f, b.accuracy))}" width="${px(w)}" ` +
          `height="${px(b.accuracy * f.height)}"/>`,
        `<rect class="gap ${over ? 'over' : 'under'}" x="${px(x + 1)}" ` +
          `y="${px(sy(f, Math.max(confidence, b.accuracy)))}" width="${px(w)}" ` +
          `height="${px(gap * f.height)}"/></g>`,
      );
    }
    const h = ((b.count ?? 0) / maxCount) * strip.height;
    const cx = px(x + w / 2 + 1);
    const ty = strip.top + strip.height - 3;
    parts.push(
      `<g class="count">${tip}<rect class="bar hist" x="${px(x + 1)}" ` +
        `y="${px(strip.top + strip.height - h)}" width="${px(w)}" height="${px(h)}"/>`,
      b.count > 0
        ? `<text class="count" x="${cx}" y="${ty}" transform="rotate(-90 ${cx} ${ty})" ` +
            `dy="3">${formatCount(b.count)}</text>`
        : '',
      '</g>',
    );
  }
  parts.push(
    `<line class="diagonal" x1="${f.x}" y1="${f.y + f.height}" x2="${f.x + f.width}" ` +
      `y2="${f.y}"/>`,
    `<text class="tick" x="${f.x - 6}" y="${strip.top + 10}" text-anchor="end">n</text>`,
    `<line class="grid" x1="${f.x}" y1="${strip.top + strip.height}" x2="${f.x + f.width}" ` +
      `y2="${strip.top + strip.height}"/>`,
  );
  return `${parts.join('')}</svg>`;
}

/** ROC curve (false-positive rate against true-positive rate) with the chance diagonal. */
export function rocChart(split: string, roc: { fpr: number[]; tpr: number[] } | undefined): string {
  const f: Frame = { x: 46, y: 12, width: 270, height: 270 };
  return (
    svg('roc', split, 336, 330) +
    unitAxes(f, 'false-positive rate', 'true-positive rate') +
    `<line class="diagonal" x1="${f.x}" y1="${f.y + f.height}" x2="${f.x + f.width}" ` +
    `y2="${f.y}"/>${curve(f, roc?.fpr ?? [], roc?.tpr ?? [])}</svg>`
  );
}

/** Precision-recall curve with the precision of a random detector (`baseline`). */
export function prChart(
  split: string,
  pr: { precision: number[]; recall: number[] } | undefined,
  baseline: MaybeNumber,
): string {
  const f: Frame = { x: 46, y: 12, width: 270, height: 270 };
  const line = isFiniteNumber(baseline)
    ? `<line class="diagonal" x1="${f.x}" y1="${px(sy(f, baseline))}" x2="${f.x + f.width}" ` +
      `y2="${px(sy(f, baseline))}"/>`
    : '';
  return (
    svg('pr', split, 336, 330) +
    unitAxes(f, 'recall', 'precision') +
    `${line}${curve(f, pr?.recall ?? [], pr?.precision ?? [])}</svg>`
  );
}
