import { expect } from 'chai';
import path from 'node:path';

import { checkRedis } from '../../src/queue/connection.js';
import { parseRedisUrl } from '../../src/queue/redis-url.js';
import { ortlab } from '../helpers/ortlab-process.js';
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const TLS = path.resolve('test/fixtures/queue-tls');
const pem = (name: string): string => path.join(TLS, `${name}.pem`);

/** The error `checkRedis` throws for `url` (with TLS files), or '' when it connects. */
async function connectError(url: string, tls = {}): Promise<string> {
  try {
    await checkRedis(await parseRedisUrl(url, tls), { timeoutMs: 3000 });
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('connecting to the queue', function () {
  this.timeout(30_000);

  it('names the URL when nothing listens on the port, and says what to do', async () => {
    const port = await freePort();
    const message = await connectError(`redis://127.0.0.1:${port}`);
    expect(message).to.equal(
      `cannot reach Redis at redis://127.0.0.1:${port}: connection refused (nothing listens ` +
        'there); start redis-server or fix --queue',
    );
  });

  it('is a one-line error of the command (exit 1), not a queue that waits forever', async () => {
    const port = await freePort();
    const run = await ortlab(['status', '--queue', `redis://:hunter2@127.0.0.1:${port}`]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(run.stderr).not.to.contain('hunter2');
  });

  describe('a server with a password', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await startRedisServer({ password: 's3cret-pass' });
    });
    after(async () => redis?.stop());

    it('refuses a wrong password with a message that leaves the password out', async () => {
      const url = `redis://:wrong-pass@127.0.0.1:${redis.port}`;
      const message = await connectError(url);
      expect(message).to.match(
        new RegExp(
          `^Redis at redis://127\\.0\\.0\\.1:${redis.port} refused the user name or password`,
        ),
      );
      expect(message).not.to.contain('wrong-pass');
      expect(message).not.to.contain('s3cret-pass');
    });

    it('says a password is needed when none is given', async () => {
      const message = await connectError(`redis://127.0.0.1:${redis.port}`);
      expect(message).to.equal(
        `Redis at redis://127.0.0.1:${redis.port} needs a password: give it in the URL as ` +
          'redis://:PASSWORD@host:port',
      );
    });

    it('connects with the right password, from the URL or from ORTLAB_QUEUE', async () => {
      expect(await connectError(redis.url)).to.equal('');
      const run = await ortlab(['status'], { ...process.env, ORTLAB_QUEUE: redis.url });
      expect(run.stderr).to.equal('');
      expect(run.stdout.trim()).to.equal(`no submissions on redis://127.0.0.1:${redis.port}`);
    });
  });

  describe('a server that speaks TLS only', () => {
    let redis: RedisServer;
    let mutual: RedisServer;
    before(async () => {
      const files = { cert: pem('server'), key: pem('server-key'), ca: pem('ca') };
      redis = await startRedisServer({ tls: files });
      mutual = await startRedisServer({ tls: { ...files, requireClients: true } });
    });
    after(async () => {
      await redis?.stop();
      await mutual?.stop();
    });

    it('connects over rediss:// when given the certificate authority', async () => {
      expect(await connectError(redis.url, { ca: pem('ca') })).to.equal('');
    });

    it('explains a certificate it cannot check and names --tls-ca', async () => {
      const message = await connectError(redis.url);
      expect(message).to.match(
        /^TLS with Redis at rediss:\/\/127\.0\.0\.1:\d+ failed: .*certificate/,
      );
      expect(message).to.contain('--tls-ca');
    });

    it('presents a client certificate from --tls-cert and --tls-key when asked', async () => {
      const withClient = { ca: pem('ca'), cert: pem('client'), key: pem('client-key') };
      expect(await connectError(mutual.url, withClient)).to.equal('');
      // The server either sends TLS's 'certificate required' alert or just hangs up.
      expect(await connectError(mutual.url, { ca: pem('ca') })).to.match(
        new RegExp(
          '^Redis at rediss://127\\.0\\.0\\.1:\\d+ ' +
            '(asks for a client certificate|closed the TLS connection) ' +
            '.*pass --tls-cert and --tls-key$',
        ),
      );
    });

    it('says to use rediss:// when redis:// reaches a TLS port', async () => {
      const message = await connectError(`redis://127.0.0.1:${redis.port}`);
      expect(message).to.match(
        new RegExp(
          '^Redis at redis://127\\.0\\.0\\.1:\\d+ closed the connection .*; ' +
            'if it speaks TLS, use rediss://$',
        ),
      );
    });
  });
});
