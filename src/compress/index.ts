/**
 * Compression of ONNX models: global magnitude pruning, L1 filter pruning that removes channels,
 * symmetric per-channel int8 weights, and how a compressed model compares with its original.
 */
export { pruneMagnitude, kernelSparsity } from './magnitude-prune.js';
export type { PruneResult } from './magnitude-prune.js';
export { pruneFilters, filtersKept } from './filter-prune.js';
export type { FilterPruneLayer, FilterPruneOptions, FilterPruneResult } from './filter-prune.js';
export { quantizeInt8, quantizeChannels } from './quantize.js';
export type { QuantizeResult } from './quantize.js';
export { compareModels } from './compare.js';
export type { CompareOptions, CompressionComparison, ModelFigures } from './compare.js';
