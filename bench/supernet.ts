/**
 * Candidates evaluated per second: feeding each candidate's encoding to one supernet session,
 * against loading a separate exported model per candidate (the family in models/nas, whose
 * export already happened: the baseline leaves out the export itself, in its favour).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { Session, openDataset, resolvePreset } from '../src/index.js';
import { parseGenotype } from '../src/search/cell-space.js';
import { candidateAccuracy, loadSupernet } from '../src/search/supernet.js';
import { loadValidationSet, type ValidationSet } from '../src/search/validation-set.js';

async function standaloneAccuracy(file: string, data: ValidationSet): Promise<number> {
  const session = await Session.create(file);
  let correct = 0;
  try {
    for (const batch of data.batches) {
      const out = await session.run({
        input: { type: 'float32', data: batch.data, dims: batch.dims },
      });
      const logits = out.logits.data as Float32Array;
      for (let r = 0; r < batch.labels.length; r++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (logits[r * 10 + c] > logits[r * 10 + best]) best = c;
        if (best === batch.labels[r]) correct++;
      }
    }
  } finally {
    await session.dispose();
  }
  return correct / data.n;
}

export async function benchSupernet(): Promise<unknown> {
  const manifest = JSON.parse(await readFile('models/nas/manifest.json', 'utf8')) as {
    models: { file: string; genotype: string }[];
  };
  const candidates = manifest.models.slice(0, 8);
  const data = await loadValidationSet(
    await openDataset('data/nas-val/images-idx3-ubyte.gz'),
    resolvePreset('mnist'),
    { limit: 512, batchSize: 256 },
  );
  const supernet = await loadSupernet('models/nas/supernet.onnx');
  const session = await Session.create(supernet.bytes);
  let start = performance.now();
  for (const c of candidates) {
    await candidateAccuracy(session, supernet, data, parseGenotype(supernet.space, c.genotype));
  }
  const supernetSeconds = (performance.now() - start) / 1000;
  await session.dispose();

  start = performance.now();
  for (const c of candidates) await standaloneAccuracy(path.join('models/nas', c.file), data);
  const separateSeconds = (performance.now() - start) / 1000;
  const line = {
    name: 'supernet: candidates per second, one session vs a model per candidate',
    candidates: candidates.length,
    images: data.n,
    supernetCandidatesPerSecond: Number((candidates.length / supernetSeconds).toFixed(2)),
    separateModelsCandidatesPerSecond: Number((candidates.length / separateSeconds).toFixed(2)),
    ratio: Number((separateSeconds / supernetSeconds).toFixed(3)),
  };
  console.log(
    `supernet: ${line.supernetCandidatesPerSecond} candidates/s through one session, ` +
      `${line.separateModelsCandidatesPerSecond}/s loading a model per candidate ` +
      `(ratio ${line.ratio})`,
  );
  return line;
}
