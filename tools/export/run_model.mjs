// Run an ONNX model in onnxruntime-node on a stored input and store one of its outputs.
//
// Usage: node tools/export/run_model.mjs <manifest.json>
//
// The manifest (written by the Python build scripts, which have no ONNX Runtime of their own)
// names the model, one input with its dims and a raw little-endian float32 file, the output to
// keep and the file to write it to (raw little-endian float32, row after row), and a batch size.
// The input is fed in slices of `batchSize` rows. Prints one JSON line with the output's dims and
// the ONNX Runtime versions. Exits 1 when an output value is not finite, 2 on bad usage.

import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(resolve(repoRoot, 'package.json'));
const ort = require('onnxruntime-node');

async function readFloat32(path, dims) {
  const bytes = await readFile(path);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== expected * 4) {
    const want = `${expected * 4} bytes for dims ${JSON.stringify(dims)}`;
    throw new RangeError(`${path}: expected ${want}, found ${bytes.byteLength}`);
  }
  // Copy into a fresh, 4-byte aligned buffer before viewing it as float32.
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer);
}

async function main() {
  const manifestPath = process.argv[2];
  if (!manifestPath) {
    console.error('usage: node tools/export/run_model.mjs <manifest.json>');
    process.exit(2);
  }
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  const { input, output, batchSize } = manifest;
  const inputs = await readFloat32(input.file, input.dims);

  const session = await ort.InferenceSession.create(resolve(repoRoot, manifest.model), {
    executionProviders: ['cpu'],
  });
  const rows = input.dims[0];
  const inRow = inputs.length / rows;

  const chunks = [];
  let outDims = null;
  for (let start = 0; start < rows; start += batchSize) {
    const count = Math.min(batchSize, rows - start);
    const slice = inputs.subarray(start * inRow, (start + count) * inRow);
    const feed = new ort.Tensor('float32', slice, [count, ...input.dims.slice(1)]);
    const result = await session.run({ [input.name]: feed });
    const fetched = result[output.name];
    outDims = [rows, ...fetched.dims.slice(1)];
    chunks.push(Float32Array.from(fetched.data));
  }
  await session.release();

  const values = new Float32Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    values.set(chunk, offset);
    offset += chunk.length;
  }
  await writeFile(output.file, new Uint8Array(values.buffer));

  const nonFinite = values.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
  const report = { ok: nonFinite === 0, dims: outDims, nonFinite };
  console.log(JSON.stringify({ ...report, ort: ort.env.versions }));
  process.exit(nonFinite === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
