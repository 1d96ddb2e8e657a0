import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import type { StaticServer } from '../../src/server/static-server.js';
import { expectClose } from '../helpers/assert.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { servePage } from '../helpers/page-server.js';
import { openPage, realErrors } from './page-helpers.js';

/** Debian's chromium ships SwiftShader's Vulkan driver; WebGPU runs on it without a GPU. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('WebGPU on SwiftShader (no GPU needed)', () => {
  let browser: TestBrowser;
  let server: StaticServer;

  before(async function () {
    this.timeout(60_000);
    [browser, server] = await Promise.all([launchBrowser({ webgpu: true }), servePage()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function classify(query: string) {
    const opened = await openPage(browser, server, query);
    await opened.page.click('#sample-button');
    await opened.page.waitForSelector('#classify-result[data-state="done"]', { timeout: 60_000 });
    const logits = JSON.parse(
      (await opened.page.getAttribute('#logits', 'data-logits')) ?? '[]',
    ) as number[];
    const provider = await opened.page.getAttribute('#provider', 'data-provider');
    const webgpu = await opened.page.locator('#webgpu').innerText();
    const messages = await opened.page.locator('#runtime-messages').innerText();
    expect(realErrors(opened)).to.deep.equal([]);
    await opened.page.close();
    return { logits, provider, webgpu, messages };
  }

  it('runs the page on WebGPU in Chromium with the outputs of wasm (1e-4)', async function () {
    this.timeout(60_000);
    // SwiftShader's WebGPU device can fail to start on a machine busy with other work (the page
    // then honestly reports wasm, and why); two retries tell such a hiccup from a broken path.
    this.retries(2);
    // The default order tries WebGPU first and keeps it when it starts.
    const gpu = await classify('');
    expect(gpu.webgpu).to.match(/^available \(adapter: .*swiftshader/i);
    expect(gpu.provider, `WebGPU did not run the model: ${gpu.messages}`).to.equal('webgpu');
    const wasm = await classify('?ep=wasm');
    expect(wasm.provider).to.equal('wasm');
    expect(gpu.logits).to.have.length(10);
    expectClose(gpu.logits, wasm.logits, 1e-4, 'WebGPU logits against wasm');
  });

  it("onnxruntime-node's webgpu provider gives its cpu outputs (1e-4)", async function () {
    this.timeout(60_000);
    const { stdout } = await promisify(execFile)(
      'node',
      ['--import', 'tsx', 'test/helpers/webgpu-node-run.ts'],
      { env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD, ORTLAB_LOG_LEVEL: 'error' } },
    );
    type Run = { provider: string; failed: unknown[]; logits: number[] };
    const runs = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, Run>;
    expect(runs['webgpu,cpu'].failed).to.deep.equal([]);
    expect(runs['webgpu,cpu'].provider).to.equal('webgpu');
    expect(runs.cpu.provider).to.equal('cpu');
    expectClose(runs['webgpu,cpu'].logits, runs.cpu.logits, 1e-4, 'webgpu logits against cpu');
  });
});
