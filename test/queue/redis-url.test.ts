import { expect } from 'chai';
import path from 'node:path';

import { parseRedisUrl, redactRedisUrl } from '../../src/queue/redis-url.js';
import { queueTarget } from '../../src/cli/queue-options.js';

const CA = path.resolve('test/fixtures/queue-tls/ca.pem');

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('queue URLs', () => {
  it('reads host, port, database, user, password; shows the URL without the password', async () => {
    const target = await parseRedisUrl('redis://ops:p%40ss@10.1.2.3:6380/4');
    expect(target.options).to.deep.equal({
      host: '10.1.2.3',
      port: 6380,
      db: 4,
      username: 'ops',
      password: 'p@ss',
    });
    expect(target.url).to.equal('redis://ops@10.1.2.3:6380/4');
  });

  it('defaults to port 6379 and database 0', async () => {
    const target = await parseRedisUrl('redis://queue.internal');
    expect(target.options).to.deep.equal({ host: 'queue.internal', port: 6379, db: 0 });
    expect(target.url).to.equal('redis://queue.internal');
  });

  it('turns rediss:// into TLS options: CA file read, servername set for a DNS host', async () => {
    const target = await parseRedisUrl('rediss://:pw@redis.example:6390', { ca: CA });
    const tls = target.options.tls as { ca: Buffer; servername?: string };
    expect(tls.servername).to.equal('redis.example');
    expect(tls.ca.toString()).to.match(/^-----BEGIN CERTIFICATE-----/);
    expect((await parseRedisUrl('rediss://127.0.0.1:6390')).options.tls).to.deep.equal({});
  });

  it('redacts the password in every form, and all before the last @ of a non-URL value', () => {
    expect(redactRedisUrl('redis://:secret@h:1/2')).to.equal('redis://h:1/2');
    expect(redactRedisUrl('rediss://u:secret@h')).to.equal('rediss://u@h');
    expect(redactRedisUrl('secret@@::')).to.equal('::');
    expect(redactRedisUrl('redis://:secret@h:99999')).to.equal('redis://h:99999');
  });

  const bad: [string, string, RegExp, (Record<string, string> | undefined)?][] = [
    ['a host and port without a scheme', 'localhost:6379', /'localhost:6379' is not a Redis URL/],
    ['another scheme', 'http://:pw@h:8080', /'http:\/\/h:8080' is not a Redis URL: use redis:\/\//],
    ['a port out of range', 'redis://:pw@h:70000', /\(port 1 to 65535\), got 'redis:\/\/h:70000'/],
    ['a value that is no URL at all', ':pw@@', /takes a Redis URL such as redis:\/\/.*got ''/],
    ['a path that is not a database number', 'redis://h:1/queue', /database number .*'\/queue'/],
    [
      'TLS files with redis://',
      'redis://h:1',
      /--tls-ca is for TLS connections: write the URL as rediss:\/\//,
      { ca: CA },
    ],
    [
      'a certificate without its key',
      'rediss://h:1',
      /--tls-cert and --tls-key go together/,
      { cert: CA },
    ],
    [
      'a TLS file that does not exist',
      'rediss://h:1',
      /--tls-ca '\/nowhere\/ca.pem' not found/,
      { ca: '/nowhere/ca.pem' },
    ],
  ];
  for (const [what, url, message, tls] of bad) {
    it(`refuses ${what} with a message naming it`, async () => {
      const error = await failure(() => parseRedisUrl(url, tls));
      expect(error.message).to.match(message);
      expect(error.message).not.to.contain('pw');
    });
  }

  it('takes the queue from ORTLAB_QUEUE without --queue, and asks for one otherwise', async () => {
    const target = await queueTarget({}, { ORTLAB_QUEUE: 'redis://:pw@h:7000' });
    expect(target.options).to.include({ host: 'h', port: 7000, password: 'pw' });
    const given = await queueTarget(
      { queue: 'redis://k:7001' },
      { ORTLAB_QUEUE: 'redis://h:7000' },
    );
    expect(given.options).to.include({ host: 'k', port: 7001 });
    const error = await failure(() => queueTarget({}, {}));
    expect(error.message).to.match(
      /^give the queue: --queue redis:\/\/HOST:PORT \(or set ORTLAB_QUEUE\)/,
    );
  });
});
