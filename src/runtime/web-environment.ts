/**
 * What the browser offers onnxruntime-web, checked by ortlab itself because onnxruntime-web falls
 * back silently: whether WebGPU has an adapter (and why not), whether the page is cross-origin
 * isolated (without it wasm runs on one thread), and where the wasm files are served from.
 */
import * as ort from 'onnxruntime-web';

import { log } from './logger.js';

/** Whether WebGPU can run here. */
export interface WebGpuStatus {
  available: boolean;
  /** Why it cannot, when it cannot. */
  reason?: string;
  /** The adapter the browser offers, when it does. */
  adapter?: { vendor: string; architecture: string; description: string };
}

/** What {@link inspectWebEnvironment} found. */
export interface WebEnvironment {
  /** `crossOriginIsolated`: the page was served with COOP/COEP, so wasm may use threads. */
  crossOriginIsolated: boolean;
  /** `navigator.hardwareConcurrency` (1 when unknown). */
  hardwareConcurrency: number;
  /** Threads onnxruntime-web's wasm runs on (or will, once started). */
  wasmThreads: number;
  /** Why wasm runs on one thread although the machine has more cores, when it does. */
  singleThreadReason?: string;
  /** Where the wasm files are loaded from; undefined: beside onnxruntime-web's script. */
  wasmPaths?: string;
  webgpu: WebGpuStatus;
}

/** Options of {@link configureWebRuntime}. */
export interface WebRuntimeOptions {
  /**
   * URL prefix of onnxruntime-web's `dist/` folder (its `.wasm` and `.mjs` files), ending in `/`,
   * e.g. `'/ort/'` under `ortlab serve`. Default: beside the script that loaded onnxruntime-web.
   * ortlab never points it at a CDN.
   */
  wasmPaths?: string;
  /**
   * Threads of the wasm backend. Default: onnxruntime-web's choice, half the cores up to 4.
   * Takes effect only before the first session; without cross-origin isolation it is always 1.
   */
  threads?: number;
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string };
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

let webgpuProbe: Promise<WebGpuStatus> | undefined;
let wasmStarted = false;
let warnedIsolation = false;

function isolated(): boolean {
  return typeof crossOriginIsolated === 'boolean' && crossOriginIsolated;
}

function cores(): number {
  const count = typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency;
  return Number.isInteger(count) && count > 0 ? count : 1;
}

async function probe(): Promise<WebGpuStatus> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) {
    let reason =
      'navigator.gpu is missing: this browser has no WebGPU or has it switched off (Chrome and ' +
      'Edge ship it since version 113; Firefox and Safari may need it enabled)';
    if (typeof window === 'undefined' && typeof navigator === 'undefined') {
      reason = 'navigator.gpu is missing: not running in a browser';
    } else if (typeof isSecureContext === 'boolean' && !isSecureContext) {
      reason =
        'navigator.gpu is missing because the page is not a secure context: serve it over ' +
        'https or from localhost';
    }
    return { available: false, reason };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { available: false, reason: `navigator.gpu.requestAdapter() failed: ${message}` };
  }
  if (!adapter) {
    return {
      available: false,
      reason:
        'navigator.gpu.requestAdapter() found no adapter: the browser has no GPU it may use ' +
        'for WebGPU (none present, blocklisted, or switched off, e.g. by --disable-gpu)',
    };
  }
  const info = adapter.info ?? {};
  return {
    available: true,
    adapter: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      description: info.description ?? '',
    },
  };
}

/**
 * Whether WebGPU can run here, asked of the browser once (`navigator.gpu.requestAdapter()`) and
 * remembered.
 * @example
 * ```ts
 * // { available: false, reason: 'navigator.gpu.requestAdapter() found no adapter: ...' }
 * await probeWebGpu();
 * ```
 */
export function probeWebGpu(): Promise<WebGpuStatus> {
  webgpuProbe ??= probe();
  return webgpuProbe;
}

function defaultThreads(): number {
  return Math.min(4, Math.ceil(cores() / 2));
}

/** Threads wasm runs (or will run) on. */
function wasmThreads(): number {
  if (!isolated()) return 1;
  const asked = ort.env.wasm.numThreads;
  return typeof asked === 'number' && asked > 0 ? asked : defaultThreads();
}

function singleThreadReason(): string | undefined {
  if (isolated() || cores() < 2) return undefined;
  return (
    'the page is not cross-origin isolated (crossOriginIsolated is false), so onnxruntime-web ' +
    'runs wasm on one thread: serve it with the headers Cross-Origin-Opener-Policy: ' +
    'same-origin and Cross-Origin-Embedder-Policy: require-corp (ortlab serve does)'
  );
}

/**
 * Sets where onnxruntime-web loads its wasm files from and how many threads it uses. Call it
 * before the first session.
 * @throws RangeError for a thread count that is not an integer from 1 to 64, or a `wasmPaths`
 *   that does not end in `/`.
 * @example
 * ```ts
 * configureWebRuntime({ wasmPaths: '/ort/', threads: 2 });
 * ```
 */
export function configureWebRuntime(options: WebRuntimeOptions): void {
  const { wasmPaths, threads } = options;
  if (wasmPaths !== undefined) {
    if (typeof wasmPaths !== 'string' || !wasmPaths.endsWith('/')) {
      throw new RangeError(
        `wasmPaths must be a URL prefix ending in '/', such as '/ort/', got ${String(wasmPaths)}`,
      );
    }
    ort.env.wasm.wasmPaths = wasmPaths;
  }
  if (threads !== undefined) setWasmThreads(threads);
}

/** Sets the wasm thread count, saying so when it cannot take effect. */
export function setWasmThreads(threads: number): void {
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    throw new RangeError(`threads must be an integer from 1 to 64, got ${String(threads)}`);
  }
  if (wasmStarted && threads !== ort.env.wasm.numThreads) {
    log.warning(
      'session',
      `onnxruntime-web already runs wasm on ${String(ort.env.wasm.numThreads)} thread(s); ` +
        `${threads} takes effect after the page is reloaded`,
    );
    return;
  }
  if (threads > 1 && !isolated()) {
    log.warning('session', `${threads} threads asked for, but ${singleThreadReason() ?? ''}`);
  }
  // onnxruntime-web itself would only warn on the console before falling back to one thread.
  ort.env.wasm.numThreads = isolated() ? threads : 1;
}

/**
 * Called by the web backend before its first session: warns once when wasm will run on one
 * thread for want of cross-origin isolation, and pins the count so onnxruntime-web agrees.
 */
export function beforeFirstSession(): void {
  if (wasmStarted) return;
  const reason = singleThreadReason();
  if (reason !== undefined && !warnedIsolation) {
    warnedIsolation = true;
    log.warning('session', reason);
  }
  if (!isolated()) ort.env.wasm.numThreads = 1;
}

/** Called by the web backend once a session exists: the thread count is fixed from now on. */
export function markWasmStarted(): void {
  wasmStarted = true;
}

/**
 * Everything the page should show about where models run: isolation, wasm threads and why they
 * are one, WebGPU and why it is unavailable.
 * @example
 * ```ts
 * const env = await inspectWebEnvironment();
 * env.crossOriginIsolated; // true under `ortlab serve`
 * env.webgpu.reason;       // 'navigator.gpu.requestAdapter() found no adapter: ...'
 * ```
 */
export async function inspectWebEnvironment(): Promise<WebEnvironment> {
  const paths = ort.env.wasm.wasmPaths;
  return {
    crossOriginIsolated: isolated(),
    hardwareConcurrency: cores(),
    wasmThreads: wasmThreads(),
    singleThreadReason: singleThreadReason(),
    wasmPaths: typeof paths === 'string' ? paths : paths?.wasm?.toString(),
    webgpu: await probeWebGpu(),
  };
}

/** Whether onnxruntime-web started a WebGPU device (after a WebGPU session was created). */
export function webgpuDeviceStarted(): boolean {
  const webgpu = ort.env.webgpu as { adapter?: unknown; device?: unknown } | undefined;
  return webgpu?.adapter !== undefined && webgpu.adapter !== null;
}
