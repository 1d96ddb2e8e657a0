/**
 * Preprocessing on the calling thread, what a pool of no workers does: sharp decodes every
 * image of a batch on libuv's pool at once, while the calling thread waits for an ONNX Runtime
 * run, as far as a budget on their decoded bytes allows.
 */
import type { ImageSource } from '../datasets/types.js';
import { imageVolume } from './batch.js';
import type { ByteBudget } from './byte-budget.js';
import { decodedBytesEstimate } from './image-header.js';
import { preprocessFileBytes, preprocessInto, readImageFile } from './image-node.js';
import type { ResolvedPreset } from './presets.js';

/** What became of one image: written, or the error the inline `preprocessInto` would throw. */
export type ImageOutcome = PromiseSettledResult<void>;

/**
 * The pool's work on the calling thread (`workers: 0`): every image of the batch in flight at
 * once, as far as `budget` allows their decoded bytes; failures again one at a time.
 */
export async function preprocessInline(
  sources: readonly ImageSource[],
  preset: ResolvedPreset,
  out: Float32Array,
  offset: number,
  maxPixels: number | undefined,
  budget: ByteBudget,
): Promise<ImageOutcome[]> {
  const volume = imageVolume(preset);
  const once = (i: number): Promise<void> =>
    preprocessInto(sources[i], preset, out, offset + i * volume, { maxPixels });
  const running: Promise<ImageOutcome>[] = [];
  for (const [i, source] of sources.entries()) {
    let run = (): Promise<void> => once(i);
    let cost = 0;
    if (source.kind === 'file') {
      // Read once, here: the header gives the cost, the bytes go to the decoder.
      let bytes: Buffer;
      try {
        bytes = readImageFile(source.path);
      } catch (reason) {
        running.push(Promise.resolve({ status: 'rejected', reason }));
        continue;
      }
      cost = decodedBytesEstimate(bytes);
      const at = offset + i * volume;
      run = () => preprocessFileBytes(source.path, bytes, preset, out, at, { maxPixels });
    }
    await budget.acquire(cost);
    const settled = run().then(
      (value): ImageOutcome => ({ status: 'fulfilled', value }),
      (reason: unknown): ImageOutcome => ({ status: 'rejected', reason }),
    );
    running.push(settled.finally(() => budget.release(cost)));
  }
  const outcomes = await Promise.all(running);
  for (let i = 0; i < outcomes.length; i++) {
    if (outcomes[i].status === 'rejected') [outcomes[i]] = await Promise.allSettled([once(i)]);
  }
  return outcomes;
}
