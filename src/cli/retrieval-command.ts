/**
 * `ortlab retrieval eval` (Recall@K of encoder pairs on an image-text set, with an HTML page of
 * the heads' attention) and `ortlab retrieval query` (the best matches of a sentence or an image).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { EMOJI, openRetrievalData } from '../retrieval/data-node.js';
import {
  pairFromFiles,
  readPairManifest,
  shippedManifest,
  type EncoderPair,
  type ManifestReadOptions,
} from '../retrieval/manifest-node.js';
import { attentionOverlays } from '../retrieval/overlays-node.js';
import { runRetrievalQuery, widestPair, type QueryResult } from '../retrieval/query-node.js';
import { renderRetrievalHtml, RSUM_TOLERANCE } from '../retrieval/report-html.js';
import {
  runRetrievalEval,
  type RetrievalRun,
  type RetrievalReport,
} from '../retrieval/run-node.js';
import type { Output } from './commands.js';
import { progressBar } from './progress-bar.js';

/** The lines of `ortlab --help` for retrieval. */
export const USAGE =
  '  ortlab retrieval eval [--images ENC --texts ENC | --manifest FILE] [--data emoji|FILE]\n' +
  `              [--split test] [--style google|twitter] [--image-root DIR] [--tokenizer DIR]
              [--preset P] [--examples 4] [--batch N] [--out DIR] [--json]
              --data: the bundled 'emoji' set or a Karpathy split file (dataset_coco.json,
              dataset_flickr30k.json) whose image paths start from --image-root (default: its
              folder); without --images/--texts, the pairs of models/retrieval/manifest.json
  ortlab retrieval query ("words" | --image FILE) [--top 5] [--style google] [--data D]
              [--images ENC --texts ENC] [--no-cache] [--json]
              the gallery's embeddings are kept between queries in ORTLAB_CACHE_DIR (default
              ~/.cache/ortlab); --no-cache encodes the gallery every time`;

/** The options retrieval adds to the command line. */
export const OPTIONS = {
  images: { type: 'string' },
  texts: { type: 'string' },
  image: { type: 'string' },
  style: { type: 'string' },
  split: { type: 'string' },
  manifest: { type: 'string' },
  'image-root': { type: 'string' },
  examples: { type: 'string' },
  'no-cache': { type: 'boolean' },
} as const;

/** What `ortlab retrieval` takes, for a usage error. */
export const CALLS =
  "'ortlab retrieval' takes 'eval [options]' or 'query \"words\"' (or 'query --image FILE')";

/** Whether the positional arguments after `retrieval` are a call it takes. */
export function isCall(rest: readonly string[]): boolean {
  const [sub, ...params] = rest;
  return (sub === 'eval' && params.length === 0) || (sub === 'query' && params.length <= 1);
}

/** The parsed options `retrievalCommand` reads (the command line's values). */
export interface RetrievalValues {
  images?: string;
  texts?: string;
  image?: string;
  manifest?: string;
  data?: string;
  split?: string;
  style?: string;
  'image-root'?: string;
  tokenizer?: string;
  preset?: string;
  batch?: string;
  examples?: string;
  top?: string;
  ep?: string;
  threads?: string;
  out?: string;
  json?: boolean;
  'no-progress'?: boolean;
  'no-cache'?: boolean;
}

function count(name: string, value: string | undefined, least: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < least) {
    throw new RangeError(`--${name} takes a whole number >= ${least}, got '${value}'`);
  }
  return n;
}

/**
 * Runs `ortlab retrieval eval` or `ortlab retrieval query` (see {@link isCall}); `runEval` runs
 * the evaluation (`ortlab submit` queues it instead).
 */
export function retrievalCommand(
  rest: readonly string[],
  values: RetrievalValues,
  io: Output,
  runEval: (args: RetrievalArgs, io: Output) => Promise<void> = retrievalEvalCommand,
): Promise<void> {
  const args: RetrievalArgs = {
    images: values.images,
    texts: values.texts,
    manifest: values.manifest,
    data: values.data,
    split: values.split,
    style: values.style,
    imageRoot: values['image-root'],
    tokenizer: values.tokenizer,
    preset: values.preset,
    batch: count('batch', values.batch, 1),
    examples: count('examples', values.examples, 0),
    top: count('top', values.top, 1),
    ep: values.ep,
    threads: count('threads', values.threads, 1),
    out: values.out,
    json: values.json,
    progress: !values['no-progress'],
    cache: !values['no-cache'],
  };
  return rest[0] === 'eval'
    ? runEval(args, io)
    : retrievalQueryCommand(rest[1], values.image, args, io);
}

/** The arguments of `ortlab retrieval eval` and `query`. */
export interface RetrievalArgs {
  /** Image and text encoders; default: the manifest's pairs. */
  images?: string;
  texts?: string;
  manifest?: string;
  data?: string;
  split?: string;
  style?: string;
  imageRoot?: string;
  tokenizer?: string;
  preset?: string;
  batch?: number;
  examples?: number;
  top?: number;
  ep?: string;
  threads?: number;
  out?: string;
  json?: boolean;
  progress?: boolean;
  /** `query` only: false encodes the gallery every time (default true: it is cached). */
  cache?: boolean;
}

/**
 * The encoder pairs the arguments name: `--images` and `--texts`, else the manifest's pairs.
 * @throws RangeError for one encoder without the other; what reading the manifest throws.
 */
export async function pairsOf(
  args: RetrievalArgs,
  read: ManifestReadOptions = {},
): Promise<EncoderPair[]> {
  if ((args.images === undefined) !== (args.texts === undefined)) {
    throw new RangeError('--images and --texts go together: give both encoders of a pair');
  }
  if (args.images !== undefined && args.texts !== undefined) {
    return [
      await pairFromFiles(args.images, args.texts, {
        preset: args.preset,
        tokenizer: args.tokenizer,
        manifest: args.manifest,
        ...read,
      }),
    ];
  }
  return readPairManifest(args.manifest ?? shippedManifest(), read);
}

const pct = (x: number): string => x.toFixed(1);

function table(report: RetrievalReport): string[] {
  const header = ['model', 'images', 'protocol', 'i2t R@1', 'R@5', 'R@10', 'medr'];
  header.push('t2i R@1', 'R@5', 'R@10', 'medr', 'rsum', 'recorded');
  const rows = report.results.map((r) => [
    r.model,
    r.style,
    r.protocol,
    ...[r.i2t, r.t2i].flatMap((d) => [pct(d.r1), pct(d.r5), pct(d.r10), String(d.medr)]),
    pct(r.rsum),
    r.reference ? pct(r.reference.rsum) : '–',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const { data } = report;
  const differing = report.results.filter(
    (r) => r.reference && Math.abs(r.reference.rsum - r.rsum) > RSUM_TOLERANCE,
  );
  return [
    `${data.name} ${data.split} split: ${data.images} images, ${data.captions} captions`,
    line(header),
    ...rows.map(line),
    ...(report.results.some((r) => r.reference)
      ? [
          differing.length === 0
            ? 'recorded: the rsum the manifest records; every one equals ortlab’s (within 0.001)'
            : 'recorded: the rsum the manifest records; ' +
              `${differing.length} differ from ortlab’s ` +
              'by more than 0.001',
        ]
      : []),
  ];
}

/** The page of a run: its table and the overlays of its examples. */
export async function retrievalHtml(run: RetrievalRun): Promise<string> {
  const overlays = await attentionOverlays(run.images);
  return renderRetrievalHtml({
    data: run.report.data,
    results: run.report.results,
    images: overlays.map((o) => ({
      model: o.example.model,
      style: o.example.style,
      name: o.example.name,
      image: o.image,
      heads: o.heads,
    })),
    texts: run.texts.map((t) => ({
      model: t.model,
      caption: t.caption,
      tokens: t.tokens,
      weights: Array.from({ length: t.heads }, (_, h) =>
        Array.from(t.maps.subarray(h * t.tokens.length, (h + 1) * t.tokens.length)),
      ),
    })),
    config: run.report.config,
  });
}

/** Runs `ortlab retrieval eval`; `--out DIR` writes report.json and report.html there. */
export async function retrievalEvalCommand(args: RetrievalArgs, io: Output): Promise<void> {
  const pairs = await pairsOf(args);
  const data = await openRetrievalData(args.data ?? EMOJI, {
    split: args.split,
    style: args.style,
    imageRoot: args.imageRoot,
  });
  const run = await runRetrievalEval(pairs, data, {
    batchSize: args.batch,
    examples: args.examples,
    session: { executionProviders: args.ep, threads: args.threads },
    onProgress: args.progress === false ? undefined : progressBar(),
  });
  await presentRetrieval(run.report, () => retrievalHtml(run), args, io);
}

/**
 * Writes report.json and report.html to `args.out` (when given) and prints the report: its JSON
 * with `args.json`, else its table. `html` makes the page, only when it is written.
 */
export async function presentRetrieval(
  report: RetrievalReport,
  html: () => Promise<string>,
  args: { out?: string; json?: boolean },
  io: Output,
): Promise<void> {
  if (args.out !== undefined) {
    await mkdir(args.out, { recursive: true });
    const json = `${JSON.stringify(report, null, 2)}\n`;
    await writeFile(path.join(args.out, 'report.json'), json);
    await writeFile(path.join(args.out, 'report.html'), await html());
  }
  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  for (const line of table(report)) io.out(line);
  if (args.out !== undefined) io.out(`report written to ${path.join(args.out, 'report.html')}`);
}

function matchLines(result: QueryResult): string[] {
  const shown = (file: string): string => path.relative(process.cwd(), file) || file;
  const style = result.data.style === 'images' ? '' : `${result.data.style} `;
  const what =
    result.query.text !== undefined
      ? `"${result.query.text}" against ${result.data.gallery} ${style}images`
      : `${shown(result.query.image)} against ${result.data.gallery} captions`;
  return [
    `${what} of ${result.data.name} (${result.data.split}), model ${result.model}`,
    ...result.matches.map((m) => {
      const head = `${String(m.rank).padStart(2)}  ${m.score.toFixed(3)}  `;
      const name = m.name ? `${m.name}  ` : '';
      return m.caption !== undefined
        ? `${head}"${m.caption}"  (${name}${path.basename(m.image)})`
        : `${head}${name}${shown(m.image)}`;
    }),
  ];
}

/** Runs `ortlab retrieval query "words"` or `ortlab retrieval query --image FILE`. */
export async function retrievalQueryCommand(
  text: string | undefined,
  image: string | undefined,
  args: RetrievalArgs,
  io: Output,
): Promise<void> {
  if (text !== undefined && image !== undefined) {
    throw new RangeError('query with words or with --image FILE, not both');
  }
  const pair = widestPair(await pairsOf(args));
  const result = await runRetrievalQuery(image !== undefined ? { image } : { text: text ?? '' }, {
    pair,
    data: args.data,
    split: args.split,
    style: args.style,
    imageRoot: args.imageRoot,
    top: args.top,
    batchSize: args.batch,
    session: { executionProviders: args.ep, threads: args.threads },
    ...(args.cache === false ? { cache: false as const } : {}),
  });
  if (args.json) {
    io.out(JSON.stringify(result, null, 2));
    return;
  }
  for (const line of matchLines(result)) io.out(line);
}
