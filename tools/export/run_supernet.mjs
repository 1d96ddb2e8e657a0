// Run the supernet once per architecture encoding in onnxruntime-node and store its logits.
//
// Usage: node tools/export/run_supernet.mjs <manifest.json>
//
// The supernet (models/nas/supernet*.onnx) takes two inputs: the images and `arch`, a one-hot
// [6, 5] architecture encoding. One session evaluates every candidate: for each of the K
// encodings in the arch file (raw little-endian float32 [K, 6, 5]) the images (raw float32
// [rows, 1, 28, 28]) are fed in slices of `batchSize` rows, so a model whose batch norm uses
// batch statistics sees exactly the batches the Python side used. The manifest names the model,
// `input` {name, dims, file}, `arch` {name, dims, file}, `output` {name, file} and `batchSize`.
// The output file gets float32 [K, rows, classes]. Prints one JSON line with the output dims,
// the seconds spent in session.run and the ONNX Runtime versions. Exits 1 when an output value
// is not finite, 2 on bad usage.

import { writeFile } from 'node:fs/promises';

import { cpuSession, ort, readFloat32, runWithManifest } from './ort-io.mjs';

async function main(manifest) {
  const { input, arch, output, batchSize } = manifest;
  const images = await readFloat32(input.file, input.dims);
  const archs = await readFloat32(arch.file, arch.dims);

  const session = await cpuSession(manifest.model);
  const rows = input.dims[0];
  const inRow = images.length / rows;
  const [count, ...archDims] = arch.dims;
  const archSize = archDims.reduce((a, b) => a * b, 1);

  let values = null;
  let classes = 0;
  let seconds = 0;
  for (let k = 0; k < count; k++) {
    const archFeed = new ort.Tensor(
      'float32',
      archs.slice(k * archSize, (k + 1) * archSize),
      archDims,
    );
    for (let start = 0; start < rows; start += batchSize) {
      const n = Math.min(batchSize, rows - start);
      const slice = images.subarray(start * inRow, (start + n) * inRow);
      const feed = new ort.Tensor('float32', slice, [n, ...input.dims.slice(1)]);
      const started = process.hrtime.bigint();
      const result = await session.run({ [input.name]: feed, [arch.name]: archFeed });
      seconds += Number(process.hrtime.bigint() - started) / 1e9;
      const fetched = result[output.name];
      classes = fetched.dims[1];
      values ??= new Float32Array(count * rows * classes);
      values.set(fetched.data, (k * rows + start) * classes);
    }
  }
  await session.release();
  await writeFile(output.file, new Uint8Array(values.buffer));

  const nonFinite = values.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
  const report = { ok: nonFinite === 0, dims: [count, rows, classes], nonFinite, seconds };
  console.log(JSON.stringify({ ...report, ort: ort.env.versions }));
  return nonFinite === 0 ? 0 : 1;
}

runWithManifest(import.meta.url, main);
