/**
 * Fake ImageNet-style datasets and a tiny 1000-class model whose prediction is set by an
 * image's red level, for end-to-end tests of the ImageNet protocols.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import sharp from 'sharp';

import { imagenetClasses } from '../../src/eval/imagenet.js';
import { tensorValueInfo } from '../../src/runtime/onnx/proto.js';

const { onnx } = onnxProto;

/**
 * logits[k] = 2k * s - k^2 with s = 1000 * mean(red), i.e. -(k - s)^2 up to a constant: the
 * predicted 1k class is the one nearest to s. Input `[batch, 3, 4, 4]`, output `[batch, 1000]`.
 */
export function redLevelModel(): Uint8Array {
  const w = new Float32Array(3 * 1000);
  const b = new Float32Array(1000);
  for (let k = 0; k < 1000; k++) {
    w[k] = 2 * k * 1000;
    b[k] = -k * k;
  }
  const tensor = (name: string, dims: number[], values: Float32Array) => ({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(values.buffer),
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'red_level',
      node: [
        { opType: 'GlobalAveragePool', input: ['input'], output: ['pooled'] },
        { opType: 'Flatten', input: ['pooled'], output: ['flat'] },
        { opType: 'Gemm', input: ['flat', 'W', 'b'], output: ['logits'] },
      ],
      initializer: [tensor('W', [3, 1000], w), tensor('b', [1000], b)],
      input: [tensorValueInfo('input', ['batch', 3, 4, 4])],
      output: [tensorValueInfo('logits', ['batch', 1000])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A 4x4 PNG whose mean red level is `red` (a half level such as 25.5 is half its pixels at 25
 * and half at 26), so that the model's `s` is `1000 * red / 255`.
 */
export function levelImage(red: number): Promise<Buffer> {
  const pixels = Buffer.alloc(4 * 4 * 3);
  for (let p = 0; p < 16; p++) pixels[p * 3] = p % 2 === 0 ? Math.floor(red) : Math.ceil(red);
  return sharp(pixels, { raw: { width: 4, height: 4, channels: 3 } })
    .png()
    .toBuffer();
}

/** Writes `folders` (name → red levels of its images) under a new temporary folder. */
export async function fakeDataset(folders: Record<string, number[]>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ortlab-imagenet-'));
  for (const [folder, levels] of Object.entries(folders)) {
    await mkdir(path.join(root, folder));
    for (const [n, level] of levels.entries()) {
      await writeFile(path.join(root, folder, `img${n}.png`), await levelImage(level));
    }
  }
  return root;
}

/** Red level whose prediction by the red-level model is near 1k class `index + offset`. */
export const redLevel = (index: number, offset = 0): number =>
  Math.round(((index + offset) * 255) / 1000);

/** The folders of a small fake suite for `--val --v2 --a --r --o`, and the classes in them. */
export interface FakeImagenetFlags {
  dirs: { val: string; v2: string; a: string; r: string; o: string };
  /** The 1k classes of val (two images each), a and o (one image each), in this order. */
  subset: number[];
  /** The classes of v2 (one image each, folders named by class index). */
  v2: number[];
  /** ImageNet-R's own classes: three of the subset. */
  rSubset: number[];
}

/**
 * Writes the fake suite, for the red-level model: val and v2 are right; a is three classes above
 * its own (right only with the logits restricted to the subset); r two classes below each of its
 * three (right restricted to its own classes); o half-way between subset classes (OOD).
 */
export async function fakeImagenetFlags(): Promise<FakeImagenetFlags> {
  const subset = [990, 10, 450, 200, 700];
  const v2 = [0, 200, 400, 600, 800];
  const rSubset = [10, 450, 700];
  const classes = await imagenetClasses();
  const wnidFolders = (offset: number, count: number) =>
    Object.fromEntries(
      subset.map((i) => [classes[i].wnid, Array<number>(count).fill(redLevel(i, offset))]),
    );
  const dirs = {
    val: await fakeDataset(wnidFolders(0, 2)),
    v2: await fakeDataset(Object.fromEntries(v2.map((i) => [String(i), [redLevel(i)]]))),
    a: await fakeDataset(wnidFolders(3, 1)),
    r: await fakeDataset(
      Object.fromEntries(rSubset.map((i) => [classes[i].wnid, [redLevel(i, -2)]])),
    ),
    o: await fakeDataset(wnidFolders(120, 1)),
  };
  return { dirs, subset, v2, rSubset };
}

/**
 * A model over `[batch, 1, 28, 28]` whose 10 logits are sqrt(pixel - 0.5) of the 10 pixels of
 * row 14 from column 9: NaN wherever one of them is darker than half, finite elsewhere.
 */
export function nanWhereDarkModel(): Uint8Array {
  const int64 = (name: string, values: number[]) => ({
    name,
    dims: [values.length],
    dataType: onnx.TensorProto.DataType.INT64,
    int64Data: values,
  });
  const half = {
    name: 'half',
    dims: [],
    dataType: onnx.TensorProto.DataType.FLOAT,
    floatData: [0.5],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'nan_where_dark',
      node: [
        { opType: 'Flatten', input: ['input'], output: ['flat'] },
        { opType: 'Slice', input: ['flat', 'starts', 'ends', 'axes'], output: ['row'] },
        { opType: 'Sub', input: ['row', 'half'], output: ['shifted'] },
        { opType: 'Sqrt', input: ['shifted'], output: ['logits'] },
      ],
      initializer: [
        int64('starts', [14 * 28 + 9]),
        int64('ends', [14 * 28 + 19]),
        int64('axes', [1]),
        half,
      ],
      input: [
        {
          name: 'input',
          type: {
            tensorType: {
              elemType: onnx.TensorProto.DataType.FLOAT,
              shape: {
                dim: [{ dimParam: 'batch' }, { dimValue: 1 }, { dimValue: 28 }, { dimValue: 28 }],
              },
            },
          },
        },
      ],
      output: [
        { name: 'logits', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
