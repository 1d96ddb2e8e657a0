/**
 * Preprocessing throughput of the `imagenet` preset on JPEGs, in images per second on one core
 * (one image at a time), and sharp's own resize-and-crop as the baseline: the cost of resampling
 * exactly as Pillow does.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';

import sharp from 'sharp';

import { preprocessInto, resizePlan, resolvePreset } from '../src/index.js';
import { compare, type Side } from './timing.js';

export async function benchPreprocess(): Promise<unknown> {
  sharp.concurrency(1);
  const folder = path.resolve('test/fixtures/images');
  const files = (await readdir(folder))
    .filter((f) => f.endsWith('.jpg'))
    .map((f) => path.join(folder, f));
  const preset = resolvePreset('imagenet');
  const out = new Float32Array(3 * 224 * 224);
  let i = 0;
  let j = 0;
  const ours = () =>
    preprocessInto({ kind: 'file', path: files[i++ % files.length] }, preset, out, 0);
  const baseline = async () => {
    const file = files[j++ % files.length];
    const meta = await sharp(file).metadata();
    const plan = resizePlan(meta.width ?? 0, meta.height ?? 0, preset);
    await sharp(file)
      .resize(plan.resizeWidth, plan.resizeHeight, { kernel: 'linear', fit: 'fill' })
      .extract({ left: plan.left, top: plan.top, width: plan.width, height: plan.height })
      .removeAlpha()
      .raw()
      .toBuffer();
  };
  const side = (call: () => Promise<unknown>) => () =>
    Promise.resolve<Side>({ call, dispose: () => Promise.resolve() });
  const result = await compare(side(ours), side(baseline), {
    phases: 10,
    iterations: 20,
    itemsPerCall: 1,
  });
  const line = {
    name: 'imagenet preset on JPEGs (375x500 to 200x150), one image at a time',
    images: files.map((f) => path.basename(f)),
    ortlabImagesPerSecond: Math.round(result.a),
    sharpResizeImagesPerSecond: Math.round(result.b),
    ratio: Number(result.ratio.toFixed(3)),
  };
  console.log(
    `preprocess imagenet: ortlab (Pillow-exact) ${line.ortlabImagesPerSecond} images/s per core, ` +
      `sharp resize ${line.sharpResizeImagesPerSecond} images/s, ratio ${line.ratio}`,
  );
  sharp.concurrency(0);
  return line;
}
