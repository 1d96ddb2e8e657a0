/**
 * What the Node and browser builds share: sessions, tensors, graphs, presets, metrics. Nothing
 * here imports a `node:` module, sharp or an onnxruntime package at run time.
 */
export { Session } from './runtime/session.js';
export type { SessionOptions, TensorInfo, ProviderFailure } from './runtime/session.js';
export {
  EXECUTION_PROVIDERS,
  DEFAULT_EXECUTION_PROVIDERS,
  parseExecutionProviders,
} from './runtime/execution-providers.js';
export type { ExecutionProviderName, RuntimeKind } from './runtime/execution-providers.js';
export { tensor, elementCount, sliceBatch, concatBatch } from './runtime/tensor.js';
export type { Tensor, TensorType, TypedArray } from './runtime/tensor.js';
export { log, setLogLevel, getLogLevel, setLogSink } from './runtime/logger.js';
export type { LogLevel, LogSink } from './runtime/logger.js';
export type { ProgressEvent, ProgressCallback } from './runtime/progress.js';
export { OnnxModel, OnnxFormatError } from './runtime/onnx/model.js';
export type { ValueInfo } from './runtime/onnx/model.js';
export type { WeightInfo } from './runtime/onnx/weights.js';
export type { WeightSelection } from './runtime/onnx/edit.js';
export type { ExternalDataReference } from './runtime/onnx/external-data.js';
export { PRESETS, resolvePreset } from './runtime/preprocess/presets.js';
export type {
  Preset,
  ResolvedPreset,
  Interpolation,
  Layout,
} from './runtime/preprocess/presets.js';
export { resizePlan } from './runtime/preprocess/geometry.js';
export { normalizeInto } from './runtime/preprocess/normalize.js';
export { useResampler, activeResampler } from './runtime/preprocess/resample-wasm.js';
export type { ResamplerKind } from './runtime/preprocess/resample-wasm.js';
export { loadBatch } from './runtime/preprocess/batch.js';
export type { Batch, SkippedSample } from './runtime/preprocess/batch.js';
export type { Dataset, Sample, ImageSource, SampleRange } from './runtime/datasets/types.js';
export { naturalCompare, naturalSort } from './runtime/datasets/natural-sort.js';
export { parseIdxHeader, expectedIdxSize } from './runtime/datasets/idx.js';
export * from './eval/metrics/index.js';
export { recordsFromLogits, canonicalRecords } from './eval/records.js';
export type { SampleRecord, RecordOptions } from './eval/records.js';
export { splitMetrics, oodMetrics, ANOMALY_SCORES } from './eval/split-metrics.js';
export type {
  SplitMetrics,
  OodMetrics,
  Detection,
  AnomalyScoreName,
} from './eval/split-metrics.js';
export { evaluateClassifier, mergeClassifyResults } from './eval/classify.js';
export type { ClassifyOptions, ClassifyResult } from './eval/classify.js';
export * from './distill/index.js';
export * from './search/index.js';
export * from './compress/index.js';
export * from './eval/attribution/index.js';
export * from './retrieval/index.js';
