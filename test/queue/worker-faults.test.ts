import { expect } from 'chai';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { parseRedisUrl } from '../../src/queue/redis-url.js';
import {
  listSubmissions,
  openQueue,
  submissionStatus,
  type ShardStatus,
} from '../../src/queue/status.js';
import {
  ortlab,
  startWorkerProcess,
  waitFor,
  type Finished,
  type WorkerProcess,
} from '../helpers/ortlab-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');
const SUITE = path.resolve('data/suite/suite.json');
// Short locks so that a dead worker's shard is taken over within a second or two.
const FAST_RECOVERY = ['--lock-duration', '1000', '--stalled-interval', '500', '--root', '.'];

interface Report {
  splits: unknown[];
  ood: unknown[];
  config: Record<string, unknown>;
}

describe('ortlab submit: workers that die or stall mid-shard', function () {
  let redis: RedisServer;
  let dir: string;
  let single: Report;
  const workers: WorkerProcess[] = [];
  const base = ['robustness', MODEL, '--config', SUITE, '--batch', '64', '--no-progress'];

  before(async function () {
    this.timeout(60_000);
    redis = await startRedisServer();
    dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-queue-'));
    const run = await ortlab([...base, '--json', '--out', path.join(dir, 'single')]);
    expect(run.code, run.stderr).to.equal(0);
    single = JSON.parse(run.stdout) as Report;
  });

  after(async () => {
    for (const w of workers) {
      w.child.kill('SIGCONT');
      await w.stop('SIGKILL');
    }
    await redis?.stop();
  });

  /** Submits the embedded suite in 6 shards; resolves when `ortlab submit` exits. */
  function submit(out: string): Promise<Finished> {
    const args = ['submit', ...base, '--queue', redis.url, '--shards', '6', '--json'];
    return ortlab([...args, '--out', out]);
  }

  /**
   * The shard `worker` is in the middle of (it has reported progress on the first split, so
   * most of the shard is still to do), once there is one.
   */
  async function shardInProgress(worker: string): Promise<{ submission: string; shard: number }> {
    const queue = openQueue(await parseRedisUrl(redis.url));
    try {
      return await waitFor(`a shard in progress on ${worker}`, async () => {
        for (const s of await listSubmissions(queue)) {
          if (s.state === 'done') continue;
          const busy = s.shardStates.find(
            (x) =>
              x.state === 'active' &&
              x.worker === worker &&
              x.progress?.task === 'clean' &&
              (x.progress.done ?? 0) > 0,
          );
          if (busy) return { submission: s.submission, shard: busy.index };
        }
        return undefined;
      });
    } finally {
      await queue.close();
    }
  }

  async function shardState(submission: string, shard: number): Promise<ShardStatus> {
    const queue = openQueue(await parseRedisUrl(redis.url));
    try {
      const status = await submissionStatus(queue, submission);
      return status!.shardStates[shard];
    } finally {
      await queue.close();
    }
  }

  it('loses nothing to a SIGKILLed worker: the merged report equals one run', async function () {
    this.timeout(60_000);
    const [a, b] = [
      startWorkerProcess(redis.url, FAST_RECOVERY),
      startWorkerProcess(redis.url, FAST_RECOVERY),
    ];
    workers.push(a, b);
    const killed = await a.name();
    await b.name();
    const out = path.join(dir, 'killed');
    const finished = submit(out);

    const victim = await shardInProgress(killed);
    a.child.kill('SIGKILL');
    expect(await a.exited).to.equal('SIGKILL');

    const result = await finished;
    expect(result.code, result.stderr).to.equal(0);
    const merged = JSON.parse(result.stdout) as Report;
    expect(merged.splits).to.deep.equal(single.splits);
    expect(merged.ood).to.deep.equal(single.ood);
    const written = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as Report;
    expect(written.splits).to.deep.equal(merged.splits);
    expect(merged.config.queue).to.include({ submission: victim.submission, shards: 6 });

    // The killed shard was started again elsewhere and finished there, once.
    const shard = await shardState(victim.submission, victim.shard);
    expect(shard.state).to.equal('completed');
    expect(shard.attemptsStarted).to.be.at.least(2);
    expect(shard.worker).to.equal(await b.name());
    expect(b.output()).to.match(/stalled \(its worker stopped\); queued again/);
    await b.stop();
  });

  it('a paused worker finishing after losing its lock: the shard counts once', async function () {
    this.timeout(60_000);
    const [a, b] = [
      startWorkerProcess(redis.url, FAST_RECOVERY),
      startWorkerProcess(redis.url, FAST_RECOVERY),
    ];
    workers.push(a, b);
    const paused = await a.name();
    await b.name();
    const out = path.join(dir, 'paused');
    const finished = submit(out);

    const victim = await shardInProgress(paused);
    // Stopped, the worker renews no lock; its sandboxed process finishes the shard meanwhile.
    a.child.kill('SIGSTOP');
    const result = await finished;
    expect(result.code, result.stderr).to.equal(0);
    const merged = JSON.parse(result.stdout) as Report;
    expect(merged.splits).to.deep.equal(single.splits);
    expect(merged.ood).to.deep.equal(single.ood);

    // Resumed, the worker delivers its own result of the same shard: refused, not counted.
    a.child.kill('SIGCONT');
    await waitFor('the paused worker to report its late result', () =>
      Promise.resolve(/Missing lock for job \S+ moveToFinished/.test(a.output()) || undefined),
    );
    const shard = await shardState(victim.submission, victim.shard);
    expect(shard.state).to.equal('completed');
    expect(shard.attemptsStarted).to.equal(2);
    const again = await ortlab([
      'status',
      '--queue',
      redis.url,
      victim.submission,
      '--json',
      '--out',
      path.join(dir, 'again'),
    ]);
    expect(again.code, again.stderr).to.equal(0);
    const refetched = JSON.parse(again.stdout) as Report;
    expect(refetched).to.deep.equal(JSON.parse(result.stdout));
    await Promise.all([a.stop(), b.stop()]);
  });
});
