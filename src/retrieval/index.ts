/**
 * Image-text retrieval scoring: Recall@K under the VSE++ protocol through ONNX Runtime, the COCO
 * 1K folds, and the top matches of a query. Shared by the Node and browser builds.
 */
export { recallAtK, recallFolds, summarizeRanks, normalizeRows, captionImages } from './recall.js';
export type { DirectionRecall, FoldedRecall, RecallOptions, RecallResult } from './recall.js';
export { rankCountGraph, topKGraph } from './graphs.js';
export { parseKarpathy } from './karpathy.js';
export type { KarpathySplit } from './karpathy.js';
