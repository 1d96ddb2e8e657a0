/**
 * `ortlab retrieval query` from files (Node): a sentence retrieves the split's images, an image
 * retrieves its captions, by default with the shipped multi-head pair over the test emoji.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { resolvePreset } from '../runtime/preprocess/presets.js';
import { runConfig, sha256, type RunConfig } from '../runtime/run-config.js';
import { getBackend } from '../runtime/backend.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { loadTokenizer } from '../runtime/tokenizer.js';
import { EMOJI, imageSources, openRetrievalData } from './data-node.js';
import { checkEncoder, encodeImages, encodeTexts } from './encode.js';
import { cachedEmbeddings, defaultCacheDir, fileStamps, folderStamps } from './gallery-cache.js';
import { readPairManifest, type EncoderPair } from './manifest-node.js';
import { topMatches } from './top-matches.js';

/** A query: words, or an image file. */
export type RetrievalQuery =
  { text: string; image?: undefined } | { image: string; text?: undefined };

/** Options of {@link runRetrievalQuery}. */
export interface RetrievalQueryOptions {
  /** Default: the shipped pair with the most heads. */
  pair?: EncoderPair;
  /** `emoji` (default) or a Karpathy split file. */
  data?: string;
  split?: string;
  /** Image folder searched by a text query (default: the set's first style, `google`). */
  style?: string;
  imageRoot?: string;
  /** Matches to return (default 5). */
  top?: number;
  batchSize?: number;
  session?: SessionOptions;
  /**
   * Folder that keeps the gallery's embeddings between queries (default: see
   * `defaultCacheDir`); false encodes the gallery on every query.
   */
  cache?: string | false;
}

/** One match, best first. */
export interface QueryMatch {
  rank: number;
  /** Cosine similarity. */
  score: number;
  /** The image: the match itself for a text query, the caption's image for an image query. */
  image: string;
  /** The image's name when the set gives one (the emoji's label). */
  name?: string;
  /** The matched caption (image queries). */
  caption?: string;
}

/** What {@link runRetrievalQuery} returns. */
export interface QueryResult {
  query: RetrievalQuery;
  model: string;
  data: {
    name: string;
    split: string;
    style: string;
    gallery: number;
    /** Whether the gallery's embeddings came from the cache rather than the encoder. */
    galleryCached: boolean;
  };
  matches: QueryMatch[];
  config: RunConfig & { textModel: string };
}

function checkQuery(query: RetrievalQuery): void {
  if (query.image !== undefined) {
    if (!existsSync(query.image)) throw new Error(`query image '${query.image}' not found`);
    return;
  }
  if (typeof query.text !== 'string' || query.text.trim() === '') {
    throw new RangeError(
      'the query is empty: give words to search for, such as ortlab retrieval query ' +
        '"a red heart", or an image with --image FILE',
    );
  }
}

/** The pair with the most attention heads (the shipped r4 among the shipped pairs). */
export function widestPair(pairs: readonly EncoderPair[]): EncoderPair {
  if (pairs.length === 0) throw new RangeError('no encoder pair to query with');
  return pairs.reduce((best, p) => ((p.heads ?? 1) > (best.heads ?? 1) ? p : best));
}

/**
 * Ranks the split's images by similarity to a sentence, or its captions by similarity to an
 * image, and returns the best `top` with their scores (through ONNX Runtime's TopK).
 * @throws RangeError for an empty query; Error for an image file that does not exist.
 * @example
 * ```ts
 * const result = await runRetrievalQuery({ text: 'a red heart' });
 * // { rank: 1, score: 0.71, image: '.../google/2764-fe0f.png', name: 'red heart' }
 * result.matches[0];
 * ```
 */
export async function runRetrievalQuery(
  query: RetrievalQuery,
  options: RetrievalQueryOptions = {},
): Promise<QueryResult> {
  checkQuery(query);
  const pair = options.pair ?? widestPair(await readPairManifest());
  const data = await openRetrievalData(options.data ?? EMOJI, {
    split: options.split,
    style: options.style,
    imageRoot: options.imageRoot,
  });
  const root = data.roots[0];
  const imageSession = await Session.create(pair.image, options.session);
  const textSession = await Session.create(pair.text, options.session);
  const tokenizer = await loadTokenizer(pair.tokenizer);
  try {
    checkEncoder(imageSession, 'image', `image encoder '${pair.image}'`);
    checkEncoder(textSession, 'text', `text encoder '${pair.text}'`);
    const preset = resolvePreset(pair.preset, imageSession.inputs[0]?.dims);
    const imageOptions = { preset, batchSize: options.batchSize, name: `'${pair.image}'` };
    const textOptions = { maxLength: pair.maxTokens, batchSize: options.batchSize };
    const byText = query.text !== undefined;
    const cache = options.cache ?? defaultCacheDir();
    // What the gallery's embeddings depend on besides the encoder: the package versions, and
    // the images' files or the captions with the tokenizer's files.
    const versions = getBackend().versions();
    const gallery = byText
      ? await cachedEmbeddings(
          cache,
          {
            kind: 'images',
            encoder: sha256(imageSession.modelBytes),
            preset,
            versions,
            files: await fileStamps(data.images.map((image) => path.join(root.root, image))),
          },
          () => encodeImages(imageSession, imageSources(data, root), imageOptions),
        )
      : await cachedEmbeddings(
          cache,
          {
            kind: 'texts',
            encoder: sha256(textSession.modelBytes),
            maxTokens: pair.maxTokens ?? null,
            versions,
            tokenizer: await folderStamps(pair.tokenizer),
            captions: sha256(new TextEncoder().encode(JSON.stringify(data.captions))),
          },
          () => encodeTexts(textSession, tokenizer, data.captions, textOptions),
        );
    const galleryEmb = gallery.value;
    const queryEmb = byText
      ? await encodeTexts(textSession, tokenizer, [query.text], textOptions)
      : await encodeImages(imageSession, [{ kind: 'file', path: query.image }], imageOptions);
    if (queryEmb.dim !== galleryEmb.dim) {
      throw new RangeError(
        `image encoder '${pair.image}' and text encoder '${pair.text}' give embeddings of ` +
          `different widths (${queryEmb.dim} and ${galleryEmb.dim}); ` +
          'pair encoders trained together',
      );
    }
    const best = await topMatches(queryEmb.embeddings, galleryEmb.embeddings, {
      dim: queryEmb.dim,
      k: options.top ?? 5,
      session: options.session,
    });
    const matches = Array.from(best.indices, (index, r): QueryMatch => {
      const image = byText ? index : data.textToImage[index];
      return {
        rank: r + 1,
        score: best.scores[r],
        image: path.join(root.root, data.images[image]),
        ...(data.names?.[image] ? { name: data.names[image] } : {}),
        ...(byText ? {} : { caption: data.captions[index] }),
      };
    });
    return {
      query,
      model: pair.name,
      data: {
        name: data.name,
        split: data.split,
        style: root.style,
        gallery: galleryEmb.count,
        galleryCached: gallery.cached,
      },
      matches,
      config: {
        ...runConfig(imageSession, pair.image, options.session?.threads),
        textModel: pair.text,
      },
    };
  } finally {
    tokenizer.dispose();
    await imageSession.dispose();
    await textSession.dispose();
  }
}
