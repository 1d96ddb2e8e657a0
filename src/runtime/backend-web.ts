/**
 * The browser backend: `onnxruntime-web` sessions (WebGPU or wasm), models fetched by URL,
 * images decoded and resized by the browser's canvas.
 */
import * as ort from 'onnxruntime-web';

import { registerBackend, type RuntimeBackend } from './backend.js';
import type { ImageSource } from './datasets/types.js';
import { resizePlan } from './preprocess/geometry.js';
import { normalizeInto } from './preprocess/normalize.js';
import type { ResolvedPreset } from './preprocess/presets.js';
import type { Tensor } from './tensor.js';

async function readModel(location: string): Promise<Uint8Array> {
  const response = await fetch(location);
  if (!response.ok) {
    throw new Error(`model '${location}' could not be fetched: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function toCanvasSource(
  source: ImageSource,
): Promise<{ image: CanvasImageSource; width: number; height: number }> {
  if (source.kind === 'file') {
    const response = await fetch(source.path);
    if (!response.ok) throw new Error(`${source.path}: HTTP ${response.status}`);
    const bitmap = await createImageBitmap(await response.blob()).catch(() => {
      throw new Error(`${source.path}: not an image the browser can decode`);
    });
    return { image: bitmap, width: bitmap.width, height: bitmap.height };
  }
  const { data, width, height, channels } = source;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = data[i * channels + (channels >= 3 ? c : 0)];
    rgba[i * 4 + 3] = channels === 4 ? data[i * 4 + 3] : 255;
  }
  const bitmap = await createImageBitmap(new ImageData(rgba, width, height));
  return { image: bitmap, width, height };
}

async function preprocessInto(
  source: ImageSource,
  preset: ResolvedPreset,
  out: Float32Array,
  offset: number,
  options: { maxPixels?: number } = {},
): Promise<void> {
  const maxPixels = options.maxPixels ?? 89_478_485;
  if (source.kind === 'pixels') {
    const plan = resizePlan(source.width, source.height, preset);
    if (
      plan.resizeWidth === source.width &&
      plan.resizeHeight === source.height &&
      plan.width === source.width &&
      plan.height === source.height
    ) {
      normalizeInto(source.data, source.width, source.height, source.channels, preset, out, offset);
      return;
    }
  }
  const { image, width, height } = await toCanvasSource(source);
  if (width * height > maxPixels) {
    throw new Error(`image is ${width}x${height}, over the limit of ${maxPixels} pixels`);
  }
  const plan = resizePlan(width, height, preset);
  // TODO(#8): resample with the same filter as sharp/PIL instead of the canvas's own smoothing.
  const canvas = new OffscreenCanvas(plan.width, plan.height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2d canvas context is available in this browser');
  context.imageSmoothingQuality = 'high';
  context.drawImage(image, -plan.left, -plan.top, plan.resizeWidth, plan.resizeHeight);
  const pixels = context.getImageData(0, 0, plan.width, plan.height).data;
  normalizeInto(new Uint8Array(pixels.buffer), plan.width, plan.height, 4, preset, out, offset);
}

/** The backend over `onnxruntime-web`. */
export const webBackend: RuntimeBackend = Object.freeze({
  kind: 'web' as const,
  readModel,
  checkExternalData: () =>
    Promise.reject(
      // TODO(#8): fetch external data files beside the model URL and pass them to onnxruntime-web.
      new Error('models with external data are not supported in the browser build yet'),
    ),
  createSession: (
    model: Uint8Array,
    _location: string | undefined,
    options: ort.InferenceSession.SessionOptions,
  ) => ort.InferenceSession.create(model, options),
  toOrtTensor: (t: Tensor) =>
    new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims as number[]),
  preprocessInto,
  versions: () => ({ 'onnxruntime-web': ort.env.versions.web ?? 'unknown' }),
});

registerBackend(webBackend);
