/**
 * Checks that the queue's Redis answers before any work is queued or taken: BullMQ retries a
 * dead connection forever, so a wrong host, port, password or certificate would otherwise look
 * like a queue with nothing to do.
 */
import { Redis } from 'ioredis';

import type { RedisTarget } from './redis-url.js';

/** Options of `checkRedis`. */
export interface CheckRedisOptions {
  /** Milliseconds to wait for the connection (default 5000). */
  timeoutMs?: number;
}

/**
 * What went wrong, in words, with the fix. `cause` is the last error the client reported.
 * The password never appears: `target.url` has none, and Redis does not echo it.
 */
export function describeRedisError(target: RedisTarget, cause: Error | undefined): string {
  // OpenSSL's messages run over several lines; an error message is one.
  const reason = (cause?.message ?? 'the connection closed').replace(/\s+/g, ' ').trim();
  const code = cause && 'code' in cause ? String(cause.code) : undefined;
  const at = `Redis at ${target.url}`;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(reason)) {
    return (
      `${at} refused the user name or password; ` +
      'check the password in the URL (redis://:PASSWORD@host:port)'
    );
  }
  if (/NOAUTH/i.test(reason)) {
    return `${at} needs a password: give it in the URL as redis://:PASSWORD@host:port`;
  }
  if (code === 'ECONNREFUSED') {
    return (
      `cannot reach ${at}: connection refused (nothing listens there); ` +
      'start redis-server or fix --queue'
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cannot reach ${at}: the host name does not resolve; fix --queue`;
  }
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(reason)) {
    return (
      `cannot reach ${at}: no answer in time (a firewall, a wrong port, ` +
      'or a TLS server spoken to without rediss://); fix --queue'
    );
  }
  if (/certificate required|alert number 116/i.test(reason)) {
    return `${at} asks for a client certificate (${reason}); pass --tls-cert and --tls-key`;
  }
  if (/certificate|self[- ]signed|SSL|TLS|EPROTO|handshake/i.test(`${reason} ${code ?? ''}`)) {
    return (
      `TLS with ${at} failed: ${reason}; pass the server's certificate authority with --tls-ca ` +
      '(and --tls-cert/--tls-key if it checks clients)'
    );
  }
  if (code === 'ECONNRESET') {
    return target.options.tls === undefined
      ? `${at} closed the connection (${reason}); if it speaks TLS, use rediss://`
      : `${at} closed the TLS connection (${reason}); ` +
          'if it checks clients, pass --tls-cert and --tls-key';
  }
  return `cannot use ${at}: ${reason}`;
}

/**
 * Connects once, without retries, and sends PING.
 * @throws Error from `describeRedisError` when the server cannot be reached or refuses us.
 */
export async function checkRedis(
  target: RedisTarget,
  options: CheckRedisOptions = {},
): Promise<void> {
  const client = new Redis({
    ...target.options,
    lazyConnect: true,
    connectTimeout: options.timeoutMs ?? 5000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let last: Error | undefined;
  client.on('error', (error: Error) => {
    last = error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(describeRedisError(target, last ?? (error as Error)));
  } finally {
    client.disconnect();
  }
}
