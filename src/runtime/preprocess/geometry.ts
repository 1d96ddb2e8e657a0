/**
 * Where to resize and crop, computed exactly as torchvision's `Resize(int)` and `CenterCrop`
 * do on PIL images, so that the same pixels are kept.
 */
import type { ResolvedPreset } from './presets.js';

export interface ResizePlan {
  /** Size after the resize. */
  resizeWidth: number;
  resizeHeight: number;
  /** The centre crop, within the resized image. */
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Python's `round`: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Resize the shorter side to `floor(max(height, width) / cropFraction)` keeping the aspect
 * ratio (the longer side truncated, as torchvision does), then centre-crop to the output size.
 * With `cropFraction` 1 and a non-square output, the image is resized straight to it.
 */
export function resizePlan(width: number, height: number, preset: ResolvedPreset): ResizePlan {
  const outH = preset.height;
  const outW = preset.width;
  if (preset.cropFraction === 1 && outH !== outW) {
    return { resizeWidth: outW, resizeHeight: outH, left: 0, top: 0, width: outW, height: outH };
  }
  const shorter = Math.floor(Math.max(outH, outW) / preset.cropFraction);
  let resizeWidth = width;
  let resizeHeight = height;
  if (Math.min(width, height) !== shorter) {
    if (width <= height) {
      resizeWidth = shorter;
      resizeHeight = Math.trunc((shorter * height) / width);
    } else {
      resizeHeight = shorter;
      resizeWidth = Math.trunc((shorter * width) / height);
    }
  }
  const top = roundHalfEven((resizeHeight - outH) / 2);
  const left = roundHalfEven((resizeWidth - outW) / 2);
  return { resizeWidth, resizeHeight, left, top, width: outW, height: outH };
}
