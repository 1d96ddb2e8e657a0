/**
 * The IDX container of MNIST and Fashion-MNIST: two zero bytes, a type byte, a byte giving the
 * number of dimensions, each dimension as a big-endian 32-bit unsigned integer, then the values
 * in row-major order. Pure logic, shared by the Node and browser builds.
 */

/** Element types an IDX file can hold. */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** What an IDX header says about the values after it. */
export interface IdxHeader {
  /** Element type of the values. */
  type: IdxType;
  /** Dimensions, outermost first, e.g. `[count, height, width]`. */
  dims: number[];
  /** Length of the header in bytes: `4 + 4 * dims.length`. */
  headerBytes: number;
}

const TYPE_BY_CODE: ReadonlyMap<number, IdxType> = new Map<number, IdxType>([
  [0x08, 'uint8'],
  [0x09, 'int8'],
  [0x0b, 'int16'],
  [0x0c, 'int32'],
  [0x0d, 'float32'],
  [0x0e, 'float64'],
]);

/**
 * Bytes per element of each IDX type.
 *
 * @example
 * ```ts
 * idxElementBytes.float32; // 4
 * ```
 */
export const idxElementBytes: Readonly<Record<IdxType, number>> = Object.freeze({
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
});

/** Longest possible IDX header: 255 dimensions. */
export const maxIdxHeaderBytes = 4 + 4 * 255;

function describe(file: string | undefined): string {
  return file === undefined ? 'IDX data' : `IDX file '${file}'`;
}

function hex(bytes: Uint8Array, count: number): string {
  return Array.from(bytes.subarray(0, count), (byte) => byte.toString(16).padStart(2, '0')).join(
    ' ',
  );
}

/**
 * Whether `bytes` start like an IDX file: `00 00`, a known type byte and at least one dimension.
 * Needs only the first 4 bytes; use it to recognise a file before parsing it.
 *
 * @example
 * ```ts
 * looksLikeIdx(new Uint8Array([0, 0, 0x08, 3])); // true
 * looksLikeIdx(new TextEncoder().encode('PNG!')); // false
 * ```
 */
export function looksLikeIdx(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0 &&
    bytes[1] === 0 &&
    TYPE_BY_CODE.has(bytes[2]) &&
    bytes[3] >= 1
  );
}

/**
 * Parses the header at the start of `bytes` (bytes after the header are ignored, so the first
 * {@link maxIdxHeaderBytes} bytes of a file are always enough).
 *
 * @param bytes the start of the (decompressed) IDX data.
 * @param file a file name used in error messages.
 * @throws TypeError when `bytes` is not a Uint8Array.
 * @throws Error when the magic is not `00 00 <type> <ndims>` or `bytes` ends inside the header.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]);
 * parseIdxHeader(bytes); // { type: 'uint8', dims: [2, 28, 28], headerBytes: 16 }
 * ```
 */
export function parseIdxHeader(bytes: Uint8Array, file?: string): IdxHeader {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`parseIdxHeader expects a Uint8Array, received ${typeof bytes}`);
  }
  if (bytes.length < 4) {
    throw new Error(
      `${describe(file)} is too short for an IDX header: expected at least 4 bytes, ` +
        `found ${bytes.length}`,
    );
  }

  const type = TYPE_BY_CODE.get(bytes[2]);
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined || bytes[3] === 0) {
    throw new Error(
      `${describe(file)} does not start with an IDX magic: ` +
        'expected 00 00 <type 08|09|0b|0c|0d|0e> ' +
        `<dimension count ≥ 1>, found ${hex(bytes, 4)}`,
    );
  }

  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(
      `${describe(file)} ends inside its header: ${ndims} dimensions need ${headerBytes} bytes, ` +
        `found ${bytes.length}`,
    );
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  return { type, dims, headerBytes };
}

/**
 * Total byte length (header plus values) of an IDX file with this header, before any
 * compression.
 *
 * @example
 * ```ts
 * expectedIdxSize({ type: 'uint8', dims: [2, 28, 28], headerBytes: 16 }); // 1584
 * ```
 */
export function expectedIdxSize(header: IdxHeader): number {
  const count = header.dims.reduce((product, dim) => product * dim, 1);
  return header.headerBytes + count * idxElementBytes[header.type];
}

/**
 * Writes `values` as IDX bytes with the given dims; the inverse of {@link parseIdxHeader} for
 * `uint8` data. Handy for tests and small exports.
 *
 * @throws RangeError when the product of `dims` differs from `values.length`.
 *
 * @example
 * ```ts
 * encodeIdx(new Uint8Array([7, 2]), [2]); // Uint8Array [0, 0, 8, 1, 0, 0, 0, 2, 7, 2]
 * ```
 */
export function encodeIdx(values: Uint8Array, dims: readonly number[]): Uint8Array {
  if (dims.length < 1 || dims.length > 255) {
    throw new RangeError(`encodeIdx: dims must have 1 to 255 entries, received ${dims.length}`);
  }
  const badDim = dims.find((dim) => !Number.isInteger(dim) || dim < 0 || dim > 0xffffffff);
  if (badDim !== undefined) {
    throw new RangeError(`encodeIdx: dim ${badDim} is not an integer from 0 to 2^32 - 1`);
  }
  const count = dims.reduce((product, dim) => product * dim, 1);
  if (count !== values.length) {
    throw new RangeError(
      `encodeIdx: dims [${dims.join(', ')}] hold ${count} values but values has ${values.length}`,
    );
  }

  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + values.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((dim, d) => view.setUint32(4 + 4 * d, dim, false));
  out.set(values, headerBytes);
  return out;
}

/** The shape of an IDX images file ortlab reads as a dataset. */
export interface IdxImageLayout {
  count: number;
  height: number;
  width: number;
  channels: 1 | 3 | 4;
}

/**
 * The layout of an images file: uint8 `[count, height, width]` (one channel) or
 * `[count, height, width, channels]` with 1, 3 or 4 channels.
 * @throws Error naming `file` and what it holds otherwise.
 */
export function idxImageLayout(
  header: { type: string; dims: readonly number[] },
  file: string,
): IdxImageLayout {
  const { dims, type } = header;
  const channels = dims.length === 4 ? dims[3] : 1;
  if (
    type !== 'uint8' ||
    (dims.length !== 3 && dims.length !== 4) ||
    ![1, 3, 4].includes(channels)
  ) {
    throw new Error(
      `IDX images file '${file}' holds ${type} dims [${dims.join(', ')}]; expected uint8 ` +
        'dims [count, height, width] or [count, height, width, channels] with 1, 3 or 4 channels',
    );
  }
  const [count, height, width] = dims;
  return { count, height, width, channels: channels as 1 | 3 | 4 };
}

/** Checks that the labels file holds one label per image. */
export function checkIdxLabelCount(
  labels: Uint8Array,
  count: number,
  files: { images: string; labels: string },
): void {
  if (labels.length !== count) {
    throw new Error(
      `IDX images file '${files.images}' holds ${count} images but labels file '${files.labels}' ` +
        `holds ${labels.length} labels; they must be the same count`,
    );
  }
}

/**
 * Checks that every label has a class (`source` says where the classes came from).
 * @throws RangeError naming the first sample whose label has none.
 */
export function checkIdxLabelClasses(
  labels: Uint8Array,
  labelsFile: string,
  classes: { count: number; source: string },
): void {
  const bad = labels.findIndex((label) => label >= classes.count);
  if (bad >= 0) {
    throw new RangeError(
      `IDX labels file '${labelsFile}' gives sample ${bad} the label ${labels[bad]}, but ` +
        `${classes.source} names only ${classes.count} classes (0 to ${classes.count - 1})`,
    );
  }
}
