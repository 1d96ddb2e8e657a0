/**
 * Attribution maps drawn over their image: a jet-like colour scale and the blend the HTML reports
 * show, as plain pixels, so Node (through sharp) and the browser (through a canvas) draw the same.
 */

const STOPS: readonly (readonly [number, number, number])[] = [
  [0, 0, 131],
  [0, 60, 255],
  [0, 255, 255],
  [255, 255, 0],
  [255, 0, 0],
  [128, 0, 0],
];

/**
 * A value in [0, 1] on a jet-like scale, as RGB in [0, 255].
 * @example
 * ```ts
 * mapColour(1); // [128, 0, 0]
 * ```
 */
export function mapColour(v: number): readonly [number, number, number] {
  const x = Math.max(0, Math.min(1, v)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const t = x - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/**
 * The map laid over the image at half opacity, as interleaved 8-bit RGB `[height, width, 3]`.
 * `image` is `[channels, height, width]` (1 or 3 channels) with values in [0, 1] (clamped);
 * `map` is `[height, width]` in [0, 1].
 */
export function overlayRgb(
  image: Float32Array,
  map: Float32Array,
  height: number,
  width: number,
): Uint8Array {
  const area = height * width;
  const channels = image.length / area;
  const rgb = new Uint8Array(area * 3);
  for (let i = 0; i < area; i++) {
    const colour = mapColour(map[i]);
    for (let c = 0; c < 3; c++) {
      const pixel = image[(channels === 3 ? c : 0) * area + i];
      const grey = Math.max(0, Math.min(1, pixel)) * 255;
      rgb[i * 3 + c] = Math.round(0.5 * grey + 0.5 * colour[c]);
    }
  }
  return rgb;
}
