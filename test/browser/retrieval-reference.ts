/**
 * What the page's retrieval panel must show, computed in Node by ortlab's Node build: the
 * manifest's encoders with the most heads on onnxruntime-node, images decoded by sharp, the query
 * tokenized by the Node tokenizer loader, ranked by cosine similarity over the whole gallery.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import {
  Session,
  loadTokenizer,
  parseKarpathy,
  preprocessInto,
  resolvePreset,
  type Preset,
} from '../../src/index.js';

interface Entry {
  name: string;
  heads?: number;
  image: string;
  text: string;
  tokenizer: string;
  maxTokens?: number;
  preset: Preset;
}

/** The `top` emoji for each query: caption and cosine similarity, best first. */
export async function nodeMatches(
  root: string,
  queries: readonly string[],
  top = 8,
): Promise<{ caption: string; score: number }[][]> {
  const models = path.join(root, 'models', 'retrieval');
  const manifest = JSON.parse(await readFile(path.join(models, 'manifest.json'), 'utf8')) as {
    dataset?: {
      folder?: string;
      file?: string;
      styles?: Record<string, string>;
      trainStyle?: string;
    };
    models: Entry[];
  };
  const entry = [...manifest.models].sort((a, b) => (b.heads ?? 0) - (a.heads ?? 0))[0];
  const folder = path.join(root, manifest.dataset?.folder ?? 'data/emoji');
  const file = path.join(folder, manifest.dataset?.file ?? 'dataset_emoji.json');
  const style = manifest.dataset?.trainStyle ?? 'google';
  const imageRoot = path.join(folder, manifest.dataset?.styles?.[style] ?? `${style}/`);
  const text = await readFile(file, 'utf8');
  const splits = ['test', 'val', 'train'].flatMap((split) => {
    try {
      return [parseKarpathy(text, { split })];
    } catch {
      return [];
    }
  });
  const files = splits.flatMap((s) => s.images.map((name) => path.join(imageRoot, name)));
  const captions = splits.flatMap((s) =>
    s.images.map((_, i) => s.captions[s.textToImage.indexOf(i)]),
  );

  const images = await Session.create(path.join(models, entry.image));
  const preset = resolvePreset(entry.preset, images.inputs[0].dims);
  const volume = 3 * preset.height * preset.width;
  const data = new Float32Array(files.length * volume);
  for (const [i, f] of files.entries())
    await preprocessInto({ kind: 'file', path: f }, preset, data, i * volume);
  const gallery = await images.runBatched(
    {
      [images.inputs[0].name]: {
        type: 'float32',
        data,
        dims: [files.length, 3, preset.height, preset.width],
      },
    },
    { batchSize: 64, fetches: ['embedding'] },
  );
  await images.dispose();
  const dim = gallery.embedding.dims[1];
  const embeddings = gallery.embedding.data as Float32Array;

  const texts = await Session.create(path.join(models, entry.text));
  const tokenizer = await loadTokenizer(path.join(models, entry.tokenizer));
  const out = [];
  for (const query of queries) {
    const batch = tokenizer.encode([query], entry.maxTokens ? { maxLength: entry.maxTokens } : {});
    const { embedding } = await texts.run(
      {
        input_ids: { type: 'int64', data: batch.inputIds, dims: batch.dims },
        attention_mask: { type: 'int64', data: batch.attentionMask, dims: batch.dims },
      },
      ['embedding'],
    );
    const q = embedding.data as Float32Array;
    const scores = captions.map((caption, i) => {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += q[d] * embeddings[i * dim + d];
      return { caption, score: dot };
    });
    out.push(scores.sort((a, b) => b.score - a.score).slice(0, top));
  }
  tokenizer.dispose();
  await texts.dispose();
  return out;
}
