/**
 * Knowledge distillation losses: Contextual Knowledge Distillation's word and layer transforming
 * relations (Park et al. 2021), distance relations after RKD, output distillation, and the layer
 * mappings that match a teacher's layers to a student's. Pure TypeScript over typed arrays, for
 * Node and the browser; `createOrtGram` moves the Gram matrices onto ONNX Runtime.
 */
export { ckdLoss, DEFAULT_CKD_WEIGHTS } from './ckd-loss.js';
export type {
  CkdLayerTerms,
  CkdModelOutputs,
  CkdOptions,
  CkdResult,
  CkdTerm,
  CkdWeights,
} from './ckd-loss.js';
export { wrPairLoss, wrAngleLoss, wrDistanceLoss } from './word-relation.js';
export type {
  WordRelationOptions,
  WordAngleOptions,
  WordDistanceOptions,
} from './word-relation.js';
export { ltrPairLoss, ltrAngleLoss, ltrDistanceLoss } from './layer-relation.js';
export type { LayerRelationOptions, LayerDistanceOptions } from './layer-relation.js';
export { kdLoss } from './kd-loss.js';
export type { KdOptions, Logits } from './kd-loss.js';
export { layerMapping, MAPPING_KINDS } from './layer-mapping.js';
export type { LayerCounts, LayerMappingSpec, LayerPair, MappingKind } from './layer-mapping.js';
export { DEFAULT_WINDOW } from './loss-options.js';
export type { AngleWindow } from './loss-options.js';
export type { DistanceLossKind, DistanceOptions } from './relations.js';
export type { HiddenStates, TokenMask } from './hidden-states.js';
export type { GramFunction } from './gram-sets.js';
export { gramInto } from './gram-kernel.js';
export { createOrtGram, gramModel } from './gram-ort.js';
export type { OrtGram } from './gram-ort.js';
export { evaluateDistillation } from './evaluate.js';
export type {
  DistillDomainResult,
  DistillEvalOptions,
  DistillEvaluation,
  RelationExample,
} from './evaluate.js';
export { distillModel, sentenceOutputs } from './model-outputs.js';
export type { DistillModel, SentenceOutputs } from './model-outputs.js';
export { relationMaps, wordRelationMap, layerRelationMap } from './relation-maps.js';
export type { RelationMaps, SentenceStates } from './relation-maps.js';
export { renderDistillHtml } from './report-html.js';
export type { DistillReportPage } from './report-html.js';
export type { TextDomain, TextSample, SkippedLine } from './text-data.js';
