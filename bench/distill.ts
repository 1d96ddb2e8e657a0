/**
 * Every CKD term (`ckdLoss`: word-relation pairs and windowed angles per matched layer pair,
 * layer transforming relations, soft cross-entropy) for 32 sequences of 128 tokens, a teacher of
 * 13 hidden states x 768 and a student of 7 x 384, emb+skip mapping, window 21: ortlab with its
 * TypeScript Gram kernel and with ONNX Runtime's MatMul (`createOrtGram`, 2 threads), against
 * the same computation in PyTorch on the CPU (tools/bench/ckd_torch.py, Debian's torch, 2
 * threads like ONNX Runtime's default here). Target: ortlab at most 1.0 x PyTorch's time.
 *
 * Both sides build identical inputs from the same integer hash, so their losses are compared
 * too. Rounds alternate the sides; medians of the per-call seconds are compared. Two PyTorch
 * variants are reported besides: 1 thread (on a shared 2-core machine OpenMP's second thread can
 * cost more than it brings) and explicit difference vectors for the angles (CKD's own code).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import '../src/index.js';
import { ckdLoss, createOrtGram, type HiddenStates, type Logits } from '../src/distill/index.js';
import { median } from './timing.js';
import { hashUniform } from './hash-uniform.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = 'tools/bench/ckd_torch.py';
const CONFIG = {
  batch: 32,
  tokens: 128,
  teacher: { layers: 13, hidden: 768 },
  student: { layers: 7, hidden: 384 },
  classes: 3,
  mapping: 'emb+skip',
  window: 21,
  threads: 2,
} as const;
const ROUNDS = 2;

function model(layers: number, hidden: number, seed: number): HiddenStates[] {
  const { batch, tokens } = CONFIG;
  return Array.from({ length: layers }, (_, l) => ({
    data: hashUniform(seed + l, batch * tokens * hidden),
    dims: [batch, tokens, hidden],
  }));
}

function logits(seed: number): Logits {
  const data = hashUniform(seed, CONFIG.batch * CONFIG.classes).map((v) => v * 4);
  return { data, dims: [CONFIG.batch, CONFIG.classes] };
}

interface TorchRun {
  seconds: number;
  repeats: number[];
  terms: Record<string, number>;
  threads: number;
  torch: string;
}

function runTorch(options: { angle: string; threads: number; repeats: number }): TorchRun {
  const args = [
    SCRIPT,
    `--angle=${options.angle}`,
    `--threads=${options.threads}`,
    `--repeats=${options.repeats}`,
    `--window=${CONFIG.window}`,
    `--classes=${CONFIG.classes}`,
  ];
  const run = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (run.status !== 0) {
    throw new Error(`${PYTHON} ${args.join(' ')} failed:\n${run.stderr}`);
  }
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as TorchRun;
}

async function timeCalls(calls: number, f: () => Promise<unknown>): Promise<number[]> {
  const seconds: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    await f();
    seconds.push((performance.now() - start) / 1000);
  }
  return seconds;
}

function worstRelative(a: Partial<Record<string, number>>, b: Record<string, number>): number {
  let worst = 0;
  for (const [term, value] of Object.entries(b)) {
    worst = Math.max(worst, Math.abs((a[term] ?? NaN) - value) / Math.abs(value));
  }
  return worst;
}

export async function benchDistill(): Promise<unknown> {
  const loadBefore = os.loadavg().map((v) => Number(v.toFixed(2)));
  const teacher = {
    hidden: model(CONFIG.teacher.layers, CONFIG.teacher.hidden, 1),
    logits: logits(201),
  };
  const student = {
    hidden: model(CONFIG.student.layers, CONFIG.student.hidden, 101),
    logits: logits(202),
  };
  const options = { mapping: CONFIG.mapping, window: CONFIG.window };
  const ortGram = await createOrtGram({ threads: CONFIG.threads, executionProviders: 'cpu' });
  const seconds = { typescript: [] as number[], ort: [] as number[], torch: [] as number[] };
  let terms: Partial<Record<string, number>> = {};
  let torchRun: TorchRun | undefined;
  try {
    await ckdLoss(teacher, student, { ...options, gram: ortGram.gram }); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      torchRun = runTorch({ angle: 'gram', threads: CONFIG.threads, repeats: 3 });
      seconds.torch.push(...torchRun.repeats);
      seconds.ort.push(
        ...(await timeCalls(3, () =>
          ckdLoss(teacher, student, { ...options, gram: ortGram.gram }),
        )),
      );
      seconds.typescript.push(
        ...(await timeCalls(2, async () => {
          terms = (await ckdLoss(teacher, student, options)).terms;
        })),
      );
    }
  } finally {
    await ortGram.dispose();
  }
  const oneThread = runTorch({ angle: 'gram', threads: 1, repeats: 3 });
  const explicit = runTorch({ angle: 'explicit', threads: CONFIG.threads, repeats: 2 });

  const torch = median(seconds.torch);
  const ts = median(seconds.typescript);
  const ort = median(seconds.ort);
  const line = {
    name: 'ckdLoss (all CKD terms) vs the same computation in PyTorch (CPU)',
    config: { ...CONFIG, torch: torchRun?.torch, torchThreads: torchRun?.threads },
    // The machine is shared: the load average says how busy it was during the run.
    loadAverage: { before: loadBefore, after: os.loadavg().map((v) => Number(v.toFixed(2))) },
    ortlabTypescriptSeconds: Number(ts.toFixed(3)),
    ortlabOrtGramSeconds: Number(ort.toFixed(3)),
    torchSeconds: Number(torch.toFixed(3)),
    ratioTypescript: Number((ts / torch).toFixed(3)),
    ratioOrtGram: Number((ort / torch).toFixed(3)),
    torchOneThreadSeconds: Number(oneThread.seconds.toFixed(3)),
    ratioOrtGramVsTorchOneThread: Number((ort / oneThread.seconds).toFixed(3)),
    torchExplicitAnglesSeconds: Number(explicit.seconds.toFixed(3)),
    samples: seconds,
    terms,
    worstRelativeDifferenceToTorch: Number(worstRelative(terms, oneThread.terms).toPrecision(3)),
    target: 'ortlab <= 1.0 x PyTorch',
  };
  console.log(
    `distill: ortlab ${line.ortlabTypescriptSeconds} s (TypeScript Gram), ` +
      `${line.ortlabOrtGramSeconds} s (ONNX Runtime Gram); PyTorch ${line.torchSeconds} s ` +
      `(${CONFIG.threads} threads), ${line.torchOneThreadSeconds} s (1 thread), ` +
      `${line.torchExplicitAnglesSeconds} s (explicit angles)\n` +
      `distill: ratio ${line.ratioTypescript} (TypeScript), ${line.ratioOrtGram} (ONNX Runtime ` +
      `Gram); ${line.ratioOrtGramVsTorchOneThread} against PyTorch on 1 thread (target <= 1.0)`,
  );
  console.log(JSON.stringify(line));
  return line;
}

if (import.meta.url === pathToFileURL(path.resolve(process.argv[1] ?? '')).href) {
  await benchDistill();
}
