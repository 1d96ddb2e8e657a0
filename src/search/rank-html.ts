/**
 * The HTML page of `ortlab search rank`: the models, the correlation table and scatter plots of
 * each predictor against test and shifted accuracy. Self-contained; no script.
 */
import { REPORT_CSS } from '../eval/report-style.js';
import { escapeHtml, formatNumber, formatPercent } from '../eval/report-charts.js';
import {
  PREDICTORS,
  predictor,
  type Correlation,
  type PredictorName,
  type RankedModel,
} from './rank.js';

const W = 300;
const H = 220;
const PAD = 40;

function scatter(
  title: string,
  points: { x: number; y: number; label: string }[],
  xLabel: string,
  yLabel: string,
): string {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number): number => PAD + ((x - x0) / (x1 - x0 || 1)) * (W - PAD - 10);
  const sy = (y: number): number => H - PAD - ((y - y0) / (y1 - y0 || 1)) * (H - PAD - 10);
  const dots = points
    .map(
      (p) =>
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="#2563eb" ` +
        `fill-opacity="0.7"><title>${escapeHtml(p.label)}</title></circle>`,
    )
    .join('');
  return (
    `<figure class="scatter"><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg class="chart scatter" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">` +
    `<line x1="${PAD}" y1="${H - PAD}" x2="${W - 10}" y2="${H - PAD}" stroke="#888"/>` +
    `<line x1="${PAD}" y1="10" x2="${PAD}" y2="${H - PAD}" stroke="#888"/>` +
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">` +
    `${escapeHtml(xLabel)}</text>` +
    `<text x="12" y="${H / 2}" text-anchor="middle" font-size="11" ` +
    `transform="rotate(-90 12 ${H / 2})">` +
    `${escapeHtml(yLabel)}</text>` +
    `<text x="${PAD}" y="${H - PAD + 14}" font-size="9">${formatNumber(x0, 3)}</text>` +
    `<text x="${W - 10}" y="${H - PAD + 14}" font-size="9" text-anchor="end">` +
    `${formatNumber(x1, 3)}</text>` +
    `<text x="${PAD - 4}" y="${H - PAD}" font-size="9" text-anchor="end">` +
    `${formatNumber(y0, 3)}</text>` +
    `<text x="${PAD - 4}" y="16" font-size="9" text-anchor="end">${formatNumber(y1, 3)}</text>` +
    `${dots}</svg></figure>`
  );
}

const LABELS: Record<PredictorName, string> = {
  flatness: 'flatness',
  valAccuracy: 'validation accuracy',
  valLoss: 'validation loss',
  combined: 'accuracy + γ·flatness/s₁',
  parameters: 'parameters',
};

/** Renders the ranking page. */
export function renderRankHtml(report: {
  models: RankedModel[];
  correlations: Record<PredictorName, Record<string, Correlation>>;
  gamma: number;
  radii: number[];
  config: Record<string, unknown>;
}): string {
  const targets = Object.keys(report.correlations.flatness);
  const s1 = report.radii[0];
  const corr = report.correlations;
  const head = targets
    .map((t) => `<th>τ ${escapeHtml(t)}</th><th>ρ ${escapeHtml(t)}</th>`)
    .join('');
  const rows = PREDICTORS.map(
    (p) =>
      `<tr><td>${escapeHtml(LABELS[p])}</td>` +
      targets
        .map(
          (t) =>
            `<td>${formatNumber(corr[p][t].kendall, 3)}</td>` +
            `<td>${formatNumber(corr[p][t].spearman, 3)}</td>`,
        )
        .join('') +
      '</tr>',
  ).join('');
  const shiftedOf = (m: RankedModel): number => {
    const v = Object.values(m.shifted);
    return v.reduce((a, b) => a + b, 0) / (v.length || 1);
  };
  const plots = (['flatness', 'valAccuracy', 'combined', 'valLoss'] as const)
    .flatMap((p) => [
      scatter(
        `${LABELS[p]} vs test accuracy`,
        report.models.map((m) => ({
          x: predictor(p, m, report.gamma, s1),
          y: m.testAccuracy,
          label: m.id,
        })),
        LABELS[p],
        'test accuracy',
      ),
      scatter(
        `${LABELS[p]} vs shifted accuracy`,
        report.models.map((m) => ({
          x: predictor(p, m, report.gamma, s1),
          y: shiftedOf(m),
          label: m.id,
        })),
        LABELS[p],
        'mean shifted accuracy',
      ),
    ])
    .join('');
  const splits = Object.keys(report.models[0]?.shifted ?? {});
  const modelRows = report.models
    .map(
      (m) =>
        `<tr><td>${escapeHtml(m.id)}</td><td class="mono">${escapeHtml(m.genotype ?? '')}</td>` +
        `<td>${m.parameters}</td><td>${formatPercent(m.valAccuracy)}</td>` +
        `<td>${formatNumber(m.valLoss, 4)}</td>` +
        `<td>${formatNumber(m.flatness, 5)}</td><td>${formatPercent(m.testAccuracy)}</td>` +
        splits.map((s) => `<td>${formatPercent(m.shifted[s])}</td>`).join('') +
        '</tr>',
    )
    .join('');
  const radii = report.radii.join(', ');
  const splitHeads = splits.map((s) => `<th>${escapeHtml(s)}</th>`).join('');
  const config = escapeHtml(JSON.stringify(report.config, null, 2));
  // One line of the page per element.
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta http-equiv="Content-Security-Policy" ' +
      `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>ortlab architecture ranking</title><style>${REPORT_CSS}`,
    '.plots{display:flex;flex-wrap:wrap;gap:12px}.mono{font-family:monospace;font-size:11px}' +
      '</style></head>',
    '<body><main><h1>Architecture ranking</h1>',
    `<p>${report.models.length} architectures; flatness at radii ${radii}; γ = ${report.gamma}.`,
    "Kendall's τ-b and Spearman's ρ of each predictor with each target.</p>",
    `<table class="summary correlations"><thead><tr><th>predictor</th>${head}</tr></thead>` +
      `<tbody>${rows}</tbody></table>`,
    `<h2>Scatter plots</h2><div class="plots">${plots}</div>`,
    '<h2>Models</h2><table class="summary models"><thead><tr><th>id</th><th>genotype</th>' +
      '<th>parameters</th>',
    `<th>val. acc.</th><th>val. loss</th><th>flatness</th><th>test acc.</th>${splitHeads}` +
      '</tr></thead>',
    `<tbody>${modelRows}</tbody></table>`,
    `<details><summary>Configuration</summary><pre>${config}</pre></details>`,
    '</main></body></html>',
    '',
  ].join('\n');
}
