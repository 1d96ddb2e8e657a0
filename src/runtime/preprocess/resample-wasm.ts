/**
 * The WebAssembly build of the resampler's two passes (tools/wasm/resample.c, SIMD128): the
 * same integer arithmetic as resample.ts, several times faster per image, and the choice
 * between the two. resample.ts calls `runWasmPasses` with the taps of resample-taps.ts; it falls
 * back to its own loops where WebAssembly SIMD is missing or `ORTLAB_RESAMPLER=js` asks for them.
 */
import type { Taps } from './resample-taps.js';
import { RESAMPLE_WASM_BASE64 } from './resample-wasm-bytes.js';

interface Exports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  horizontal(...args: number[]): void;
  vertical(...args: number[]): void;
}

let compiled: WebAssembly.Module | null | undefined;
let instance: Exports | undefined;

/**
 * Memory an instance may keep between images. An instance's memory only grows; after an image
 * that needed more, the instance is dropped (the garbage collector frees its memory) and the
 * next image gets a fresh one from the compiled module, so one large photo does not hold its
 * size in every thread for the rest of the run.
 */
const KEPT_BYTES = 64 << 20;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The instantiated module, or null where this runtime cannot compile it (no WebAssembly, no
 * SIMD). Compiled once per thread, synchronously: the module is 2 KB, under the size browsers
 * allow to compile on the main thread.
 */
function wasm(): Exports | null {
  if (instance !== undefined) return instance;
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(decodeBase64(RESAMPLE_WASM_BASE64));
    } catch {
      compiled = null;
    }
  }
  if (compiled === null) return null;
  try {
    instance = new WebAssembly.Instance(compiled, {}).exports as unknown as Exports;
  } catch {
    return null; // no memory for a new instance now: the JavaScript loops do this image
  }
  return instance;
}

/** The bytes of memory the current instance holds (0 when there is none): for tests. */
export function wasmMemoryBytes(): number {
  return instance?.memory.buffer.byteLength ?? 0;
}

/** True when the WebAssembly passes can run here. */
export function wasmResamplerAvailable(): boolean {
  return wasm() !== null;
}

/** Which implementation runs the resampler's passes. */
export type ResamplerKind = 'wasm' | 'js';

function resamplerFromEnvironment(): ResamplerKind {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  return env?.ORTLAB_RESAMPLER === 'js' ? 'js' : 'wasm';
}

let preferred: ResamplerKind = resamplerFromEnvironment();

/**
 * Chooses the passes' implementation on this thread: 'wasm' (the default; WebAssembly SIMD,
 * where the runtime has it) or 'js' (`ORTLAB_RESAMPLER=js` chooses it for every thread). Both
 * give the same bytes. Returns the previous choice.
 *
 * @example
 * ```ts
 * import { activeResampler, useResampler } from 'ortlab';
 * activeResampler(); // 'wasm' in Node 20
 * const previous = useResampler('js'); // 'wasm'
 * activeResampler(); // 'js'
 * useResampler(previous);
 * ```
 */
export function useResampler(kind: ResamplerKind): ResamplerKind {
  const previous = preferred;
  preferred = kind;
  return previous;
}

/** The implementation that runs now: 'wasm' only where it was chosen and can run. */
export function activeResampler(): ResamplerKind {
  return preferred === 'wasm' && wasmResamplerAvailable() ? 'wasm' : 'js';
}

/** Whether the WebAssembly passes were chosen on this thread (they may still be unavailable). */
export function wasmPreferred(): boolean {
  return preferred === 'wasm';
}

const align = (n: number): number => (n + 15) & ~15;

/**
 * Both passes and the lookup in WebAssembly: `pixels` (`[inHeight, inWidth, channels]`) to
 * `height` rows of `width` pixels written into `out` at `offset` through `table`, for the
 * first `keep` channels, as channel planes or interleaved. `horizontal` and `vertical` cover
 * the output columns and rows (identity taps where an axis keeps its size); `vertical.start`
 * is relative to the source row `firstRow`, and the horizontal pass covers `rowCount` rows
 * from there. Returns false (and writes nothing) when the module is unavailable or its memory
 * cannot grow to the image.
 */
export function runWasmPasses(
  pixels: Uint8Array,
  inWidth: number,
  channels: number,
  horizontal: Taps,
  vertical: Taps,
  firstRow: number,
  rowCount: number,
  width: number,
  height: number,
  table: Float32Array,
  keep: number,
  planes: boolean,
  out: Float32Array,
  offset: number,
): boolean {
  const w = wasm();
  if (w === null) return false;
  const stride = width * channels;
  // The layout: every array 16-byte aligned, with the padding the C loops read or write past
  // their ends (see resample.c).
  let at = align(w.heap_base());
  const place = (bytes: number): number => {
    const here = at;
    at = align(at + bytes);
    return here;
  };
  const pPixels = place(pixels.length + 16);
  const pHStart = place(width * 4);
  const pHCount = place(width * 4);
  const pHWeights = place(horizontal.weights.length * 4);
  const pVStart = place(height * 4);
  const pVCount = place(height * 4);
  const pVWeights = place(vertical.weights.length * 4);
  const pTable = place(table.length * 4);
  const pRows = place(rowCount * stride + 32);
  const pLine = place(stride + 32);
  const pOut = place(keep * width * height * 4);
  const missing = at - w.memory.buffer.byteLength;
  if (missing > 0) {
    try {
      w.memory.grow(Math.ceil(missing / 65536));
    } catch {
      return false; // past WebAssembly's 4 GB or the host's limit: the JavaScript loops do it
    }
  }
  const buffer = w.memory.buffer;
  new Uint8Array(buffer, pPixels, pixels.length).set(pixels);
  new Int32Array(buffer, pHStart, width).set(horizontal.start);
  new Int32Array(buffer, pHCount, width).set(horizontal.count);
  new Int32Array(buffer, pHWeights, horizontal.weights.length).set(horizontal.weights);
  const vStart = new Int32Array(buffer, pVStart, height);
  for (let y = 0; y < height; y++) vStart[y] = vertical.start[y] - firstRow;
  new Int32Array(buffer, pVCount, height).set(vertical.count);
  new Int32Array(buffer, pVWeights, vertical.weights.length).set(vertical.weights);
  new Float32Array(buffer, pTable, table.length).set(table);
  w.horizontal(
    pPixels,
    inWidth,
    channels,
    firstRow,
    rowCount,
    pHStart,
    pHCount,
    pHWeights,
    horizontal.width,
    width,
    pRows,
  );
  w.vertical(
    pRows,
    width,
    channels,
    height,
    pVStart,
    pVCount,
    pVWeights,
    vertical.width,
    pTable,
    keep,
    planes ? 1 : 0,
    pLine,
    pOut,
  );
  out.set(new Float32Array(buffer, pOut, keep * width * height), offset);
  if (buffer.byteLength > KEPT_BYTES) instance = undefined;
  return true;
}
