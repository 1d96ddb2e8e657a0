/**
 * ortlab for the browser: sessions on `onnxruntime-web` (WebGPU, then wasm), images from
 * `ImageData`, bitmaps or URLs. No sharp, no `node:` module: a test scans the import graph.
 */
import './runtime/backend-web.js';

export * from './core.js';
export { webBackend } from './runtime/backend-web.js';
