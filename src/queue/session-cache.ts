/**
 * Sessions kept open between the shards a worker process runs, released after a while without
 * use. Every shard names the sha256 of the model it was submitted with; a worker whose file
 * differs (another version, a copy half written) refuses the shard rather than mix results.
 */
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';

import { scoringSessionOptions } from '../eval/score-split.js';
import { log } from '../runtime/logger.js';
import { sha256 } from '../runtime/run-config.js';
import { Session } from '../runtime/session.js';

/** Options of a `SessionCache`. */
export interface SessionCacheOptions {
  /** Milliseconds a session stays open without use before it is released (default 60000). */
  idleMs?: number;
}

/** Options of the session a shard needs. */
export interface CachedSessionOptions {
  /** Execution providers, as `--ep` takes them (default cpu). */
  ep?: string;
  threads?: number;
}

interface Entry {
  key: string;
  file: string;
  session: Session;
  users: number;
  timer?: NodeJS.Timeout;
}

/** Open sessions of one worker process, by model hash and session options. */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  /** Hash of each file read, with the file's size, time and inode when it was read. */
  private readonly hashes = new Map<string, { stamp: string; sha256: string }>();
  private readonly idleMs: number;

  constructor(options: SessionCacheOptions = {}) {
    this.idleMs = options.idleMs ?? 60_000;
    if (!(this.idleMs >= 0)) throw new RangeError(`idleMs must be >= 0, got ${this.idleMs}`);
  }

  /** Sessions open now. */
  get size(): number {
    return this.entries.size;
  }

  private async stamp(file: string): Promise<string> {
    const info = await stat(file).catch(() => {
      throw new Error(`model '${file}' not found on this worker (${os.hostname()})`);
    });
    return `${info.size}:${info.mtimeMs}:${info.ino}`;
  }

  private refuse(file: string, found: string, expected: string): never {
    throw new Error(
      `model '${file}' on this worker (${os.hostname()}) has sha256 ${found}, but the shard was ` +
        `submitted for ${expected}: the worker sees a different file, so it refuses the shard. ` +
        'Give every worker the same model file.',
    );
  }

  /**
   * A session on `file`, whose contents must hash to `expectedSha256`: a cached one when the
   * file has not changed since it was hashed, else a new one on the bytes just read and hashed.
   * Hand it back with `release` when the shard is done.
   * @throws Error naming the file and both hashes when the file differs.
   */
  async acquire(
    file: string,
    expectedSha256: string,
    options: CachedSessionOptions = {},
  ): Promise<Session> {
    const stamp = await this.stamp(file);
    const known = this.hashes.get(file);
    const key = `${expectedSha256}|${options.ep ?? ''}|${options.threads ?? ''}`;
    const cached = this.entries.get(key);
    if (known?.stamp === stamp && cached) {
      if (known.sha256 !== expectedSha256) this.refuse(file, known.sha256, expectedSha256);
      clearTimeout(cached.timer);
      cached.timer = undefined;
      cached.users++;
      return cached.session;
    }
    const bytes = new Uint8Array(await readFile(file));
    const found = sha256(bytes);
    this.hashes.set(file, { stamp, sha256: found });
    if (found !== expectedSha256) this.refuse(file, found, expectedSha256);
    if (cached) {
      cached.users++;
      clearTimeout(cached.timer);
      cached.timer = undefined;
      return cached.session;
    }
    const session = await Session.create(
      bytes,
      scoringSessionOptions({ executionProviders: options.ep, threads: options.threads }),
    ).catch((error: Error) => {
      throw new Error(`model '${file}' does not load: ${error.message}`);
    });
    this.entries.set(key, { key, file, session, users: 1 });
    log.info('queue', () => `opened a session on ${file} (${session.executionProvider})`);
    return session;
  }

  /** Hands a session back; once no shard uses it, it is released after the idle time. */
  release(session: Session): void {
    const entry = [...this.entries.values()].find((e) => e.session === session);
    if (!entry) return;
    entry.users = Math.max(0, entry.users - 1);
    if (entry.users > 0) return;
    entry.timer = setTimeout(() => void this.drop(entry), this.idleMs);
    entry.timer.unref();
  }

  private async drop(entry: Entry): Promise<void> {
    if (this.entries.get(entry.key) !== entry || entry.users > 0) return;
    this.entries.delete(entry.key);
    await entry.session.dispose();
    log.info('queue', () => `released the session on ${entry.file} after ${this.idleMs} ms idle`);
  }

  /** Releases every session now. Safe to call twice. */
  async dispose(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) {
      clearTimeout(entry.timer);
      await entry.session.dispose();
    }
  }
}
