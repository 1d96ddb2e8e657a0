/**
 * What Grad-CAM adds to a classifier's graph, so that ONNX Runtime computes the maps in the same
 * run as the logits: every class's channel-weighted sum of the feature map, and, for the chosen
 * class of each sample, the map upsampled to the input size and min-max normalized.
 */
import type { OnnxModel } from '../../runtime/onnx/model.js';
import { onnx, type NodeProto, type TensorProto } from '../../runtime/onnx/proto.js';
import type { GapHead } from './gap-head.js';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** A prefix no tensor of the graph starts with. */
function freshPrefix(graph: OnnxModel, base: string): string {
  const taken = [
    ...graph.graph.node.flatMap((n) => n.output ?? []),
    ...graph.graph.initializer.map((t) => t.name ?? ''),
    ...graph.graph.input.map((i) => i.name ?? ''),
  ];
  let prefix = base;
  while (taken.some((name) => name.startsWith(prefix))) prefix += '_';
  return prefix;
}

function int64s(name: string, values: readonly number[]): TensorProto {
  return {
    name,
    dims: [values.length],
    dataType: INT64,
    rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer),
  };
}

/** Names of the outputs {@link addClassMaps} adds. */
export interface ClassMapOutputs {
  maps: string;
  shape: string;
}

/**
 * Adds to the graph every class's channel-weighted sum of the feature map,
 * MatMul(W [classes, channels], Reshape(A, [batch, channels, h w])), and the feature map's
 * shape, as outputs. Summing inside ONNX Runtime costs a few per cent of the forward pass, where
 * fetching the whole feature map and summing in JavaScript cost half of it again.
 */
export function addClassMaps(graph: OnnxModel, head: GapHead): ClassMapOutputs {
  const prefix = freshPrefix(graph, 'ortlab_cam');
  const names = {
    weights: `${prefix}_weights`,
    flatShape: `${prefix}_flat_shape`,
    flat: `${prefix}_flat`,
    maps: `${prefix}_maps`,
    shape: `${prefix}_feature_shape`,
  };
  graph.graph.initializer.push(
    {
      name: names.weights,
      dims: [head.classes, head.channels],
      dataType: FLOAT,
      rawData: new Uint8Array(head.weights.slice().buffer),
    },
    int64s(names.flatShape, [0, 0, -1]),
  );
  graph.graph.node.push(
    {
      name: names.flat,
      opType: 'Reshape',
      input: [head.feature, names.flatShape],
      output: [names.flat],
    },
    {
      name: names.maps,
      opType: 'MatMul',
      input: [names.weights, names.flat],
      output: [names.maps],
    },
    { name: names.shape, opType: 'Shape', input: [head.feature], output: [names.shape] },
  );
  graph.graph.output.push(
    { name: names.maps, type: { tensorType: { elemType: FLOAT } } },
    { name: names.shape, type: { tensorType: { elemType: INT64 } } },
  );
  return { maps: names.maps, shape: names.shape };
}

/** Names of the input and outputs {@link addChosenMaps} adds. */
export interface ChosenOutputs {
  /** int64 `[batch]`: the class to explain per sample, or -1 for its predicted class. */
  targets: string;
  /** int64 `[batch]`: the class explained. */
  chosen: string;
  /** int64 `[4]`: the feature map's dims. */
  shape: string;
  /** float `[batch, 1, h, w]`: the collapsed map of the chosen class, at the feature map's size. */
  cam: string;
  /** float `[batch, 1, height, width]` at the input's size, each map min-max normalized. */
  maps: string;
}

/**
 * Adds each sample's map for its chosen class: ReLU of the class's channel-weighted sum divided
 * by the map's area, then that map upsampled to the input's height and width (bilinear,
 * half-pixel centres, as PyTorch's `align_corners=False`) and min-max normalized (a constant map
 * gives zeros). The sum is taken from {@link addClassMaps}'s outputs when they are given, else
 * for the chosen class alone (one row of weights per sample, a tenth of the work for 10
 * classes). Needs opset 13 or later; returns undefined for older models.
 *
 * With `sizes` (the feature map and the input have fixed heights and widths) the upsampling is
 * two matrix products with the interpolation weights, `Ry (cam Rx^T)`, and the normalization
 * moves before them onto the small map, where it is cheap: the products are affine-invariant
 * (each row of weights sums to 1), and the range comes from the few samples where a bilinear
 * map can reach its extremes ({@link extremeSamples}). The full-size map is then written once,
 * where `Resize`, two reductions, `Sub` and `Div` pass over it five times.
 */
export function addChosenMaps(
  graph: OnnxModel,
  head: GapHead,
  input: string,
  classMaps?: ClassMapOutputs,
  sizes?: MapSizes,
): ChosenOutputs | undefined {
  const opset = graph.opset;
  if (opset < 13) return undefined;
  const p = freshPrefix(graph, 'ortlab_up');
  const n = (name: string) => `${p}_${name}`;
  const nodes: NodeProto[] = [];
  const node = (
    opType: string,
    inputs: string[],
    output: string,
    attribute: NodeProto['attribute'] = [],
  ) => nodes.push({ name: n(output), opType, input: inputs, output: [n(output)], attribute });
  const ints = (name: string, i: number) => ({ name, type: 2, i });
  const intList = (name: string, values: number[]) => ({ name, type: 7, ints: values });
  graph.graph.initializer.push(
    int64s(n('one'), [1]),
    int64s(n('axis1'), [1]),
    int64s(n('axes12'), [1, 2]),
    int64s(n('flat_shape'), [0, 0, -1]),
    int64s(n('at0'), [0]),
    int64s(n('at1'), [1]),
    int64s(n('at2'), [2]),
    int64s(n('at4'), [4]),
    { name: n('scalar_zero'), dims: [], dataType: INT64, rawData: new Uint8Array(8) },
    {
      name: n('tiny'),
      dims: [],
      dataType: FLOAT,
      rawData: new Uint8Array(Float32Array.of(1e-30).buffer),
    },
  );
  // The chosen class: the given one, or the prediction where -1 is given.
  node('ArgMax', [head.logits], 'pred', [ints('axis', 1), ints('keepdims', 0)]);
  node('Less', [n('targets'), n('scalar_zero')], 'use_pred');
  node('Where', [n('use_pred'), n('pred'), n('targets')], 'chosen');
  node('Shape', [head.feature], 'shape');
  node('Slice', [n('shape'), n('at0'), n('at1')], 'batch');
  node('Slice', [n('shape'), n('at2'), n('at4')], 'hw');
  node('ReduceProd', [n('hw')], 'area', [ints('keepdims', 1)]);
  if (classMaps) {
    // Its row of the class sums [batch, classes, h w] -> [batch, 1, h w].
    node('Unsqueeze', [n('chosen'), n('axes12')], 'chosen3');
    node('Concat', [n('batch'), n('one'), n('area')], 'gather_shape', [ints('axis', 0)]);
    node('Expand', [n('chosen3'), n('gather_shape')], 'index');
    node('GatherElements', [classMaps.maps, n('index')], 'row', [ints('axis', 1)]);
  } else {
    // Its row of weights times the feature map: [batch, 1, K] x [batch, K, h w].
    graph.graph.initializer.push({
      name: n('weights'),
      dims: [head.classes, head.channels],
      dataType: FLOAT,
      rawData: new Uint8Array(head.weights.slice().buffer),
    });
    node('Gather', [n('weights'), n('chosen')], 'chosen_weights', [ints('axis', 0)]);
    node('Unsqueeze', [n('chosen_weights'), n('axis1')], 'chosen_weights3');
    node('Reshape', [head.feature, n('flat_shape')], 'flat');
    node('MatMul', [n('chosen_weights3'), n('flat')], 'row');
  }
  // ReLU(row / (h w)) as [batch, 1, h, w].
  node('Concat', [n('batch'), n('one'), n('hw')], 'map_shape', [ints('axis', 0)]);
  node('Reshape', [n('row'), n('map_shape')], 'map');
  node('Cast', [n('area')], 'area_float', [ints('to', FLOAT)]);
  node('Div', [n('map'), n('area_float')], 'scaled');
  node('Relu', [n('scaled')], 'cam');
  if (sizes) {
    graph.graph.initializer.push(...upsamplingWeights(n, sizes));
    // The map's extremes over the full-size grid, from the samples that can hold them.
    node('MatMul', [n('cam'), n('rx_ends_t')], 'ends_x');
    node('MatMul', [n('ry_ends'), n('ends_x')], 'ends');
    const reduceEnds = (op: string, out: string) =>
      opset >= 18
        ? node(op, [n('ends'), n('hw_axes')], out, [ints('keepdims', 1)])
        : node(op, [n('ends')], out, [intList('axes', [2, 3]), ints('keepdims', 1)]);
    if (opset >= 18) graph.graph.initializer.push(int64s(n('hw_axes'), [2, 3]));
    reduceEnds('ReduceMin', 'lo');
    reduceEnds('ReduceMax', 'hi');
    node('Sub', [n('hi'), n('lo')], 'range');
    node('Max', [n('range'), n('tiny')], 'range_floor');
    node('Sub', [n('cam'), n('lo')], 'cam_shifted');
    node('Div', [n('cam_shifted'), n('range_floor')], 'cam_normalized');
    // Upsampled: [batch, 1, h, w] x [w, W], then [H, h] x [batch, 1, h, W].
    node('MatMul', [n('cam_normalized'), n('rx_t')], 'wide');
    node('MatMul', [n('ry'), n('wide')], 'normalized');
    return finish();
  }
  // Upsample to the input's height and width.
  node('Shape', [input], 'input_shape');
  node('Slice', [n('input_shape'), n('at2'), n('at4')], 'input_hw');
  node('Concat', [n('batch'), n('one'), n('input_hw')], 'sizes', [ints('axis', 0)]);
  node('Resize', [n('cam'), '', '', n('sizes')], 'up', [
    { name: 'mode', type: 3, s: new TextEncoder().encode('linear') },
    {
      name: 'coordinate_transformation_mode',
      type: 3,
      s: new TextEncoder().encode('half_pixel'),
    },
  ]);
  // Min-max normalization per map.
  const reduce = (op: string, out: string) =>
    opset >= 18
      ? node(op, [n('up'), n('hw_axes')], out, [ints('keepdims', 1)])
      : node(op, [n('up')], out, [intList('axes', [2, 3]), ints('keepdims', 1)]);
  if (opset >= 18) graph.graph.initializer.push(int64s(n('hw_axes'), [2, 3]));
  reduce('ReduceMin', 'lo');
  reduce('ReduceMax', 'hi');
  // A constant map has range 0 and (up - lo) 0 everywhere: a tiny floor on the range turns it
  // into zeros without a pass of its own.
  node('Sub', [n('hi'), n('lo')], 'range');
  node('Max', [n('range'), n('tiny')], 'range_floor');
  node('Sub', [n('up'), n('lo')], 'shifted');
  node('Div', [n('shifted'), n('range_floor')], 'normalized');
  return finish();

  function finish(): ChosenOutputs {
    graph.graph.node.push(...nodes);
    graph.graph.input.push({
      name: n('targets'),
      type: { tensorType: { elemType: INT64, shape: { dim: [{ dimParam: 'batch' }] } } },
    });
    const outputs = { chosen: INT64, shape: INT64, cam: FLOAT, normalized: FLOAT };
    for (const [name, elemType] of Object.entries(outputs)) {
      graph.graph.output.push({ name: n(name), type: { tensorType: { elemType } } });
    }
    return {
      targets: n('targets'),
      chosen: n('chosen'),
      shape: n('shape'),
      cam: n('cam'),
      maps: n('normalized'),
    };
  }
}

/** Fixed sizes of the feature map and of the input, which let the upsampling be products. */
export interface MapSizes {
  /** The feature map's height and width. */
  height: number;
  width: number;
  /** The input's height and width: the size of the upsampled maps. */
  inputHeight: number;
  inputWidth: number;
}

/**
 * Bilinear weights of a resize from `from` to `to` samples with half-pixel centres, as
 * PyTorch's `interpolate(mode='bilinear', align_corners=False)` computes them: output i reads
 * x = max(0, (i + 0.5) from / to - 0.5) between samples floor(x) and the next one (the last
 * sample repeats past the end). Returns each output's first sample and weight of the next.
 */
function bilinearTaps(from: number, to: number): { first: number[]; t: number[] } {
  const first: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < to; i++) {
    const x = Math.max(0, ((i + 0.5) * from) / to - 0.5);
    const k = Math.min(Math.floor(x), from - 1);
    first.push(k);
    t.push(k < from - 1 ? x - k : 0);
  }
  return { first, t };
}

/**
 * The outputs of a bilinear resize where the upsampled map can reach its minimum and maximum:
 * the first and last output reading each pair of samples. Between them a row (or column) of the
 * map is linear in the output's position, and in two dimensions each cell is bilinear, which
 * takes its extremes at the corners of the rectangle of outputs inside it.
 */
export function extremeSamples(from: number, to: number): number[] {
  const { first } = bilinearTaps(from, to);
  const kept: number[] = [];
  for (let i = 0; i < to; i++) {
    if (i === 0 || i === to - 1 || first[i] !== first[i - 1] || first[i] !== first[i + 1]) {
      kept.push(i);
    }
  }
  return kept;
}

/** `rows` of the `[to, from]` weight matrix of a bilinear resize, row major. */
function weightRows(from: number, to: number, rows: readonly number[]): Float32Array {
  const { first, t } = bilinearTaps(from, to);
  const out = new Float32Array(rows.length * from);
  rows.forEach((i, r) => {
    out[r * from + first[i]] += 1 - t[i];
    if (t[i] > 0) out[r * from + first[i] + 1] += t[i];
  });
  return out;
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** The weight matrices of the upsampling by products, and of its extreme samples. */
function upsamplingWeights(n: (name: string) => string, sizes: MapSizes): TensorProto[] {
  const { height: h, width: w, inputHeight: H, inputWidth: W } = sizes;
  const all = (k: number) => Array.from({ length: k }, (_, i) => i);
  const yEnds = extremeSamples(h, H);
  const xEnds = extremeSamples(w, W);
  const floats = (name: string, dims: number[], data: Float32Array): TensorProto => ({
    name: n(name),
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(data.buffer),
  });
  return [
    floats('ry', [H, h], weightRows(h, H, all(H))),
    floats('rx_t', [w, W], transpose(weightRows(w, W, all(W)), W, w)),
    floats('ry_ends', [yEnds.length, h], weightRows(h, H, yEnds)),
    floats('rx_ends_t', [w, xEnds.length], transpose(weightRows(w, W, xEnds), xEnds.length, w)),
  ];
}
