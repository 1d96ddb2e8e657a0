/**
 * Image-text retrieval: encoders run in batches, Recall@K under the VSE++ protocol through ONNX
 * Runtime, the COCO 1K folds, the top matches of a query, and the attention heads' diversity.
 * Shared by the Node and browser builds.
 */
export { recallAtK, recallFolds, summarizeRanks, captionImages } from './recall.js';
export { normalizeRows } from './normalize.js';
export type { DirectionRecall, FoldedRecall, RecallOptions, RecallResult } from './recall.js';
export { rankCountGraph, topKGraph } from './graphs.js';
export { parseKarpathy } from './karpathy.js';
export type { KarpathySplit } from './karpathy.js';
export { encodeImages, encodeTexts, checkEncoder } from './encode.js';
export { EmbeddingCollector, EMBEDDING, ATTENTION } from './embeddings.js';
export type { AttentionMaps, Embeddings } from './embeddings.js';
export type { EncodeOptions, EncodeImagesOptions, EncodeTextsOptions } from './encode.js';
export { diversityPenalty, diversityPenalties } from './diversity.js';
export { topMatches } from './top-matches.js';
export type { TopMatches, TopMatchesOptions } from './top-matches.js';
export { renderRetrievalHtml } from './report-html.js';
export type { RetrievalPage, RecallRow, HeadOverlays, HeadWeights } from './report-html.js';
