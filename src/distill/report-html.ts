/**
 * The teacher-student report as one self-contained HTML page: accuracy and agreement per domain,
 * every loss term, the word relations per matched layer pair, and heatmaps of the relations CKD
 * matches for the chosen sentences, teacher beside student. No script and no Node module, so the
 * browser build renders the same page.
 */
import { escapeHtml as esc, formatNumber, formatPercent } from '../eval/report-charts.js';
import { reportPage } from '../eval/report-style.js';
import type { CkdTerm } from './ckd-loss.js';
import type { DistillDomainResult, DistillEvaluation, RelationExample } from './evaluate.js';

/** What the page needs beyond the evaluation: the models' names and the run's configuration. */
export interface DistillReportPage extends DistillEvaluation {
  teacher?: { path: string; sha256?: string; executionProvider?: string };
  student?: { path: string; sha256?: string; executionProvider?: string };
  data?: string;
  config?: { date?: string; threads?: number | string; versions?: Record<string, string> };
}

const TERMS: readonly CkdTerm[] = ['kd', 'wrPair', 'wrAngle', 'ltrPair', 'ltrAngle', 'wrDistance'];

const DISTILL_CSS = `
.heatmaps { display: flex; flex-wrap: wrap; gap: 10px 26px; align-items: flex-start; }
svg.heatmap { display: block; }
svg.heatmap text { font-size: 10px; fill: var(--muted); }
.pair { margin: 6px 0 16px; }
.legend { font-size: 12px; color: var(--muted); }
`;

/** A cosine in [-1, 1] as a colour: blue for -1, white for 0, red for 1. */
function cosineColour(value: number): string {
  const v = Math.max(-1, Math.min(1, Number.isFinite(value) ? value : 0));
  const fade = (c: number): number => Math.round(255 - (255 - c) * Math.abs(v));
  return v >= 0
    ? `rgb(${fade(185)},${fade(28)},${fade(28)})`
    : `rgb(${fade(37)},${fade(99)},${fade(235)})`;
}

/**
 * One matrix as an SVG heatmap with its labels on the left and on top (tokens or layers).
 * Cells are sized so that the map is about 200 pixels wide (6 to 18 pixels a cell); labels are
 * drawn up to 32 rows and cut at 8 characters.
 */
export function heatmapSvg(
  map: readonly number[][],
  labels: readonly string[],
  caption: string,
): string {
  const n = map.length;
  const cell = Math.max(6, Math.min(18, Math.floor(200 / Math.max(n, 1))));
  const margin = n > 32 ? 4 : 56;
  const size = margin + n * cell + 4;
  const cells: string[] = [];
  map.forEach((row, i) =>
    row.forEach((value, j) => {
      const x = margin + j * cell;
      const y = margin + i * cell;
      cells.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${cosineColour(value)}">` +
          `<title>${esc(labels[i] ?? '')} · ${esc(labels[j] ?? '')}: ` +
          `${value.toFixed(3)}</title></rect>`,
      );
    }),
  );
  const short = (s: string): string => esc(s.length > 8 ? `${s.slice(0, 7)}…` : s);
  const rowLabels = labels.map(
    (label, i) =>
      `<text x="${margin - 3}" y="${margin + i * cell + cell - 1}" text-anchor="end">` +
      `${short(label)}</text>`,
  );
  const columnLabels = labels.map((label, j) => {
    const x = margin + j * cell + cell - 1;
    return `<text transform="translate(${x},${margin - 3}) rotate(-90)">${short(label)}</text>`;
  });
  const sparse = n > 32 ? [] : [...rowLabels, ...columnLabels];
  return (
    `<figure><svg class="heatmap" role="img" width="${size}" height="${size}" ` +
    `viewBox="0 0 ${size} ${size}" aria-label="${esc(caption)}">${cells.join('')}` +
    `${sparse.join('')}</svg><figcaption>${esc(caption)}</figcaption></figure>`
  );
}

function domainTable(domains: readonly DistillDomainResult[], terms: readonly CkdTerm[]): string {
  const head =
    '<tr><th>domain</th><th class="num">sentences</th><th class="num">teacher acc.</th>' +
    '<th class="num">student acc.</th><th class="num">agreement</th>' +
    terms.map((t) => `<th class="num">${t}</th>`).join('') +
    '<th class="num">total</th></tr>';
  const rows = domains.map((d) => {
    const name = `${esc(d.name)}${d.inDomain ? ' <span class="role">training domain</span>' : ''}`;
    return (
      `<tr><td>${name}</td><td class="num">${d.sentences}</td>` +
      `<td class="num">${formatPercent(d.teacherAccuracy, 1)}</td>` +
      `<td class="num">${formatPercent(d.studentAccuracy, 1)}</td>` +
      `<td class="num">${formatPercent(d.agreement, 1)}</td>` +
      terms.map((t) => `<td class="num">${formatNumber(d.terms[t], 6)}</td>`).join('') +
      `<td class="num">${formatNumber(d.total, 6)}</td></tr>`
    );
  });
  return `<table class="domains"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function perLayerTable(domains: readonly DistillDomainResult[]): string {
  const kinds = (['wrPair', 'wrAngle', 'wrDistance'] as const).filter((k) =>
    domains.some((d) => d.perLayer.some((p) => p[k] !== undefined)),
  );
  const head =
    '<tr><th>domain</th><th>teacher layer</th><th>student layer</th>' +
    kinds.map((k) => `<th class="num">${k}</th>`).join('') +
    '</tr>';
  const rows = domains.flatMap((d) =>
    d.perLayer.map(
      (p) =>
        `<tr><td>${esc(d.name)}</td><td>${p.teacher}</td><td>${p.student}</td>` +
        kinds.map((k) => `<td class="num">${formatNumber(p[k], 6)}</td>`).join('') +
        '</tr>',
    ),
  );
  return `<table class="per-layer"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function exampleBlock(example: RelationExample, index: number): string {
  const pairs = example.word.map(
    (pair) =>
      `<div class="pair"><h4>teacher layer ${pair.teacher} · student layer ${pair.student}</h4>` +
      '<div class="heatmaps">' +
      heatmapSvg(pair.teacherMap, example.tokens, `teacher, layer ${pair.teacher}`) +
      heatmapSvg(pair.studentMap, example.tokens, `student, layer ${pair.student}`) +
      '</div></div>',
  );
  const layerLabels = example.word.map((p) => `L${p.teacher}/${p.student}`);
  const layer =
    '<div class="pair"><h4>layer transforming relation (mean over tokens)</h4>' +
    '<div class="heatmaps">' +
    heatmapSvg(example.layer.teacherMap, layerLabels, 'teacher, matched layers') +
    heatmapSvg(example.layer.studentMap, layerLabels, 'student, matched layers') +
    '</div></div>';
  return (
    `<article class="example" data-example="${index}"><h3>“${esc(example.text)}”</h3>` +
    `<p class="muted">${example.tokens.length} tokens: ${esc(example.tokens.join(' '))}</p>` +
    `${pairs.join('')}${layer}</article>`
  );
}

function worstBlock(domains: readonly DistillDomainResult[], labels?: readonly string[]): string {
  const name = (c: number | undefined): string =>
    c === undefined ? '–' : esc(labels?.[c] ?? String(c));
  return domains
    .filter((d) => d.worst.length > 0)
    .map(
      (d) =>
        `<h3>${esc(d.name)}</h3><table><thead><tr><th>sentence</th><th class="num">total</th>` +
        '<th>label</th><th>teacher</th><th>student</th></tr></thead><tbody>' +
        d.worst
          .map(
            (w) =>
              `<tr><td>${esc(w.text)}</td><td class="num">${formatNumber(w.total, 4)}</td>` +
              `<td>${name(w.label)}</td><td>${name(w.teacher)}</td>` +
              `<td>${name(w.student)}</td></tr>`,
          )
          .join('') +
        '</tbody></table>',
    )
    .join('');
}

function meta(report: DistillReportPage): string {
  const items: [string, string | undefined][] = [
    ['Teacher', report.teacher?.path],
    ['Student', report.student?.path],
    ['Data', report.data],
    ['Mapping', report.mapping.map((p) => `${p.teacher}→${p.student}`).join(', ')],
    ['Window', String(report.window)],
    ['Temperature', `${report.temperature}${report.temperatureSquared ? ' (T² factor)' : ''}`],
    ['Provider', report.teacher?.executionProvider],
    ['Date', report.config?.date],
  ];
  return items.map(([k, v]) => `<div><dt>${k}</dt><dd>${esc(v ?? '–')}</dd></div>`).join('');
}

/**
 * Renders the teacher-student report page.
 *
 * @example
 * ```ts
 * const html = renderDistillHtml(await runDistillation(teacher, student, 'sentiment'));
 * html.includes('<svg class="heatmap"'); // true
 * ```
 */
export function renderDistillHtml(report: DistillReportPage, labels?: readonly string[]): string {
  const terms = TERMS.filter((t) => report.weights[t] > 0);
  const weights = terms.map((t) => `${t} × ${report.weights[t]}`).join(' + ');
  const notes = report.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('');
  const title = 'ortlab distillation report';
  const body = [
    `<header><h1>${title}</h1><dl class="meta">${meta(report)}</dl></header>`,
    `<section id="domains"><h2>Per domain</h2>${domainTable(report.domains, terms)}` +
      `<p class="muted">total = ${esc(weights)}; each term is the mean over sentences of its ` +
      `value on the real tokens.</p>${notes}</section>`,
    '<section id="layers"><h2>Word relations per matched layer pair</h2>' +
      `${perLayerTable(report.domains)}</section>`,
    `<section id="relations"><h2>Relation maps</h2><p class="legend">token cosines: ` +
      `<span style="color:${cosineColour(-1)}">■ −1</span> · ■ 0 · ` +
      `<span style="color:${cosineColour(1)}">■ 1</span></p>` +
      `${report.examples.map(exampleBlock).join('')}</section>`,
    '<section id="worst"><h2>Sentences with the largest loss</h2>' +
      `${worstBlock(report.domains, labels)}</section>`,
  ];
  return reportPage(title, body, DISTILL_CSS);
}
