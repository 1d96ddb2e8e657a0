/**
 * Attribution and compression, in one run:
 * - Grad-CAM for a batch of 64 images as users get the maps (one pass returning the logits and
 *   every class's channel-weighted sum, the predicted class's maps, bilinear upsampling to the
 *   input size and min-max normalization) against plain inference of the same batch, on an
 *   already created session each. Target: at most 1.2 x.
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
import { minMaxNormalize, upsampleBilinear } from '../src/eval/attribution/maps.js';
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

const OPTIONS = { phases: 6, iterations: 60, itemsPerCall: 64 };

async function benchInput(): Promise<{ model: string; bytes: Uint8Array; input: Tensor }> {
  const shipped = existsSync(LOCALIZATION);
  const model = shipped ? LOCALIZATION : 'models/mnist-cnn.onnx';
  const input = await batchOf(model, shipped ? 'localization' : 'mnist', shipped ? 'raw' : 'mnist');
  return { model, bytes: new Uint8Array(await readFile(model)), input };
}

/** Grad-CAM maps at the input size, normalized, against plain inference: batch 64. */
export async function benchGradCam(): Promise<{
  model: string;
  imagesPerSecond: number;
  inferencePerSecond: number;
  costRatio: number;
  target: string;
}> {
  const { model, bytes, input } = await benchInput();
  const [, , height, width] = input.dims;
  const gradCam = await compare(
    async () => {
      const cam = await GradCam.create(bytes);
      // The maps at the input's size, normalized: from the same run when the graph can
      // upsample them (opset 13 and later), in JavaScript otherwise.
      const call = async () => {
        const { maps, upsampled } = await cam.compute(input);
        return upsampled ?? minMaxNormalize(upsampleBilinear(maps, height, width));
      };
      return { call, dispose: () => cam.dispose() };
    },
    inference(bytes, input),
    OPTIONS,
  );
  const costRatio = gradCam.b / gradCam.a;
  console.log(
    `attribution: Grad-CAM maps at ${height}x${width}, normalized, ${gradCam.a.toFixed(0)} ` +
      `images/s; plain inference ${gradCam.b.toFixed(0)} images/s: ${costRatio.toFixed(3)} x ` +
      'inference (target <= 1.2)',
  );
  return {
    model,
    imagesPerSecond: Math.round(gradCam.a),
    inferencePerSecond: Math.round(gradCam.b),
    costRatio: Number(costRatio.toFixed(3)),
    target: '<= 1.2',
  };
}

export async function benchAttribution(): Promise<unknown> {
  const { model, bytes, input } = await benchInput();
  const options = OPTIONS;
  const gradCam = await benchGradCam();

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
    gradCam,
    rise: { masks: 1000, imagesPerSecond: Number(riseRate.toFixed(2)) },
    latency,
  };
}
