/**
 * A retrieval model folder with the shipped encoders' contract (names, inputs, outputs, manifest)
 * and weights chosen by hand, so every similarity is known: the image encoder embeds an image as
 * its mean colour, the text encoder sums one colour per word ('red', 'green', 'blue'). Lets the
 * page's retrieval panel be tested end to end without the trained encoders.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import sharp from 'sharp';
import { tensorValueInfo } from '../../src/runtime/onnx/proto.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** Token ids of the colour words in test/fixtures/tokenizer (BERT's own ids). */
export const COLOUR_TOKENS: Readonly<Record<string, number>> = {
  red: 2417,
  green: 2665,
  blue: 2630,
};
const VOCAB = 3000;

/** The emoji of the fake gallery: file name, caption, and RGB colour. */
export const FAKE_EMOJI: readonly {
  file: string;
  caption: string;
  rgb: [number, number, number];
}[] = [
  { file: 'red.png', caption: 'red square', rgb: [255, 0, 0] },
  { file: 'green.png', caption: 'green square', rgb: [0, 255, 0] },
  { file: 'blue.png', caption: 'blue square', rgb: [0, 0, 255] },
  { file: 'yellow.png', caption: 'yellow square', rgb: [255, 255, 0] },
  { file: 'magenta.png', caption: 'magenta square', rgb: [255, 0, 255] },
];

function model(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'ortlab-tests',
      opsetImport: [{ domain: '', version: 17 }],
      graph,
    }),
  ).finish();
}

const l2 = {
  opType: 'LpNormalization',
  attribute: [
    { name: 'axis', type: 2, i: 1 },
    { name: 'p', type: 2, i: 2 },
  ],
};

/** image [batch, 3, 64, 64] -> embedding [batch, 3]: the L2-normalized mean colour. */
export function fakeImageEncoder(): Uint8Array {
  return model({
    name: 'fake_image_encoder',
    node: [
      { opType: 'GlobalAveragePool', input: ['image'], output: ['pooled'] },
      { opType: 'Flatten', input: ['pooled'], output: ['mean'] },
      { ...l2, input: ['mean'], output: ['embedding'] },
    ],
    input: [tensorValueInfo('image', ['batch', 3, 64, 64], FLOAT)],
    output: [tensorValueInfo('embedding', ['batch', 3], FLOAT)],
  });
}

/**
 * input_ids, attention_mask [batch, tokens] -> embedding [batch, 3]: the L2-normalized sum of the
 * colours of the real tokens (red, green, blue: unit vectors; every other token: zero).
 */
export function fakeTextEncoder(): Uint8Array {
  const table = new Float32Array(VOCAB * 3);
  Object.values(COLOUR_TOKENS).forEach((id, c) => (table[id * 3 + c] = 1));
  return model({
    name: 'fake_text_encoder',
    node: [
      { opType: 'Gather', input: ['table', 'input_ids'], output: ['vectors'] },
      {
        opType: 'Cast',
        input: ['attention_mask'],
        output: ['maskf'],
        attribute: [{ name: 'to', type: 2, i: FLOAT }],
      },
      { opType: 'Unsqueeze', input: ['maskf', 'last'], output: ['mask3'] },
      { opType: 'Mul', input: ['vectors', 'mask3'], output: ['masked'] },
      {
        opType: 'ReduceSum',
        input: ['masked', 'tokens_axis'],
        output: ['sum'],
        attribute: [{ name: 'keepdims', type: 2, i: 0 }],
      },
      { ...l2, input: ['sum'], output: ['embedding'] },
    ],
    initializer: [
      { name: 'table', dims: [VOCAB, 3], dataType: FLOAT, rawData: new Uint8Array(table.buffer) },
      { name: 'last', dims: [1], dataType: INT64, int64Data: [2] },
      { name: 'tokens_axis', dims: [1], dataType: INT64, int64Data: [1] },
    ],
    input: [
      tensorValueInfo('input_ids', ['batch', 'tokens'], INT64),
      tensorValueInfo('attention_mask', ['batch', 'tokens'], INT64),
    ],
    output: [tensorValueInfo('embedding', ['batch', 3], FLOAT)],
  });
}

/**
 * Writes `models/retrieval/` (manifest, both encoders as image-r4/text-r4, the test tokenizer) and
 * `data/emoji/` (a Karpathy file and one 64x64 PNG per colour) under `root`.
 */
export async function writeFakeRetrieval(root: string): Promise<void> {
  const models = path.join(root, 'models', 'retrieval');
  const images = path.join(root, 'data', 'emoji', 'google');
  await mkdir(models, { recursive: true });
  await mkdir(images, { recursive: true });
  await writeFile(path.join(models, 'image-r4.onnx'), fakeImageEncoder());
  await writeFile(path.join(models, 'text-r4.onnx'), fakeTextEncoder());
  await cp('test/fixtures/tokenizer', path.join(models, 'tokenizer'), { recursive: true });
  const preset = {
    name: 'emoji-r4',
    size: 64,
    cropFraction: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    channels: 'rgb',
    layout: 'NCHW',
    range: 1,
    interpolation: 'bilinear',
  };
  const entry = (heads: number) => ({
    name: `r${heads}`,
    heads,
    dim: 3,
    image: `image-r${heads}.onnx`,
    text: `text-r${heads}.onnx`,
    tokenizer: 'tokenizer',
    maxTokens: 16,
    preset,
  });
  const manifest = {
    dataset: {
      folder: 'data/emoji',
      file: 'dataset_emoji.json',
      split: 'test',
      styles: { google: 'google/' },
      trainStyle: 'google',
    },
    // r1's files are absent: the page must pick r4, the entry with the most heads.
    models: [entry(1), entry(4)],
  };
  await writeFile(path.join(models, 'manifest.json'), JSON.stringify(manifest));
  const karpathy = {
    dataset: 'emoji',
    images: FAKE_EMOJI.map((e, i) => ({
      filepath: '',
      filename: e.file,
      split: i < 3 ? 'test' : 'val',
      sentences: [{ raw: e.caption }],
    })),
  };
  await writeFile(path.join(root, 'data', 'emoji', 'dataset_emoji.json'), JSON.stringify(karpathy));
  for (const e of FAKE_EMOJI) {
    const [r, g, b] = e.rgb;
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r, g, b } } })
      .png()
      .toFile(path.join(images, e.file));
  }
}
