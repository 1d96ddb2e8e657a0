/**
 * The best gallery items of each query by cosine similarity, through ONNX Runtime's Gemm and
 * TopK in chunks of queries: no JavaScript sort over the gallery.
 */
import { Session, type SessionOptions } from '../runtime/session.js';
import { topKGraph } from './graphs.js';
import { normalizeRows } from './normalize.js';

/** Options of {@link topMatches}. */
export interface TopMatchesOptions {
  /** Embedding width of both inputs (row major `[count, dim]`). */
  dim: number;
  /** Matches per query (default 5; a smaller gallery gives all of its items). */
  k?: number;
  /** Queries per run (default: a run's scores stay near 64 MB). */
  chunkSize?: number;
  session?: SessionOptions;
}

/** What {@link topMatches} returns: `[queries, k]` row major, best first. */
export interface TopMatches {
  k: number;
  /** Cosine similarities, descending along each row. */
  scores: Float32Array;
  /** Gallery rows. */
  indices: Int32Array;
}

/**
 * The `k` gallery items most similar to each query. Both sides are L2-normalized first.
 * Cost: one `[chunk, dim] x [dim, gallery]` Gemm and a TopK per chunk of queries.
 *
 * @throws RangeError for no query, an empty gallery, rows of another width or NaN rows.
 * @example
 * ```ts
 * const best = await topMatches(queryEmb, imageEmb, { dim: 256, k: 5 });
 * best.indices[0]; // the gallery row nearest to the first query
 * ```
 */
export async function topMatches(
  queries: Float32Array,
  gallery: Float32Array,
  options: TopMatchesOptions,
): Promise<TopMatches> {
  const { dim } = options;
  const q = normalizeRows(queries, dim, 'query embeddings');
  const g = normalizeRows(gallery, dim, 'gallery embeddings');
  const nQueries = q.length / dim;
  const nGallery = g.length / dim;
  if (nQueries === 0) throw new RangeError('no query to match: give at least one query');
  if (nGallery === 0) throw new RangeError('the gallery is empty: nothing to match against');
  const want = options.k ?? 5;
  if (!(Number.isInteger(want) && want >= 1)) {
    throw new RangeError(`k must be a positive integer, got ${String(want)}`);
  }
  const k = Math.min(want, nGallery);
  const chunk =
    options.chunkSize ?? Math.max(1, Math.min(nQueries, Math.floor((64 << 20) / (4 * nGallery))));

  const scores = new Float32Array(nQueries * k);
  const indices = new Int32Array(nQueries * k);
  const session = await Session.create(topKGraph(), options.session);
  try {
    for (let start = 0; start < nQueries; start += chunk) {
      const rows = Math.min(chunk, nQueries - start);
      const out = await session.run({
        queries: {
          type: 'float32',
          dims: [rows, dim],
          data: q.subarray(start * dim, (start + rows) * dim),
        },
        gallery: { type: 'float32', dims: [nGallery, dim], data: g },
        k: { type: 'int64', dims: [1], data: BigInt64Array.of(BigInt(k)) },
      });
      scores.set(out.scores.data as Float32Array, start * k);
      const found = out.indices.data as BigInt64Array;
      for (let i = 0; i < found.length; i++) indices[start * k + i] = Number(found[i]);
    }
    return { k, scores, indices };
  } finally {
    await session.dispose();
  }
}
