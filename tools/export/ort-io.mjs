// What the Node runners of tools/export/ share: onnxruntime-node as the repository installs it,
// raw little-endian tensors read from files, the manifest named on the command line, and the
// exit codes (1 for a failed check, printed by the runner; 2 for bad usage or an error).

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ort = createRequire(resolve(repoRoot, 'package.json'))('onnxruntime-node');

const kinds = {
  float32: { bytes: 4, View: Float32Array },
  int64: { bytes: 8, View: BigInt64Array },
};

/** The raw little-endian tensor in `path`, checked against `dims`. */
async function readTensor(path, dims, type) {
  const { bytes: size, View } = kinds[type];
  const bytes = await readFile(path);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== expected * size) {
    const want = `${expected * size} bytes for ${type} dims ${JSON.stringify(dims)}`;
    throw new RangeError(`${path}: expected ${want}, found ${bytes.byteLength}`);
  }
  // Copy into a fresh buffer, aligned for the view.
  return new View(new Uint8Array(bytes).buffer);
}

export const readFloat32 = (path, dims) => readTensor(path, dims, 'float32');
export const readInt64 = (path, dims) => readTensor(path, dims, 'int64');

/** A CPU session on the manifest's model, its path taken from the repository root. */
export function cpuSession(model, options = {}) {
  const path = resolve(repoRoot, model);
  return ort.InferenceSession.create(path, { executionProviders: ['cpu'], ...options });
}

/**
 * Runs `main(manifest)` on the manifest named by the first argument of `script` (its
 * import.meta.url); exits 2 on bad usage or an error, else with the code `main` returns.
 */
export function runWithManifest(script, main) {
  const run = async () => {
    const manifestPath = process.argv[2];
    if (!manifestPath) {
      console.error(`usage: node tools/export/${basename(fileURLToPath(script))} <manifest.json>`);
      process.exit(2);
    }
    process.exit(await main(JSON.parse(await readFile(manifestPath, 'utf8'))));
  };
  run().catch((error) => {
    console.error(error);
    process.exit(2);
  });
}
