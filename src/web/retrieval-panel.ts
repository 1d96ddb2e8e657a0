/**
 * The page's retrieval panel: the shipped emoji image-text encoders (`models/retrieval/`) embed
 * the emoji gallery once, then each typed query is tokenized (transformers.js, from the files
 * served beside the page), embedded, and ranked against the gallery by ortlab's top-k graph.
 * When the encoders are not served, the panel says so.
 */
import {
  Session,
  imageSource,
  loadTokenizerUrl,
  parseKarpathy,
  resolvePreset,
  topKGraph,
  type Preset,
  type Tensor,
  type TextTokenizer,
} from '../browser.js';
import { loadBatch } from '../runtime/preprocess/batch.js';
import { byId, messageOf, showMessage } from './dom.js';
import type { PageConfig } from './page-config.js';

const ROOT = '/models/retrieval/';
const MANIFEST = `${ROOT}manifest.json`;
const SHOWN = 8;
const BATCH = 64;

/** The parts of `models/retrieval/manifest.json` the panel reads. */
interface Manifest {
  dataset?: {
    folder?: string;
    file?: string;
    styles?: Record<string, string>;
    trainStyle?: string;
  };
  models?: {
    name: string;
    heads?: number;
    image: string;
    text: string;
    tokenizer: string;
    maxTokens?: number;
    preset: Preset;
  }[];
}

type ModelEntry = NonNullable<Manifest['models']>[number];

interface Gallery {
  urls: string[];
  captions: string[];
  embeddings: Float32Array;
  dim: number;
}

/** The encoders with the most heads (r4), as the page shows the multi-head model. */
function chooseModel(manifest: Manifest): ModelEntry {
  const models = manifest.models ?? [];
  const entry = [...models].sort((a, b) => (b.heads ?? 0) - (a.heads ?? 0))[0];
  if (!entry?.image || !entry.text || !entry.tokenizer || !entry.preset) {
    throw new Error(
      `${MANIFEST} lists no model with "image", "text", "tokenizer" and "preset"; rebuild it`,
    );
  }
  return entry;
}

/** The dataset file's URL and the image folder of the training art style. */
function galleryPlace(manifest: Manifest): { file: string; images: string } {
  const { folder = 'data/emoji', file = 'dataset_emoji.json' } = manifest.dataset ?? {};
  const style = manifest.dataset?.trainStyle ?? 'google';
  const root = new URL(`/${folder.replace(/^\/+|\/+$/g, '')}/`, location.href);
  return {
    file: new URL(file, root).href,
    images: new URL(manifest.dataset?.styles?.[style] ?? `${style}/`, root).href,
  };
}

/** The first output of a run, as a float32 `[rows, dim]` matrix. */
function embeddingOf(outputs: Record<string, Tensor>, session: Session): Tensor {
  const name = session.outputs.some((o) => o.name === 'embedding')
    ? 'embedding'
    : session.outputs[0].name;
  const out = outputs[name];
  if (!(out.data instanceof Float32Array) || out.dims.length !== 2) {
    throw new Error(
      `encoder output '${name}' is ${out.type} [${out.dims.join(', ')}]; ` +
        'expected float32 [batch, dim]',
    );
  }
  return out;
}

async function embedGallery(
  session: Session,
  preset: Preset,
  place: { file: string; images: string },
  status: HTMLElement,
): Promise<Gallery> {
  const response = await fetch(place.file);
  if (!response.ok) throw new Error(`${place.file} could not be fetched: HTTP ${response.status}`);
  const text = await response.text();
  const splits = ['test', 'val', 'train'].flatMap((split) => {
    try {
      return [parseKarpathy(text, { split, file: place.file })];
    } catch {
      return []; // a split the file does not hold
    }
  });
  const urls = splits.flatMap((s) => s.images.map((name) => new URL(name, place.images).href));
  const captions = splits.flatMap((s) =>
    s.images.map((_, i) => s.captions[s.textToImage.indexOf(i)]),
  );
  if (urls.length === 0) throw new Error(`${place.file} lists no emoji`);
  const resolved = resolvePreset(preset, session.inputs[0].dims);
  const input = session.inputs[0].name;
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let start = 0; start < urls.length; start += BATCH) {
    const samples = await Promise.all(
      urls.slice(start, start + BATCH).map(async (url, i) => {
        const image = await fetch(url);
        if (!image.ok) throw new Error(`${url} could not be fetched: HTTP ${image.status}`);
        return {
          index: start + i,
          id: url,
          label: 0,
          source: await imageSource(await image.blob()),
        };
      }),
    );
    const batch = await loadBatch(samples, resolved);
    if (batch.skipped.length > 0) {
      throw new Error(`${batch.skipped[0].id}: ${batch.skipped[0].reason}`);
    }
    const feeds = { [input]: { type: 'float32' as const, data: batch.data, dims: batch.dims } };
    const out = embeddingOf(await session.run(feeds), session);
    dim = out.dims[1];
    parts.push(out.data as Float32Array);
    const done = Math.min(urls.length, start + BATCH);
    status.textContent = `embedding the emoji: ${done} / ${urls.length}`;
  }
  const embeddings = new Float32Array(urls.length * dim);
  let offset = 0;
  for (const part of parts) {
    embeddings.set(part, offset);
    offset += part.length;
  }
  return { urls, captions, embeddings, dim };
}

async function embedQuery(
  query: string,
  tokenizer: TextTokenizer,
  session: Session,
  maxTokens: number | undefined,
): Promise<Float32Array> {
  const batch = tokenizer.encode([query], maxTokens ? { maxLength: maxTokens } : {});
  const tensors: Record<string, BigInt64Array> = {
    input_ids: batch.inputIds,
    attention_mask: batch.attentionMask,
    token_type_ids: batch.tokenTypeIds,
  };
  const feeds: Record<string, Tensor> = {};
  for (const input of session.inputs) {
    const data = tensors[input.name];
    if (!data) {
      throw new Error(
        `the text encoder asks for input '${input.name}', which ortlab does not make`,
      );
    }
    feeds[input.name] = { type: 'int64', data, dims: batch.dims };
  }
  return embeddingOf(await session.run(feeds), session).data as Float32Array;
}

function showMatches(gallery: Gallery, scores: Float32Array, indices: BigInt64Array): void {
  const list = byId('retrieval-results');
  list.replaceChildren();
  indices.forEach((index, rank) => {
    const i = Number(index);
    const item = document.createElement('li');
    const image = document.createElement('img');
    image.src = gallery.urls[i];
    image.alt = gallery.captions[i];
    const caption = document.createElement('span');
    caption.textContent = `${gallery.captions[i]} · ${scores[rank].toFixed(3)}`;
    item.dataset.score = String(scores[rank]);
    item.append(image, caption);
    list.append(item);
  });
}

async function start(config: PageConfig, status: HTMLElement): Promise<void> {
  const head = await fetch(MANIFEST, { method: 'HEAD' });
  if (!head.ok) {
    throw new Error(
      `retrieval models not found: ${MANIFEST} is not served (HTTP ${head.status}); the emoji ` +
        'encoders ship in models/retrieval/ with their tokenizer, and the emoji in data/emoji/',
    );
  }
  const manifest = (await (await fetch(MANIFEST)).json()) as Manifest;
  const entry = chooseModel(manifest);
  const options = { executionProviders: config.executionProviders, threads: config.threads };
  status.textContent = `loading the ${entry.name} encoders…`;
  const [images, texts, ranker, tokenizer] = await Promise.all([
    Session.create(new URL(entry.image, new URL(ROOT, location.href)).href, options),
    Session.create(new URL(entry.text, new URL(ROOT, location.href)).href, options),
    Session.create(topKGraph(), { executionProviders: 'wasm' }),
    loadTokenizerUrl(new URL(`${entry.tokenizer}/`, new URL(ROOT, location.href)).href),
  ]);
  const gallery = await embedGallery(images, entry.preset, galleryPlace(manifest), status);
  const query = byId<HTMLInputElement>('query');
  query.disabled = false;
  byId<HTMLButtonElement>('query-button').disabled = false;
  showMessage(
    status,
    `${gallery.urls.length} emoji embedded by the ${entry.name} image encoder on ` +
      `${images.executionProvider}; type a query`,
  );
  const panel = byId('retrieval');
  byId('retrieval-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = query.value.trim();
    if (!text) {
      showMessage(status, 'type a query, such as "a red heart"', 'error');
      return;
    }
    const k = Math.min(SHOWN, gallery.urls.length);
    panel.dataset.state = 'searching';
    embedQuery(text, tokenizer, texts, entry.maxTokens)
      .then((q) =>
        ranker.run({
          queries: { type: 'float32', data: q, dims: [1, gallery.dim] },
          gallery: {
            type: 'float32',
            data: gallery.embeddings,
            dims: [gallery.urls.length, gallery.dim],
          },
          k: { type: 'int64', data: BigInt64Array.of(BigInt(k)), dims: [1] },
        }),
      )
      .then((top) => {
        showMatches(gallery, top.scores.data as Float32Array, top.indices.data as BigInt64Array);
        showMessage(status, `the ${k} emoji closest to "${text}"`);
        panel.dataset.state = 'ready';
      })
      .catch((error: unknown) => {
        showMessage(status, messageOf(error), 'error');
        panel.dataset.state = 'error';
      });
  });
}

/** Starts the retrieval panel; any failure (models not served included) is shown in it. */
export async function initRetrieval(config: PageConfig): Promise<void> {
  const status = byId('retrieval-message');
  const panel = byId('retrieval');
  try {
    await start(config, status);
    panel.dataset.state = 'ready';
  } catch (error) {
    panel.dataset.state = 'error';
    showMessage(status, messageOf(error), 'error');
  }
}
