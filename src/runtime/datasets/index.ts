/**
 * ortlab's dataset readers: bundled datasets, image folders, IDX files and file lists, all
 * exposed as the same lazily read {@link Dataset}.
 *
 * This module imports Node's file system. The browser build should import the pure modules
 * (`types`, `natural-sort`, `idx`, `sample-range`, `listed-dataset`) directly.
 *
 * @example
 * ```ts
 * import { openDataset } from './datasets/index.js';
 * const mnist = await openDataset('mnist');
 * mnist.size; // 10000
 * ```
 */

export type { Dataset, ImageSource, Sample, SampleRange } from './types.js';
export { naturalCompare, naturalSort } from './natural-sort.js';
export {
  encodeIdx,
  expectedIdxSize,
  idxElementBytes,
  looksLikeIdx,
  maxIdxHeaderBytes,
  parseIdxHeader,
  type IdxHeader,
  type IdxType,
} from './idx.js';
export { resolveSampleRange } from './sample-range.js';
export { listedDataset, type ListedFile } from './listed-dataset.js';
export { resolveClassMap, type ClassMapLike, type ResolvedClassMap } from './class-map.js';
export { inspectIdxFile, isGzip, type IdxFileInfo } from './idx-file.js';
export { openIdxDataset, type IdxDatasetOptions } from './idx-dataset.js';
export {
  defaultImageExtensions,
  openImageFolder,
  type ImageFolderOptions,
} from './image-folder.js';
export { openFileList, type FileListOptions } from './file-list.js';
export { bundledDatasets, openDataset, type OpenDatasetOptions } from './open-dataset.js';
