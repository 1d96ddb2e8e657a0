/**
 * The whole COCO-5K retrieval protocol (5000 images, 25000 captions, 1024 dims; Recall@K, medr
 * and meanr in both directions, every rank) in ortlab's `recallAtK` (ONNX Runtime, chunks of
 * images) against the same protocol in numpy with Debian's BLAS (tools/bench/retrieval_numpy.py:
 * one 500 MB float32 similarity matrix, then counts). Target: ortlab at most 1.0 x numpy's time,
 * and peak memory well under the 500 MB a full float32 similarity matrix takes.
 *
 * Each side runs in a process of its own, so that its peak resident memory (`maxRSS`) is its
 * own; both make the same deterministic embeddings (an integer hash, float32 arithmetic) before
 * timing, so their ranks are compared too. Rounds alternate the sides; medians are compared.
 * Threads: each library's default (every core).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import '../src/index.js';
import { recallAtK } from '../src/retrieval/recall.js';
import { median } from './timing.js';
import { hashUniform } from './hash-uniform.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = 'tools/bench/retrieval_numpy.py';
const CONFIG = { images: 5000, captionsPerImage: 5, dim: 1024, noise: 8, repeats: 2 } as const;
const ROUNDS = 2;

/** Images, and captions = their image + noise x uniform, in float32 arithmetic like numpy's. */
function embeddings(): { images: Float32Array; texts: Float32Array } {
  const { images: n, captionsPerImage: k, dim, noise } = CONFIG;
  const images = hashUniform(1, n * dim);
  const texts = hashUniform(2, n * k * dim);
  for (let j = 0; j < n * k; j++) {
    const image = Math.floor(j / k) * dim;
    for (let d = 0; d < dim; d++) {
      texts[j * dim + d] = Math.fround(Math.fround(texts[j * dim + d] * noise) + images[image + d]);
    }
  }
  return { images, texts };
}

interface SideRun {
  seconds: number;
  repeats: number[];
  /** CPU seconds of every thread, per repeat: less sensitive than wall time to a busy machine. */
  cpuSeconds: number[];
  baselineRssMB: number;
  peakRssMB: number;
  rsum: number;
  i2t: Record<string, number>;
  t2i: Record<string, number>;
}

/** The ortlab side, run in a child process (`--child RANKS_FILE`). */
async function child(ranksFile: string): Promise<void> {
  const { images, texts } = embeddings();
  const baselineRssMB = process.memoryUsage().rss / 2 ** 20;
  const repeats: number[] = [];
  const cpuSeconds: number[] = [];
  let result: Awaited<ReturnType<typeof recallAtK>> | undefined;
  for (let r = 0; r < CONFIG.repeats; r++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    result = await recallAtK(images, texts, {
      dim: CONFIG.dim,
      captionsPerImage: CONFIG.captionsPerImage,
    });
    repeats.push((performance.now() - start) / 1000);
    const used = process.cpuUsage(cpu);
    cpuSeconds.push((used.user + used.system) / 1e6);
  }
  const ranks = new Int32Array(result!.images + result!.texts);
  ranks.set(result!.i2tRanks);
  ranks.set(result!.t2iRanks, result!.images);
  await writeFile(ranksFile, ranks);
  const line: SideRun = {
    seconds: median(repeats),
    repeats,
    cpuSeconds,
    baselineRssMB,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    rsum: result!.rsum,
    i2t: { ...result!.i2t },
    t2i: { ...result!.t2i },
  };
  console.log(JSON.stringify(line));
}

function runSide(command: string, args: string[]): SideRun {
  const run = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as SideRun;
}

async function differingRanks(a: string, b: string): Promise<number> {
  const x = new Int32Array((await readFile(a)).buffer.slice(0));
  const y = new Int32Array((await readFile(b)).buffer.slice(0));
  let count = Math.abs(x.length - y.length);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) count++;
  return count;
}

const round3 = (x: number): number => Number(x.toFixed(3));

export async function benchRetrieval(): Promise<unknown> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-bench-retrieval-'));
  const loadBefore = os.loadavg().map((v) => Number(v.toFixed(2)));
  const numpyRanks = path.join(dir, 'numpy.i32');
  const ortlabRanks = path.join(dir, 'ortlab.i32');
  const runs = { numpy: [] as SideRun[], ortlab: [] as SideRun[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const sides =
        round % 2 === 0 ? (['numpy', 'ortlab'] as const) : (['ortlab', 'numpy'] as const);
      for (const side of sides) {
        runs[side].push(
          side === 'numpy'
            ? runSide(PYTHON, [
                SCRIPT,
                `--images=${CONFIG.images}`,
                `--captions-per-image=${CONFIG.captionsPerImage}`,
                `--dim=${CONFIG.dim}`,
                `--noise=${CONFIG.noise}`,
                `--repeats=${CONFIG.repeats}`,
                `--ranks-out=${numpyRanks}`,
              ])
            : runSide(process.execPath, [
                '--import',
                'tsx',
                'bench/retrieval.ts',
                '--child',
                ortlabRanks,
              ]),
        );
      }
    }
    const numpy = median(runs.numpy.flatMap((r) => r.repeats));
    const ortlab = median(runs.ortlab.flatMap((r) => r.repeats));
    const cpu = {
      numpy: median(runs.numpy.flatMap((r) => r.cpuSeconds)),
      ortlab: median(runs.ortlab.flatMap((r) => r.cpuSeconds)),
    };
    const peak = (side: SideRun[]) => Math.max(...side.map((r) => r.peakRssMB));
    const baseline = (side: SideRun[]) => Math.min(...side.map((r) => r.baselineRssMB));
    const line = {
      name: 'recallAtK, COCO-5K protocol (both directions, all ranks) vs numpy',
      config: { ...CONFIG, threads: 'default (all cores)', cpus: os.cpus().length },
      loadAverage: { before: loadBefore, after: os.loadavg().map((v) => Number(v.toFixed(2))) },
      ortlabSeconds: round3(ortlab),
      numpySeconds: round3(numpy),
      ratio: round3(ortlab / numpy),
      ortlabCpuSeconds: round3(cpu.ortlab),
      numpyCpuSeconds: round3(cpu.numpy),
      cpuRatio: round3(cpu.ortlab / cpu.numpy),
      ortlabPeakRssMB: Math.round(peak(runs.ortlab)),
      ortlabRssAboveEmbeddingsMB: Math.round(peak(runs.ortlab) - baseline(runs.ortlab)),
      numpyPeakRssMB: Math.round(peak(runs.numpy)),
      numpyRssAboveEmbeddingsMB: Math.round(peak(runs.numpy) - baseline(runs.numpy)),
      similarityMatrixMB: Math.round(
        (CONFIG.images * CONFIG.images * CONFIG.captionsPerImage * 4) / 2 ** 20,
      ),
      rsum: { ortlab: runs.ortlab[0].rsum, numpy: runs.numpy[0].rsum },
      ranksDiffering: await differingRanks(ortlabRanks, numpyRanks),
      samples: {
        ortlab: runs.ortlab.flatMap((r) => r.repeats),
        numpy: runs.numpy.flatMap((r) => r.repeats),
      },
      target: 'ortlab <= 1.0 x numpy; peak memory well under the 477 MiB (500 MB) matrix',
    };
    console.log(
      `retrieval: ortlab ${line.ortlabSeconds} s, numpy ${line.numpySeconds} s, ratio ` +
        `${line.ratio} (target <= 1.0); CPU time ratio ${line.cpuRatio}; ` +
        `peak RSS ortlab ${line.ortlabPeakRssMB} MiB ` +
        `(${line.ortlabRssAboveEmbeddingsMB} above its embeddings), numpy ${line.numpyPeakRssMB} ` +
        `MiB (${line.numpyRssAboveEmbeddingsMB} above); ${line.ranksDiffering} of ` +
        `${CONFIG.images * (1 + CONFIG.captionsPerImage)} ranks differ`,
    );
    console.log(JSON.stringify({ ...line, samples: undefined }));
    return line;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(path.resolve(process.argv[1] ?? '')).href) {
  const at = process.argv.indexOf('--child');
  if (at >= 0) await child(process.argv[at + 1]);
  else await benchRetrieval();
}
