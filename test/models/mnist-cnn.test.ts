import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import {
  OnnxModel,
  Session,
  loadBatch,
  openDataset,
  resolvePreset,
  type Preset,
  type Sample,
} from '../../src/index.js';
import { expectClose } from '../helpers/assert.js';

interface Parity {
  indices: number[];
  labels: number[];
  logits: number[][];
  tolerance: number;
}

/**
 * The shipped model against PyTorch: tools/export/train_mnist_cnn.py stored the logits torch
 * computed for the first 16 test images; ortlab reads the same images from data/mnist,
 * preprocesses them with the model card's preset and runs the ONNX model.
 */
describe('shipped model models/mnist-cnn.onnx', () => {
  it('gives the logits PyTorch gave, within the stored tolerance (1e-4)', async () => {
    const parity = JSON.parse(
      await readFile('test/fixtures/mnist-cnn-parity.json', 'utf8'),
    ) as Parity;
    const card = JSON.parse(await readFile('models/mnist-cnn.json', 'utf8')) as {
      preset: Preset;
    };
    const dataset = await openDataset('mnist');
    const samples: Sample[] = [];
    for await (const s of dataset.samples({ end: Math.max(...parity.indices) + 1 }))
      samples.push(s);
    const preset = resolvePreset(card.preset);
    const batch = await loadBatch(
      parity.indices.map((i) => samples[i]),
      preset,
    );
    expect(Array.from(batch.labels)).to.deep.equal(parity.labels);
    const session = await Session.create('models/mnist-cnn.onnx');
    const { logits } = await session.run({
      input: { type: 'float32', data: batch.data, dims: batch.dims },
    });
    await session.dispose();
    expectClose(logits.data as Float32Array, parity.logits.flat(), parity.tolerance, 'logits');
  });

  it('ends in global average pooling and a linear layer, the feature map exposable', async () => {
    const card = JSON.parse(await readFile('models/mnist-cnn.json', 'utf8')) as {
      featureTensor: string;
    };
    const model = OnnxModel.fromBytes(new Uint8Array(await readFile('models/mnist-cnn.onnx')));
    const ops = model.graph.node.map((n) => n.opType);
    const tail = ops.slice(ops.lastIndexOf('GlobalAveragePool'));
    expect(tail[0]).to.equal('GlobalAveragePool');
    expect(tail.filter((op) => op === 'Gemm' || op === 'MatMul')).to.have.length(1);
    expect(tail.filter((op) => op === 'Conv')).to.have.length(0);
    model.addOutputs([card.featureTensor]);
    const session = await Session.create(model.toBytes());
    const input = new Float32Array(2 * 28 * 28).fill(0.5);
    const out = await session.run({
      input: { type: 'float32', data: input, dims: [2, 1, 28, 28] },
    });
    await session.dispose();
    const features = out[card.featureTensor];
    expect(features.dims.length).to.equal(4);
    expect(features.dims[0]).to.equal(2);
  });
});
