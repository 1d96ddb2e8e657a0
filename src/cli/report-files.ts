/**
 * Writes the robustness report to disk (JSON and the self-contained HTML page) and makes the
 * thumbnails of its mistakes: small PNGs, as data: URIs, from the datasets the run read.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

import type { RobustnessReport } from '../eval/report.js';
import { renderReportHtml, thumbnailKey } from '../eval/report-html.js';
import type { Dataset, ImageSource } from '../runtime/datasets/types.js';
import { DEFAULT_MAX_PIXELS } from '../runtime/preprocess/image-node.js';

/** Options of `writeReport`. */
export interface WriteReportOptions {
  /** Mistake images by `thumbnailKey(split, index)` (see `collectThumbnails`). Default none. */
  thumbnails?: ReadonlyMap<string, string>;
  /** The HTML page's title. Default `ortlab robustness report: <suite name>`. */
  title?: string;
}

/** The files `writeReport` wrote. */
export interface ReportFiles {
  json: string;
  html: string;
}

/**
 * Writes `report.json` (pretty JSON; NaN metrics become `null`) and `report.html` into `dir`,
 * creating it when needed.
 *
 * @example
 * ```ts
 * const files = await writeReport(report, 'out', { thumbnails });
 * // { json: 'out/report.json', html: 'out/report.html' }
 * ```
 */
export async function writeReport(
  report: RobustnessReport,
  dir: string,
  options: WriteReportOptions = {},
): Promise<ReportFiles> {
  const files = { json: join(dir, 'report.json'), html: join(dir, 'report.html') };
  await mkdir(dir, { recursive: true });
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.html, renderReportHtml(report, options));
  return files;
}

/** Options of `collectThumbnails`. */
export interface ThumbnailOptions {
  /** Longest side of a thumbnail, in pixels (default 96). */
  maxSide?: number;
}

/**
 * Makes a PNG thumbnail of every mistake in the report, read again from its split's dataset by
 * index. Small images are enlarged by a whole factor with nearest-neighbour sampling (a 28x28
 * digit becomes 84x84 and stays crisp); large ones are shrunk to fit `maxSide`. A mistake whose
 * split has no dataset in `datasets`, whose sample no longer carries the recorded id, or whose
 * image fails to decode gets no thumbnail (the page shows a placeholder).
 *
 * @returns data: URIs by `thumbnailKey(split, index)`.
 * @example
 * ```ts
 * const thumbnails = await collectThumbnails(report, await openRunDatasets(run));
 * thumbnails.get('clean#17'); // 'data:image/png;base64,iVBORw0KGgo...'
 * ```
 */
export async function collectThumbnails(
  report: RobustnessReport,
  datasets: ReadonlyMap<string, Dataset>,
  options: ThumbnailOptions = {},
): Promise<Map<string, string>> {
  const maxSide = options.maxSide ?? 96;
  if (!(Number.isInteger(maxSide) && maxSide > 0)) {
    throw new RangeError(`maxSide must be a positive integer; received ${maxSide}`);
  }
  const thumbnails = new Map<string, string>();
  for (const split of report.splits) {
    const dataset = datasets.get(split.name);
    if (!dataset) continue;
    for (const mistake of split.mistakes) {
      const uri = await thumbnailOf(dataset, mistake.index, mistake.id, maxSide).catch(
        () => undefined,
      );
      if (uri) thumbnails.set(thumbnailKey(split.name, mistake.index), uri);
    }
  }
  return thumbnails;
}

async function thumbnailOf(
  dataset: Dataset,
  index: number,
  id: string,
  maxSide: number,
): Promise<string | undefined> {
  for await (const sample of dataset.samples({ start: index, end: index + 1 })) {
    // A different id means the data changed since the run: no image beats a wrong one.
    if (sample.index !== index || sample.id !== id) return undefined;
    const png = await thumbnailPng(sample.source, maxSide);
    return `data:image/png;base64,${png.toString('base64')}`;
  }
  return undefined;
}

/** A PNG of the image whose longest side is `maxSide` at most (a whole multiple when enlarged). */
async function thumbnailPng(source: ImageSource, maxSide: number): Promise<Buffer> {
  const image =
    source.kind === 'file'
      ? sharp(source.path, { limitInputPixels: DEFAULT_MAX_PIXELS, failOn: 'error' })
      : sharp(source.data, {
          raw: { width: source.width, height: source.height, channels: source.channels },
        });
  const { width = 0, height = 0 } =
    source.kind === 'file'
      ? await image.metadata()
      : { width: source.width, height: source.height };
  const longest = Math.max(width, height);
  if (longest === 0) throw new Error(`image ${width}x${height} has no pixels`);
  if (longest > maxSide) {
    image.resize(maxSide, maxSide, { fit: 'inside' });
  } else {
    const factor = Math.floor(maxSide / longest);
    if (factor > 1) {
      image.resize(width * factor, height * factor, { kernel: 'nearest', fit: 'fill' });
    }
  }
  return image.png().toBuffer();
}
