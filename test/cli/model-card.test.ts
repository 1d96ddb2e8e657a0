import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { readModelCard } from '../../src/cli/model-card.js';

describe('readModelCard', () => {
  let dir: string;
  const preset = { name: 'raw', size: 64 };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ortlab-card-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads a model listed in its folder manifest.json from the manifest and entry', async () => {
    const manifest = {
      dataset: { test: 'data/localization' },
      preset,
      labels: ['a', 'b'],
      featureTensor: 'features',
      models: [{ name: 'small', file: 'small.onnx', testAccuracy: 0.9 }],
    };
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const card = await readModelCard(path.join(dir, 'small.onnx'));
    expect(card).to.deep.include({
      name: 'small',
      dataset: 'localization',
      preset,
      labels: ['a', 'b'],
      featureTensor: 'features',
      testAccuracy: 0.9,
    });
    expect(await readModelCard(path.join(dir, 'other.onnx'))).to.equal(undefined);
  });

  it('prefers the card beside the model to the folder manifest', async () => {
    await writeFile(
      path.join(dir, 'manifest.json'),
      JSON.stringify({ dataset: 'mnist', models: [{ file: 'm.onnx' }] }),
    );
    await writeFile(path.join(dir, 'm.json'), JSON.stringify({ dataset: 'digits' }));
    expect((await readModelCard(path.join(dir, 'm.onnx')))?.dataset).to.equal('digits');
  });

  it('names the file that is not valid JSON', async () => {
    await writeFile(path.join(dir, 'manifest.json'), '{ not json');
    let message = '';
    await readModelCard(path.join(dir, 'm.onnx')).catch((e: Error) => (message = e.message));
    expect(message).to.contain(path.join(dir, 'manifest.json')).and.contain('not valid JSON');
  });

  it('reads the shipped attribution models from models/attribution/manifest.json', async () => {
    const card = await readModelCard('models/attribution/structured-0.5-wcam.onnx');
    expect(card?.dataset).to.equal('localization');
    expect(card?.featureTensor).to.equal('features');
    expect(card?.preset?.size).to.equal(64);
  });
});
