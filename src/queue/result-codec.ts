/**
 * How results travel through Redis: JSON that keeps NaN and infinities (plain JSON turns them
 * into null, and a NaN metric must stay a NaN), gzipped and base64-encoded, since per-sample
 * records compress several times over.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

const TAG = '$ortlabNumber';

/** An encoded result, as stored in a job's return value. */
export interface EncodedResult {
  ortlabResult: 1;
  /** gzipped JSON, base64. */
  gzip: string;
}

/**
 * Encodes any JSON-like value; numbers that JSON cannot hold survive the round trip.
 * @example
 * ```ts
 * decodeResult(encodeResult({ x: NaN, y: [1, -Infinity] })); // { x: NaN, y: [1, -Infinity] }
 * ```
 */
export function encodeResult(value: unknown): EncodedResult {
  const json = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? { [TAG]: String(v) } : v,
  );
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
  return JSON.parse(json, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === TAG) return Number((v as Record<string, string>)[TAG]);
    }
    return v;
  }) as T;
}
