// Run an ONNX model in onnxruntime-node on a stored input and store one of its outputs.
//
// Usage: node tools/export/run_model.mjs <manifest.json>
//
// The manifest (written by the Python build scripts, which have no ONNX Runtime of their own)
// names the model, one input with its dims and a raw little-endian float32 file, the output to
// keep and the file to write it to (raw little-endian float32, row after row), and a batch size.
// The input is fed in slices of `batchSize` rows. Prints one JSON line with the output's dims and
// the ONNX Runtime versions. Exits 1 when an output value is not finite, 2 on bad usage.

import { writeFile } from 'node:fs/promises';

import { cpuSession, ort, readFloat32, runWithManifest } from './ort-io.mjs';

async function main(manifest) {
  const { input, output, batchSize } = manifest;
  const inputs = await readFloat32(input.file, input.dims);

  const session = await cpuSession(manifest.model);
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
  return nonFinite === 0 ? 0 : 1;
}

runWithManifest(import.meta.url, main);
