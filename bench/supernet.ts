/**
 * Candidates evaluated per second, three ways: feeding each candidate's encoding to one supernet
 * session; each candidate's own network cut out of the supernet (ortlab's default), in a session
 * of its own; and, the baseline, loading a separate exported model per candidate (the family in
 * models/nas, whose export already happened: the baseline leaves out the export itself, in its
 * favour).
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
  const timed = async (score: (c: (typeof candidates)[number]) => Promise<unknown>) => {
    const start = performance.now();
    for (const c of candidates) await score(c);
    return (performance.now() - start) / 1000;
  };
  const encoding = (c: (typeof candidates)[number]) => parseGenotype(supernet.space, c.genotype);
  // Rounds alternate the three ways; the fastest round of each counts.
  const seconds = { shared: Infinity, specialized: Infinity, separate: Infinity };
  for (let round = 0; round < 3; round++) {
    seconds.shared = Math.min(
      seconds.shared,
      await timed((c) =>
        candidateAccuracy(session, supernet, data, encoding(c), { specialize: false }),
      ),
    );
    seconds.specialized = Math.min(
      seconds.specialized,
      await timed((c) => candidateAccuracy(session, supernet, data, encoding(c))),
    );
    seconds.separate = Math.min(
      seconds.separate,
      await timed((c) => standaloneAccuracy(path.join('models/nas', c.file), data)),
    );
  }
  await session.dispose();
  const rate = (s: number) => Number((candidates.length / s).toFixed(2));
  const line = {
    name: 'supernet: candidates per second, one supernet against a model per candidate',
    candidates: candidates.length,
    images: data.n,
    sharedSessionCandidatesPerSecond: rate(seconds.shared),
    specializedCandidatesPerSecond: rate(seconds.specialized),
    separateModelsCandidatesPerSecond: rate(seconds.separate),
    ratioShared: Number((seconds.separate / seconds.shared).toFixed(3)),
    ratioSpecialized: Number((seconds.separate / seconds.specialized).toFixed(3)),
  };
  console.log(
    `supernet: ${line.specializedCandidatesPerSecond} candidates/s cut out of the supernet ` +
      `(ratio ${line.ratioSpecialized}), ${line.sharedSessionCandidatesPerSecond}/s feeding ` +
      `encodings to one session (ratio ${line.ratioShared}), against ` +
      `${line.separateModelsCandidatesPerSecond}/s loading each exported model`,
  );
  return line;
}
