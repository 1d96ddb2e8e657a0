/**
 * Shared steps of the demo page tests: open the page and wait until it has started, collect what
 * it asked of the network, and tell the browser's own 404 line for an absent optional file
 * (the retrieval models) from a real console error.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';

import type { StaticServer } from '../../src/server/static-server.js';
import type { TestBrowser } from '../helpers/browser.js';

/** The retrieval manifest the page looks for; absent until the retrieval encoders ship. */
export const RETRIEVAL_MANIFEST = 'models/retrieval/manifest.json';

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Requests that left the page's origin. */
  outside: string[];
  /** Paths that answered 400 or more. */
  failed: string[];
}

/** Opens the page at `query` and waits until it says it has started (or failed). */
export async function openPage(
  browser: TestBrowser,
  server: StaticServer,
  query = '',
  viewport = { width: 1200, height: 900 },
): Promise<OpenedPage> {
  const { page, errors } = await browser.newPage(viewport);
  const outside: string[] = [];
  const failed: string[] = [];
  page.on('request', (r) => {
    if (!/^(data|blob):/.test(r.url()) && !r.url().startsWith(server.url)) outside.push(r.url());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(new URL(r.url()).pathname);
  });
  await page.goto(`${server.url}${query}`);
  await page.waitForSelector('body[data-state]', { timeout: 30_000 });
  return { page, errors, outside, failed };
}

/**
 * Console errors other than the browser's line for the 404 of the retrieval manifest while the
 * retrieval encoders are not in the repository; throws if anything else answered 404.
 */
export function realErrors(opened: OpenedPage): string[] {
  const manifestMissing = !existsSync(RETRIEVAL_MANIFEST);
  const expected = manifestMissing ? [`/${RETRIEVAL_MANIFEST}`] : [];
  const unexpected = opened.failed.filter((p) => !expected.includes(p));
  if (unexpected.length > 0) throw new Error(`requests failed: ${unexpected.join(', ')}`);
  const notFound = 'console: Failed to load resource: the server responded with a status of 404';
  let allowed = opened.failed.length;
  return opened.errors.filter((e) => !(e.startsWith(notFound) && allowed-- > 0));
}
