/**
 * `Session.run` against bare `onnxruntime-node` `InferenceSession.run`: same model, batch and
 * threads. Target: ortlab's throughput at least 0.97 of the bare runtime's.
 */
import { readFile } from 'node:fs/promises';

import * as ort from 'onnxruntime-node';

import { Session } from '../src/index.js';
import { compare } from './timing.js';

export async function benchSession(): Promise<unknown[]> {
  const bytes = new Uint8Array(await readFile('models/mnist-cnn.onnx'));
  const threads = 2;
  const out = [];
  for (const batch of [1, 64]) {
    const data = new Float32Array(batch * 28 * 28).map((_, i) => Math.sin(i));
    const dims = [batch, 1, 28, 28];
    const ours = await Session.create(bytes, { threads });
    const bare = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    });
    const result = await compare(
      () => ours.run({ input: { type: 'float32', data, dims } }),
      () => bare.run({ input: new ort.Tensor('float32', data, dims) }),
      { rounds: 10, iterations: batch === 1 ? 400 : 40, itemsPerCall: batch },
    );
    await ours.dispose();
    await bare.release();
    const line = {
      name: 'Session.run vs onnxruntime-node InferenceSession.run',
      model: 'models/mnist-cnn.onnx',
      batch,
      threads,
      ortlabImagesPerSecond: Math.round(result.a),
      bareImagesPerSecond: Math.round(result.b),
      ratio: Number(result.ratio.toFixed(3)),
      target: '>= 0.97',
    };
    console.log(
      `session batch ${batch}: ortlab ${line.ortlabImagesPerSecond}/s, bare ` +
        `${line.bareImagesPerSecond}/s, ratio ${line.ratio} (target >= 0.97)`,
    );
    out.push(line);
  }
  return out;
}
