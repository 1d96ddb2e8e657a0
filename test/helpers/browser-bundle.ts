/**
 * Bundles a module for the browser with esbuild, as a web app would: its browser platform fails
 * on any `node:` import, and the input list lets a test check that no Node-only code came along.
 */
import { build } from 'esbuild';
import path from 'node:path';

/** The files the browser bundle of `entry` (a path from the repository root) is made of. */
export async function browserBundleInputs(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [path.resolve(entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: ['*.wasm'],
    outdir: 'out',
  });
  return Object.keys(result.metafile.inputs);
}
