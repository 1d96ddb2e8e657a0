/**
 * `ortlab flatness <model> <data>`: the GeNAS flatness of a model's loss surface on a dataset.
 */
import { readFile } from 'node:fs/promises';

import { checkRadii, measureFlatness, type FlatnessOptions } from '../search/flatness.js';
import { loadValidationSet } from '../search/validation-set.js';
import { openDataset } from '../runtime/datasets/open-dataset.js';
import { resolvePreset } from '../runtime/preprocess/presets.js';
import { runConfig } from '../runtime/run-config.js';
import { Session } from '../runtime/session.js';
import type { Output } from './commands.js';
import { readModelCard } from './model-card.js';
import { progressBar } from './progress-bar.js';

export interface FlatnessArgs {
  model: string;
  data: string;
  radii?: string;
  draws?: number;
  seed?: number;
  noise?: string;
  directions?: string;
  weights?: string;
  engine?: string;
  limit?: number;
  preset?: string;
  batch?: number;
  ep?: string;
  threads?: number;
  json?: boolean;
  progress?: boolean;
}

/** Checks that an option's value is one of `allowed`. */
export function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) {
    throw new RangeError(`--${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  }
  return value as T;
}

/** Parses `--radii 0.001,0.003,0.006`. */
export function parseRadii(value: string): number[] {
  const radii = value.split(',').map((v) => Number(v.trim()));
  if (radii.some((r) => !Number.isFinite(r))) {
    throw new RangeError(`--radii takes numbers separated by commas, got '${value}'`);
  }
  return radii;
}

export async function flatnessCommand(args: FlatnessArgs, io: Output): Promise<void> {
  const options: FlatnessOptions = {
    radii: args.radii === undefined ? undefined : parseRadii(args.radii),
    draws: args.draws,
    seed: args.seed,
    noise: oneOf('noise', args.noise, ['cumulative', 'independent'] as const),
    directions: oneOf('directions', args.directions, ['gaussian', 'filter-normalized'] as const),
    weights: oneOf('weights', args.weights, ['all', 'no-bias-norm'] as const),
    engine: oneOf('engine', args.engine, ['auto', 'inputs', 'patch'] as const),
    session: { executionProviders: args.ep, threads: args.threads },
    onProgress: args.progress === false ? undefined : progressBar(),
  };
  if (options.radii) checkRadii(options.radii);
  const card = await readModelCard(args.model);
  const bytes = new Uint8Array(
    await readFile(args.model).catch(() => {
      throw new Error(`model file '${args.model}' not found; check the path`);
    }),
  );
  const probe = await Session.create(bytes, options.session);
  const preset = resolvePreset(args.preset ?? card?.preset ?? 'raw', probe.inputs[0].dims);
  const config = runConfig(probe, args.model, args.threads);
  await probe.dispose();
  const dataset = await openDataset(args.data);
  const data = await loadValidationSet(dataset, preset, {
    limit: args.limit,
    batchSize: args.batch,
  });
  const result = await measureFlatness(bytes, data, options);
  const report = {
    ...result,
    data: { name: dataset.name, samples: data.n, skipped: data.skipped },
    config: { ...config, preset },
  };
  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  io.out(
    `flatness ${result.flatness.toPrecision(6)} (poor ${result.poor.toPrecision(6)}) ` +
      `on ${data.n} samples of ${dataset.name}`,
  );
  io.out(`  base loss ${result.baseLoss.toFixed(6)}`);
  result.radii.forEach((r, i) => {
    const spreadText = result.draws > 1 ? ` ± ${result.lossSpread[i].toFixed(6)}` : '';
    io.out(`  radius ${r}: loss ${result.losses[i].toFixed(6)}${spreadText}`);
  });
  io.out(
    `  engine ${result.engine} (${result.engineReason}); ` +
      `seed ${result.seed}, ${result.draws} draw(s), ${result.noise} noise`,
  );
}
