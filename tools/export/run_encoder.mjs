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

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { cpuSession, ort, readInt64, runWithManifest } from './ort-io.mjs';

async function main(manifest) {
  const feeds = {};
  for (const [name, input] of Object.entries(manifest.inputs)) {
    feeds[name] = new ort.Tensor('int64', await readInt64(input.file, input.dims), input.dims);
  }

  const session = await cpuSession(manifest.model, { intraOpNumThreads: manifest.threads ?? 1 });
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
  return nonFinite === 0 ? 0 : 1;
}

runWithManifest(import.meta.url, main);
