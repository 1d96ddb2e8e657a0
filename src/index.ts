/**
 * ortlab for Node: sessions on `onnxruntime-node`, images decoded with sharp, datasets read from
 * the file system, tokenizers from local files.
 *
 * @example
 * ```ts
 * import { Session, openDataset, evaluateClassifier } from 'ortlab';
 * const session = await Session.create('models/mnist-cnn.onnx');
 * const { top1 } = await evaluateClassifier(session, await openDataset('mnist'), {
 *   preset: 'mnist',
 * });
 * ```
 */
import { registerBackend } from './runtime/backend.js';
import { nodeBackend } from './runtime/backend-node.js';

registerBackend(nodeBackend);

export * from './core.js';
export { nodeBackend };
export { registerBackend, getBackend } from './runtime/backend.js';
export type { RuntimeBackend } from './runtime/backend.js';
export {
  preprocessInto,
  ImageDecodeError,
  DEFAULT_MAX_PIXELS,
} from './runtime/preprocess/image-node.js';
export * from './runtime/datasets/index.js';
export { loadTokenizer } from './runtime/tokenizer.js';
export { loadOnnxModel } from './runtime/onnx/load-node.js';
export {
  runSuite,
  shardRange,
  openRunDatasets,
  dataStamp,
  suiteDataStamps,
  checkDataStamp,
} from './eval/robustness.js';
export type {
  RobustnessOptions,
  SuiteRun,
  SplitRun,
  RunKey,
  DataStamp,
} from './eval/robustness.js';
export { buildReport, mergeRuns } from './eval/report.js';
export type { RobustnessReport, SplitReport, Mistake } from './eval/report.js';
export { loadSuite, validateSuite, SPLIT_KINDS } from './eval/suite.js';
export type { SuiteConfig, SuiteSplit, SplitRole, SplitKind } from './eval/suite.js';
export { imagenetClasses, imagenetMapping } from './eval/imagenet.js';
export type { ImagenetClass, ImagenetMapping } from './eval/imagenet.js';
export { Checkpoint } from './eval/checkpoint.js';
export { runConfig, sha256 } from './runtime/run-config.js';
export { runDistillation } from './distill/run-node.js';
export type { DistillReport, DistillRunOptions, DistillModelSummary } from './distill/run-node.js';
export { openTextData, parseJsonLines } from './distill/text-data.js';
export type { TextDataOptions } from './distill/text-data.js';
export { loadSupernet, candidateAccuracy, archFeeds } from './search/supernet.js';
export type { Supernet } from './search/supernet.js';
export {
  runAttribution,
  readMasks,
  overlayPng,
  exampleOverlays,
} from './eval/attribution/run-node.js';
export type { AttributionReport, AttributionRunOptions } from './eval/attribution/run-node.js';
export { runRetrievalEval, protocolsOf } from './retrieval/run-node.js';
export type {
  RetrievalReport,
  RetrievalRun,
  RetrievalEvalOptions,
  ProtocolResult,
  ImageAttention,
  TextAttention,
} from './retrieval/run-node.js';
export { runRetrievalQuery, widestPair } from './retrieval/query-node.js';
export type {
  RetrievalQuery,
  RetrievalQueryOptions,
  QueryResult,
  QueryMatch,
} from './retrieval/query-node.js';
export { readPairManifest, pairFromFiles, shippedManifest } from './retrieval/manifest-node.js';
export type { EncoderPair, ReferenceRecall, PairFileOptions } from './retrieval/manifest-node.js';
export { openRetrievalData, imageSources, EMOJI } from './retrieval/data-node.js';
export type { RetrievalData, RetrievalDataOptions, ImageRoot } from './retrieval/data-node.js';
export { attentionOverlays, upsampleGrid } from './retrieval/overlays-node.js';
export type { ImageOverlay } from './retrieval/overlays-node.js';
