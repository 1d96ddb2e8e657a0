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
const DATASET = '/data/emoji/dataset_emoji.json';
const SHOWN = 8;
const BATCH = 64;

interface Manifest {
  preset?: Preset;
  image?: { preset?: Preset };
  models?: { preset?: Preset }[];
}

interface Gallery {
  urls: string[];
  captions: string[];
  embeddings: Float32Array;
  dim: number;
}

function presetOf(manifest: Manifest): Preset {
  const preset = manifest.image?.preset ?? manifest.preset ?? manifest.models?.[0]?.preset;
  if (!preset) {
    throw new Error(`${MANIFEST} names no image preprocessing preset ("image": { "preset" })`);
  }
  return preset;
}

/** The first output of a run, as a float32 `[rows, dim]` matrix. */
function embeddingOf(outputs: Record<string, Tensor>, session: Session): Tensor {
  const name = session.outputs.some((o) => o.name === 'embedding')
    ? 'embedding'
    : session.outputs[0].name;
  const out = outputs[name];
  if (!(out.data instanceof Float32Array) || out.dims.length !== 2) {
    throw new Error(
      `encoder output '${name}' is ${out.type} [${out.dims.join(', ')}]; expected float32 [batch, dim]`,
    );
  }
  return out;
}

async function embedGallery(
  session: Session,
  preset: Preset,
  status: HTMLElement,
): Promise<Gallery> {
  const response = await fetch(DATASET);
  if (!response.ok) throw new Error(`${DATASET} could not be fetched: HTTP ${response.status}`);
  const text = await response.text();
  const all = ['test', 'val', 'train'].flatMap((split) => {
    try {
      return [parseKarpathy(text, { split, file: DATASET })];
    } catch {
      return [];
    }
  });
  const images = all.flatMap((s) => s.images);
  const captions = all.flatMap((s) =>
    s.images.map((_, i) => s.captions[s.textToImage.indexOf(i)] ?? ''),
  );
  const resolved = resolvePreset(preset, session.inputs[0].dims);
  const urls = images.map((path) => new URL(path, new URL(DATASET, location.href)).href);
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let start = 0; start < urls.length; start += BATCH) {
    const chunk = urls.slice(start, start + BATCH);
    const samples = await Promise.all(
      chunk.map(async (url, i) => {
        const blob = await (await fetch(url)).blob();
        return { index: start + i, id: url, label: 0, source: await imageSource(blob) };
      }),
    );
    const batch = await loadBatch(samples, resolved);
    if (batch.skipped.length > 0)
      throw new Error(`${batch.skipped[0].id}: ${batch.skipped[0].reason}`);
    const input = session.inputs[0].name;
    const out = embeddingOf(
      await session.run({ [input]: { type: 'float32', data: batch.data, dims: batch.dims } }),
      session,
    );
    dim = out.dims[1];
    parts.push(out.data as Float32Array);
    status.textContent = `embedding the emoji gallery: ${Math.min(urls.length, start + BATCH)} / ${urls.length}`;
  }
  const embeddings = new Float32Array(urls.length * dim);
  parts.reduce((offset, part) => (embeddings.set(part, offset), offset + part.length), 0);
  return { urls, captions, embeddings, dim };
}

async function embedQuery(
  query: string,
  tokenizer: TextTokenizer,
  session: Session,
): Promise<Float32Array> {
  const seq = session.inputs[0].dims[1];
  const batch = tokenizer.encode(
    [query],
    typeof seq === 'number' ? { padding: 'maxLength', maxLength: seq } : {},
  );
  const feeds: Record<string, Tensor> = {};
  const tensors: Record<string, BigInt64Array> = {
    input_ids: batch.inputIds,
    attention_mask: batch.attentionMask,
    token_type_ids: batch.tokenTypeIds,
  };
  for (const input of session.inputs) {
    const data = tensors[input.name];
    if (!data)
      throw new Error(
        `the text encoder asks for input '${input.name}', which ortlab does not make`,
      );
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
    item.append(image, caption);
    list.append(item);
  });
}

async function start(config: PageConfig, status: HTMLElement): Promise<void> {
  const head = await fetch(MANIFEST, { method: 'HEAD' });
  if (!head.ok) {
    throw new Error(
      `retrieval models not found: ${MANIFEST} is not served (HTTP ${head.status}); the emoji ` +
        'encoders ship in models/retrieval/ with their tokenizer and data/emoji/',
    );
  }
  const manifest = (await (await fetch(MANIFEST)).json()) as Manifest;
  const options = { executionProviders: config.executionProviders, threads: config.threads };
  const [images, texts, ranker, tokenizer] = await Promise.all([
    Session.create(`${ROOT}image-r4.onnx`, options),
    Session.create(`${ROOT}text-r4.onnx`, options),
    Session.create(topKGraph(), { executionProviders: 'wasm' }),
    loadTokenizerUrl(`${ROOT}tokenizer/`),
  ]);
  const gallery = await embedGallery(images, presetOf(manifest), status);
  const query = byId<HTMLInputElement>('query');
  const button = byId<HTMLButtonElement>('query-button');
  query.disabled = false;
  button.disabled = false;
  showMessage(status, `${gallery.urls.length} emoji embedded; type a query`);
  byId('retrieval-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = query.value.trim();
    if (!text) {
      showMessage(status, 'type a query, such as "a red heart"', 'error');
      return;
    }
    const k = Math.min(SHOWN, gallery.urls.length);
    void embedQuery(text, tokenizer, texts)
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
        showMessage(status, `top ${k} emoji for "${text}"`);
      })
      .catch((error: unknown) => showMessage(status, messageOf(error), 'error'));
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
