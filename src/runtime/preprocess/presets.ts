/**
 * Image preprocessing presets: plain objects that say how an image becomes a model input. The
 * same preset gives the same tensor in Node (sharp) and in the browser (canvas pixels).
 */

export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';
export type Layout = 'NCHW' | 'NHWC';
export type ColorChannels = 'rgb' | 'gray';

/** How an image becomes a tensor. */
export interface Preset {
  /** A name for reports. */
  name: string;
  /**
   * Output size: one number for a square, or `[height, width]`. Omitted: taken from the model's
   * input dims.
   */
  size?: number | readonly [number, number];
  /**
   * The image's shorter side is first resized to `size / cropFraction` (rounded down), then the
   * centre is cropped to `size`, as timm and torchvision evaluate. 1 resizes straight to `size`'s
   * shorter side. Default 1.
   */
  cropFraction?: number;
  /** Resampling filter for the resize. Default `bilinear`. */
  interpolation?: Interpolation;
  /** Per-channel mean, subtracted after scaling by `range`. Default 0. */
  mean?: readonly number[];
  /** Per-channel standard deviation, divided after the mean. Default 1. */
  std?: readonly number[];
  /** Colour channels the model takes. Omitted: 1 channel in the model's input is `gray`. */
  channels?: ColorChannels;
  /** Tensor layout. Omitted: inferred from the model's input dims, else `NCHW`. */
  layout?: Layout;
  /** Pixel values are divided by 255 when 1 (values in [0, 1]), kept as is when 255. Default 1. */
  range?: 1 | 255;
}

/** A preset with every field decided, ready to run. */
export interface ResolvedPreset {
  name: string;
  height: number;
  width: number;
  cropFraction: number;
  interpolation: Interpolation;
  mean: number[];
  std: number[];
  channels: ColorChannels;
  layout: Layout;
  range: 1 | 255;
}

/** The presets ortlab knows by name. */
export const PRESETS: Readonly<Record<string, Readonly<Preset>>> = Object.freeze({
  /** torchvision/timm ImageNet evaluation: shorter side to 256, centre crop 224, ImageNet stats. */
  imagenet: Object.freeze({
    name: 'imagenet',
    size: 224,
    cropFraction: 0.875,
    interpolation: 'bilinear',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    channels: 'rgb',
    layout: 'NCHW',
    range: 1,
  }),
  /** Values in [0, 1] and no normalization, at the model's own input size, as GeNAS evaluates. */
  raw: Object.freeze({ name: 'raw', cropFraction: 1, interpolation: 'bilinear', range: 1 }),
  /** The bundled MNIST model's preset: 28x28 gray, MNIST mean and standard deviation. */
  mnist: Object.freeze({
    name: 'mnist',
    size: 28,
    cropFraction: 1,
    interpolation: 'bilinear',
    mean: [0.1307],
    std: [0.3081],
    channels: 'gray',
    layout: 'NCHW',
    range: 1,
  }),
});

const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic', 'lanczos'];

function inferLayout(dims: readonly (number | string)[] | undefined): Layout | undefined {
  if (!dims || dims.length !== 4) return undefined;
  if (dims[1] === 1 || dims[1] === 3) return 'NCHW';
  if (dims[3] === 1 || dims[3] === 3) return 'NHWC';
  return undefined;
}

/**
 * Fills in what a preset leaves open from the model's input dims (`[batch, channels, height,
 * width]` or `[batch, height, width, channels]`) and checks every field.
 * @throws RangeError naming the unknown preset or the field that is out of range.
 */
export function resolvePreset(
  preset: string | Preset,
  inputDims?: readonly (number | string)[],
): ResolvedPreset {
  const base = typeof preset === 'string' ? PRESETS[preset] : preset;
  if (!base) {
    throw new RangeError(
      `unknown preprocessing preset '${typeof preset === 'string' ? preset : preset.name}'; ` +
        'known presets: ' +
        `${Object.keys(PRESETS).join(', ')} (or pass a preset object)`,
    );
  }
  const layout = base.layout ?? inferLayout(inputDims) ?? 'NCHW';
  const [hAxis, wAxis, cAxis] = layout === 'NCHW' ? [2, 3, 1] : [1, 2, 3];
  const fromModel = (axis: number): number | undefined =>
    typeof inputDims?.[axis] === 'number' ? inputDims[axis] : undefined;
  const size = base.size;
  const height = typeof size === 'number' ? size : (size?.[0] ?? fromModel(hAxis));
  const width = typeof size === 'number' ? size : (size?.[1] ?? fromModel(wAxis));
  if (!height || !width || !(height > 0 && width > 0)) {
    throw new RangeError(
      `preset '${base.name}' has no size and the model's input dims ` +
        `[${(inputDims ?? []).join(', ')}] do not fix one; set the preset's size`,
    );
  }
  const channels = base.channels ?? (fromModel(cAxis) === 1 ? 'gray' : 'rgb');
  const n = channels === 'gray' ? 1 : 3;
  const mean = [...(base.mean ?? [0])];
  const std = [...(base.std ?? [1])];
  const cropFraction = base.cropFraction ?? 1;
  const interpolation = base.interpolation ?? 'bilinear';
  if (mean.length === 1 && n === 3) mean.push(mean[0], mean[0]);
  if (std.length === 1 && n === 3) std.push(std[0], std[0]);
  if (mean.length !== n || std.length !== n || std.some((s) => !(s > 0))) {
    throw new RangeError(
      `preset '${base.name}': mean and std need ${n} values for ${channels} and std > 0; ` +
        `got mean [${mean.join(', ')}], std [${std.join(', ')}]`,
    );
  }
  if (!(cropFraction > 0 && cropFraction <= 1)) {
    throw new RangeError(
      `preset '${base.name}': cropFraction must be in (0, 1], got ${cropFraction}`,
    );
  }
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new RangeError(
      `preset '${base.name}': interpolation '${interpolation}' ` +
        `is not one of ${INTERPOLATIONS.join(', ')}`,
    );
  }
  const range = base.range ?? 1;
  if (range !== 1 && range !== 255) {
    throw new RangeError(`preset '${base.name}': range must be 1 or 255, got ${String(range)}`);
  }
  return {
    name: base.name,
    height,
    width,
    cropFraction,
    interpolation,
    mean,
    std,
    channels,
    layout,
    range,
  };
}
