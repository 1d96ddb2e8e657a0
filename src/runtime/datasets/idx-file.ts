/**
 * Reading IDX files from disk, plain or gzipped, without ever holding a whole file: the header
 * is read from the first bytes, the size is checked against the file length (or the gzip
 * trailer), and records are streamed chunk by chunk. Node only.
 */

import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { expectedIdxSize, maxIdxHeaderBytes, parseIdxHeader, type IdxHeader } from './idx.js';

/** A checked IDX file: its header and how to reach its values. */
export interface IdxFileInfo {
  /** The path as given. */
  path: string;
  /** Whether the file is gzip-compressed (found by its magic bytes, not its name). */
  gzip: boolean;
  header: IdxHeader;
}

/** Default size of one read, in bytes. */
export const defaultChunkBytes = 1 << 20;

/**
 * Whether `bytes` start with the gzip magic `1f 8b`.
 *
 * @example
 * ```ts
 * isGzip(new Uint8Array([0x1f, 0x8b, 8, 0])); // true
 * ```
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

async function readRange(path: string, position: number, length: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Decompresses a gzip file as a stream of chunks; breaking out of the loop stops the read. */
function gunzipStream(path: string, chunkBytes: number): AsyncIterable<Buffer> {
  const gunzip = createGunzip({ chunkSize: Math.max(64, chunkBytes) });
  return pipeline(createReadStream(path, { highWaterMark: 1 << 16 }), gunzip, () => {
    // Errors reach the consumer through the iterator of `gunzip`.
  });
}

/**
 * The first `count` bytes of a file's content, decompressed first when it is gzipped. Reads no
 * more than it needs.
 *
 * @example
 * ```ts
 * const { bytes, gzip } = await readLeadingBytes('data/mnist/images-idx3-ubyte.gz', 16);
 * gzip; // true
 * ```
 */
export async function readLeadingBytes(
  path: string,
  count: number,
): Promise<{ bytes: Uint8Array; gzip: boolean }> {
  const raw = await readRange(path, 0, count);
  if (!isGzip(raw)) return { bytes: raw, gzip: false };

  const out = new Uint8Array(count);
  let filled = 0;
  try {
    for await (const chunk of gunzipStream(path, 1 << 14)) {
      const take = Math.min(chunk.length, count - filled);
      out.set(chunk.subarray(0, take), filled);
      filled += take;
      if (filled === count) break;
    }
  } catch (error) {
    // A corrupt stream is reported by the size check that follows, with the numbers.
    if (filled === 0)
      throw new Error(`gzip file '${path}' cannot be read: ${(error as Error).message}`);
  }
  return { bytes: out.subarray(0, filled), gzip: true };
}

/** Counts the decompressed bytes of a gzip file; `error` is set when the stream is corrupt. */
async function countGunzippedBytes(path: string): Promise<{ bytes: number; error?: string }> {
  let bytes = 0;
  try {
    for await (const chunk of gunzipStream(path, 1 << 16)) bytes += chunk.length;
    return { bytes };
  } catch (error) {
    return { bytes, error: (error as Error).message };
  }
}

function sizeMismatch(info: IdxFileInfo, expected: number, actual: string): Error {
  const { header } = info;
  return new Error(
    `IDX file '${info.path}' does not match its header: dims [${header.dims.join(', ')}] of ` +
      `${header.type} need ${expected} bytes with the ${header.headerBytes}-byte header, but the ` +
      `file ${actual}. It is truncated or has extra bytes: rebuild or re-download it.`,
  );
}

/**
 * Reads and checks an IDX file's header, and checks that the file holds exactly the bytes the
 * header announces. For a gzip file the uncompressed size comes from the gzip trailer (ISIZE,
 * modulo 2^32) without decompressing; only when it disagrees is the stream decompressed and
 * counted, which also covers files made of several gzip members.
 *
 * @throws Error naming the file, the header's dims, the expected and the actual byte counts
 *   when they differ, or when the magic is wrong.
 *
 * @example
 * ```ts
 * const info = await inspectIdxFile('data/mnist/images-idx3-ubyte.gz');
 * info.header.dims; // [10000, 28, 28]
 * ```
 */
export async function inspectIdxFile(path: string): Promise<IdxFileInfo> {
  const { bytes, gzip } = await readLeadingBytes(path, maxIdxHeaderBytes);
  const info: IdxFileInfo = { path, gzip, header: parseIdxHeader(bytes, path) };
  const expected = expectedIdxSize(info.header);
  const fileBytes = (await stat(path)).size;

  if (!gzip) {
    if (fileBytes !== expected) throw sizeMismatch(info, expected, `holds ${fileBytes} bytes`);
    return info;
  }

  const trailer = await readRange(path, Math.max(0, fileBytes - 4), 4);
  const isize = trailer.length === 4 ? new DataView(trailer.buffer).getUint32(0, true) : -1;
  if (isize === expected % 2 ** 32) return info;

  const counted = await countGunzippedBytes(path);
  if (counted.error !== undefined) {
    throw sizeMismatch(
      info,
      expected,
      `is not a complete gzip stream (${counted.error}) after ${counted.bytes} decompressed bytes`,
    );
  }
  if (counted.bytes !== expected) {
    throw sizeMismatch(info, expected, `decompresses to ${counted.bytes} bytes`);
  }
  return info;
}

async function* plainRecords(
  path: string,
  first: number,
  count: number,
  recordBytes: number,
  chunkBytes: number,
): AsyncGenerator<Uint8Array> {
  const perChunk = Math.max(1, Math.floor(chunkBytes / recordBytes));
  const handle = await open(path, 'r');
  try {
    for (let done = 0; done < count;) {
      const records = Math.min(perChunk, count - done);
      const chunk = new Uint8Array(records * recordBytes);
      const position = first + done * recordBytes;
      let filled = 0;
      while (filled < chunk.length) {
        const { bytesRead } = await handle.read(
          chunk,
          filled,
          chunk.length - filled,
          position + filled,
        );
        if (bytesRead === 0) {
          throw new Error(
            `IDX file '${path}' ended early at byte ${position + filled}; ` +
              'was it changed while being read?',
          );
        }
        filled += bytesRead;
      }
      for (let r = 0; r < records; r++)
        yield chunk.subarray(r * recordBytes, (r + 1) * recordBytes);
      done += records;
    }
  } finally {
    await handle.close();
  }
}

/** Passes chunks through, adding the file's name to a decompression error. */
async function* named(path: string, chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } catch (error) {
    throw new Error(`gzip file '${path}' cannot be decompressed: ${(error as Error).message}`);
  }
}

async function* gzipRecords(
  path: string,
  first: number,
  count: number,
  recordBytes: number,
  chunkBytes: number,
): AsyncGenerator<Uint8Array> {
  let skip = first;
  let produced = 0;
  let partial: Uint8Array | undefined;
  let partialFilled = 0;
  if (count === 0) return;

  for await (const buffer of named(path, gunzipStream(path, chunkBytes))) {
    const chunk = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
    let offset = Math.min(skip, chunk.length);
    skip -= offset;

    while (offset < chunk.length && produced < count) {
      if (partial === undefined && chunk.length - offset >= recordBytes) {
        yield chunk.subarray(offset, offset + recordBytes);
        offset += recordBytes;
        produced++;
        continue;
      }
      // The record straddles two chunks: assemble it in its own buffer.
      partial ??= new Uint8Array(recordBytes);
      const take = Math.min(recordBytes - partialFilled, chunk.length - offset);
      partial.set(chunk.subarray(offset, offset + take), partialFilled);
      partialFilled += take;
      offset += take;
      if (partialFilled === recordBytes) {
        yield partial;
        partial = undefined;
        partialFilled = 0;
        produced++;
      }
    }
    if (produced === count) return;
  }

  if (produced < count) {
    throw new Error(
      `IDX file '${path}' ended after ${produced} of ${count} records; ` +
        'was it changed while being read?',
    );
  }
}

/**
 * Streams records `[start, end)` of a checked IDX file, each `recordBytes` long, reading about
 * `chunkBytes` at a time. A record is a view into the chunk it was read with, never into the
 * whole file, so memory stays near one chunk whatever the file's size. For gzip files the
 * records before `start` are decompressed and skipped.
 *
 * @example
 * ```ts
 * for await (const record of streamIdxRecords(info, 784, 0, 10)) use(record); // 784 bytes each
 * ```
 */
export function streamIdxRecords(
  info: IdxFileInfo,
  recordBytes: number,
  start: number,
  end: number,
  chunkBytes = defaultChunkBytes,
): AsyncGenerator<Uint8Array> {
  const first = info.header.headerBytes + start * recordBytes;
  const read = info.gzip ? gzipRecords : plainRecords;
  return read(info.path, first, end - start, recordBytes, chunkBytes);
}
