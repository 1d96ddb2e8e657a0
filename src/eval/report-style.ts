/**
 * The robustness report page's style sheet, inlined into the page: a clean light style. The
 * charts' colours are set here, not in their SVG, so that one place decides them.
 */
import { escapeHtml } from './report-charts.js';

/** The page's CSS. */
export const REPORT_CSS =
  `
:root { --ink: #1f2933; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui,
  -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; background: #fff;
  min-height: 100vh; box-shadow: 0 0 0 1px var(--line); }
h1 { font-size: 22px; margin: 0 0 4px; }
` +
  'h2 { font-size: 17px; margin: 32px 0 12px; padding-bottom: 6px; ' +
  'border-bottom: 2px solid var(--line); }\n' +
  `h3 { font-size: 14px; margin: 18px 0 8px; }
.muted, .empty, .description, .note { color: var(--muted); font-weight: normal; }
dl.meta { display: flex; flex-wrap: wrap; gap: 6px 22px; margin: 12px 0 0; }
dl.meta div { display: flex; gap: 6px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
nav { display: flex; flex-wrap: wrap; gap: 14px; margin: 16px 0 0; padding: 8px 0;
  border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); }
nav a { color: var(--accent); text-decoration: none; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0 12px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; }
th { background: #f1f5f9; font-weight: 600; white-space: nowrap; }
th.group { text-align: center; border-left: 1px solid var(--line); }
td.num, th.num { text-align: right; }
tbody tr:nth-child(even) { background: #fafbfc; }
.role { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 12px;
  background: #e0e7ff; color: #3730a3; }
.role-shifted { background: #fef3c7; color: #92400e; }
.role-ood { background: #fee2e2; color: #991b1b; }
.charts { display: flex; flex-wrap: wrap; gap: 8px 28px; }
figure { margin: 0; }
figcaption { font-size: 12px; color: var(--muted); max-width: 336px; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 11px; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .frame { fill: none; stroke: #9ca3af; }
svg .tick, svg .value { fill: var(--muted); }
svg .axis, svg .label { fill: var(--ink); }
svg .count { fill: #374151; font-size: 9px; }
svg .nodata { fill: var(--muted); font-style: italic; }
svg .bar.top1, svg .bar.acc { fill: var(--accent); }
svg .bar.top5 { fill: #bfdbfe; }
svg .bar.hist { fill: #cbd5e1; }
svg .gap.over { fill: #fca5a5; fill-opacity: 0.75; stroke: #dc2626; stroke-opacity: 0.7; }
svg .gap.under { fill: #fff; fill-opacity: 0.55; stroke: #dc2626; stroke-opacity: 0.7; }
svg .diagonal { stroke: #6b7280; stroke-dasharray: 4 3; fill: none; }
svg .curve { fill: none; stroke: var(--accent); stroke-width: 2; stroke-linejoin: round; }
.ood-split { margin-bottom: 20px; }
` +
  '.mistakes { display: grid; grid-template-columns: repeat(auto-fill, minmax(132px, 1fr)); ' +
  'gap: 12px; }\n' +
  `.mistake { border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: #fff; }
.thumb { display: block; width: 96px; height: 96px; margin: 0 auto 6px; object-fit: contain;
  image-rendering: pixelated; background: #f1f5f9; }
.placeholder { display: flex; align-items: center; justify-content: center; color: var(--muted);
  font-size: 11px; border: 1px dashed #cbd5e1; }
.mistake figcaption { display: flex; flex-direction: column; gap: 1px; max-width: none; }
.mistake .labels { color: var(--ink); overflow-wrap: anywhere; }
.mistake .conf { color: #b91c1c; font-weight: 600; }
.mistake .id { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.split-notes { margin: 0; padding-left: 18px; }
.note { font-size: 12px; margin: 0 0 8px; }
.skipped ul { margin: 0; padding-left: 18px; }
.skipped li { margin: 2px 0; }
.skipped code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.skipped .reason, .more { color: var(--muted); }
details.config { margin-top: 32px; }
details.config summary { cursor: pointer; font-weight: 600; font-size: 17px; }
pre { background: #f1f5f9; padding: 12px; border-radius: 6px; overflow: auto; }
`;

/**
 * A self-contained report page: the shared style sheet plus `css`, `body`'s sections in a
 * `<main>`, and a content security policy that allows only inline styles and data images.
 */
export function reportPage(title: string, body: readonly string[], css = ''): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; ' +
      "img-src data:; style-src 'unsafe-inline'\">",
    `<title>${escapeHtml(title)}</title><style>${REPORT_CSS}${css}</style></head>`,
    `<body><main>${body.join('\n')}</main></body></html>`,
    '',
  ].join('\n');
}
