/**
 * The results a merge job receives: one stored value per finished shard job. Each result names
 * its shard, and a shard counts once whatever was stored more than once.
 */
import { decodeResult } from './result-codec.js';

/**
 * Every shard's result once, in shard order (the first stored for a shard wins; a shard's
 * results are the same wherever it ran).
 * @param values Encoded results (see `encodeResult`) by job key, as BullMQ's
 *   `getChildrenValues()` returns them.
 * @throws Error naming the shards whose results are missing.
 */
export function collectShardResults<T extends { shard: number }>(
  values: Readonly<Record<string, unknown>>,
  shards: number,
): T[] {
  const byIndex = new Map<number, T>();
  for (const value of Object.values(values)) {
    const result = decodeResult<T>(value);
    if (!byIndex.has(result.shard)) byIndex.set(result.shard, result);
  }
  const missing = Array.from({ length: shards }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new Error(`the results of shards ${missing.join(', ')} of ${shards} are missing`);
  }
  return Array.from({ length: shards }, (_, i) => byIndex.get(i) as T);
}
