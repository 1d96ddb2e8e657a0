import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';

import { collectThumbnails, writeReport } from '../../src/cli/report-files.js';
import { recordsFromLogits } from '../../src/eval/records.js';
import { buildReport, type RobustnessReport } from '../../src/eval/report.js';
import { renderReportHtml } from '../../src/eval/report-html.js';
import type { SplitRun, SuiteRun } from '../../src/eval/robustness.js';
import type { SplitRole } from '../../src/eval/suite.js';
import type { Dataset, ImageSource, Sample } from '../../src/runtime/datasets/types.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';

const CLASSES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven <&>',
  'eight',
  'nine',
];
const EVIL_ID = 'digits/3/<script>alert("x")</script>&.png';

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SplitSpec {
  name: string;
  role: SplitRole;
  size: number;
  /** Chance that a labelled sample is right. */
  accuracy: number;
  skipped: number[];
  nonFinite?: number[];
  ids: (i: number) => string;
}

/** A split of synthetic logits: right with margin, wrong with margin, or flat for OOD. */
function splitRun(spec: SplitSpec, seed: number): SplitRun {
  const rand = uniform(seed);
  const ood = spec.role === 'ood';
  const samples = Array.from({ length: spec.size }, (_, i) => ({
    index: i,
    id: spec.ids(i),
    label: ood ? -1 : i % CLASSES.length,
  })).filter((s) => !spec.skipped.includes(s.index));
  const logits = new Float32Array(samples.length * CLASSES.length);
  samples.forEach((s, r) => {
    const row = logits.subarray(r * CLASSES.length, (r + 1) * CLASSES.length);
    for (let c = 0; c < row.length; c++) row[c] = rand() * 2 - 1;
    const wrong = (s.label + 1 + Math.floor(rand() * 9)) % CLASSES.length;
    const right = rand() < spec.accuracy;
    const target = ood ? Math.floor(rand() * CLASSES.length) : right ? s.label : wrong;
    row[target] += (ood ? 1 : 2) + rand() * 5;
    // The file with the hostile name is the most confident mistake of its split.
    if (s.id === EVIL_ID) row[(s.label + 4) % CLASSES.length] += 30;
    if (spec.nonFinite?.includes(s.index)) row[0] = NaN;
  });
  return {
    name: spec.name,
    role: spec.role,
    kind: 'folder',
    data: `/data/${spec.name}`,
    inDistribution: ood ? 'clean' : undefined,
    size: spec.size,
    range: [0, spec.size],
    classes: [...CLASSES],
    records: recordsFromLogits(logits, CLASSES.length, samples),
    skipped: spec.skipped.map((i) => ({ i, id: spec.ids(i), reason: `unreadable <${i}> & bad` })),
    source: { name: spec.name, role: spec.role, data: `/data/${spec.name}` },
  };
}

/** Two labelled splits (one with NaN metrics, a non-finite record and 60 skipped files) and
 * one OOD split. */
const SPECS: SplitSpec[] = [
  {
    ...{ name: 'clean', role: 'clean', size: 400, accuracy: 0.85, skipped: [5, 9] },
    ids: (i) => (i === 0 ? EVIL_ID : `digits/${i % 10}/${i}.png`),
  },
  {
    ...{ name: 'rotated', role: 'shifted', size: 150, accuracy: 0.55, nonFinite: [1] },
    skipped: Array.from({ length: 60 }, (_, k) => 90 + k),
    ids: (i) => `rotated/${i}.png`,
  },
  { name: 'noise', role: 'ood', size: 80, accuracy: 0, skipped: [], ids: (i) => `noise/${i}` },
];

function sampleReport(): RobustnessReport {
  const splits = SPECS.map((s, k) => splitRun(s, 17 + k));
  const run: SuiteRun = {
    suite: { name: 'mnist <robustness>', description: 'Digits, rotated digits & noise.' },
    key: {
      modelSha256: '3f'.repeat(32),
      preset: {
        ...{ name: 'mnist', height: 28, width: 28, cropFraction: 1, interpolation: 'bilinear' },
        ...{ mean: [0.1307], std: [0.3081], channels: 'gray', layout: 'NCHW', range: 1 },
      },
      batchSize: 32,
      temperature: 1,
      maxPixels: null,
      splits: splits.map((s) => ({
        name: s.name,
        role: s.role,
        kind: s.kind,
        size: s.size,
        fingerprint: 'ab'.repeat(32),
      })),
    },
    splits,
  };
  return buildReport(run, {
    model: { path: 'models/mnist-cnn.onnx', sha256: '3f'.repeat(32) },
    executionProvider: 'cpu',
    failedProviders: [],
    threads: 'default',
    versions: { ortlab: '0.1.0', 'onnxruntime-node': '1.30.0' },
    date: '2026-11-02T10:00:00.000Z',
  });
}

/** A 28x28 ring whose size depends on the index, as a digit stand-in. */
function digit(i: number): Uint8Array {
  const data = new Uint8Array(28 * 28);
  const radius = 5 + (i % 6);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const d = Math.hypot(x - 13.5, y - 13.5);
      data[y * 28 + x] = Math.abs(d - radius) < 2 ? 255 : 0;
    }
  }
  return data;
}

function noise(i: number): Uint8Array {
  const rand = uniform(1000 + i);
  return Uint8Array.from({ length: 200 * 120 * 3 }, () => Math.floor(rand() * 256));
}

function memoryDataset(spec: SplitSpec, source: (i: number) => ImageSource): Dataset {
  return {
    name: spec.name,
    location: `memory:${spec.name}`,
    classes: CLASSES,
    size: spec.size,
    samples({ start = 0, end = spec.size } = {}) {
      return (async function* (): AsyncGenerator<Sample> {
        for (let i = start; i < end; i++) {
          yield await Promise.resolve({ index: i, id: spec.ids(i), label: 0, source: source(i) });
        }
      })();
    },
  };
}

/** Images for clean (28x28 gray) and noise (200x120 RGB); rotated's files do not exist. */
function sampleDatasets(): Map<string, Dataset> {
  const [clean, rotated, ood] = SPECS;
  return new Map([
    [
      'clean',
      memoryDataset(clean, (i) => ({
        ...{ kind: 'pixels', data: digit(i), width: 28, height: 28, channels: 1 },
      })),
    ],
    [
      'rotated',
      memoryDataset(rotated, (i) => ({ kind: 'file', path: `/nonexistent/ortlab/${i}.png` })),
    ],
    [
      'noise',
      memoryDataset(ood, (i) => ({
        ...{ kind: 'pixels', data: noise(i), width: 200, height: 120, channels: 3 },
      })),
    ],
  ]);
}

function count(html: string, pattern: RegExp): number {
  return html.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

function summaryCells(html: string, split: string): string[] {
  const row = new RegExp(`<tr data-split="${split}">(.*?)</tr>`).exec(html);
  expect(row, `summary row of ${split}`).to.not.equal(null);
  return [...(row as RegExpExecArray)[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]);
}

async function decode(uri: string): Promise<{ width: number; height: number; data: Buffer }> {
  const bytes = Buffer.from(uri.replace(/^data:image\/png;base64,/, ''), 'base64');
  const { data, info } = await sharp(bytes).extractChannel(0).raw().toBuffer({
    resolveWithObject: true,
  });
  return { width: info.width, height: info.height, data };
}

describe('renderReportHtml', () => {
  let report: RobustnessReport;
  let thumbnails: Map<string, string>;
  let html: string;

  before(async () => {
    report = sampleReport();
    thumbnails = await collectThumbnails(report, sampleDatasets());
    html = renderReportHtml(report, { thumbnails });
  });

  it('has at least one mistake per split, NaN metrics and a non-finite record', () => {
    expect(report.splits.map((s) => s.mistakes.length > 0)).to.deep.equal([true, true, true]);
    expect(report.splits[0].mistakes[0].id).to.equal(EVIL_ID);
    expect(report.splits[1].metrics?.rmsCalibrationError).to.be.NaN;
    expect(report.splits[1].metrics?.nonFinite).to.equal(1);
  });

  it('draws the accuracy chart, a reliability diagram per labelled split, ROC, PR curves', () => {
    expect(count(html, /<svg class="chart accuracy"/)).to.equal(1);
    expect(count(html, /<svg class="chart reliability" data-split="clean"/)).to.equal(1);
    expect(count(html, /<svg class="chart reliability" data-split="rotated"/)).to.equal(1);
    expect(count(html, /<svg class="chart reliability"/)).to.equal(2);
    expect(count(html, /<svg class="chart roc" data-split="noise"/)).to.equal(1);
    expect(count(html, /<svg class="chart pr" data-split="noise"/)).to.equal(1);
    expect(count(html, /<polyline class="curve" points="[\d., ]+"\/>/)).to.equal(2);
    expect(count(html, /<svg /)).to.equal(count(html, /<\/svg>/));
  });

  it('tabulates every split and every anomaly score with both positive classes', () => {
    expect(count(html, /<table class="summary">/)).to.equal(1);
    expect(count(html, /<tr data-split="/)).to.equal(3);
    const clean = summaryCells(html, 'clean');
    expect(clean).to.have.length(11);
    expect(clean[2]).to.equal('398');
    expect(clean[4]).to.equal(`${(report.splits[0].metrics!.top1 * 100).toFixed(2)}%`);
    const ood = /<table class="ood-scores" data-split="noise">(.*?)<\/table>/.exec(html);
    expect(ood).to.not.equal(null);
    const rows = [...ood![1].matchAll(/<tr><td>(.*?)<\/td>(.*?)<\/tr>/g)];
    expect(rows.map((r) => r[1])).to.deep.equal(['MSP', 'Max logit', 'Energy', 'Entropy']);
    const auroc = report.ood[0].scores.energy.inPositive.auroc;
    expect(rows[2][2]).to.include(`${(auroc * 100).toFixed(2)}%`);
  });

  it('shows "–" for NaN and missing metrics, never NaN, null or undefined', () => {
    const rotated = summaryCells(html, 'rotated');
    expect(rotated[7], 'RMS calibration error of 89 samples').to.equal('–');
    expect(rotated[10], 'non-finite').to.equal('1');
    expect(summaryCells(html, 'noise').slice(4, 10)).to.deep.equal(Array(6).fill('–'));
    const outsideConfig = html.replace(/<pre>[\s\S]*?<\/pre>/, '');
    expect(outsideConfig).to.not.match(/NaN|undefined|null|Infinity/);
  });

  it('renders a report read back from JSON (NaN as null) exactly like the original', () => {
    const parsed = JSON.parse(JSON.stringify(report)) as RobustnessReport;
    expect(parsed.splits[1].metrics?.rmsCalibrationError).to.equal(null);
    expect(renderReportHtml(parsed, { thumbnails })).to.equal(html);
  });

  it('escapes file names, class names, reasons, the suite name and the title', () => {
    expect(html).to.not.include('<script');
    expect(html).to.not.include('<robustness>');
    expect(html).to.include('digits/3/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;.png');
    expect(html).to.include('seven &lt;&amp;&gt;');
    expect(html).to.include('unreadable &lt;5&gt; &amp; bad');
    expect(html).to.include('<title>ortlab robustness report: mnist &lt;robustness&gt;</title>');
    const titled = renderReportHtml(report, { title: 'a "b" <c>' });
    expect(titled).to.include('<title>a &quot;b&quot; &lt;c&gt;</title>');
  });

  it('loads nothing from outside: no script, only data: images, a CSP that says so', () => {
    expect(html).to.match(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    expect(html).to.not.match(/<script|<link|url\(|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const sources = [...html.matchAll(/ src="([^"]*)"/g)].map((m) => m[1]);
    expect(sources.length).to.equal(thumbnails.size);
    for (const s of sources) expect(s).to.match(/^data:image\/png;base64,[A-Za-z0-9+/=]+$/);
  });

  it('enlarges 28x28 digits crisply by whole factors and shrinks large images to 96', async () => {
    const clean = report.splits[0].mistakes;
    const first = await decode(thumbnails.get(`clean#${clean[0].index}`)!);
    expect([first.width, first.height]).to.deep.equal([84, 84]);
    const original = digit(clean[0].index);
    for (let y = 0; y < 84; y++) {
      for (let x = 0; x < 84; x++) {
        const want = original[Math.floor(y / 3) * 28 + Math.floor(x / 3)];
        if (first.data[y * 84 + x] !== want) expect.fail(`pixel (${x}, ${y}) is not nearest`);
      }
    }
    const ood = report.splits[2].mistakes[0];
    const shrunk = await decode(thumbnails.get(`noise#${ood.index}`)!);
    expect([shrunk.width, shrunk.height]).to.deep.equal([96, 58]);
  });

  it('shows a placeholder for every mistake without a usable thumbnail', () => {
    const rotated = report.splits[1].mistakes;
    expect(rotated.length).to.be.greaterThan(0);
    expect(rotated.some((m) => thumbnails.has(`rotated#${m.index}`))).to.equal(false);
    const all = report.splits.reduce((n, s) => n + s.mistakes.length, 0);
    expect(thumbnails.size).to.equal(all - rotated.length);
    expect(count(html, /class="thumb placeholder"/)).to.equal(rotated.length);
    expect(count(html, /<img class="thumb"/)).to.equal(thumbnails.size);

    const hostile = new Map([
      [`clean#${report.splits[0].mistakes[0].index}`, 'https://example.com/x.png'],
      [`clean#${report.splits[0].mistakes[1].index}`, 'data:image/png;base64,AA" onerror="x'],
    ]);
    const page = renderReportHtml(report, { thumbnails: hostile });
    expect(page).to.not.include('example.com');
    expect(page).to.not.include('onerror');
    expect(count(page, /<img /)).to.equal(0);
  });

  it('shows label → predicted and confidence for each mistake, OOD without a label', () => {
    const m = report.splits[0].mistakes[0];
    const grid = /<div class="mistakes" data-split="clean">(.*?)<\/div><h3>/.exec(html);
    expect(grid).to.not.equal(null);
    expect(count(grid![1], /<figure class="mistake">/)).to.equal(report.splits[0].mistakes.length);
    expect(grid![1]).to.include(`${m.label} → <b>${m.predicted}</b>`);
    expect(grid![1]).to.include(`${(m.confidence * 100).toFixed(1)}%`);
    expect(html).to.match(
      /<div class="mistakes" data-split="noise"><figure class="mistake">.*?<i>OOD<\/i> → /,
    );
  });

  it('lists the first 50 skipped files with their reasons and counts the rest', () => {
    const rotated = /<div class="skipped" data-split="rotated">(.*?)<\/div>/.exec(html);
    expect(rotated).to.not.equal(null);
    expect(count(rotated![1], /<li>/)).to.equal(50);
    expect(rotated![1]).to.include('<code>rotated/90.png</code>');
    expect(rotated![1]).to.not.include('rotated/140.png');
    expect(rotated![1]).to.include('… and 10 more');
    expect(count(html, /<div class="skipped"/)).to.equal(2);
  });

  it('shows the run configuration in the header and in full as JSON', () => {
    expect(html).to.include(`title="${'3f'.repeat(32)}">${'3f'.repeat(6)}</dd>`);
    expect(html).to.match(/<dt>Provider<\/dt><dd>cpu<\/dd>/);
    expect(html).to.match(/<dt>Preset<\/dt><dd>mnist<\/dd>/);
    expect(html).to.include('ortlab 0.1.0 · onnxruntime-node 1.30.0');
    const pre =
      /<details class="config"><summary>Configuration<\/summary><pre>([\s\S]*?)<\/pre>/.exec(html);
    const unescaped = pre![1]
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
    expect(JSON.parse(unescaped.replace(/&#39;/g, "'").replace(/&amp;/g, '&'))).to.deep.equal(
      report.config,
    );
  });
});

describe('writeReport', () => {
  it('writes report.json (NaN as null) and report.html into a new folder', async () => {
    const report = sampleReport();
    const dir = await mkdtemp(join(tmpdir(), 'ortlab-report-'));
    try {
      const files = await writeReport(report, join(dir, 'out'), { title: 'T' });
      expect(files).to.deep.equal({
        json: join(dir, 'out', 'report.json'),
        html: join(dir, 'out', 'report.html'),
      });
      const json = JSON.parse(await readFile(files.json, 'utf8')) as RobustnessReport;
      expect(json.splits[1].metrics?.rmsCalibrationError).to.equal(null);
      expect(json.splits[0].mistakes).to.deep.equal(report.splits[0].mistakes);
      expect(await readFile(files.html, 'utf8')).to.equal(renderReportHtml(report, { title: 'T' }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('robustness report page in Chromium', function () {
  this.timeout(120_000);
  let browser: TestBrowser | undefined;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ortlab-report-page-'));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('no errors or requests, draws every chart, decodes every image, is not blank', async () => {
    const report = sampleReport();
    const thumbnails = await collectThumbnails(report, sampleDatasets());
    const files = await writeReport(report, dir, { thumbnails });
    const { page, errors } = await browser!.newPage({ width: 1200, height: 900 });
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!/^(file|data):/.test(r.url())) outside.push(r.url());
    });
    await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });

    const charts = await page.locator('svg.chart').all();
    expect(charts).to.have.length(5);
    for (const chart of charts) {
      const box = await chart.boundingBox();
      const name = await chart.getAttribute('class');
      expect(box, `${name} box`).to.not.equal(null);
      expect(box!.width, `${name} width`).to.be.greaterThan(200);
      expect(box!.height, `${name} height`).to.be.greaterThan(100);
    }
    const images = await page.locator('img.thumb').evaluateAll((list) =>
      list.map((element) => {
        const img = element as HTMLImageElement;
        return { complete: img.complete, width: img.naturalWidth };
      }),
    );
    expect(images).to.have.length(thumbnails.size);
    for (const image of images) expect(image.complete && image.width > 0).to.equal(true);
    const placeholders = await page.locator('.thumb.placeholder').all();
    expect(placeholders).to.have.length(report.splits[1].mistakes.length);
    expect((await placeholders[0].boundingBox())!.width).to.be.greaterThan(50);

    const png = await page.screenshot({ fullPage: true, type: 'png' });
    if (process.env.ORTLAB_REPORT_SCREENSHOT) {
      await writeFile(process.env.ORTLAB_REPORT_SCREENSHOT, png);
    }
    const stats = await sharp(png).stats();
    const spread = Math.max(...stats.channels.slice(0, 3).map((c) => c.stdev));
    expect(spread, 'screenshot pixel standard deviation').to.be.greaterThan(15);
    expect(errors).to.deep.equal([]);
    expect(outside).to.deep.equal([]);
  });
});
