import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import {
  Session,
  buildReport,
  loadSuite,
  runSuite,
  type Preset,
  type RobustnessReport,
} from '../../src/index.js';
import { summaryLines } from '../../src/cli/summary.js';
import { renderReportHtml } from '../../src/eval/report-html.js';
import type { StaticServer } from '../../src/server/static-server.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { servePage } from '../helpers/page-server.js';
import { openPage, realErrors } from './page-helpers.js';

/**
 * Walks two JSON values together: the same structure, the same strings and integers, and
 * non-integer numbers within `tolerance` (onnxruntime-web's wasm and onnxruntime-node's CPU
 * kernels round differently in the last float bits). Returns the differences found.
 */
function differences(a: unknown, b: unknown, tolerance: number, where = 'report'): string[] {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isInteger(a) && Number.isInteger(b))
      return a === b ? [] : [`${where}: ${a} != ${b}`];
    if (Number.isNaN(a) && Number.isNaN(b)) return [];
    return Math.abs(a - b) <= tolerance ? [] : [`${where}: ${a} != ${b}`];
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${where}: length ${a.length} != ${b.length}`];
    return a.flatMap((v, i) => differences(v, b[i], tolerance, `${where}[${i}]`));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      differences(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        tolerance,
        `${where}.${k}`,
      ),
    );
  }
  return a === b ? [] : [`${where}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`];
}

/** The parts of a report that must agree between Node and the browser (not paths or dates). */
function comparable(report: RobustnessReport) {
  return {
    suite: report.suite,
    splits: report.splits.map(({ data, ...rest }) => {
      void data; // a file path in Node, a URL in the browser
      return rest;
    }),
    ood: report.ood,
    preset: report.config.preset,
    batchSize: report.config.batchSize,
    modelSha256: report.config.modelSha256,
  };
}

describe('the embedded suite in Chromium', () => {
  let browser: TestBrowser;
  let server: StaticServer;
  let node: RobustnessReport;

  before(async function () {
    this.timeout(120_000);
    [browser, server] = await Promise.all([launchBrowser(), servePage()]);
    const session = await Session.create('models/mnist-cnn.onnx');
    const card = JSON.parse(await readFile('models/mnist-cnn.json', 'utf8')) as { preset: Preset };
    const run = await runSuite(session, await loadSuite('data/suite/suite.json'), {
      preset: card.preset,
      batchSize: 256,
    });
    // NaN metrics (empty reliability bins) are null in JSON, as the page's report.json has them.
    node = JSON.parse(JSON.stringify(buildReport(run, {}))) as RobustnessReport;
    await session.dispose();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("reports Node's runSuite numbers, a progress bar and the terminal's table", async function () {
    this.timeout(120_000);
    const opened = await openPage(browser, server, '?ep=wasm&threads=2');
    const { page } = opened;
    await page.click('#suite-button');
    await page.waitForSelector('#suite-progress:not([hidden])');
    await page.waitForFunction(() => document.getElementById('suite-bar')!.getAttribute('value'));
    await page.waitForSelector('#suite[data-state="done"], #suite[data-state="error"]', {
      timeout: 110_000,
    });
    expect(await page.getAttribute('#suite', 'data-state')).to.equal('done');
    expect(await page.locator('#suite-status').innerText()).to.equal(
      'split o (4 of 4): 2,000 / 2,000 images',
    );

    const report = (await page.evaluate(async () => {
      const link = document.getElementById('report-json') as HTMLAnchorElement;
      return (await fetch(link.href)).json();
    })) as RobustnessReport;
    expect(report.config.executionProvider).to.equal('wasm');
    // Served cross-origin isolated, wasm runs on the two threads asked for.
    expect(report.config).to.include({ wasmThreads: 2, crossOriginIsolated: true });
    expect(report.config.versions).to.have.property('onnxruntime-web', '1.30.0');
    expect(report.splits.map((s) => s.scored)).to.deep.equal([10000, 1797, 374, 2000]);
    expect(report.splits[0].metrics?.top1).to.equal(0.993);
    expect(differences(comparable(report), comparable(node), 1e-6)).to.deep.equal([]);
    expect(await page.locator('#suite-summary').innerText()).to.equal(
      summaryLines(node).join('\n'),
    );

    const frame = page.frameLocator('#report-frame');
    const charts = renderReportHtml(node).match(/<svg class="chart/g)?.length ?? 0;
    expect(charts).to.be.greaterThan(3);
    expect(await frame.locator('svg.chart').count()).to.equal(charts);
    const thumbs = await frame.locator('img.thumb').count();
    expect(thumbs, 'mistake thumbnails drawn by the page').to.equal(
      node.splits.reduce((sum, s) => sum + s.mistakes.length, 0),
    );
    expect(realErrors(opened)).to.deep.equal([]);
    expect(opened.outside).to.deep.equal([]);
    await page.close();
  });
});
