/**
 * Builds the browser bundle with esbuild: `ortlab.js` (the browser entry as one ES module) and
 * `app.js` (the demo page), sharing chunks; transformers.js (tokenizers) in a chunk of its own,
 * loaded on first use. onnxruntime-web is taken in its build that loads the wasm files from
 * `wasmPaths` (served from the package, never a CDN), and transformers.js is pointed at the same
 * copy, so the bundle holds one ONNX Runtime and no onnxruntime-node. Node only; esbuild is a
 * development dependency: `npm run build` runs this, and `ortlab serve` when the bundle is missing.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';

import type { BuildOptions, Metafile } from 'esbuild';

/** Options of {@link buildWebBundle}. */
export interface WebBundleOptions {
  /** The ortlab folder holding `src/` (default: the package's). */
  root: string;
  /** Where the bundle goes (default `<root>/dist/bundle`); emptied first. */
  outDir?: string;
  /** Minify (default true). */
  minify?: boolean;
}

/** What was built. */
export interface WebBundle {
  outDir: string;
  /** Output files, relative to `outDir`, with their sizes in bytes. */
  files: { file: string; bytes: number }[];
  /** The inputs esbuild read, relative to `root`. */
  inputs: string[];
}

/** The esbuild options of the bundle, for `root` and `outDir`. */
export function webBundleOptions(root: string, outDir: string, minify = true): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: { ortlab: 'src/browser.ts', app: 'src/web/app.ts' },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    metafile: true,
    logLevel: 'silent',
    // onnxruntime-web's build that imports its wasm glue from `wasmPaths` at run time, instead of
    // inlining it (inlined, its worker threads would load the whole page script).
    conditions: ['onnxruntime-web-use-extern-wasm'],
    // transformers.js asks for its own onnxruntime-web (a development build) and
    // onnxruntime-common: give it ortlab's, so that one ONNX Runtime is bundled.
    alias: {
      'onnxruntime-web/webgpu': 'onnxruntime-web',
      'onnxruntime-common': 'onnxruntime-web',
    },
    chunkNames: 'chunks/[name]-[hash]',
  };
}

/**
 * Builds the bundle into `outDir`.
 * @throws Error saying how to get esbuild when it is not installed; esbuild's errors otherwise.
 * @example
 * ```ts
 * const bundle = await buildWebBundle({ root: packageRoot() });
 * bundle.files.map((f) => f.file); // ['ortlab.js', 'app.js', 'chunks/...', ...]
 * ```
 */
export async function buildWebBundle(options: WebBundleOptions): Promise<WebBundle> {
  const root = path.resolve(options.root);
  const outDir = path.resolve(options.outDir ?? path.join(root, 'dist', 'bundle'));
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error(
      'esbuild is not installed, so the page bundle cannot be built: in the ortlab repository ' +
        'run npm ci && npm run build (which writes dist/bundle/)',
    );
  }
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await esbuild.build(webBundleOptions(root, outDir, options.minify ?? true));
  const metafile = result.metafile as Metafile;
  const files = Object.entries(metafile.outputs)
    .filter(([file]) => !file.endsWith('.map'))
    .map(([file, output]) => ({
      file: path.relative(outDir, path.resolve(root, file)),
      bytes: output.bytes,
    }));
  return { outDir, files, inputs: Object.keys(metafile.inputs) };
}
