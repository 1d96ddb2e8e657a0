import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import '../../src/index.js';
import { OnnxModel } from '../../src/runtime/onnx/model.js';
import { Session } from '../../src/runtime/session.js';
import { launchBrowser } from '../helpers/browser.js';

const BIN = path.resolve('bin/ortlab.js');
const MODEL = 'models/mnist-cnn.onnx';

async function ortlab(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [BIN, ...args], {
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('ortlab compress and ortlab attribution', function () {
  this.timeout(120_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ortlab-compress-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('compress --quantize int8 writes a model that loads, and reports against the original', async () => {
    const out = path.join(dir, 'int8.onnx');
    const run = await ortlab(
      'compress',
      MODEL,
      '--quantize',
      'int8',
      '-o',
      out,
      '--limit',
      '200',
      '--json',
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      data: string;
      samples: number;
      sizeRatio: number;
      top1Agreement: number;
      compressed: { bytes: number; accuracy: number };
      original: { bytes: number };
    };
    expect(report.data).to.equal('mnist');
    expect(report.samples).to.equal(200);
    const written = await readFile(out);
    expect(report.compressed.bytes).to.equal(written.length);
    expect(report.sizeRatio).to.be.closeTo(written.length / report.original.bytes, 1e-12);
    expect(report.sizeRatio).to.be.lessThan(0.3);
    expect(report.top1Agreement).to.be.at.least(0.99);
    const session = await Session.create(new Uint8Array(written));
    expect(session.outputs.map((o) => o.name)).to.deep.equal(['logits']);
    await session.dispose();
  });

  it('compress --prune-filters writes a smaller network; a bad ratio is a usage error', async () => {
    const out = path.join(dir, 'filters.onnx');
    const run = await ortlab(
      'compress',
      MODEL,
      '--prune-filters',
      '0.5',
      '-o',
      out,
      '--limit',
      '64',
    );
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/parameters {2}70122 -> \d+ nonzero/);
    const model = OnnxModel.fromBytes(new Uint8Array(await readFile(out)));
    expect(model.weights().find((w) => w.name === 'conv1.weight')!.dims).to.deep.equal([
      8, 1, 3, 3,
    ]);
    const bad = await ortlab('compress', MODEL, '--prune', '1', '-o', out);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("--prune takes a ratio in [0, 1) such as 0.5, got '1'");
    const none = await ortlab('compress', MODEL, '-o', out);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.include(
      'give exactly one of --prune R, --prune-filters R, --quantize int8',
    );
  });

  it('attribution --json and --out: metrics per compressed model and a page of overlays', async () => {
    const int8 = path.join(dir, 'int8.onnx');
    const filters = path.join(dir, 'filters.onnx');
    const out = path.join(dir, 'report');
    const run = await ortlab(
      'attribution',
      MODEL,
      int8,
      filters,
      '--data',
      'mnist',
      '--limit',
      '96',
      '--json',
      '--out',
      out,
    );
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      samples: number;
      compressed: { name: string; wcamDistance: number; spearman: number; top1Agreement: number }[];
      models: { sha256: string }[];
    };
    expect(report.samples).to.equal(96);
    expect(report.compressed.map((c) => c.name)).to.deep.equal(['int8', 'filters']);
    const [q, f] = report.compressed;
    expect(q.wcamDistance).to.be.lessThan(f.wcamDistance);
    expect(q.spearman).to.be.greaterThan(0.99);
    expect(report.models).to.have.length(3);

    const browser = await launchBrowser();
    try {
      const { page, errors } = await browser.newPage();
      await page.goto(pathToFileURL(path.join(out, 'report.html')).href, { waitUntil: 'load' });
      expect(await page.locator('table.models tbody tr').count()).to.equal(3);
      const images = await page
        .locator('img.overlay')
        .evaluateAll((list) =>
          list.map((e) => (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth),
        );
      expect(images).to.have.length(6 * 3);
      for (const width of images) expect(width).to.equal(84);
      expect(errors).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });

  it('attribution names a model without a GAP head and suggests the forward-only methods', async () => {
    const noHead = await ortlab(
      'attribution',
      MODEL,
      'models/distill/student-kd.onnx',
      '--data',
      'mnist',
    );
    expect(noHead.code).to.equal(1);
    expect(noHead.stderr).to.include('use a forward-only method instead');
  });
});
