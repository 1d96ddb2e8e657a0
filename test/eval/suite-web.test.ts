import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  Session,
  buildReport,
  loadSuite,
  nodeBackend,
  openIdxDataset,
  registerBackend,
  runSuite,
  sha256,
} from '../../src/index.js';
import { encodeIdx } from '../../src/runtime/datasets/idx.js';
import { webBackend } from '../../src/runtime/backend-web.js';
import { loadSuiteUrl, runSuiteWeb } from '../../src/eval/suite-web.js';
import { startStaticServer, type StaticServer } from '../../src/server/static-server.js';

/** The first `count` images and labels of a bundled IDX pair, as new IDX files in `dir`. */
async function slice(from: string, count: number, dir: string): Promise<void> {
  const dataset = await openIdxDataset(from);
  const pixels: number[] = [];
  const labels: number[] = [];
  for await (const s of dataset.samples({ start: 0, end: count })) {
    if (s.source.kind === 'pixels') pixels.push(...s.source.data);
    labels.push(s.label);
  }
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'images-idx3-ubyte'),
    encodeIdx(Uint8Array.from(pixels), [count, 28, 28]),
  );
  await writeFile(path.join(dir, 'labels-idx1-ubyte'), encodeIdx(Uint8Array.from(labels), [count]));
}

/**
 * The browser's suite runner, run in Node on onnxruntime-web's wasm over ortlab's static server:
 * the same records and metrics as runSuite on onnxruntime-node for the same files.
 */
describe('runSuiteWeb (the browser suite runner, in Node)', () => {
  let root: string;
  let server: StaticServer;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ortlab-suite-web-'));
    await slice('data/mnist/images-idx3-ubyte.gz', 96, path.join(root, 'data', 'clean'));
    await slice('data/fashion-mnist/images-idx3-ubyte.gz', 40, path.join(root, 'data', 'ood'));
    const suite = {
      name: 'small suite',
      preset: 'mnist',
      splits: [
        { name: 'clean', role: 'clean', data: 'clean/images-idx3-ubyte' },
        { name: 'ood', role: 'ood', data: 'ood/images-idx3-ubyte', inDistribution: 'clean' },
      ],
    };
    await writeFile(path.join(root, 'data', 'suite.json'), JSON.stringify(suite));
    await writeFile(
      path.join(root, 'data', 'folders.json'),
      JSON.stringify({ ...suite, splits: [{ name: 'pics', role: 'clean', data: 'pictures/' }] }),
    );
    server = await startStaticServer({ root, port: 0 });
  });

  after(async () => {
    registerBackend(nodeBackend);
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it("reports runSuite's numbers on onnxruntime-node for the same files (1e-6)", async function () {
    this.timeout(60_000);
    const model = new Uint8Array(await readFile('models/mnist-cnn.onnx'));
    const native = await Session.create(model);
    const nodeRun = await runSuite(native, await loadSuite(path.join(root, 'data', 'suite.json')), {
      batchSize: 32,
    });
    await native.dispose();
    const nodeReport = JSON.parse(JSON.stringify(buildReport(nodeRun, {}))) as ReturnType<
      typeof buildReport
    >;

    registerBackend(webBackend);
    const session = await Session.create(model, { executionProviders: 'wasm' });
    const events: string[] = [];
    const { report, run, datasets } = await runSuiteWeb(session, `${server.url}data/suite.json`, {
      batchSize: 32,
      modelUrl: '/models/mnist-cnn.onnx',
      onProgress: (e) => events.push(`${e.task} ${e.status}`),
    });
    await session.dispose();
    registerBackend(nodeBackend);

    expect(report.config).to.deep.include({
      model: { path: '/models/mnist-cnn.onnx', sha256: sha256(model) },
      executionProvider: 'wasm',
    });
    expect(run.key.modelSha256).to.equal(nodeRun.key.modelSha256);
    expect(events[0]).to.equal('clean initiate');
    expect(events.at(-1)).to.equal('ood done');
    expect([...datasets.keys()]).to.deep.equal(['clean', 'ood']);
    expect(report.splits.map((s) => s.data)).to.deep.equal([
      `${server.url}data/clean/images-idx3-ubyte`,
      `${server.url}data/ood/images-idx3-ubyte`,
    ]);
    const strip = (r: typeof report) => r.splits.map(({ data, ...rest }) => (void data, rest));
    const [a, b] = [strip(report), strip(nodeReport)];
    expect(a.map((s) => s.mistakes.map((m) => m.id))).to.deep.equal(
      b.map((s) => s.mistakes.map((m) => m.id)),
    );
    expect(a[0].metrics?.top1).to.equal(b[0].metrics?.top1);
    expect(a[0].metrics?.confusion).to.deep.equal(b[0].metrics?.confusion);
    for (const key of ['ece', 'nll', 'brier', 'meanConfidence'] as const) {
      expect(a[0].metrics?.[key]).to.be.closeTo(b[0].metrics?.[key] as number, 1e-6, key);
    }
    for (const score of ['msp', 'energy'] as const) {
      const web = report.ood[0].scores[score].outPositive;
      const node = nodeReport.ood[0].scores[score].outPositive;
      for (const key of ['auroc', 'aupr', 'fpr95'] as const) {
        expect(web[key]).to.be.closeTo(node[key], 1e-6, `${score} ${key}`);
      }
    }
  });

  it('refuses splits the browser cannot read; names a suite it cannot fetch or parse', async () => {
    const session = { inputs: [{ name: 'input', dims: [1, 1, 28, 28], type: 'float32' }] };
    const folder = await runSuiteWeb(
      session as unknown as Session,
      `${server.url}data/folders.json`,
    ).catch((e: unknown) => e as Error);
    expect((folder as Error).message).to.equal(
      `split 'pics' reads '${server.url}data/pictures/'; the browser reads IDX files only ` +
        '(folders and file lists need the file system): ' +
        "run this suite with 'ortlab robustness' in Node",
    );
    const missing = await loadSuiteUrl(`${server.url}data/nothing.json`).catch((e: unknown) => e);
    expect((missing as Error).message).to.equal(
      `suite configuration '${server.url}data/nothing.json' could not be fetched: HTTP 404`,
    );
    const notJson = await loadSuiteUrl(`${server.url}data/clean/labels-idx1-ubyte`).catch(
      (e: unknown) => e,
    );
    expect((notJson as Error).message).to.match(/^suite configuration '.*' is not valid JSON: /);
  });
});
