/**
 * A private redis-server for a test (or a benchmark): Debian's binary started on a free loopback
 * port in a temporary folder, with nothing saved to disk, killed afterwards. Never a shared
 * system Redis. Without redis-server the tests fail and say how to install it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A running redis-server. */
export interface RedisServer {
  port: number;
  /** `redis://[:password@]127.0.0.1:port` (or `rediss://` with TLS). */
  url: string;
  /** Stops it and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of `startRedisServer`. */
export interface RedisServerOptions {
  /** Require this password (`--requirepass`). */
  password?: string;
  /** Speak only TLS, with these PEM files; `clientCa` makes it require client certificates. */
  tls?: { cert: string; key: string; ca: string; requireClients?: boolean };
}

const INSTALL = 'apt-get install -y redis-server';

/** Fails with the install command when Debian's redis-server is not on the PATH. */
export function requireRedisServer(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `redis-server is not installed: the queue tests start their own Redis on a free loopback ` +
        `port; install Debian's with '${INSTALL}'`,
    );
  }
}

/** A loopback port nothing listens on (now). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function waitReady(child: ChildProcess, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${log()}`)),
      10_000,
    );
    child.stdout?.on('data', () => {
      if (log().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${log()}`));
    });
  });
}

/** Starts a redis-server for one test file. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  requireRedisServer();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-redis-'));
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (options.password) args.push('--requirepass', options.password);
  if (options.tls) {
    const { cert, key, ca, requireClients } = options.tls;
    args.push('--port', '0', '--tls-port', String(port));
    args.push('--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', ca);
    args.push('--tls-auth-clients', requireClients ? 'yes' : 'no');
  } else {
    args.push('--port', String(port));
  }
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitReady(child, () => output);
  const auth = options.password ? `:${options.password}@` : '';
  const scheme = options.tls ? 'rediss' : 'redis';
  let stopped = false;
  return {
    port,
    url: `${scheme}://${auth}127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
