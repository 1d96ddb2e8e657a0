/**
 * `ortlab compress <model> --prune R | --prune-filters R | --quantize int8 -o OUT`: writes the
 * compressed model and reports size, parameters, sparsity, latency and top-1 agreement against
 * the original on data.
 */
import { readFile, writeFile } from 'node:fs/promises';

import { compareModels } from '../compress/compare.js';
import { pruneFilters } from '../compress/filter-prune.js';
import { pruneMagnitude } from '../compress/magnitude-prune.js';
import { quantizeInt8 } from '../compress/quantize.js';
import { bundledDatasets, openDataset } from '../runtime/datasets/open-dataset.js';
import { OnnxModel } from '../runtime/onnx/model.js';
import { resolvePreset } from '../runtime/preprocess/presets.js';
import { loadValidationSet } from '../search/validation-set.js';
import type { Output } from './commands.js';
import { readModelCard } from './model-card.js';

export interface CompressArgs {
  model: string;
  prune?: number;
  pruneFilters?: number;
  channelMultiple?: number;
  quantize?: string;
  out?: string;
  data?: string;
  limit?: number;
  preset?: string;
  threads?: number;
  json?: boolean;
}

function method(args: CompressArgs): (model: OnnxModel) => unknown {
  const chosen = [args.prune, args.pruneFilters, args.quantize].filter((v) => v !== undefined);
  if (chosen.length !== 1) {
    throw new RangeError('give exactly one of --prune R, --prune-filters R, --quantize int8');
  }
  if (args.prune !== undefined) return (m) => pruneMagnitude(m, args.prune!);
  if (args.pruneFilters !== undefined) {
    const options = { channelMultiple: args.channelMultiple };
    return (m) => pruneFilters(m, args.pruneFilters!, options);
  }
  if (args.quantize !== 'int8') {
    throw new RangeError(`--quantize takes int8, got '${args.quantize}'`);
  }
  return (m) => quantizeInt8(m);
}

/** The bundled set a model card names as its dataset, if any. */
function cardDataset(name: string | undefined): string | undefined {
  const lower = name?.toLowerCase();
  return lower !== undefined && bundledDatasets.includes(lower) ? lower : undefined;
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** Runs the command. */
export async function compressCommand(args: CompressArgs, io: Output): Promise<void> {
  const compress = method(args);
  if (!args.out) throw new RangeError('-o/--out names the compressed model to write');
  const original = new Uint8Array(
    await readFile(args.model).catch(() => {
      throw new Error(`model file '${args.model}' not found; check the path`);
    }),
  );
  const model = OnnxModel.fromBytes(original, { file: args.model });

  // The data is read before anything is written, so that a run that fails leaves no file.
  const card = await readModelCard(args.model);
  const preset = resolvePreset(args.preset ?? card?.preset ?? 'raw', model.inputs[0].dims);
  const data = args.data ?? cardDataset(card?.dataset);
  if (data === undefined) {
    throw new RangeError(
      `--data names the images to compare the two models on (a bundled set: ` +
        `${bundledDatasets.join(', ')}, a folder or an IDX file)`,
    );
  }
  const dataset = await openDataset(data);
  const set = await loadValidationSet(dataset, preset, {
    limit: args.limit ?? 1000,
    batchSize: 64,
  });

  const pass = compress(model);
  const bytes = model.toBytes();
  const comparison = await compareModels(original, bytes, set, {
    session: { threads: args.threads },
  });
  await writeFile(args.out, bytes);
  const report = { model: args.model, out: args.out, pass, data: dataset.name, ...comparison };
  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  const { original: a, compressed: b } = comparison;
  io.out(`wrote ${args.out}`);
  io.out(`  size        ${kb(a.bytes)} -> ${kb(b.bytes)} (x${comparison.sizeRatio.toFixed(3)})`);
  io.out(
    `  parameters  ${a.nonzeroParameters} -> ${b.nonzeroParameters} nonzero (of ${b.parameters})`,
  );
  io.out(`  sparsity    ${pct(a.sparsity)} -> ${pct(b.sparsity)}`);
  io.out(
    `  latency     ${a.latencyMs.toFixed(2)} -> ${b.latencyMs.toFixed(2)} ms per batch of ` +
      `${comparison.latencyBatch} (x${comparison.latencyRatio.toFixed(3)})`,
  );
  io.out(
    `  accuracy    ${pct(a.accuracy)} -> ${pct(b.accuracy)} ` +
      `on ${comparison.samples} of ${dataset.name}`,
  );
  io.out(`  agreement   ${pct(comparison.top1Agreement)} top-1 with the original`);
}
