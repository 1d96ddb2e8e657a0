/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core
 * (which never downloads a browser), started with a fresh profile and without the background
 * traffic that a machine with no network refuses. A missing Chromium fails the test with the fix.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where the tests look for Chromium; `ORTLAB_CHROMIUM` overrides it. */
export const CHROMIUM_PATH = process.env.ORTLAB_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A running browser with its own profile folder. */
export interface TestBrowser {
  context: BrowserContext;
  /** Opens a page; `errors` collects its console errors and uncaught exceptions as they come. */
  newPage(viewport?: { width: number; height: number }): Promise<{ page: Page; errors: string[] }>;
  /** Closes the browser and removes its profile; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Flags that give Chromium a WebGPU adapter without a GPU: Vulkan on SwiftShader, the CPU
 * renderer Debian's chromium package ships (correct, and slow: for tiny models only).
 */
const SWIFTSHADER_WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
];

/** Options of {@link launchBrowser}. */
export interface LaunchOptions {
  /** Start with WebGPU on SwiftShader instead of `--disable-gpu` (default false). */
  webgpu?: boolean;
}

/**
 * Starts headless Chromium.
 * @throws Error naming the path and the install command when Chromium is not installed.
 */
export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the browser tests need Debian's chromium ` +
        '(apt-get update && apt-get install -y chromium). CI installs it in .ci/run; ' +
        'set ORTLAB_CHROMIUM to use another binary.',
    );
  }
  const profile = await mkdtemp(join(tmpdir(), 'ortlab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: options.webgpu
      ? [...CHROMIUM_FLAGS.filter((flag) => flag !== '--disable-gpu'), ...SWIFTSHADER_WEBGPU_FLAGS]
      : CHROMIUM_FLAGS,
  });
  let closed = false;
  return {
    context,
    async newPage(viewport = { width: 1200, height: 900 }) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
      return { page, errors };
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
