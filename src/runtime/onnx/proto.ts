/**
 * The ONNX protobuf schema (through `onnx-proto`) and the small conversions every graph tool
 * needs: element types, 64-bit integers, raw little-endian data.
 */
import onnxProto from 'onnx-proto';

import type { TensorType } from '../tensor.js';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/**
 * A tensor as a graph declares its inputs and outputs: name, element type (default float32) and
 * shape, each dimension a fixed size (a number) or a named, symbolic one (a string).
 */
export function tensorValueInfo(
  name: string,
  dims: readonly (number | string)[],
  elemType: number = onnx.TensorProto.DataType.FLOAT,
): ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

/** The bytes of a model around `graph`, as ortlab builds its own graphs: IR 8, opset 17. */
export function encodeModel(graph: GraphProto): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'ortlab',
    opsetImport: [{ domain: '', version: 17 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** `TensorProto.DataType` codes and the ortlab element type each one maps to. */
export const DATA_TYPES: Readonly<
  Record<number, TensorType | 'bfloat16' | 'complex64' | 'complex128'>
> = Object.freeze({
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
});

/** Bytes per element of the fixed-size types, for raw data and size checks. */
export const BYTES_PER_ELEMENT: Readonly<Record<number, number>> = Object.freeze({
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  14: 8,
  15: 16,
  16: 2,
});

export const FLOAT_TYPES: ReadonlySet<number> = new Set([1, 10, 11, 16]);

/** The element type name of a `TensorProto.DataType` code, or `type<code>` when unknown. */
export function dataTypeName(code: number | null | undefined): string {
  return DATA_TYPES[code ?? 0] ?? `type${code ?? 0}`;
}

/** protobufjs gives int64 fields as `Long` objects when long.js is present, numbers otherwise. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object' && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return Number(value);
}

/** Converts an IEEE half-precision bit pattern to a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Converts a number to the nearest IEEE half-precision bit pattern (round to nearest even). */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1;
  return sign | half;
}

/** Converts a bfloat16 bit pattern to a number. */
export function bfloat16ToFloat(bits: number): number {
  return new Float32Array(new Uint32Array([bits << 16]).buffer)[0];
}
