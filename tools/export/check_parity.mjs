// Run an ONNX model in onnxruntime-node on a stored input and compare with stored outputs.
//
// Usage: node tools/export/check_parity.mjs <manifest.json>
//
// The manifest (written by the Python export scripts) names the model, one input and one output,
// each with its dims and a raw little-endian float32 file, plus a batch size and an absolute
// tolerance. The input is fed in slices of `batchSize` rows, which also exercises the dynamic
// batch axis. Prints one JSON line with the largest absolute difference and the share of rows
// whose argmax agrees. A NaN on either side counts as a failure. Exits 1 when the difference is
// above the tolerance or a NaN appears, 2 on bad usage.

import { cpuSession, ort, readFloat32, runWithManifest } from './ort-io.mjs';

function argmax(values, start, length) {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[start + i] > values[start + best]) best = i;
  return best;
}

async function main(manifest) {
  const { input, output, batchSize, tolerance } = manifest;
  const inputs = await readFloat32(input.file, input.dims);
  const expected = await readFloat32(output.file, output.dims);

  const session = await cpuSession(manifest.model);
  const rows = input.dims[0];
  const inRow = inputs.length / rows;
  const outRow = expected.length / rows;

  let maxAbsDiff = 0;
  let worstIndex = -1;
  let agree = 0;
  let nonFinite = 0;
  for (let start = 0; start < rows; start += batchSize) {
    const count = Math.min(batchSize, rows - start);
    const slice = inputs.subarray(start * inRow, (start + count) * inRow);
    const feed = new ort.Tensor('float32', slice, [count, ...input.dims.slice(1)]);
    const result = await session.run({ [input.name]: feed });
    const got = result[output.name].data;
    for (let r = 0; r < count; r++) {
      const base = (start + r) * outRow;
      for (let c = 0; c < outRow; c++) {
        const diff = Math.abs(got[r * outRow + c] - expected[base + c]);
        if (Number.isNaN(diff)) {
          nonFinite++;
        } else if (diff > maxAbsDiff) {
          maxAbsDiff = diff;
          worstIndex = base + c;
        }
      }
      if (argmax(got, r * outRow, outRow) === argmax(expected, base, outRow)) agree++;
    }
  }
  await session.release();

  const ok = nonFinite === 0 && maxAbsDiff <= tolerance;
  const report = { ok, maxAbsDiff, worstIndex, nonFinite, tolerance, rows };
  console.log(JSON.stringify({ ...report, argmaxAgreement: agree / rows, ort: ort.env.versions }));
  return ok ? 0 : 1;
}

runWithManifest(import.meta.url, main);
