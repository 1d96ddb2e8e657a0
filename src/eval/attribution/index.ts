/**
 * Attribution maps and how compression deforms them: exact Grad-CAM for GAP heads, occlusion,
 * RISE and Score-CAM, and the WCAM distance, rank, overlap and localization metrics.
 */
export { GradCam, collapsedMaps, classMapsFor } from './grad-cam.js';
export type { CamResult, GradCamOptions } from './grad-cam.js';
export { findGapHead, NoGapHeadError, requireTensor } from './gap-head.js';
export type { GapHead } from './gap-head.js';
export { upsampleBilinear, minMaxNormalize, mapAt } from './maps.js';
export type { MapBatch } from './maps.js';
export {
  occlusionMap,
  occlusionSettings,
  riseMap,
  riseMasks,
  scoreCamMap,
  RISE_DEFAULTS,
} from './forward-maps.js';
export type {
  ForwardTarget,
  OcclusionOptions,
  RiseMaskOptions,
  RiseOptions,
} from './forward-maps.js';
export {
  wcamDistance,
  mapSpearman,
  topKIoU,
  topPixels,
  argmaxAgreement,
  argmaxPixel,
  maskAuroc,
  pointingHit,
  rankMap,
} from './map-metrics.js';
export type { RankedMap } from './map-metrics.js';
export { ATTRIBUTION_METHODS, createMapSource, gradCamSource } from './map-source.js';
export type { AttributionMethod, MapSource, MapSourceOptions, SourceBatch } from './map-source.js';
export { compareAttributions } from './compare-maps.js';
export type {
  AttributionComparison,
  CompareAttributionOptions,
  ComparedModel,
  ConsistencyResult,
  Localization,
  MapMetric,
  MaskSet,
} from './compare-maps.js';
export { renderAttributionHtml } from './report-html.js';
export { mapColour, overlayRgb } from './overlay.js';
