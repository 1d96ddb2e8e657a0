/**
 * The gallery embeddings `ortlab retrieval query` ranks against, kept on disk between queries:
 * a query then encodes one sentence or one image instead of the whole split. An entry is found
 * by a hash of everything the embeddings depend on (the encoder's bytes, the preprocessing or
 * tokenizer, each gallery file's size and modification time, the package versions), so a
 * changed model, image or caption makes a new entry rather than a stale answer.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { log } from '../runtime/logger.js';
import type { Embeddings } from './embeddings.js';

const MAGIC = 'ORTLABG1';
const HEADER = 16;

/**
 * Where the cache lives by default: `ORTLAB_CACHE_DIR`, else `$XDG_CACHE_HOME/ortlab`, else
 * `~/.cache/ortlab`; gallery entries go in its `retrieval/` folder.
 */
export function defaultCacheDir(): string {
  const own = process.env.ORTLAB_CACHE_DIR;
  if (own) return own;
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg ? xdg : path.join(os.homedir(), '.cache'), 'ortlab');
}

/** Size and modification time of each file, in order: what the key holds of the gallery. */
export async function fileStamps(files: readonly string[]): Promise<[string, number, number][]> {
  return Promise.all(
    files.map(async (file) => {
      const info = await stat(file);
      return [path.resolve(file), info.size, info.mtimeMs] as [string, number, number];
    }),
  );
}

/** Size and modification time of each file in a folder (a tokenizer's), by name. */
export async function folderStamps(folder: string): Promise<[string, number, number][]> {
  const names = (await readdir(folder)).sort();
  return fileStamps(names.map((name) => path.join(folder, name)));
}

/** The entry's name: a SHA-256 of `parts` as JSON. */
export function galleryKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function entryPath(dir: string, key: string): string {
  return path.join(dir, 'retrieval', `${key}.bin`);
}

/** The stored embeddings, or undefined when there are none or the file is not a whole entry. */
async function readEntry(dir: string, key: string): Promise<Embeddings | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(entryPath(dir, key));
  } catch {
    return undefined;
  }
  if (bytes.length < HEADER || bytes.toString('latin1', 0, 8) !== MAGIC) return undefined;
  const count = bytes.readUInt32LE(8);
  const dim = bytes.readUInt32LE(12);
  if (bytes.length !== HEADER + count * dim * 4 || count === 0 || dim === 0) return undefined;
  const embeddings = new Float32Array(count * dim);
  new Uint8Array(embeddings.buffer).set(bytes.subarray(HEADER));
  return { embeddings, count, dim };
}

/** Writes an entry through a temporary file, so that a reader never sees half of one. */
async function writeEntry(dir: string, key: string, value: Embeddings): Promise<void> {
  const file = entryPath(dir, key);
  await mkdir(path.dirname(file), { recursive: true });
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(value.count, 8);
  header.writeUInt32LE(value.dim, 12);
  const data = value.embeddings.subarray(0, value.count * value.dim);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, Buffer.concat([header, body]));
  await rename(temp, file);
}

/**
 * The embeddings stored under `parts` in `dir`, or `encode()`'s, which are then stored. `dir`
 * false encodes every time. A cache that cannot be written (a read-only home, a full disk) is
 * a warning, never a failed query.
 */
export async function cachedEmbeddings(
  dir: string | false,
  parts: unknown,
  encode: () => Promise<Embeddings>,
): Promise<{ value: Embeddings; cached: boolean }> {
  if (dir === false) return { value: await encode(), cached: false };
  const key = galleryKey(parts);
  const stored = await readEntry(dir, key);
  if (stored !== undefined) return { value: stored, cached: true };
  const value = await encode();
  try {
    await writeEntry(dir, key, value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.warning(
      'retrieval',
      `gallery embeddings not cached in '${dir}' (${reason}); set ORTLAB_CACHE_DIR to a ` +
        'writable folder, or pass --no-cache',
    );
  }
  return { value, cached: false };
}
