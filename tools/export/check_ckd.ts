// Compute ortlab's distillation terms (src/distill) on stored hidden states and logits, so that
// tools/export/train_distill.py can check its torch losses against them.
//
// Usage: npx tsx tools/export/check_ckd.ts <manifest.json>
//
// The manifest names, for `teacher` and `student`, the raw little-endian float32 files of every
// hidden state (`hidden`, embedding output first, each [batch, tokens, hidden] with the model's
// `width`) and of the logits ([batch, classes]); `mask`, the attention mask as one JSON array of
// 0/1 ([batch, tokens] row major); `dims` [batch, tokens]; `mapping`, `window` and
// `temperature`; and `out`, the JSON file to write. It writes ckdLoss's four relation terms
// (weights 1, distance terms off) and kdLoss with T^2. Exits 2 on bad usage.

import { readFileSync, writeFileSync } from 'node:fs';

import { ckdLoss, kdLoss, type HiddenStates, type MappingKind } from '../../src/distill/index.js';

interface Side {
  hidden: string[];
  logits: string;
  width: number;
}

interface Manifest {
  teacher: Side;
  student: Side;
  mask: number[];
  dims: [number, number];
  mapping: MappingKind;
  window: number;
  temperature: number;
  out: string;
}

function readFloat32(path: string, length: number): Float32Array {
  const bytes = readFileSync(path);
  if (bytes.byteLength !== length * 4) {
    throw new RangeError(`${path}: expected ${length * 4} bytes, found ${bytes.byteLength}`);
  }
  // Copy into a fresh, 4-byte aligned buffer before viewing it as float32.
  return new Float32Array(new Uint8Array(bytes).buffer);
}

function layers(side: Side, dims: [number, number]): HiddenStates[] {
  const [batch, tokens] = dims;
  return side.hidden.map((file) => ({
    data: readFloat32(file, batch * tokens * side.width),
    dims: [batch, tokens, side.width],
  }));
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: npx tsx tools/export/check_ckd.ts <manifest.json>\n');
    process.exit(2);
  }
  const m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  const [batch] = m.dims;
  const logits = (side: Side) => ({ data: readFloat32(side.logits, batch * 2), dims: [batch, 2] });
  const mask = Uint8Array.from(m.mask);

  const result = await ckdLoss(
    { hidden: layers(m.teacher, m.dims) },
    { hidden: layers(m.student, m.dims) },
    { mask, mapping: m.mapping, window: m.window, weights: { kd: 0 } },
  );
  const kd = kdLoss(logits(m.teacher), logits(m.student), {
    temperature: m.temperature,
    temperatureSquared: true,
  });
  const output = { terms: { ...result.terms, kd }, mapping: result.mapping };
  writeFileSync(m.out, JSON.stringify(output));
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(2);
});
