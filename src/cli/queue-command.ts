/**
 * The queue commands of `ortlab`: `submit`, `worker` and `status`. Loaded only when one of them
 * runs, so that other commands do not load BullMQ.
 */
import type { Output } from './commands.js';
import type { QueueValues } from './queue-options.js';
import type { Runners } from './runners.js';
import { statusCommand } from './status-command.js';
import { submitCommand } from './submit-command.js';
import { workerCommand } from './worker-command.js';

/**
 * Runs `ortlab submit|worker|status`. `dispatch` parses and runs a command of the command line
 * with the given runners (what `submit` queues).
 */
export async function queueCommand(
  command: 'submit' | 'worker' | 'status',
  rest: string[],
  values: QueueValues & { json?: boolean; out?: string; checkpoint?: string; shard?: string },
  io: Output,
  dispatch: (runners: Runners) => Promise<void>,
): Promise<void> {
  if (command === 'submit') return submitCommand(rest, values, io, dispatch);
  if (command === 'status') return statusCommand(rest, values, io);
  if (rest.length > 0) throw new Error(`'ortlab worker' takes no arguments, got '${rest[0]}'`);
  return workerCommand(values, io);
}
