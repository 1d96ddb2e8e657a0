/**
 * ortlab's plain tensor: a typed array with its dims and element type. It is what sessions take
 * and return, in Node and in the browser alike, so that results never depend on which
 * onnxruntime package made them (their `Tensor` classes fail each other's `instanceof`).
 */

/** Element types ortlab moves in and out of sessions. */
export type TensorType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A tensor as plain data. `data` is row major, `dims` e.g. `[batch, channels, height, width]`. */
export interface Tensor {
  readonly type: TensorType;
  readonly dims: readonly number[];
  readonly data: TypedArray | string[];
}

/** The typed array constructor that holds each element type. */
export const TYPED_ARRAY_OF: Readonly<
  Record<Exclude<TensorType, 'string'>, TypedArrayConstructor>
> = Object.freeze({
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
});

type TypedArrayConstructor = {
  new (length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** Number of elements of a tensor with these dims. */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Makes a tensor, checking that the data holds exactly as many elements as the dims say.
 * @example
 * ```ts
 * const x = tensor('float32', new Float32Array(2 * 3), [2, 3]); // { type, data, dims: [2, 3] }
 * ```
 */
export function tensor(
  type: TensorType,
  data: TypedArray | string[],
  dims: readonly number[],
): Tensor {
  const expected = elementCount(dims);
  if (data.length !== expected) {
    throw new RangeError(
      `tensor of dims [${dims.join(', ')}] needs ${expected} elements, got ${data.length}`,
    );
  }
  return { type, data, dims: [...dims] };
}

/**
 * Slices rows `[start, end)` along the first (batch) axis without copying the data.
 */
export function sliceBatch(t: Tensor, start: number, end: number): Tensor {
  const rows = t.dims[0];
  if (!(start >= 0 && end <= rows && start <= end)) {
    throw new RangeError(`batch slice [${start}, ${end}) is outside [0, ${rows})`);
  }
  const stride = rows === 0 ? 0 : t.data.length / rows;
  const data = Array.isArray(t.data)
    ? t.data.slice(start * stride, end * stride)
    : t.data.subarray(start * stride, end * stride);
  return { type: t.type, data, dims: [end - start, ...t.dims.slice(1)] };
}

/**
 * Concatenates tensors of one type along the first (batch) axis; the other dims must agree.
 * One allocation for the result.
 */
export function concatBatch(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new RangeError('concatBatch needs at least one tensor');
  if (parts.length === 1) return parts[0];
  const [first] = parts;
  const tail = first.dims.slice(1).join(',');
  let rows = 0;
  let length = 0;
  for (const p of parts) {
    if (p.type !== first.type || p.dims.slice(1).join(',') !== tail) {
      throw new RangeError(
        `cannot concatenate ${p.type}[${p.dims.join(', ')}] ` +
          `with ${first.type}[${first.dims.join(', ')}]`,
      );
    }
    rows += p.dims[0];
    length += p.data.length;
  }
  const dims = [rows, ...first.dims.slice(1)];
  if (first.type === 'string') {
    return { type: 'string', data: parts.flatMap((p) => p.data as string[]), dims };
  }
  const out = new TYPED_ARRAY_OF[first.type](length);
  let offset = 0;
  for (const p of parts) {
    (out as Float32Array).set(p.data as Float32Array, offset);
    offset += p.data.length;
  }
  return { type: first.type, data: out, dims };
}
