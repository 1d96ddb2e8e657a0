import { expect } from 'chai';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { StaticServer } from '../../src/server/static-server.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { servePage } from '../helpers/page-server.js';
import { FAKE_EMOJI, writeFakeRetrieval } from '../helpers/retrieval-fakes.js';
import { openPage, realErrors, type OpenedPage } from './page-helpers.js';
import { nodeMatches } from './retrieval-reference.js';

/** Cosine of a query colour with each emoji's colour: what the panel must rank by. */
function expectedRanking(query: [number, number, number]): { caption: string; score: number }[] {
  const norm = (v: number[]) => Math.hypot(...v);
  return FAKE_EMOJI.map((e) => {
    const rgb = e.rgb.map((c) => c / 255);
    const dot = rgb.reduce((s, c, i) => s + c * query[i], 0);
    return { caption: e.caption, score: dot / (norm(rgb) * norm(query)) };
  }).sort((a, b) => b.score - a.score);
}

/** Types a query and returns what the panel shows: captions and full-precision scores. */
async function search(opened: OpenedPage, text: string) {
  const { page } = opened;
  await page.fill('#query', text);
  await page.click('#query-button');
  await page.waitForFunction(
    (q) => document.getElementById('retrieval-message')!.textContent.includes(`"${q}"`),
    text,
  );
  const items = page.locator('#retrieval-results li');
  const captions = await items.locator('span').allInnerTexts();
  const scores = await items.evaluateAll((list) =>
    list.map((li) => Number((li as HTMLElement).dataset.score)),
  );
  return captions.map((c, i) => ({ caption: c.split(' · ')[0], score: scores[i] }));
}

/** The page's matches equal Node's: scores within 1e-4, captions wherever scores are not tied. */
function expectSameMatches(
  page: { caption: string; score: number }[],
  node: { caption: string; score: number }[],
  what: string,
): void {
  expect(page.length, what).to.equal(node.length);
  page.forEach((m, i) => {
    expect(m.score, `${what} score ${i}`).to.be.closeTo(node[i].score, 1e-4);
    const tied = node.some((n, j) => j !== i && Math.abs(n.score - node[i].score) < 1e-4);
    if (!tied) expect(m.caption, `${what} caption ${i}`).to.equal(node[i].caption);
  });
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

  it('embeds the gallery, ranks emoji for a typed query by cosine similarity', async function () {
    this.timeout(30_000);
    const opened = await openPage(browser, server);
    await opened.page.waitForSelector(
      '#retrieval[data-state="ready"], #retrieval[data-state="error"]',
    );
    const status = await opened.page.locator('#retrieval-message').innerText();
    expect(status).to.equal('5 emoji embedded by the r4 image encoder on wasm; type a query');

    const queries = ['a red heart', 'Blue and green'];
    const fromNode = await nodeMatches(root, queries, 5);
    for (const [q, query] of queries.entries()) {
      const colour: [number, number, number] = q === 0 ? [1, 0, 0] : [0, 1, 1];
      const shown = await search(opened, query);
      const expected = expectedRanking(colour);
      expect(shown.map((s) => s.caption)).to.deep.equal(
        expected.map((e) => e.caption),
        query,
      );
      shown.forEach((s, i) => expect(s.score).to.be.closeTo(expected[i].score, 1e-6, query));
      expectSameMatches(shown, fromNode[q], query);
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

  it('with the shipped encoders: the matches Node finds for the same queries', async function () {
    this.timeout(120_000);
    const queries = ['a red heart', 'grinning face', 'rocket'];
    const fromNode = await nodeMatches(process.cwd(), queries);
    const repo = await servePage();
    try {
      const opened = await openPage(browser, repo, '?ep=wasm');
      await opened.page.waitForSelector(
        '#retrieval[data-state="ready"], #retrieval[data-state="error"]',
        {
          timeout: 100_000,
        },
      );
      expect(await opened.page.locator('#retrieval-message').innerText()).to.match(
        /emoji embedded by the r\d+ image encoder/,
      );
      for (const [q, query] of queries.entries()) {
        expectSameMatches(await search(opened, query), fromNode[q], query);
      }
      expect(realErrors(opened)).to.deep.equal([]);
      await opened.page.close();
    } finally {
      await repo.close();
    }
  });
});
