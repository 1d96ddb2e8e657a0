import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import { configureWebRuntime, probeWebGpu } from '../../src/runtime/web-environment.js';
import { ORTLAB_VERSION } from '../../src/runtime/version.js';

/** The browser environment checks, where Node can exercise them; the rest runs in Chromium. */
describe('the web environment checks', () => {
  it('reports WebGPU unavailable outside a browser, with the reason', async () => {
    expect(await probeWebGpu()).to.deep.equal({
      available: false,
      reason: 'navigator.gpu is missing: not running in a browser',
    });
  });

  it('refuses a thread count or wasm path it cannot use, before changing anything', () => {
    for (const threads of [0, 65, 1.5]) {
      expect(() => configureWebRuntime({ threads }), String(threads)).to.throw(
        RangeError,
        `threads must be an integer from 1 to 64, got ${threads}`,
      );
    }
    expect(() => configureWebRuntime({ wasmPaths: '/ort' })).to.throw(
      RangeError,
      "wasmPaths must be a URL prefix ending in '/', such as '/ort/', got /ort",
    );
  });

  it("knows ortlab's version without reading package.json (for browser-made reports)", async () => {
    const manifest = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(ORTLAB_VERSION).to.equal(manifest.version);
  });
});
