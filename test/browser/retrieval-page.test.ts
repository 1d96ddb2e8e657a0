import { expect } from 'chai';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { StaticServer } from '../../src/server/static-server.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { servePage } from '../helpers/page-server.js';
import { FAKE_EMOJI, writeFakeRetrieval } from '../helpers/retrieval-fakes.js';
import { openPage, type OpenedPage } from './page-helpers.js';

/** Cosine of a query colour with each emoji's colour: what the panel must rank by. */
function expectedRanking(query: [number, number, number]): { caption: string; score: number }[] {
  const norm = (v: number[]) => Math.hypot(...v);
  return FAKE_EMOJI.map((e) => {
    const rgb = e.rgb.map((c) => c / 255);
    const dot = rgb.reduce((s, c, i) => s + c * query[i], 0);
    return { caption: e.caption, score: dot / (norm(rgb) * norm(query)) };
  }).sort((a, b) => b.score - a.score);
}

async function search(opened: OpenedPage, text: string) {
  const { page } = opened;
  await page.fill('#query', text);
  await page.click('#query-button');
  await page.waitForFunction(
    (q) => document.getElementById('retrieval-message')!.textContent.includes(`"${q}"`),
    text,
  );
  return page.locator('#retrieval-results li span').allInnerTexts();
}

/**
 * The retrieval panel against the shipped encoders' contract, with encoders whose similarities
 * are known (test/helpers/retrieval-fakes.ts): tokenized by transformers.js in the page, embedded
 * by onnxruntime-web, ranked by ortlab's top-k graph.
 */
describe('the retrieval panel in Chromium', () => {
  let browser: TestBrowser;
  let server: StaticServer;
  let root: string;

  before(async function () {
    this.timeout(60_000);
    root = await mkdtemp(path.join(tmpdir(), 'ortlab-retrieval-page-'));
    await symlink(path.resolve('web'), path.join(root, 'web'));
    await writeFakeRetrieval(root);
    [browser, server] = await Promise.all([launchBrowser(), servePage({ root })]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('embeds the gallery, then ranks emoji for a typed query by cosine similarity', async function () {
    this.timeout(30_000);
    const opened = await openPage(browser, server);
    await opened.page.waitForSelector(
      '#retrieval[data-state="ready"], #retrieval[data-state="error"]',
    );
    const status = await opened.page.locator('#retrieval-message').innerText();
    expect(status).to.equal('5 emoji embedded by the r4 image encoder on wasm; type a query');

    for (const [query, colour] of [
      ['a red heart', [1, 0, 0]],
      ['Blue and green', [0, 1, 1]],
    ] as const) {
      const shown = await search(opened, query);
      const expected = expectedRanking([...colour]);
      expect(shown.map((s) => s.split(' · ')[0])).to.deep.equal(
        expected.map((e) => e.caption),
        query,
      );
      shown.forEach((s, i) => {
        expect(Number(s.split(' · ')[1])).to.be.closeTo(expected[i].score, 6e-4, `${query} ${i}`);
      });
    }
    const images = await opened.page
      .locator('#retrieval-results img')
      .evaluateAll((list) =>
        list.map(
          (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth,
        ),
      );
    expect(images).to.deep.equal([64, 64, 64, 64, 64]);

    await opened.page.fill('#query', '   ');
    await opened.page.click('#query-button');
    expect(await opened.page.locator('#retrieval-message').innerText()).to.equal(
      'type a query, such as "a red heart"',
    );
    // This root has no models/mnist-cnn: only that and the r1 files may be missing.
    expect(opened.failed.filter((p) => !/mnist-cnn/.test(p))).to.deep.equal([]);
    expect(opened.outside).to.deep.equal([]);
    await opened.page.close();
  });
});
