/**
 * The terminal summary of a robustness report: one table of splits, one of OOD detection.
 */
import type { RobustnessReport } from '../eval/report.js';

const pct = (x: number | undefined): string =>
  x === undefined || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(2)}%`;
const num = (x: number | undefined, digits = 4): string =>
  x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits);

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd(),
  );
}

/** Lines summarising the report for a terminal. */
export function summaryLines(report: RobustnessReport): string[] {
  const lines = [`${report.suite.name}`];
  const rows = [['split', 'role', 'n', 'skipped', 'top-1', 'top-5', 'ECE', 'RMS', 'NLL', 'Brier']];
  for (const s of report.splits) {
    const m = s.metrics;
    rows.push([
      s.name,
      s.role,
      String(s.scored),
      String(s.skipped.length),
      pct(m?.top1),
      pct(m?.top5),
      num(m?.ece),
      num(m?.rmsCalibrationError),
      num(m?.nll),
      num(m?.brier),
    ]);
  }
  lines.push(...table(rows));
  for (const o of report.ood) {
    lines.push(
      '',
      `OOD: ${o.split} (${o.nOut}) against ${o.inDistribution} (${o.nIn}), OOD positive`,
    );
    const oodRows = [['score', 'AUROC', 'AUPR', 'FPR95']];
    for (const [name, d] of Object.entries(o.scores)) {
      oodRows.push([
        name,
        pct(d.outPositive.auroc),
        pct(d.outPositive.aupr),
        pct(d.outPositive.fpr95),
      ]);
    }
    lines.push(...table(oodRows));
  }
  const nonFinite = report.splits.filter((s) => (s.metrics?.nonFinite ?? s.nonFinite ?? 0) > 0);
  for (const s of nonFinite) {
    lines.push(
      `warning: ${s.metrics?.nonFinite ?? s.nonFinite} samples of '${s.name}' ` +
        'had NaN or infinite logits',
    );
  }
  return lines;
}
