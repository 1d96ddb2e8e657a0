// Run a text encoder in onnxruntime-node on stored token ids and store the outputs it names.
//
// Usage: node tools/export/run_encoder.mjs <manifest.json>
//
// The manifest (written by tools/export/encoder_runtime.py) names the model, its int64 inputs
// as {name: {dims, file}} with raw little-endian int64 files ([batch, tokens], e.g. input_ids
// and attention_mask), the outputs to keep and a folder to write them to: each output goes to
// <outDir>/<name>.f32 as raw little-endian float32, row major. The whole input is one run.
// Prints one JSON line with each output's dims, the seconds spent in session.run and the ONNX
// Runtime versions. Exits 1 when an output value is not finite, 2 on bad usage.

import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(resolve(repoRoot, 'package.json'));
const ort = require('onnxruntime-node');

async function readInt64(path, dims) {
  const bytes = await readFile(path);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== expected * 8) {
    const want = `${expected * 8} bytes for int64 dims ${JSON.stringify(dims)}`;
    throw new RangeError(`${path}: expected ${want}, found ${bytes.byteLength}`);
  }
  // Copy into a fresh, 8-byte aligned buffer before viewing it as int64.
  const copy = new Uint8Array(bytes);
  return new BigInt64Array(copy.buffer);
}

async function main() {
  const manifestPath = process.argv[2];
  if (!manifestPath) {
    console.error('usage: node tools/export/run_encoder.mjs <manifest.json>');
    process.exit(2);
  }
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  const feeds = {};
  for (const [name, input] of Object.entries(manifest.inputs)) {
    feeds[name] = new ort.Tensor('int64', await readInt64(input.file, input.dims), input.dims);
  }

  const session = await ort.InferenceSession.create(resolve(repoRoot, manifest.model), {
    executionProviders: ['cpu'],
    intraOpNumThreads: manifest.threads ?? 1,
  });
  const started = process.hrtime.bigint();
  const result = await session.run(feeds, manifest.outputs);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const dims = {};
  let nonFinite = 0;
  for (const name of manifest.outputs) {
    const values = Float32Array.from(result[name].data);
    nonFinite += values.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
    dims[name] = result[name].dims;
    await writeFile(join(manifest.outDir, `${name}.f32`), new Uint8Array(values.buffer));
  }
  await session.release();

  const report = { ok: nonFinite === 0, dims, nonFinite, seconds };
  console.log(JSON.stringify({ ...report, ort: ort.env.versions }));
  process.exit(nonFinite === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
