/**
 * Attribution and compression, in one run:
 * - Grad-CAM for a batch of 64 images (one pass returning logits and the feature map, then the
 *   channel-weighted sum) against plain inference of the same batch. Target: at most 1.2 x.
 * - RISE with 1000 masks: images per second.
 * - Latency of the pruned and quantized models against the original, batch 64.
 * The model is the shipped localization CNN when it is there, else the bundled MNIST CNN.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { Session, openDataset, resolvePreset } from '../src/index.js';
import { pruneFilters } from '../src/compress/filter-prune.js';
import { pruneMagnitude } from '../src/compress/magnitude-prune.js';
import { quantizeInt8 } from '../src/compress/quantize.js';
import { riseMap } from '../src/eval/attribution/forward-maps.js';
import { GradCam } from '../src/eval/attribution/grad-cam.js';
import { OnnxModel } from '../src/runtime/onnx/model.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { loadValidationSet } from '../src/search/validation-set.js';
import { compare, type Side } from './timing.js';

const LOCALIZATION = 'models/attribution/original.onnx';

async function batchOf(model: string, data: string, preset: string): Promise<Tensor> {
  const probe = await Session.create(model);
  const dims = probe.inputs[0].dims;
  await probe.dispose();
  const set = await loadValidationSet(await openDataset(data), resolvePreset(preset, dims), {
    limit: 64,
    batchSize: 64,
  });
  const batch = set.batches[0];
  return { type: 'float32', data: batch.data, dims: batch.dims };
}

function inference(bytes: Uint8Array, input: Tensor): () => Promise<Side> {
  return async () => {
    const session = await Session.create(bytes);
    const name = session.inputs[0].name;
    return { call: () => session.run({ [name]: input }), dispose: () => session.dispose() };
  };
}

export async function benchAttribution(): Promise<unknown> {
  const shipped = existsSync(LOCALIZATION);
  const model = shipped ? LOCALIZATION : 'models/mnist-cnn.onnx';
  const input = await batchOf(model, shipped ? 'localization' : 'mnist', shipped ? 'raw' : 'mnist');
  const bytes = new Uint8Array(await readFile(model));
  const options = { phases: 6, iterations: 20, itemsPerCall: 64 };

  const gradCam = await compare(
    async () => {
      const cam = await GradCam.create(bytes);
      return { call: () => cam.compute(input), dispose: () => cam.dispose() };
    },
    inference(bytes, input),
    options,
  );
  const camCost = gradCam.b / gradCam.a;
  console.log(
    `attribution: Grad-CAM ${gradCam.a.toFixed(0)} images/s, plain inference ` +
      `${gradCam.b.toFixed(0)} images/s: ${camCost.toFixed(3)} x inference (target <= 1.2)`,
  );

  const session = await Session.create(bytes);
  const size = input.data.length / 64;
  const image = {
    type: 'float32' as const,
    data: (input.data as Float32Array).slice(0, size),
    dims: [1, ...input.dims.slice(1)],
  };
  const start = performance.now();
  const riseImages = 3;
  for (let i = 0; i < riseImages; i++) await riseMap(session, { image }, { masks: 1000, seed: i });
  const riseRate = (riseImages * 1000) / (performance.now() - start);
  await session.dispose();
  console.log(`attribution: RISE with 1000 masks ${riseRate.toFixed(2)} images/s`);

  const variants: Record<string, (m: OnnxModel) => unknown> = {
    'magnitude 0.5': (m) => pruneMagnitude(m, 0.5),
    'filters 0.3': (m) => pruneFilters(m, 0.3),
    'filters 0.3, channels in 8s': (m) => pruneFilters(m, 0.3, { channelMultiple: 8 }),
    'filters 0.5': (m) => pruneFilters(m, 0.5),
    'int8 weights': (m) => quantizeInt8(m),
  };
  const latency: Record<
    string,
    { ratio: number; compressedPerSecond: number; originalPerSecond: number }
  > = {};
  for (const [name, apply] of Object.entries(variants)) {
    const m = OnnxModel.fromBytes(bytes);
    apply(m);
    const r = await compare(inference(m.toBytes(), input), inference(bytes, input), options);
    latency[name] = {
      ratio: Number((r.b / r.a).toFixed(3)),
      compressedPerSecond: Math.round(r.a),
      originalPerSecond: Math.round(r.b),
    };
    console.log(`attribution: ${name} latency ${latency[name].ratio} x the original (batch 64)`);
  }
  return {
    model,
    gradCam: {
      imagesPerSecond: Math.round(gradCam.a),
      inferencePerSecond: Math.round(gradCam.b),
      costRatio: Number(camCost.toFixed(3)),
      target: '<= 1.2',
    },
    rise: { masks: 1000, imagesPerSecond: Number(riseRate.toFixed(2)) },
    latency,
  };
}
