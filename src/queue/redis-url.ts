/**
 * Where the job queue lives: a `redis://` or `rediss://` (TLS) URL, with an optional user,
 * password and database number, turned into connection options. Messages name the URL without
 * its password.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { RedisOptions } from 'bullmq';

/** TLS files for a `rediss://` URL, all PEM. */
export interface TlsFiles {
  /** Certificate authority that signed the server's certificate (default: the system's). */
  ca?: string;
  /** Client certificate, when the server asks for one (`tls-auth-clients`). */
  cert?: string;
  /** Private key of the client certificate. */
  key?: string;
}

/** A Redis server to connect to. */
export interface RedisTarget {
  /** The URL as the user may see it: the password left out. */
  url: string;
  /** Connection options for BullMQ (and ioredis, which it drives). */
  options: RedisOptions;
}

/**
 * The URL with its password left out, for messages: `redis://:secret@host:6379/2` becomes
 * `redis://host:6379/2`, `redis://user:secret@host` becomes `redis://user@host`. From a value
 * that is not a URL, everything up to its last `@` is left out, since it may hold a password.
 */
export function redactRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/^([a-z]+:\/\/)?.*@/i, '$1');
  }
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}

async function readPem(file: string, option: string): Promise<Buffer> {
  return readFile(file).catch(() => {
    throw new Error(`${option} '${file}' not found or not readable; check the path`);
  });
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` or the same with `rediss://` (TLS).
 * Port 6379 and database 0 by default.
 * @throws TypeError for another scheme or a value that is not a URL; RangeError for a port or
 *   database out of range; Error for TLS files with `redis://` or a TLS file that cannot be read.
 * @example
 * ```ts
 * const target = await parseRedisUrl('redis://:secret@10.0.0.5:6380/1');
 * target.url;     // 'redis://10.0.0.5:6380/1'
 * target.options; // { host: '10.0.0.5', port: 6380, db: 1, password: 'secret' }
 * ```
 */
export async function parseRedisUrl(url: string, tls: TlsFiles = {}): Promise<RedisTarget> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `--queue takes a Redis URL such as redis://127.0.0.1:6379 or rediss://:PASSWORD@host:6380 ` +
        `(port 1 to 65535), got '${redactRedisUrl(url)}'`,
    );
  }
  const shown = redactRedisUrl(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(
      `--queue '${shown}' is not a Redis URL: use redis://host:port, or rediss:// for TLS`,
    );
  }
  if (!parsed.hostname) throw new TypeError(`--queue '${shown}' names no host`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new RangeError(`--queue '${shown}': port must be 1 to 65535`);
  }
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!/^\d*$/.test(dbText) || !(Number.isInteger(db) && db >= 0)) {
    throw new RangeError(
      `--queue '${shown}': the path is a database number (redis://host:port/2), got '/${dbText}'`,
    );
  }
  const options: RedisOptions = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const given = Object.entries(tls).filter(([, file]) => file !== undefined);
  if (parsed.protocol === 'redis:' && given.length > 0) {
    throw new Error(
      `--tls-${given[0][0]} is for TLS connections: write the URL as rediss://, got '${shown}'`,
    );
  }
  if (parsed.protocol === 'rediss:') {
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      throw new Error('--tls-cert and --tls-key go together: give both or neither');
    }
    options.tls = {
      // Certificates name hosts; Node refuses an IP address as the name to ask for.
      ...(isIP(options.host ?? '') ? {} : { servername: options.host }),
      ...(tls.ca ? { ca: await readPem(tls.ca, '--tls-ca') } : {}),
      ...(tls.cert ? { cert: await readPem(tls.cert, '--tls-cert') } : {}),
      ...(tls.key ? { key: await readPem(tls.key, '--tls-key') } : {}),
    };
  }
  return { url: shown, options };
}
