/**
 * The body of a preprocessing worker thread (see pool-node.ts). It receives whole batches:
 * every worker gets the same list of sources and claims images one at a time from a shared
 * counter, so the fastest worker takes the most and the main thread only dispatches. Each image
 * is decoded, resampled and normalized by the same `preprocessInto` as the inline path, straight
 * into the batch's shared buffer; only the failures travel back, as plain data.
 */
import { parentPort } from 'node:worker_threads';

import { preprocessInto } from './image-node.js';
import {
  describeFailure,
  type PoolReply,
  type PoolRequest,
  type RemoteFailure,
} from './pool-thread.js';

async function runBatch(request: PoolRequest): Promise<PoolReply> {
  const { sources, offsets, preset, out, claim, maxPixels } = request;
  const failures: RemoteFailure[] = [];
  let processed = 0;
  // Several images in flight: one resamples on this thread while sharp decodes the next on
  // libuv's pool.
  const lane = async (): Promise<void> => {
    for (let i = Atomics.add(claim, 0, 1); i < sources.length; i = Atomics.add(claim, 0, 1)) {
      try {
        await preprocessInto(sources[i], preset, out, offsets[i], { maxPixels });
      } catch (error) {
        failures.push(describeFailure(i, error));
      }
      processed++;
    }
  };
  await Promise.all(Array.from({ length: request.lanes }, lane));
  return { type: 'done', id: request.id, failures, processed };
}

const port = parentPort;
if (port === null) throw new Error('pool-worker.ts runs only as a worker thread of pool-node.ts');
port.on('message', (request: PoolRequest) => {
  runBatch(request).then(
    (reply) => port.postMessage(reply),
    (error: unknown) =>
      port.postMessage({ ...describeFailure(-1, error), type: 'crash', id: request.id }),
  );
});
port.postMessage({ type: 'ready' } satisfies PoolReply);
