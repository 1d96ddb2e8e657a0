/**
 * The attribution report as one self-contained HTML page: accuracy, agreement and every
 * consistency and localization metric per compressed model, and the map overlays of the
 * original and each compressed model side by side. Overlays come in as data: URIs.
 */
import { escapeHtml as esc, formatNumber, formatPercent } from '../report-charts.js';
import { reportPage } from '../report-style.js';
import type { AttributionComparison, Localization } from './compare-maps.js';

const CSS = `
.overlays { display: grid; gap: 10px; }
.overlays .row { display: flex; gap: 10px; align-items: flex-start; }
.overlays figure { text-align: center; }
.overlays img { display: block; image-rendering: pixelated; width: 128px; height: 128px; }
`;

const METHOD_NAMES: Record<AttributionComparison['method'], string> = {
  gradcam: 'Grad-CAM',
  occlusion: 'Occlusion',
  rise: 'RISE',
  'score-cam': 'Score-CAM',
};

function localizationCells(l: Localization | undefined): string {
  return l
    ? `<td class="num">${formatNumber(l.auroc, 3)}</td>` +
        `<td class="num">${formatPercent(l.pointingGame, 1)}</td>`
    : '<td class="num">–</td><td class="num">–</td>';
}

function table(report: AttributionComparison): string {
  const head =
    '<tr><th>model</th><th class="num">accuracy</th><th class="num">top-1 agreement</th>' +
    '<th class="num">WCAM distance</th><th class="num">Spearman</th>' +
    `<th class="num">top ${Math.round(report.topFraction * 100)}% IoU</th>` +
    '<th class="num">same argmax</th><th class="num">mask AUROC</th>' +
    '<th class="num">pointing game</th></tr>';
  const original =
    `<tr><td>${esc(report.original.name)} (original)</td>` +
    `<td class="num">${formatPercent(report.original.accuracy, 1)}</td>` +
    '<td class="num">–</td><td class="num">–</td><td class="num">–</td>' +
    '<td class="num">–</td><td class="num">–</td>' +
    `${localizationCells(report.original.localization)}</tr>`;
  const rows = report.compressed.map(
    (m) =>
      `<tr><td>${esc(m.name)}</td><td class="num">${formatPercent(m.accuracy, 1)}</td>` +
      `<td class="num">${formatPercent(m.top1Agreement, 1)}</td>` +
      `<td class="num">${formatNumber(m.wcamDistance * 1e4, 3)}</td>` +
      `<td class="num">${formatNumber(m.spearman, 3)}</td>` +
      `<td class="num">${formatNumber(m.topIoU, 3)}</td>` +
      `<td class="num">${formatPercent(m.argmaxAgreement, 1)}</td>` +
      `${localizationCells(m.localization)}</tr>`,
  );
  return (
    `<table class="models"><thead>${head}</thead>` +
    `<tbody>${original}${rows.join('')}</tbody></table>`
  );
}

function overlays(
  report: AttributionComparison,
  images: readonly string[][],
  labels?: readonly string[],
): string {
  const names = [report.original.name, ...report.compressed.map((m) => m.name)];
  const label = (c: number): string => esc(labels?.[c] ?? String(c));
  const rows = report.examples.map((example, e) => {
    const figures = (images[e] ?? []).map(
      (uri, m) =>
        `<figure><img class="overlay" alt="${esc(names[m])}, image ${example.index}" ` +
        `src="${uri}">` +
        `<figcaption>${esc(names[m])}</figcaption></figure>`,
    );
    return (
      `<div class="row" data-index="${example.index}"><p class="muted">image ${example.index}: ` +
      `label ${label(example.label)}, explained class ${label(example.target)}</p>` +
      `${figures.join('')}</div>`
    );
  });
  return `<div class="overlays">${rows.join('')}</div>`;
}

/**
 * Renders the page. `images[e][m]` is the overlay of example `e` for model `m` (the original
 * first).
 *
 * @example
 * ```ts
 * const html = renderAttributionHtml(report, await exampleOverlays(report));
 * ```
 */
export function renderAttributionHtml(
  report: AttributionComparison & { data?: { name: string } },
  images: readonly string[][],
  labels?: readonly string[],
): string {
  const title = 'ortlab attribution report';
  const ofData = report.data ? ` of ${esc(report.data.name)}` : '';
  const resolution = report.wcamResolution === 'features' ? "feature maps' size" : 'input size';
  const body = [
    `<header><h1>${title}</h1><p class="description">${METHOD_NAMES[report.method]} maps of ` +
      `${report.compressed.length} compressed model(s) against ${esc(report.original.name)} ` +
      `on ${report.samples} images${ofData}, for the class the original predicts.</p></header>`,
    `<section id="metrics"><h2>Consistency and localization</h2>${table(report)}` +
      '<p class="muted">WCAM distance ×10⁴: mean squared difference of the L2-normalized ' +
      `maps (at the ${resolution}). ` +
      'Spearman, IoU and argmax on the upsampled maps. Mask AUROC and pointing game over ' +
      'the images each model classifies correctly.</p></section>',
    '<section id="overlays"><h2>Maps side by side</h2>' +
      `${overlays(report, images, labels)}</section>`,
  ];
  return reportPage(title, body, CSS);
}
