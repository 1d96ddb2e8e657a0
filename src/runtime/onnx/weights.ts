/**
 * Weights of an ONNX graph: initializers and tensors held in `Constant` nodes (some exporters
 * keep every weight there). Read as `Float32Array` copies, written back in the tensor's own type.
 */
import {
  BYTES_PER_ELEMENT,
  FLOAT_TYPES,
  bfloat16ToFloat,
  dataTypeName,
  floatToHalf,
  halfToFloat,
  onnx,
  toNumber,
  type GraphProto,
  type TensorProto,
} from './proto.js';

/** What a weight is, without its data. */
export interface WeightInfo {
  name: string;
  dims: number[];
  type: string;
  /** Number of elements. */
  size: number;
  /** `initializer`, or `constant` for the value of a `Constant` node. */
  source: 'initializer' | 'constant';
  /** True when the data is kept in an external file. */
  external: boolean;
}

interface Located {
  tensor: TensorProto;
  source: WeightInfo['source'];
}

/** Every weight tensor of the graph by name, initializers first. */
export function weightTensors(graph: GraphProto): Map<string, Located> {
  const map = new Map<string, Located>();
  for (const tensor of graph.initializer ?? []) {
    map.set(tensor.name ?? '', { tensor, source: 'initializer' });
  }
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Constant') continue;
    const value = (node.attribute ?? []).find((a) => a.name === 'value' && a.t);
    const name = node.output?.[0];
    if (value?.t && name && !map.has(name)) map.set(name, { tensor: value.t, source: 'constant' });
  }
  return map;
}

function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

function sizeOf(t: TensorProto): number {
  return dimsOf(t).reduce((a, b) => a * b, 1);
}

function isExternal(t: TensorProto): boolean {
  return t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
}

/** Lists the weights with name, dims, type and size. */
export function listWeights(graph: GraphProto): WeightInfo[] {
  return [...weightTensors(graph)].map(([name, { tensor, source }]) => ({
    name,
    dims: dimsOf(tensor),
    type: dataTypeName(tensor.dataType),
    size: sizeOf(tensor),
    source,
    external: isExternal(tensor),
  }));
}

/** Number of floating-point weight elements: what frameworks report as parameters. */
export function countParameters(graph: GraphProto): number {
  let total = 0;
  for (const { tensor } of weightTensors(graph).values()) {
    if (FLOAT_TYPES.has(tensor.dataType ?? 0)) total += sizeOf(tensor);
  }
  return total;
}

function find(graph: GraphProto, name: string): TensorProto {
  const located = weightTensors(graph).get(name);
  if (!located) {
    throw new RangeError(`no weight named '${name}' in the model; list them with listWeights()`);
  }
  if (isExternal(located.tensor)) {
    throw new Error(`weight '${name}' is stored in an external file and cannot be read in memory`);
  }
  return located.tensor;
}

/** Copies raw little-endian bytes into a fresh, aligned buffer of `count` elements. */
function rawView(t: TensorProto, bytesPer: number): DataView {
  const raw = t.rawData as Uint8Array;
  const copy = raw.slice(0, sizeOf(t) * bytesPer);
  return new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
}

/**
 * Reads a numeric weight as a new `Float32Array` (a copy: changing it changes nothing).
 * @throws RangeError for an unknown name, TypeError for a non-numeric tensor.
 */
export function readWeight(graph: GraphProto, name: string): Float32Array {
  const t = find(graph, name);
  const type = t.dataType ?? 0;
  const n = sizeOf(t);
  const out = new Float32Array(n);
  const bytesPer = BYTES_PER_ELEMENT[type];
  if (bytesPer === undefined || type === 9 || (type >= 14 && type !== 16)) {
    throw new TypeError(`weight '${name}' has type ${dataTypeName(type)}, not a numeric type`);
  }
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== n * bytesPer) {
      throw new RangeError(
        `weight '${name}' holds ${t.rawData.length} bytes, expected ${n * bytesPer} for its dims`,
      );
    }
    const v = rawView(t, bytesPer);
    for (let i = 0; i < n; i++) out[i] = readRaw(v, type, i);
    return out;
  }
  const typed = typedField(t, type);
  for (let i = 0; i < n; i++) out[i] = toNumber(typed[i]);
  return out;
}

function readRaw(v: DataView, type: number, i: number): number {
  switch (type) {
    case 1:
      return v.getFloat32(i * 4, true);
    case 11:
      return v.getFloat64(i * 8, true);
    case 10:
      return halfToFloat(v.getUint16(i * 2, true));
    case 16:
      return bfloat16ToFloat(v.getUint16(i * 2, true));
    case 2:
      return v.getUint8(i);
    case 3:
      return v.getInt8(i);
    case 4:
      return v.getUint16(i * 2, true);
    case 5:
      return v.getInt16(i * 2, true);
    case 6:
      return v.getInt32(i * 4, true);
    case 12:
      return v.getUint32(i * 4, true);
    case 7:
      return Number(v.getBigInt64(i * 8, true));
    default:
      return Number(v.getBigUint64(i * 8, true));
  }
}

/** The typed repeated field ONNX uses for each type when `raw_data` is absent. */
function typedField(t: TensorProto, type: number): ArrayLike<unknown> {
  switch (type) {
    case 1:
      return t.floatData ?? [];
    case 11:
      return t.doubleData ?? [];
    case 7:
      return t.int64Data ?? [];
    case 12:
    case 13:
      return t.uint64Data ?? [];
    case 10:
    case 16:
      return Array.from(t.int32Data ?? [], (b) =>
        type === 10 ? halfToFloat(b) : bfloat16ToFloat(b),
      );
    default:
      return t.int32Data ?? [];
  }
}

/**
 * Replaces a floating-point weight's data, converting to its stored type (float32, float64,
 * float16). The tensor is rewritten as raw data; its dims do not change.
 * @throws RangeError when `data` does not hold exactly the weight's element count.
 */
export function writeWeight(graph: GraphProto, name: string, data: Float32Array): void {
  const t = find(graph, name);
  const type = t.dataType ?? 0;
  const n = sizeOf(t);
  if (data.length !== n) {
    throw new RangeError(
      `weight '${name}' has ${n} elements [${dimsOf(t).join(', ')}], got ${data.length}`,
    );
  }
  let raw: Uint8Array;
  if (type === 1) {
    raw = new Uint8Array(data.slice().buffer);
  } else if (type === 11) {
    raw = new Uint8Array(Float64Array.from(data).buffer);
  } else if (type === 10) {
    raw = new Uint8Array(Uint16Array.from(data, floatToHalf).buffer);
  } else {
    throw new TypeError(
      `weight '${name}' has type ${dataTypeName(type)}; only float32, float64 and float16 ` +
        'weights can be written',
    );
  }
  t.rawData = raw;
  t.floatData = [];
  t.doubleData = [];
  t.int32Data = [];
}
