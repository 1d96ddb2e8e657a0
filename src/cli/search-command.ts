/**
 * `ortlab search rank <manifest>` and `ortlab search evolve <supernet> <data>`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { openDataset } from '../runtime/datasets/open-dataset.js';
import { resolvePreset } from '../runtime/preprocess/presets.js';
import { runConfig } from '../runtime/run-config.js';
import { Session } from '../runtime/session.js';
import { genotype } from '../search/cell-space.js';
import { evolve } from '../search/evolution.js';
import { FlatnessMeter } from '../search/flatness.js';
import { renderRankHtml } from '../search/rank-html.js';
import {
  loadRankData,
  measureRankModels,
  planRanking,
  rankReport,
  type RankReport,
} from '../search/rank-manifest.js';
import { archFeeds, candidateAccuracy, loadSupernet } from '../search/supernet.js';
import { loadValidationSet } from '../search/validation-set.js';
import type { Output } from './commands.js';
import { oneOf, parseRadii } from './flatness-command.js';
import { readModelCard } from './model-card.js';
import { progressBar } from './progress-bar.js';

export interface SearchArgs {
  data?: string;
  /** Preprocessing preset; default: the manifest's or the supernet card's, else `raw`. */
  preset?: string;
  limit?: number;
  radii?: string;
  seed?: number;
  gamma?: number;
  fitness?: string;
  population?: number;
  generations?: number;
  top?: number;
  mutations?: number;
  crossovers?: number;
  mutationProbability?: number;
  /** Flatness engine of `rank`: auto (default), inputs or patch. */
  engine?: string;
  out?: string;
  json?: boolean;
  progress?: boolean;
}

/** `ortlab search rank <manifest>`. */
export async function rankCommand(
  manifestPath: string,
  args: SearchArgs,
  io: Output,
): Promise<void> {
  const plan = await planRanking(manifestPath, rankOptions(args));
  const data = await loadRankData(plan);
  const { models } = await measureRankModels(plan, data, {
    onProgress: args.progress === false ? undefined : progressBar(),
  });
  await presentRank(rankReport(plan, models, data.n), args, io);
}

/** The options of a ranking from the command line's arguments. */
export function rankOptions(args: SearchArgs): Parameters<typeof planRanking>[1] {
  return {
    data: args.data,
    limit: args.limit,
    radii: args.radii ? parseRadii(args.radii) : undefined,
    gamma: args.gamma,
    seed: args.seed,
    engine: oneOf('engine', args.engine, ['auto', 'inputs', 'patch'] as const),
    preset: args.preset,
  };
}

/**
 * Writes `rank.json` and `rank.html` to `--out` (default `ortlab-rank/`) and prints the report's
 * JSON (`--json`) or the table of correlations.
 */
export async function presentRank(report: RankReport, args: SearchArgs, io: Output): Promise<void> {
  const out = args.out ?? 'ortlab-rank';
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'rank.json'), JSON.stringify(report, null, 2));
  await writeFile(path.join(out, 'rank.html'), renderRankHtml(report));
  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  const { correlations, models } = report;
  const targets = Object.keys(correlations.flatness);
  io.out(`${models.length} architectures; Kendall tau-b (Spearman rho) against:`);
  io.out(['predictor'.padEnd(12), ...targets.map((t) => t.padEnd(16))].join(''));
  for (const [name, row] of Object.entries(correlations)) {
    const cells = targets.map((t) =>
      `${row[t].kendall.toFixed(3)} (${row[t].spearman.toFixed(3)})`.padEnd(16),
    );
    io.out([name.padEnd(12), ...cells].join(''));
  }
  io.out(`report: ${path.join(out, 'rank.html')}`);
}

/** `ortlab search evolve <supernet> <data>`. */
export async function evolveCommand(
  supernetPath: string,
  dataSpec: string,
  args: SearchArgs,
  io: Output,
): Promise<void> {
  const fitness = args.fitness ?? 'accuracy';
  if (!['accuracy', 'flatness', 'combined'].includes(fitness)) {
    throw new RangeError(`--fitness must be one of accuracy, flatness, combined, got '${fitness}'`);
  }
  const radii = args.radii ? parseRadii(args.radii) : [0.001, 0.003, 0.006];
  const gamma = args.gamma ?? 0.01;
  const supernet = await loadSupernet(supernetPath);
  const session = await Session.create(supernet.bytes);
  const card = await readModelCard(supernetPath);
  const imageDims = session.inputs.find((i) => i.name === supernet.imageInput)?.dims;
  const preset = resolvePreset(args.preset ?? card?.preset ?? 'raw', imageDims);
  const data = await loadValidationSet(await openDataset(dataSpec), preset, {
    limit: args.limit ?? 1000,
  });
  const first = new Array<number>((supernet.space.nodes * (supernet.space.nodes - 1)) / 2).fill(1);
  const meter =
    fitness === 'accuracy'
      ? undefined
      : await FlatnessMeter.create(
          supernet.bytes,
          data,
          { radii, seed: args.seed ?? 0 },
          archFeeds(supernet, first),
        );
  try {
    const result = await evolve(
      supernet.space,
      async (encoding) => {
        const accuracy = await candidateAccuracy(session, supernet, data, encoding);
        const flat = meter ? (await meter.measure(archFeeds(supernet, encoding))).flatness : NaN;
        const value =
          fitness === 'accuracy'
            ? accuracy
            : fitness === 'flatness'
              ? flat
              : accuracy + (gamma * flat) / radii[0];
        return { fitness: value, scores: { accuracy, flatness: flat } };
      },
      {
        population: args.population,
        generations: args.generations,
        topK: args.top,
        mutations: args.mutations,
        crossovers: args.crossovers,
        mutationProbability: args.mutationProbability,
        seed: args.seed,
        onGeneration: (g) => {
          if (args.progress !== false) {
            process.stderr.write(
              `generation ${g.generation}: ${g.evaluated} new, best ${g.bestFitness.toFixed(5)}\n`,
            );
          }
        },
      },
    );
    const best = result.ranked.slice(0, args.top ?? 10).map((c) => ({
      genotype: genotype(supernet.space, c.encoding),
      encoding: c.encoding,
      fitness: c.fitness,
      ...c.scores,
    }));
    const report = {
      fitness,
      gamma,
      radii,
      best,
      history: result.history,
      evaluated: result.ranked.length,
      config: {
        ...runConfig(session, supernetPath),
        data: dataSpec,
        samples: data.n,
        seed: args.seed ?? 0,
        preset,
      },
    };
    if (args.out) await writeFile(args.out, JSON.stringify(report, null, 2));
    if (args.json) {
      io.out(JSON.stringify(report, null, 2));
      return;
    }
    io.out(`${result.ranked.length} candidates evaluated; best by ${fitness}:`);
    for (const b of best) {
      io.out(
        `  ${b.fitness.toFixed(5)}  accuracy ${(100 * b.accuracy).toFixed(2)}%  ${b.genotype}`,
      );
    }
  } finally {
    await meter?.dispose();
    await session.dispose();
  }
}
