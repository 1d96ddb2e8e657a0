/**
 * The retrieval report as one self-contained HTML page: Recall@K in both directions for every
 * pair, art style and protocol next to the recalls the manifest records, and what each attention
 * head looks at: its grid attention over chosen images and its weights over chosen captions.
 * Pictures come in as data: URIs; no script, no outside request.
 */
import { escapeHtml as esc, formatNumber } from '../eval/report-charts.js';
import { reportPage } from '../eval/report-style.js';
import type { DirectionRecall } from './recall.js';

const CSS = `
.attention { display: grid; gap: 12px; }
.attention .row { display: flex; gap: 10px; align-items: flex-start; flex-wrap: wrap; }
.attention img { display: block; image-rendering: pixelated; width: 128px; height: 128px; }
.attention figure { text-align: center; }
.caption { margin: 4px 0 10px; }
.caption .head { display: flex; gap: 3px; align-items: baseline; flex-wrap: wrap; margin: 2px 0; }
.caption .label { color: var(--muted); font-size: 12px; width: 56px; }
.caption .token { padding: 1px 4px; border-radius: 3px; font-family: ui-monospace, monospace; }
.scroll { overflow-x: auto; }
.diff-ok { color: #166534; }
.diff-off { color: #991b1b; font-weight: 600; }
`;

/** Figures of one row of the table (a subset of ProtocolResult, so the page renders JSON). */
export interface RecallRow {
  model: string;
  style: string;
  protocol: string;
  i2t: DirectionRecall;
  t2i: DirectionRecall;
  rsum: number;
  reference?: { rsum: number };
  diversity: { image?: number; text?: number };
}

/** An image with one overlay per head. */
export interface HeadOverlays {
  model: string;
  style: string;
  name: string;
  image: string;
  heads: readonly string[];
}

/** A caption's tokens and each head's weight on them (`weights[head][token]`). */
export interface HeadWeights {
  model: string;
  caption: string;
  tokens: readonly string[];
  weights: readonly (readonly number[])[];
}

/** What the page shows. */
export interface RetrievalPage {
  title?: string;
  data: { name: string; split: string; images: number; captions: number };
  results: readonly RecallRow[];
  images: readonly HeadOverlays[];
  texts: readonly HeadWeights[];
  config?: { executionProvider: string; versions: Record<string, string> };
}

const r = (x: number | undefined): string => formatNumber(x, 1);

/** Manifests round their recalls (to 4 decimals for the shipped one): closer than this is equal. */
export const RSUM_TOLERANCE = 1e-3;

function recallTable(rows: readonly RecallRow[]): string {
  const head =
    '<tr><th rowspan="2">model</th><th rowspan="2">images</th><th rowspan="2">protocol</th>' +
    '<th class="group" colspan="4">image → text</th>' +
    '<th class="group" colspan="4">text → image</th>' +
    '<th rowspan="2" class="num">rsum</th><th rowspan="2" class="num">recorded</th>' +
    '<th rowspan="2" class="num">diversity<br>image / text</th></tr><tr>' +
    ['R@1', 'R@5', 'R@10', 'medr', 'R@1', 'R@5', 'R@10', 'medr']
      .map((h) => `<th class="num">${h}</th>`)
      .join('') +
    '</tr>';
  const body = rows.map((row) => {
    const cells = (d: DirectionRecall): string =>
      [d.r1, d.r5, d.r10].map((v) => `<td class="num">${r(v)}</td>`).join('') +
      `<td class="num">${Number.isInteger(d.medr) ? d.medr : formatNumber(d.medr, 1)}</td>`;
    const ref = row.reference?.rsum;
    const off = ref !== undefined && Math.abs(ref - row.rsum) > RSUM_TOLERANCE;
    const recorded =
      ref === undefined ? '–' : `<span class="${off ? 'diff-off' : 'diff-ok'}">${r(ref)}</span>`;
    const diversity = [row.diversity.image, row.diversity.text].map((v) => formatNumber(v, 3));
    return (
      `<tr><td>${esc(row.model)}</td><td>${esc(row.style)}</td><td>${esc(row.protocol)}</td>` +
      `${cells(row.i2t)}${cells(row.t2i)}<td class="num">${r(row.rsum)}</td>` +
      `<td class="num">${recorded}</td><td class="num">${diversity.join(' / ')}</td></tr>`
    );
  });
  return (
    `<div class="scroll"><table class="recall"><thead>${head}</thead>` +
    `<tbody>${body.join('')}</tbody></table></div>`
  );
}

function imageRows(images: readonly HeadOverlays[]): string {
  const rows = images.map((e) => {
    const figures = [
      `<figure><img class="image" alt="${esc(e.name)}" src="${e.image}">` +
        '<figcaption>image</figcaption></figure>',
      ...e.heads.map(
        (uri, h) =>
          `<figure><img class="overlay" alt="${esc(e.name)}, head ${h + 1}" src="${uri}">` +
          `<figcaption>head ${h + 1}</figcaption></figure>`,
      ),
    ];
    return (
      `<div class="row" data-model="${esc(e.model)}"><p class="muted">${esc(e.model)}, ` +
      `${esc(e.style)}: ${esc(e.name)}</p>${figures.join('')}</div>`
    );
  });
  return `<div class="attention">${rows.join('')}</div>`;
}

function captionRows(texts: readonly HeadWeights[]): string {
  const rows = texts.map((t) => {
    const heads = t.weights.map((weights, h) => {
      const peak = Math.max(...weights, 1e-12);
      const tokens = t.tokens.map((token, i) => {
        const alpha = (weights[i] ?? 0) / peak;
        return (
          `<span class="token" title="${formatNumber(weights[i], 3)}" ` +
          `style="background: rgba(220, 38, 38, ${alpha.toFixed(3)})">${esc(token)}</span>`
        );
      });
      return `<div class="head"><span class="label">head ${h + 1}</span>${tokens.join('')}</div>`;
    });
    return (
      `<div class="caption" data-model="${esc(t.model)}"><p class="muted">${esc(t.model)}: ` +
      `“${esc(t.caption)}”</p>${heads.join('')}</div>`
    );
  });
  return rows.join('');
}

/**
 * Renders the page.
 * @example
 * ```ts
 * const html = renderRetrievalHtml({ data, results, images: overlays, texts: weights });
 * ```
 */
export function renderRetrievalHtml(page: RetrievalPage): string {
  const title = page.title ?? 'ortlab retrieval report';
  const { data } = page;
  const config = page.config
    ? `<p class="muted">execution provider ${esc(page.config.executionProvider)}; ` +
      `${Object.entries(page.config.versions)
        .map(([k, v]) => `${esc(k)} ${esc(v)}`)
        .join(', ')}</p>`
    : '';
  const body = [
    `<header><h1>${esc(title)}</h1><p class="description">${data.images} images and ` +
      `${data.captions} captions of ${esc(data.name)}, split ${esc(data.split)}: Recall@K in ` +
      'percent and median rank under the VSE++ protocol (an image is ranked by its best ' +
      `caption).</p>${config}</header>`,
    `<section id="recall"><h2>Recall</h2>${recallTable(page.results)}` +
      '<p class="muted">recorded: the rsum the pair’s manifest records for this split and ' +
      'style (green when ortlab measures the same). Diversity: mean ||A Aᵀ − I||_F of the ' +
      'heads’ attention.</p></section>',
    '<section id="image-attention"><h2>What each head looks at</h2><p class="muted">Each ' +
      'head’s attention over the image grid, scaled to its own peak (dark blue: none, red: the ' +
      `peak).</p>${imageRows(page.images)}</section>`,
    '<section id="text-attention"><h2>What each head reads</h2><p class="muted">Tokens shaded ' +
      'by each head’s weight, scaled to its peak; hover a token for the weight.</p>' +
      `${captionRows(page.texts)}</section>`,
  ];
  return reportPage(title, body, CSS);
}
