/**
 * ortlab for the browser: sessions on `onnxruntime-web` (WebGPU, then wasm), images from
 * `ImageData`, bitmaps or URLs. No sharp, no `node:` module: a test scans the import graph.
 */
import { registerBackend } from './runtime/backend.js';
import { webBackend } from './runtime/backend-web.js';

registerBackend(webBackend);

export * from './core.js';
export { webBackend };
export { registerBackend, getBackend } from './runtime/backend.js';
export type { RuntimeBackend } from './runtime/backend.js';
export { imageDataSource } from './runtime/preprocess/image-web.js';
