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

  it('opens and runs WebGPU and wasm sessions at once, as one at a time', async function () {
    this.timeout(60_000);
    // onnxruntime-web refuses a second start of its wasm runtime while one runs, and a call of
    // another session while a WebGPU run is suspended ("Session mismatch"); the demo page opens
    // its classifier (WebGPU) and the retrieval encoders and ranker together, and runs them while
    // the other embeds. ortlab queues these calls.
    const { page } = await browser.newPage();
    await page.goto(`${server.url}models/mnist-cnn.json`); // this origin, without the app
    const result = await page.evaluate(async () => {
      const entry: string = '/bundle/ortlab.js';
      const ortlab = await import(entry);
      ortlab.setLogSink(() => undefined);
      ortlab.configureWebRuntime({ wasmPaths: '/ort/' });
      const model = '/models/mnist-cnn.onnx';
      type Run = Record<string, { data: Float32Array }>;
      type Opened = {
        executionProvider: string;
        inputs: { name: string }[];
        run(feeds: unknown): Promise<Run>;
      };
      const sessions: Opened[] = await Promise.all(
        ['webgpu', 'wasm', 'webgpu'].map((ep) =>
          ortlab.Session.create(model, { executionProviders: ep }),
        ),
      );
      const images = [0, 1, 2].map((k) => {
        const data = new Float32Array(28 * 28);
        for (let i = 0; i < data.length; i++) data[i] = ((i * (k + 3)) % 17) / 17 - 0.3;
        return { type: 'float32', data, dims: [1, 1, 28, 28] };
      });
      // (No named functions in here: the test's transpiler would wrap them in a helper that the
      // page does not have.)
      const pairs = images.flatMap((image) => sessions.map((s) => [s, image] as const));
      const together = await Promise.all(
        pairs.map(async ([s, image]) =>
          Array.from(Object.values(await s.run({ [s.inputs[0].name]: image }))[0].data),
        ),
      );
      const alone: number[][] = [];
      for (const [s, image] of pairs) {
        const out = await s.run({ [s.inputs[0].name]: image });
        alone.push(Array.from(Object.values(out)[0].data));
      }
      return { providers: sessions.map((s) => s.executionProvider), together, alone };
    });
    await page.close();
    expect(result.providers).to.deep.equal(['webgpu', 'wasm', 'webgpu']);
    result.together.forEach((row, i) => {
      expect(row).to.have.length(10);
      expectClose(row, result.alone[i], 1e-4, `run ${i}, at once against one at a time`);
      expectClose(row, result.alone[i - (i % 3) + 1], 1e-4, `run ${i} against wasm`);
    });
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
