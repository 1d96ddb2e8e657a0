/**
 * The options of `ortlab submit`, `ortlab worker` and `ortlab status`, their usage text, and the
 * queue's Redis target from `--queue` (or `ORTLAB_QUEUE`) and the TLS files. Kept apart from
 * the commands so that the command line parses them without loading BullMQ.
 */
import type { RedisTarget } from '../queue/redis-url.js';

/** Options for `parseArgs`, merged into the command line's own. */
export const QUEUE_OPTIONS = {
  queue: { type: 'string' },
  shards: { type: 'string' },
  attempts: { type: 'string' },
  detach: { type: 'boolean' },
  remove: { type: 'boolean' },
  concurrency: { type: 'string' },
  root: { type: 'string', multiple: true },
  map: { type: 'string', multiple: true },
  'lock-duration': { type: 'string' },
  'stalled-interval': { type: 'string' },
  'idle-release': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

/** The values of those options, as `parseArgs` returns them. */
export interface QueueValues {
  queue?: string;
  shards?: string;
  attempts?: string;
  detach?: boolean;
  remove?: boolean;
  concurrency?: string;
  root?: string[];
  map?: string[];
  'lock-duration'?: string;
  'stalled-interval'?: string;
  'idle-release'?: string;
  'tls-ca'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
}

/** Usage lines of the queue commands. */
export const QUEUE_USAGE =
  '  ortlab submit (eval|robustness|search rank|retrieval eval) <its arguments> --queue URL\n' +
  `              --shards N [--attempts 3] [--detach]
  ortlab worker --queue URL [--root DIR]... [--map FROM=TO]... [--concurrency 1]
              [--lock-duration 30000] [--stalled-interval 30000] [--idle-release 60]
  ortlab status --queue URL [<submission> [--out DIR | --remove]] [--json]`;

/** What the usage says about them. */
export const QUEUE_HELP =
  'submit cuts a run into --shards jobs on a BullMQ queue in Redis; workers run them and merge\n' +
  `the results into the report of one run. --queue (or ORTLAB_QUEUE, which keeps a password off
the command line) is redis://[:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS with --tls-ca FILE
(and --tls-cert FILE --tls-key FILE if the server checks clients). A worker reads models and
data only inside its --root folders (default the current one). Jobs name files by the
submitter's absolute paths; --map FROM=TO gives where this worker sees the submitter's folder
FROM (its files must be the same: jobs carry their hashes and listings).`;

/** The environment variable that gives the queue when `--queue` does not. */
export const QUEUE_VARIABLE = 'ORTLAB_QUEUE';

/**
 * Parses a count or duration option.
 * @throws RangeError naming the option and the value.
 */
export function queueNumber(
  name: string,
  value: string | undefined,
  options: { integer?: boolean; min?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const min = options.min ?? 1;
  if (!(Number.isFinite(n) && n >= min) || (options.integer !== false && !Number.isInteger(n))) {
    const kind = options.integer === false ? 'a number' : 'an integer';
    throw new RangeError(`--${name} takes ${kind} >= ${min}, got '${value}'`);
  }
  return n;
}

/**
 * The Redis target of `--queue` or `ORTLAB_QUEUE`, with the TLS files.
 * @throws Error when neither gives a queue, or for a URL or TLS file that does not fit.
 */
export async function queueTarget(
  values: QueueValues,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RedisTarget> {
  const url = values.queue ?? env[QUEUE_VARIABLE];
  if (!url) {
    throw new Error(
      `give the queue: --queue redis://HOST:PORT (or set ${QUEUE_VARIABLE}); ` +
        'start one with redis-server (Debian: apt-get install -y redis-server)',
    );
  }
  const { parseRedisUrl } = await import('../queue/redis-url.js');
  return parseRedisUrl(url, {
    ca: values['tls-ca'],
    cert: values['tls-cert'],
    key: values['tls-key'],
  });
}
