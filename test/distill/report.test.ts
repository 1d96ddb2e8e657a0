import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { parseExamples, parseMapping } from '../../src/cli/distill-command.js';
import type { DistillReport } from '../../src/distill/run-node.js';
import { launchBrowser } from '../helpers/browser.js';
import { runOrtlab as ortlab } from '../helpers/ortlab-process.js';

describe('ortlab distill', function () {
  this.timeout(120_000);
  let dir: string;
  let report: DistillReport;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ortlab-distill-'));
    const run = await ortlab(
      'distill',
      'models/distill/teacher.onnx',
      'models/distill/student-ckd.onnx',
      '--limit',
      '16',
      '--json',
      '--no-progress',
      '--out',
      dir,
    );
    expect(run.code, run.stderr).to.equal(0);
    report = JSON.parse(run.stdout) as DistillReport;
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('--json reports every domain with its terms, both models and the configuration', async () => {
    expect(report.domains.map((d) => [d.name, d.sentences, d.inDomain])).to.deep.equal([
      ['yelp (test)', 16, true],
      ['amazon', 16, false],
      ['imdb', 16, false],
    ]);
    expect(report.teacher).to.include({ hiddenStates: 5, hidden: 128, logits: 'logits' });
    expect(report.student).to.include({ hiddenStates: 3, hidden: 64 });
    expect(report.teacher.sha256).to.equal(
      JSON.parse(await readFile('models/distill/teacher.json', 'utf8')).sha256,
    );
    expect(report.config).to.include.keys('executionProvider', 'versions', 'date', 'threads');
    expect(report.labels).to.deep.equal(['negative', 'positive']);
    const onFile = JSON.parse(
      await readFile(path.join(dir, 'report.json'), 'utf8'),
    ) as DistillReport;
    expect(onFile.domains).to.deep.equal(report.domains);
  });

  it('prints a table per domain without --json', async () => {
    const run = await ortlab(
      'distill',
      'models/distill/teacher.onnx',
      'models/distill/student-kd.onnx',
      '--limit',
      '4',
      '--mapping',
      'last',
      '--no-progress',
    );
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^mapping 4->2;/m);
    expect(run.stdout).to.match(/^yelp \(test\) \*\s+4\s/m);
    expect(run.stdout).to.include('ltrPair is off: it needs 2 matched layer pairs');
  });

  it('--examples chooses the sentences whose relation heatmaps the page shows', async () => {
    const out = path.join(dir, 'examples');
    const sentences = ['The soup was cold.', 'Friendly staff, quick lunch!'];
    const run = await ortlab(
      'distill',
      'models/distill/teacher.onnx',
      'models/distill/student-ckd.onnx',
      '--limit',
      '2',
      '--examples',
      sentences.join('|'),
      '--json',
      '--no-progress',
      '--out',
      out,
    );
    expect(run.code, run.stderr).to.equal(0);
    const chosen = JSON.parse(run.stdout) as DistillReport;
    expect(chosen.examples.map((e) => e.text)).to.deep.equal(sentences);
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    const titles = [...html.matchAll(/<article class="example"[^>]*><h3>“([^”]*)”<\/h3>/g)];
    expect(titles.map((m) => m[1])).to.deep.equal(sentences);

    const counted = await ortlab(
      'distill',
      'models/distill/teacher.onnx',
      'models/distill/student-ckd.onnx',
      '--limit',
      '2',
      '--examples',
      '1',
      '--json',
      '--no-progress',
    );
    const one = JSON.parse(counted.stdout) as DistillReport;
    expect(one.examples).to.have.length(1);
    expect(one.examples[0].text).to.equal(report.examples[0].text);
    expect(() => parseExamples(' | ')).to.throw(
      RangeError,
      /--examples takes a count or sentences/,
    );
  });

  it('--data FILE.jsonl: sentences as one domain, bad lines numbered; empty fails', async () => {
    const good = path.join(dir, 'mine.jsonl');
    await writeFile(
      good,
      [
        '{"text": "Great food and friendly staff.", "label": "positive"}',
        '{"text": "Cold soup, rude waiter.", "label": 0}',
        '{"text": "unclosed',
        '',
        '{"text": "We will be back!", "label": 1}',
        '{"label": 1}',
      ].join('\n'),
    );
    const run = await ortlab(
      'distill',
      'models/distill/teacher.onnx',
      'models/distill/student-ckd.onnx',
      '--data',
      good,
      '--examples',
      '0',
      '--no-progress',
    );
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^mine\s+3\s/m);
    expect(run.stdout).to.include(`${good} line 3 skipped: not valid JSON`);
    expect(run.stdout).to.include(`${good} line 6 skipped: no "text" string`);
    const json = await ortlab(
      'distill',
      'models/distill/teacher.onnx',
      'models/distill/student-ckd.onnx',
      '--data',
      good,
      '--examples',
      '0',
      '--json',
    );
    const parsed = JSON.parse(json.stdout) as DistillReport;
    expect(parsed.domains).to.have.length(1);
    expect(parsed.domains[0]).to.include({ name: 'mine', sentences: 3, labelled: 3 });
    expect(parsed.domains[0].skipped.map((k) => k.line)).to.deep.equal([3, 6]);

    const bad = path.join(dir, 'broken.jsonl');
    await writeFile(bad, '{"text": "no end\n["a list"]\n');
    const failed = await ortlab(
      'distill',
      'models/distill/teacher.onnx',
      'models/distill/student-ckd.onnx',
      '--data',
      bad,
      '--no-progress',
    );
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.include(
      `text data '${bad}' has no usable sentence (line 1: not valid JSON`,
    );
  });

  it('names a mapping it cannot read, and a layer a model lacks, and exits 1', async () => {
    expect(() => parseMapping('0:0,2')).to.throw(RangeError, /pairs teacher:student/);
    expect(parseMapping('0:0,4:2')).to.deep.equal([
      [0, 0],
      [4, 2],
    ]);
    const run = await ortlab(
      'distill',
      'models/distill/teacher.onnx',
      'models/distill/student-kd.onnx',
      '--mapping',
      '0:0,9:1',
      '--no-progress',
    );
    expect(run.code).to.equal(1);
    expect(run.stderr)
      .to.match(/teacher/)
      .and.match(/9/);
  });

  it('writes a page that renders in Chromium: tables and every heatmap, no errors', async () => {
    const browser = await launchBrowser();
    try {
      const { page, errors } = await browser.newPage({ width: 1200, height: 900 });
      await page.goto(pathToFileURL(path.join(dir, 'report.html')).href, { waitUntil: 'load' });
      expect(await page.locator('table.domains tbody tr').count()).to.equal(3);
      expect(await page.locator('table.per-layer tbody tr').count()).to.equal(9);
      const pairs = report.mapping.length;
      const heatmaps = await page.locator('svg.heatmap').all();
      expect(heatmaps).to.have.length(report.examples.length * (2 * pairs + 2));
      const n = report.examples[0].tokens.length;
      expect(await heatmaps[0].locator('rect').count()).to.equal(n * n);
      const box = await heatmaps[0].boundingBox();
      expect(box!.width).to.be.greaterThan(100);
      expect(errors).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });
});
