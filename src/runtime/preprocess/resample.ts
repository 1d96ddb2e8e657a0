/**
 * Image resampling that gives the same bytes as Pillow's `Image.resize` (the resize torchvision
 * and timm evaluate with): separable convolution, horizontal pass then vertical, coefficients
 * in 22-bit fixed point, rounding to 8 bits between the passes. Only the pixels inside the
 * crop are computed, which gives the same values as resizing everything and cropping after.
 * Shared by Node and the browser so both give the same tensor. `resampleCropInto` runs its
 * passes in WebAssembly (resample-wasm.ts) where it can; the loops here are the fallback and the
 * reference the module is tested against.
 */
import {
  HALF,
  identityTaps,
  LIMIT,
  passPlan,
  PRECISION_BITS,
  type ResampleRequest,
  type Taps,
} from './resample-taps.js';
import { runWasmPasses, wasmPreferred } from './resample-wasm.js';

export type { ResampleRequest } from './resample-taps.js';

function clip8(v: number): number {
  if (v >= LIMIT) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/**
 * Resizes interleaved 8-bit pixels (`[height, width, channels]`) to `resizeWidth x
 * resizeHeight` and returns only the crop `[top, top + height) x [left, left + width)`, as
 * interleaved 8-bit pixels with the same channels. O(crop area x filter width).
 */
export function resampleCrop(
  pixels: Uint8Array,
  inWidth: number,
  inHeight: number,
  channels: number,
  request: ResampleRequest,
): Uint8Array {
  const { width, height } = request;
  if (request.interpolation === 'nearest') {
    return nearestCrop(pixels, inWidth, inHeight, channels, request);
  }
  const pass = horizontalPass(pixels, inWidth, inHeight, channels, request);
  if (pass.vertical === undefined) return pass.rows;
  const { rows: temp, vertical, firstRow } = pass;
  const stride = width * channels;
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const s = vertical.start[y] - firstRow;
    const n = vertical.count[y];
    const k = y * vertical.width;
    const dst = y * stride;
    for (let i = 0; i < stride; i++) {
      let sum = HALF;
      for (let t = 0, p = s * stride + i; t < n; t++, p += stride) {
        sum += temp[p] * vertical.weights[k + t];
      }
      out[dst + i] = clip8(sum);
    }
  }
  return out;
}

/**
 * Where each 8-bit value of a channel lands as a float: `table[c * 256 + v]` is channel c's
 * value v, scaled and normalized. Writing through it gives the same float32 as computing
 * `(v / scale - mean) / std` per pixel.
 */
export type ValueTable = Float32Array;

/**
 * `resampleCrop` and a per-channel lookup in one sweep: the vertical pass writes each
 * pixel's float straight into `out` (at `offset`, `planes` layout: `true` for channel planes,
 * `false` for interleaved), without an intermediate 8-bit image. Channels of the source at or
 * beyond `keep` (alpha) are skipped; the rest map one to one. Gives bit for bit what
 * `resampleCrop` followed by the lookup gives.
 */
export function resampleCropInto(
  pixels: Uint8Array,
  inWidth: number,
  inHeight: number,
  channels: number,
  request: ResampleRequest,
  table: ValueTable,
  keep: number,
  planes: boolean,
  out: Float32Array,
  offset: number,
): void {
  const { width, height } = request;
  const area = width * height;
  if (request.interpolation === 'nearest') {
    const near = nearestCrop(pixels, inWidth, inHeight, channels, request);
    for (let y = 0, p = 0; y < height; y++) {
      for (let x = 0; x < width; x++, p += channels) {
        const at = offset + (planes ? y * width + x : (y * width + x) * keep);
        for (let c = 0; c < keep; c++) {
          out[planes ? at + c * area : at + c] = table[c * 256 + near[p + c]];
        }
      }
    }
    return;
  }
  if (wasmPreferred()) {
    const { horizontal, vertical, firstRow, rowCount } = passPlan(inWidth, inHeight, request);
    const done = runWasmPasses(
      pixels,
      inWidth,
      channels,
      horizontal ?? identityTaps(request.left, width),
      vertical ?? identityTaps(firstRow, height),
      firstRow,
      rowCount,
      width,
      height,
      table,
      keep,
      planes,
      out,
      offset,
    );
    if (done) return;
  }
  const pass = horizontalPass(pixels, inWidth, inHeight, channels, request);
  const { rows: temp, vertical, firstRow } = pass;
  const stride = width * channels;
  for (let y = 0; y < height; y++) {
    const row = vertical === undefined ? y : vertical.start[y] - firstRow;
    const n = vertical === undefined ? 1 : vertical.count[y];
    const k = vertical === undefined ? 0 : y * vertical.width;
    const base = row * stride;
    for (let c = 0; c < keep; c++) {
      const lut = c * 256;
      let dst = offset + (planes ? c * area + y * width : y * width * keep + c);
      const step = planes ? 1 : keep;
      if (vertical === undefined) {
        for (let x = 0, p = base + c; x < width; x++, p += channels, dst += step) {
          out[dst] = table[lut + temp[p]];
        }
      } else if (n === 2) {
        const w0 = vertical.weights[k];
        const w1 = vertical.weights[k + 1];
        for (let x = 0, p = base + c; x < width; x++, p += channels, dst += step) {
          out[dst] = table[lut + clip8(HALF + temp[p] * w0 + temp[p + stride] * w1)];
        }
      } else if (n === 3) {
        const w0 = vertical.weights[k];
        const w1 = vertical.weights[k + 1];
        const w2 = vertical.weights[k + 2];
        const s2 = 2 * stride;
        for (let x = 0, p = base + c; x < width; x++, p += channels, dst += step) {
          const sum = HALF + temp[p] * w0 + temp[p + stride] * w1 + temp[p + s2] * w2;
          out[dst] = table[lut + clip8(sum)];
        }
      } else {
        for (let x = 0, p = base + c; x < width; x++, p += channels, dst += step) {
          let sum = HALF;
          for (let t = 0, q = p; t < n; t++, q += stride) sum += temp[q] * vertical.weights[k + t];
          out[dst] = table[lut + clip8(sum)];
        }
      }
    }
  }
}

/**
 * The horizontal pass over the source rows the vertical pass will read (all of them, and
 * only the crop's columns). `vertical` is undefined when the height does not change: the rows
 * are then the crop's rows, final.
 */
function horizontalPass(
  pixels: Uint8Array,
  inWidth: number,
  inHeight: number,
  channels: number,
  request: ResampleRequest,
): { rows: Uint8Array; vertical: Taps | undefined; firstRow: number } {
  const { left, width } = request;
  const { horizontal, vertical, firstRow, rowCount: count } = passPlan(inWidth, inHeight, request);
  const stride = width * channels;
  const rows = new Uint8Array(count * stride);
  for (let y = 0; y < count; y++) {
    const src = (firstRow + y) * inWidth * channels;
    if (horizontal) {
      horizontalRow(pixels, src, rows, y * stride, horizontal, width, channels);
    } else {
      rows.set(pixels.subarray(src + left * channels, src + (left + width) * channels), y * stride);
    }
  }
  return { rows, vertical: vertical ?? undefined, firstRow };
}

/** One row of the horizontal pass, with the common channel counts unrolled. */
function horizontalRow(
  pixels: Uint8Array,
  src: number,
  temp: Uint8Array,
  dst: number,
  taps: Taps,
  width: number,
  channels: number,
): void {
  const { start, count, weights } = taps;
  for (let x = 0; x < width; x++) {
    const p0 = src + start[x] * channels;
    const n = count[x];
    const k = x * taps.width;
    const d = dst + x * channels;
    if (channels === 3 && n === 2) {
      const w0 = weights[k];
      const w1 = weights[k + 1];
      temp[d] = clip8(HALF + pixels[p0] * w0 + pixels[p0 + 3] * w1);
      temp[d + 1] = clip8(HALF + pixels[p0 + 1] * w0 + pixels[p0 + 4] * w1);
      temp[d + 2] = clip8(HALF + pixels[p0 + 2] * w0 + pixels[p0 + 5] * w1);
    } else if (channels === 3 && n === 3) {
      const w0 = weights[k];
      const w1 = weights[k + 1];
      const w2 = weights[k + 2];
      temp[d] = clip8(HALF + pixels[p0] * w0 + pixels[p0 + 3] * w1 + pixels[p0 + 6] * w2);
      temp[d + 1] = clip8(HALF + pixels[p0 + 1] * w0 + pixels[p0 + 4] * w1 + pixels[p0 + 7] * w2);
      temp[d + 2] = clip8(HALF + pixels[p0 + 2] * w0 + pixels[p0 + 5] * w1 + pixels[p0 + 8] * w2);
    } else if (channels === 3) {
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let t = 0, p = p0; t < n; t++, p += 3) {
        const w = weights[k + t];
        r += pixels[p] * w;
        g += pixels[p + 1] * w;
        b += pixels[p + 2] * w;
      }
      temp[d] = clip8(r);
      temp[d + 1] = clip8(g);
      temp[d + 2] = clip8(b);
    } else {
      for (let c = 0; c < channels; c++) {
        let sum = HALF;
        for (let t = 0, p = p0 + c; t < n; t++, p += channels) sum += pixels[p] * weights[k + t];
        temp[d + c] = clip8(sum);
      }
    }
  }
}

/** Pillow's nearest-neighbour resize: the source pixel under each output pixel's centre. */
function nearestCrop(
  pixels: Uint8Array,
  inWidth: number,
  inHeight: number,
  channels: number,
  request: ResampleRequest,
): Uint8Array {
  const { resizeWidth, resizeHeight, left, top, width, height } = request;
  const sx = inWidth / resizeWidth;
  const sy = inHeight / resizeHeight;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const yy = Math.min(inHeight - 1, Math.floor((top + y + 0.5) * sy));
    for (let x = 0; x < width; x++) {
      const xx = Math.min(inWidth - 1, Math.floor((left + x + 0.5) * sx));
      const src = (yy * inWidth + xx) * channels;
      const dst = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) out[dst + c] = pixels[src + c];
    }
  }
  return out;
}
