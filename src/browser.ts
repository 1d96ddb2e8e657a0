/**
 * ortlab for the browser: sessions on `onnxruntime-web` (WebGPU, then wasm, with the reason when
 * WebGPU does not start), images from `ImageData`, bitmaps, `<img>`, Blobs or URLs, IDX datasets
 * and robustness suites by URL with the same report as Node, tokenizers served beside the page.
 * No sharp, no `node:` module: a test scans the import graph.
 */
import { registerBackend } from './runtime/backend.js';
import { webBackend } from './runtime/backend-web.js';

registerBackend(webBackend);

export * from './core.js';
export { webBackend };
export { registerBackend, getBackend } from './runtime/backend.js';
export type { RuntimeBackend } from './runtime/backend.js';
export { imageDataSource } from './runtime/preprocess/image-web.js';
export { imageSource } from './runtime/preprocess/image-web.js';
export type { BrowserImage } from './runtime/preprocess/image-web.js';
export {
  configureWebRuntime,
  inspectWebEnvironment,
  probeWebGpu,
} from './runtime/web-environment.js';
export type { WebEnvironment, WebGpuStatus, WebRuntimeOptions } from './runtime/web-environment.js';
export { openIdxUrl, fetchIdx } from './runtime/datasets/idx-web.js';
export type { IdxUrlOptions } from './runtime/datasets/idx-web.js';
export { loadTokenizerUrl, loadTokenizerUrl as loadTokenizer } from './runtime/tokenizer-web.js';
export type {
  TextTokenizer,
  TokenBatch,
  EncodeOptions,
  TokenizerOptions,
} from './runtime/tokenizer-core.js';
export { loadSuiteUrl, runSuiteWeb } from './eval/suite-web.js';
export type { WebSuiteOptions, WebSuiteResult } from './eval/suite-web.js';
export { checkSuite, SPLIT_KINDS } from './eval/suite-config.js';
export type { SuiteConfig, SuiteSplit, SplitRole, SplitKind } from './eval/suite-config.js';
export { scoreSuite, checkSplit, shardRange } from './eval/suite-run.js';
export type { SuiteRun, SplitRun, RunKey, ResolvedSplit } from './eval/suite-run.js';
export { buildReport, mergeRuns } from './eval/report.js';
export type { RobustnessReport, SplitReport, Mistake } from './eval/report.js';
export { renderReportHtml, thumbnailKey } from './eval/report-html.js';
export { ORTLAB_VERSION } from './runtime/version.js';
