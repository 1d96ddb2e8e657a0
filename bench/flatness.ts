/**
 * A flatness run with N radii against (N + 1) plain validation passes over the same data, in one
 * run. One pass is timed on a session already created and warmed by one batch, as a user's
 * validation pass runs; the flatness run is timed whole, its session creation included.
 * Target: at most 1.15 x (N + 1) x one pass.
 */
import { readFile } from 'node:fs/promises';

import { Session, openDataset, resolvePreset } from '../src/index.js';
import { measureFlatness } from '../src/search/flatness.js';
import { loadValidationSet, meanCrossEntropy } from '../src/search/validation-set.js';
import { median } from './timing.js';

export async function benchFlatness(): Promise<unknown> {
  const bytes = new Uint8Array(await readFile('models/mnist-cnn.onnx'));
  const data = await loadValidationSet(await openDataset('mnist'), resolvePreset('mnist'), {
    limit: 5000,
  });
  const radii = [0.001, 0.003, 0.006];
  const passes: number[] = [];
  const runs: number[] = [];
  let engine = '';
  for (let round = 0; round < 3; round++) {
    const session = await Session.create(bytes);
    const [first] = data.batches;
    await meanCrossEntropy(session, { ...data, batches: [first], n: first.labels.length });
    const start = performance.now();
    await meanCrossEntropy(session, data);
    passes.push(performance.now() - start);
    await session.dispose();

    const t = performance.now();
    const result = await measureFlatness(bytes, data, { radii, seed: round });
    runs.push(performance.now() - t);
    engine = `${result.engine} (${result.engineReason})`;
  }
  const pass = median(passes);
  const run = median(runs);
  const ratio = run / ((radii.length + 1) * pass);
  const line = {
    name: 'flatness, 3 radii, vs (N + 1) plain validation passes',
    model: 'models/mnist-cnn.onnx',
    samples: data.n,
    passMs: Math.round(pass),
    flatnessMs: Math.round(run),
    ratio: Number(ratio.toFixed(3)),
    target: '<= 1.15',
    engine,
  };
  console.log(
    `flatness: one pass ${line.passMs} ms, flatness run ${line.flatnessMs} ms, ` +
      `ratio to (N + 1) passes ${line.ratio} (target <= 1.15); engine ${engine}`,
  );
  return line;
}
