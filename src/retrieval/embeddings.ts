/**
 * What retrieval encoders produce: one L2-normalized embedding per item and, for multi-head
 * encoders, the attention maps; and the collector that assembles them from batch outputs.
 */
import type { Tensor } from '../runtime/tensor.js';
import { normalizeRows } from './normalize.js';

/** The encoder output holding the embeddings. */
export const EMBEDDING = 'embedding';
/** The encoder output holding the heads' attention maps. */
export const ATTENTION = 'attention';

/** Attention maps of every item: `data` is `[count, heads, positions]`, row major. */
export interface AttentionMaps {
  heads: number;
  /** Grid cells of an image (row major) or tokens of a text (padded to the longest text). */
  positions: number;
  data: Float32Array;
}

/** What {@link encodeImages} and {@link encodeTexts} return. */
export interface Embeddings {
  /** `[count, dim]`, every row of unit length. */
  embeddings: Float32Array;
  count: number;
  dim: number;
  /** Present when the encoder outputs `attention` `[batch, heads, positions]`. */
  attention?: AttentionMaps;
  /** Texts only: each text's token count, special tokens included (its real positions). */
  lengths?: Int32Array;
}

/**
 * Collects an encoder's batch outputs and checks their dims as they come: embeddings must be
 * `[batch, dim]` and finite, attention `[batch, heads, positions]`.
 */
export class EmbeddingCollector {
  private readonly rows: Float32Array[] = [];
  private readonly maps: { data: Float32Array; heads: number; positions: number }[] = [];
  private dim = 0;
  private heads = 0;

  /** `name` is the encoder in messages, `itemName(i)` the item (a file, a text). */
  constructor(
    private readonly name: string,
    private readonly itemName: (index: number) => string,
  ) {}

  /** Adds the outputs of the batch of items `start .. start + batch - 1`. */
  add(out: Record<string, Tensor>, start: number, batch: number): void {
    const embedding = out[EMBEDDING];
    const [rows, dim] = embedding.dims;
    if (embedding.dims.length !== 2 || rows !== batch || (this.dim !== 0 && dim !== this.dim)) {
      throw new RangeError(
        `${this.name} gave '${EMBEDDING}' of dims [${embedding.dims.join(', ')}] for a batch of ` +
          `${batch}; expected [${batch}, ${this.dim || 'dim'}]`,
      );
    }
    this.dim = dim;
    const data = embedding.data as Float32Array;
    for (let r = 0; r < rows; r++) {
      for (let k = r * dim; k < (r + 1) * dim; k++) {
        if (!Number.isFinite(data[k])) {
          throw new RangeError(
            `${this.name} gave NaN or an infinity in the embedding of ` +
              `${this.itemName(start + r)} ` +
              `(item ${start + r}); check the encoder's export and that input`,
          );
        }
      }
    }
    this.rows.push(data);
    const attention = out[ATTENTION];
    if (attention === undefined) return;
    const [aRows, heads, positions] = attention.dims;
    if (attention.dims.length !== 3 || aRows !== batch || (this.heads && heads !== this.heads)) {
      throw new RangeError(
        `${this.name} gave '${ATTENTION}' of dims [${attention.dims.join(', ')}] for a batch of ` +
          `${batch}; expected [${batch}, heads, positions]`,
      );
    }
    this.heads = heads;
    this.maps.push({ data: attention.data as Float32Array, heads, positions });
  }

  /** Every item's embedding, normalized (`what` names them in errors), and attention. */
  finish(count: number, what: string): Embeddings {
    const raw = new Float32Array(count * this.dim);
    let offset = 0;
    for (const part of this.rows) {
      raw.set(part, offset);
      offset += part.length;
    }
    const result: Embeddings = {
      embeddings: normalizeRows(raw, this.dim, what),
      count,
      dim: this.dim,
    };
    if (this.maps.length > 0) result.attention = this.joinMaps(count);
    return result;
  }

  /** One `[count, heads, positions]` array; shorter batches (texts) are padded with zeros. */
  private joinMaps(count: number): AttentionMaps {
    const heads = this.heads;
    const positions = Math.max(...this.maps.map((m) => m.positions));
    const data = new Float32Array(count * heads * positions);
    let row = 0;
    for (const map of this.maps) {
      const rows = map.data.length / (heads * map.positions);
      for (let r = 0; r < rows; r++, row++) {
        for (let h = 0; h < heads; h++) {
          const from = (r * heads + h) * map.positions;
          data.set(map.data.subarray(from, from + map.positions), (row * heads + h) * positions);
        }
      }
    }
    return { heads, positions, data };
  }
}
