/**
 * How results travel through Redis: JSON that keeps NaN and infinities (plain JSON turns them
 * into null, and a NaN metric must stay a NaN) and typed arrays (embeddings: their bytes, not a
 * number per key), gzipped and base64-encoded, since per-sample records compress several times
 * over.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

const TAG = '$ortlabNumber';
const ARRAY_TAG = '$ortlabArray';

/** The typed arrays a result may hold, by name; their bytes travel as they are (little endian). */
const TYPED_ARRAYS = { Float32Array, Float64Array, Int32Array } as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

function encodeValue(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { [TAG]: String(value) };
  if (!ArrayBuffer.isView(value)) return value;
  const name = value.constructor.name;
  if (!(name in TYPED_ARRAYS)) throw new TypeError(`a result cannot hold a ${name}`);
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return { [ARRAY_TAG]: name, base64: bytes.toString('base64') };
}

function decodeValue(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, string>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === TAG) return Number(record[TAG]);
  if (keys.length === 2 && record[ARRAY_TAG] in TYPED_ARRAYS && 'base64' in record) {
    // A copy: the decoded bytes may not be aligned for the array's element size.
    const bytes = new Uint8Array(Buffer.from(record.base64, 'base64'));
    return new TYPED_ARRAYS[record[ARRAY_TAG] as TypedArrayName](bytes.buffer);
  }
  return value;
}

/** An encoded result, as stored in a job's return value. */
export interface EncodedResult {
  ortlabResult: 1;
  /** gzipped JSON, base64. */
  gzip: string;
}

/**
 * Encodes any JSON-like value; numbers that JSON cannot hold and `Float32Array`,
 * `Float64Array` and `Int32Array` values survive the round trip bit for bit.
 * @throws TypeError for another kind of typed array.
 * @example
 * ```ts
 * decodeResult(encodeResult({ x: NaN, y: [1, -Infinity] })); // { x: NaN, y: [1, -Infinity] }
 * decodeResult(encodeResult({ e: Float32Array.of(0.1) })); // { e: Float32Array [0.1] }
 * ```
 */
export function encodeResult(value: unknown): EncodedResult {
  const json = JSON.stringify(value, (_key, v: unknown) => encodeValue(v));
  return { ortlabResult: 1, gzip: gzipSync(json, { level: 1 }).toString('base64') };
}

/**
 * Decodes what `encodeResult` made.
 * @throws TypeError when `encoded` is not an encoded result.
 */
export function decodeResult<T>(encoded: unknown): T {
  const e = encoded as Partial<EncodedResult> | null;
  if (!e || e.ortlabResult !== 1 || typeof e.gzip !== 'string') {
    throw new TypeError('not an ortlab result (expected { ortlabResult: 1, gzip })');
  }
  const json = gunzipSync(Buffer.from(e.gzip, 'base64')).toString('utf8');
  return JSON.parse(json, (_key, v: unknown) => decodeValue(v)) as T;
}
