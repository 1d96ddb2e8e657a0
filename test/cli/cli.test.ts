import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { loadOnnxModel } from '../../src/index.js';
import { defaultPreprocessWorkers } from '../../src/runtime/preprocess/pool-node.js';
import { ortlab as ortlabProcess, runOrtlab, type Finished } from '../helpers/ortlab-process.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');

/** Runs the built command line as a user would (`npm test` builds dist/ first), timed. */
async function ortlab(...args: string[]): Promise<Finished & { seconds: number }> {
  const started = performance.now();
  const run = await runOrtlab(...args);
  return { ...run, seconds: (performance.now() - started) / 1000 };
}

describe('ortlab command line', () => {
  it('info --json gives inputs, outputs, parameters, opset and providers that start', async () => {
    const run = await ortlab('info', MODEL, '--json');
    expect(run.code, run.stderr).to.equal(0);
    const info = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(info).to.include.all.keys('inputs', 'outputs', 'parameters', 'opset', 'providers');
    expect(info.inputs).to.deep.equal([
      { name: 'input', dims: ['batch', 1, 28, 28], type: 'float32' },
    ]);
    expect(info.outputs).to.deep.equal([{ name: 'logits', dims: ['batch', 10], type: 'float32' }]);
    expect(info.opset).to.equal(17);
    expect(info.parameters).to.equal((await loadOnnxModel(MODEL)).parameterCount());
    const providers = info.providers as { name: string; starts: boolean; reason?: string }[];
    expect(providers.find((p) => p.name === 'cpu')).to.deep.include({ starts: true });
    for (const p of providers.filter((q) => !q.starts)) expect(p.reason).to.be.a('string');
  });

  it("info keeps Dawn's adapter search off the terminal, says why WebGPU can't start", async () => {
    // No Vulkan driver: onnxruntime-node's WebGPU provider finds no adapter. Dawn writes its
    // search to stderr itself ("vkCreateInstance: Found no drivers!"); ortlab asks in a child.
    const env = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' };
    const run = await ortlabProcess(['info', MODEL], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain(
      'provider webgpu: does not start (no WebGPU adapter on this machine',
    );
    expect(run.stdout).to.contain('provider cpu: starts');
    expect(run.stderr).to.not.match(/vkCreateInstance|Vulkan|Dawn|dawn/);
  });

  it('eval --json on a bundled set reports accuracy and the configuration behind it', async () => {
    const run = await ortlab('eval', MODEL, 'digits', '--json', '--batch', '64', '--threads', '1');
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      n: number;
      top1: number;
      top5: number;
      skipped: unknown[];
      config: Record<string, unknown>;
      timing: {
        startupSeconds: number;
        evalSeconds: number;
        imagesPerSecond: number;
        preprocessWorkers: number;
        resampler: string;
        decodeThreads: number;
      };
    };
    expect(report.n).to.equal(1797);
    // The run's own clock: start-up before the first image, then the evaluation's throughput.
    const { startupSeconds, evalSeconds, imagesPerSecond } = report.timing;
    expect(startupSeconds).to.be.above(0).and.below(run.seconds);
    expect(evalSeconds)
      .to.be.above(0)
      .and.below(run.seconds - startupSeconds);
    expect(imagesPerSecond).to.be.closeTo(1797 / evalSeconds, 0.01 * imagesPerSecond);
    expect(report.timing.preprocessWorkers).to.equal(defaultPreprocessWorkers());
    expect(report.timing.resampler).to.equal('wasm');
    // The command sizes libuv's pool to the cores (at least Node's 4) unless told otherwise.
    const cores = Math.max(4, os.availableParallelism());
    if (process.env.UV_THREADPOOL_SIZE === undefined) {
      expect(report.timing.decodeThreads).to.equal(cores);
    }

    // One worker thread and the JavaScript resampler: said in the report, the same results.
    const env = {
      ...process.env,
      ORTLAB_PREPROCESS_WORKERS: '1',
      ORTLAB_RESAMPLER: 'js',
      UV_THREADPOOL_SIZE: '7',
    };
    const args = ['eval', MODEL, 'digits', '--json', '--batch', '64', '--threads', '1'];
    const other = await ortlabProcess(args, env);
    expect(other.code, other.stderr).to.equal(0);
    const again = JSON.parse(other.stdout) as typeof report;
    expect(again.timing).to.include({ preprocessWorkers: 1, resampler: 'js', decodeThreads: 7 });
    expect([again.top1, again.top5]).to.deep.equal([report.top1, report.top5]);
    expect(report.top1).to.be.within(0, 1);
    expect(report.top5).to.be.at.least(report.top1);
    expect(report.skipped).to.deep.equal([]);
    const sha = createHash('sha256')
      .update(await readFile(MODEL))
      .digest('hex');
    expect(report.config).to.deep.include({
      executionProvider: 'cpu',
      threads: 1,
      batchSize: 64,
    });
    expect((report.config.model as { sha256: string }).sha256).to.equal(sha);
    expect((report.config.preset as { name: string }).name).to.equal('mnist');
    expect(report.config.versions).to.include.keys('ortlab', 'onnxruntime-node', 'sharp', 'node');
  });

  it('eval takes an IDX images file and finds its labels beside it', async () => {
    const run = await ortlab('eval', MODEL, 'data/mnist/images-idx3-ubyte.gz', '--json');
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as { n: number; top1: number };
    expect(report.n).to.equal(10000);
    expect(report.top1).to.be.above(0.98);
  });

  it('prints plain progress lines when standard error is not a terminal', async () => {
    const run = await ortlab('eval', MODEL, 'digits');
    expect(run.code).to.equal(0);
    expect(run.stderr).to.match(/eval digits: 1797\/1797 \d+\/s ETA 0s/);
    expect(run.stdout).to.match(/on digits \(1797 images, 0 skipped\): top-1 \d+\.\d+%/);
  });

  it('demo runs the embedded mini suite on the bundled model and writes the report', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'ortlab-demo-'));
    const run = await ortlab('demo', '--json', '--out', out);
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      splits: { name: string; scored: number; metrics?: { top1: number } }[];
      ood: { split: string; inDistribution: string }[];
    };
    const card = JSON.parse(await readFile('models/mnist-cnn.json', 'utf8')) as {
      testAccuracy: number;
    };
    expect(report.splits.map((s) => s.name)).to.deep.equal(['clean', 'v2', 'a', 'o']);
    expect(report.splits[0].scored).to.equal(10000);
    expect(report.splits[0].metrics?.top1).to.be.closeTo(card.testAccuracy, 1e-4);
    expect(report.ood).to.have.length(1);
    expect(report.ood[0]).to.deep.include({ split: 'o', inDistribution: 'clean' });
    // What tools/export/build_suite.py measured in PyTorch and onnxruntime when it built the suite.
    const built = JSON.parse(await readFile('data/suite/suite.json', 'utf8')) as {
      measuredWhenBuilt: {
        results: Record<string, { top1?: number; images: number; auroc?: number }>;
      };
    };
    const want = built.measuredWhenBuilt.results;
    for (const name of ['clean', 'v2', 'a']) {
      const split = report.splits.find((s) => s.name === name)!;
      expect(split.scored, name).to.equal(want[name].images);
      expect(split.metrics?.top1, name).to.be.closeTo(want[name].top1!, 5e-5);
    }
    const o = report.ood[0] as unknown as {
      nOut: number;
      scores: { msp: { outPositive: { auroc: number } } };
    };
    expect(o.nOut).to.equal(want.o.images);
    expect(o.scores.msp.outPositive.auroc).to.be.closeTo(want.o.auroc!, 5e-5);
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).to.match(/<html/i);
    const json = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as unknown;
    expect(json).to.deep.equal(JSON.parse(run.stdout));
  });

  describe('bad input', () => {
    it('names a missing model file and exits 1', async () => {
      const run = await ortlab('eval', 'nope.onnx', 'mnist');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/model file 'nope.onnx' not found/);
    });

    it('names an unknown execution provider and lists the valid ones', async () => {
      const run = await ortlab('eval', MODEL, 'digits', '--ep', 'tpu');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/unknown execution provider 'tpu'; valid names are cuda/);
    });

    it('names an empty dataset folder', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-empty-'));
      const run = await ortlab('eval', MODEL, dir);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.contain(dir);
      expect(run.stderr).to.match(/empty/i);
    });

    it('rejects a bad --batch and an unknown command with usage and exit 2', async () => {
      const batch = await ortlab('eval', MODEL, 'digits', '--batch', 'zero');
      expect(batch.code).to.equal(2);
      expect(batch.stderr).to.match(/--batch takes a positive integer, got 'zero'/);
      const command = await ortlab('evaluate');
      expect(command.code).to.equal(2);
      expect(command.stderr).to.match(/unknown command 'evaluate'/);
    });

    it('says which preset names exist when given an unknown one', async () => {
      const run = await ortlab('eval', MODEL, 'digits', '--preset', 'cifar');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/unknown preprocessing preset 'cifar'.*imagenet, raw, mnist/);
    });
  });
});
