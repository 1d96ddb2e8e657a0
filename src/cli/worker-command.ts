/**
 * `ortlab worker --queue URL`: runs shard and merge jobs until stopped. One line per job
 * started, finished, failed or recovered from a dead worker; SIGINT or SIGTERM finishes the jobs
 * in hand and stops (a second signal abandons them: they are retried elsewhere).
 */
import { checkRedis } from '../queue/connection.js';
import { parsePathMapping } from '../queue/path-map.js';
import { startWorker } from '../queue/worker.js';
import type { Output } from './commands.js';
import { queueNumber, queueTarget, type QueueValues } from './queue-options.js';

const clock = (): string => new Date().toISOString().slice(11, 19);

/** `ortlab worker`. Resolves when the worker has stopped. */
export async function workerCommand(values: QueueValues, io: Output): Promise<void> {
  const target = await queueTarget(values);
  await checkRedis(target);
  const idle = queueNumber('idle-release', values['idle-release'], { integer: false, min: 0 });
  const running = await startWorker(target, {
    roots: values.root,
    pathMap: values.map?.map(parsePathMapping),
    concurrency: queueNumber('concurrency', values.concurrency),
    lockDurationMs: queueNumber('lock-duration', values['lock-duration']),
    stalledIntervalMs: queueNumber('stalled-interval', values['stalled-interval']),
    idleReleaseMs: idle === undefined ? undefined : idle * 1000,
  });
  const { worker } = running;
  const started = new Map<string, number>();
  worker.on('active', (job) => {
    started.set(job.id ?? '', Date.now());
    io.out(`${clock()} started ${job.id}`);
  });
  worker.on('completed', (job) => {
    const seconds = (Date.now() - (started.get(job.id ?? '') ?? Date.now())) / 1000;
    io.out(`${clock()} done ${job.id} in ${seconds.toFixed(1)} s`);
  });
  worker.on('failed', (job, error) => {
    const tries = job ? ` (attempt ${job.attemptsMade} of ${job.opts.attempts ?? 1})` : '';
    io.out(`${clock()} failed ${job?.id ?? '?'}${tries}: ${error.message}`);
  });
  worker.on('stalled', (jobId) => {
    io.out(`${clock()} ${jobId} stalled (its worker stopped); queued again`);
  });
  io.out(
    `worker ${running.name} on ${target.url}, concurrency ${worker.opts.concurrency}, ` +
      `roots ${running.roots.join(', ')}` +
      running.pathMap.map((m) => `; ${m.from} mapped to ${m.to}`).join('') +
      '; waiting for jobs (Ctrl-C stops)',
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      io.out(`${clock()} ${signal}: finishing the jobs in hand; send it again to abandon them`);
      process.once(signal, () => void running.close(true));
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.close();
  io.out(`${clock()} worker stopped`);
}
