/**
 * `Session.run` against bare `onnxruntime-node` `InferenceSession.run`: same model, batch and
 * threads. Target: ortlab's throughput at least 0.97 of the bare runtime's. A control compares
 * bare against bare, to show how far the measurement itself strays from 1.
 */
import { readFile } from 'node:fs/promises';

import * as ort from 'onnxruntime-node';

import { Session } from '../src/index.js';
import { compare, type Side } from './timing.js';

const THREADS = 2;

export async function benchSession(): Promise<unknown[]> {
  const bytes = new Uint8Array(await readFile('models/mnist-cnn.onnx'));
  const out = [];
  for (const batch of [1, 64]) {
    const data = new Float32Array(batch * 28 * 28).map((_, i) => Math.sin(i));
    const dims = [batch, 1, 28, 28];
    const ours = async (): Promise<Side> => {
      const session = await Session.create(bytes, { threads: THREADS });
      return {
        call: () => session.run({ input: { type: 'float32', data, dims } }),
        dispose: () => session.dispose(),
      };
    };
    const bare = async (): Promise<Side> => {
      const session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: THREADS,
        graphOptimizationLevel: 'all',
        executionProviders: ['cpu'],
      });
      return {
        call: () => session.run({ input: new ort.Tensor('float32', data, dims) }),
        dispose: () => session.release(),
      };
    };
    const options = { phases: 16, iterations: batch === 1 ? 400 : 40, itemsPerCall: batch };
    const result = await compare(ours, bare, options);
    const control = await compare(bare, bare, options);
    const line = {
      name: 'Session.run vs onnxruntime-node InferenceSession.run',
      model: 'models/mnist-cnn.onnx',
      batch,
      threads: THREADS,
      ortlabImagesPerSecond: Math.round(result.a),
      bareImagesPerSecond: Math.round(result.b),
      ratio: Number(result.ratio.toFixed(3)),
      controlRatioBareVsBare: Number(control.ratio.toFixed(3)),
      target: '>= 0.97',
    };
    console.log(
      `session batch ${batch}: ortlab ${line.ortlabImagesPerSecond}/s, bare ` +
        `${line.bareImagesPerSecond}/s, ratio ${line.ratio} (target >= 0.97; bare vs bare ` +
        `${line.controlRatioBareVsBare})`,
    );
    out.push(line);
  }
  return out;
}
