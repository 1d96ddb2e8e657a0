/**
 * The robustness report: every metric per split, OOD detection per OOD split, the suite's
 * protocol and the configuration that produced it. Built from records alone, so that merged
 * shards and resumed runs report exactly what one uninterrupted run reports.
 */
import { canonicalRecords, type SampleRecord } from './records.js';
import type { SplitKind } from './suite-config.js';
import type { RunKey, SplitRun, SuiteRun } from './suite-run.js';
import {
  oodMetrics,
  splitMetrics,
  type MetricOptions,
  type OodMetrics,
  type SplitMetrics,
} from './split-metrics.js';

/** One split in the report. */
export interface SplitReport {
  name: string;
  role: SplitRun['role'];
  kind: SplitRun['kind'];
  data: string;
  description?: string;
  /** How the split is scored, in words (from the suite configuration). */
  protocol?: string;
  /** Samples in the split, scored, and set aside. */
  size: number;
  scored: number;
  skipped: { id: string; reason: string }[];
  classes: number;
  /** The 1k indices scored, in label order, for ImageNet-A, -R and -O. */
  classIndices?: number[];
  /** Accuracy and calibration (not for OOD splits). */
  metrics?: SplitMetrics;
  /** For OOD splits: records with non-finite logits. */
  nonFinite?: number;
  /**
   * The most confident mistakes (for an OOD split: the most confident predictions, all of them
   * mistakes), highest confidence first.
   */
  mistakes: Mistake[];
}

/** A confidently wrong prediction, for the report's grid. */
export interface Mistake {
  index: number;
  id: string;
  /** True class name (empty for OOD). */
  label: string;
  predicted: string;
  confidence: number;
}

/** The whole report, as `--json` prints it. */
export interface RobustnessReport {
  report: 'ortlab-robustness';
  version: 1;
  suite: { name: string; description?: string };
  splits: SplitReport[];
  ood: (OodMetrics & { split: string })[];
  /** Everything about the run: model hash, preset, provider, threads, batch, versions, date. */
  config: Record<string, unknown>;
}

/**
 * Builds the report of a complete run (all shards merged).
 * @throws Error when a split's records do not cover every sample exactly once.
 */
export function buildReport(
  run: SuiteRun,
  config: Record<string, unknown>,
  options: MetricOptions = {},
): RobustnessReport {
  const splits: SplitReport[] = run.splits.map((s) => {
    const records = canonicalRecords(s.records);
    const skipped = dedupeSkipped(s.skipped);
    const covered = records.length + skipped.length;
    if (covered !== s.size) {
      throw new Error(
        `split '${s.name}': results cover ${covered} of its ${s.size} samples; ` +
          'merge every shard (or let the run finish) before building the report',
      );
    }
    const base: SplitReport = {
      name: s.name,
      role: s.role,
      kind: s.kind,
      data: s.data,
      description: s.description,
      protocol: s.source.protocol ?? defaultProtocol(s),
      size: s.size,
      scored: records.length,
      skipped,
      classes: s.classes.length,
      classIndices: s.classIndices,
      mistakes: confidentMistakes(s, records),
    };
    if (s.role === 'ood') return { ...base, nonFinite: records.filter((r) => !r.finite).length };
    return { ...base, metrics: splitMetrics(records, s.classes.length, options) };
  });
  const ood = run.splits
    .filter((s) => s.role === 'ood')
    .map((s) => {
      const inSplit = run.splits.find((t) => t.name === s.inDistribution) as SplitRun;
      return { split: s.name, ...oodMetrics(inSplit.records, s.records, inSplit.name) };
    });
  return {
    report: 'ortlab-robustness',
    version: 1,
    suite: run.suite,
    splits,
    ood,
    config: {
      ...config,
      preset: run.key.preset,
      batchSize: run.key.batchSize,
      temperature: run.key.temperature,
      modelSha256: run.key.modelSha256,
      metrics: {
        eceBins: options.eceBins ?? 15,
        rmsBinSize: options.rmsBinSize ?? 100,
        anomalyScores: 'msp, maxLogit and energy (temperature above), entropy',
      },
    },
  };
}

/** How each ImageNet set is scored, as its official evaluation does; undefined for a folder. */
const PROTOCOLS: Partial<Record<SplitKind, string>> = {
  imagenet:
    'ImageNet validation: wnid class folders; the logits of those classes (all 1000 for the ' +
    'whole set) before softmax and argmax; top-1 and top-5, calibration',
  'imagenet-v2':
    'ImageNet-V2: class folders 0..999 are class indices; all 1000 logits; top-1 and top-5, ' +
    'calibration',
  'imagenet-a':
    'ImageNet-A: the 200 wnid folders; the 1000 logits restricted to their classes before ' +
    'softmax and argmax; top-1 accuracy and RMS calibration error (adaptive bins of 100)',
  'imagenet-r':
    'ImageNet-R: the 200 wnid folders; the 1000 logits restricted to their classes before ' +
    'softmax and argmax; top-1 accuracy',
  'imagenet-o':
    'ImageNet-O: out-of-distribution images against validation images of the same 200 ' +
    "classes, both scored on those classes' logits; AUPR with OOD as positive, AUROC, " +
    'FPR at 95% TPR',
};

function defaultProtocol(split: SplitRun): string | undefined {
  return PROTOCOLS[split.kind];
}

/** How many mistakes the report shows per split. */
const MISTAKES_SHOWN = 12;

function confidentMistakes(split: SplitRun, records: readonly SampleRecord[]): Mistake[] {
  const wrong = records.filter((r) => r.finite && (split.role === 'ood' || r.rank > 0));
  wrong.sort((a, b) => b.conf - a.conf || a.i - b.i);
  return wrong.slice(0, MISTAKES_SHOWN).map((r) => ({
    index: r.i,
    id: r.id,
    label: r.y >= 0 ? (split.classes[r.y] ?? String(r.y)) : '',
    predicted: split.classes[r.pred] ?? String(r.pred),
    confidence: r.conf,
  }));
}

function dedupeSkipped(list: SplitRun['skipped']): { id: string; reason: string }[] {
  const seen = new Map<number, { id: string; reason: string }>();
  for (const s of list) if (!seen.has(s.i)) seen.set(s.i, { id: s.id, reason: s.reason });
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** The fields of two run keys that differ, for the message that refuses to merge them. */
function keyDifference(a: RunKey, b: RunKey): string[] {
  const fields = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof RunKey)[]);
  const differ = [...fields].filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
  if (!differ.includes('splits')) return differ;
  const splits = a.splits.map((s, i) => {
    const other = b.splits[i] as (typeof b.splits)[number] | undefined;
    if (!other) return `split '${s.name}' is missing`;
    const fieldsDiffer = (Object.keys(s) as (keyof typeof s)[]).filter(
      (f) => JSON.stringify(s[f]) !== JSON.stringify(other[f]),
    );
    return fieldsDiffer.length ? `split '${s.name}' ${fieldsDiffer.join(', ')}` : '';
  });
  return [...differ.filter((f) => f !== 'splits'), ...splits.filter(Boolean)];
}

/**
 * Combines the runs of disjoint shards (or overlapping ones: a sample done twice counts once)
 * into one run.
 * @throws Error when the runs come from different models, presets or suites.
 */
export function mergeRuns(runs: readonly SuiteRun[]): SuiteRun {
  if (runs.length === 0) throw new RangeError('mergeRuns needs at least one run');
  const [first] = runs;
  for (const [n, run] of runs.entries()) {
    const differ = keyDifference(first.key, run.key);
    if (differ.length > 0) {
      throw new Error(
        `shard ${n + 1} comes from a different run (${differ.join('; ')} differ from shard 1's); ` +
          'only shards of the same command on the same data can be merged',
      );
    }
  }
  const splits = first.splits.map((split, k) => {
    const parts = runs.map((r) => r.splits[k]);
    return {
      ...split,
      range: [
        Math.min(...parts.map((p) => p.range[0])),
        Math.max(...parts.map((p) => p.range[1])),
      ] as [number, number],
      records: canonicalRecords(parts.flatMap((p) => p.records)),
      skipped: parts.flatMap((p) => p.skipped),
    };
  });
  return { ...first, splits };
}
