/**
 * A dataset whose samples are image files listed up front (an image folder, a file list):
 * only the paths and labels live in memory, the pixels are decoded later by whoever reads them.
 * Pure logic, shared by the Node and browser builds.
 */

import { resolveSampleRange } from './sample-range.js';
import type { Dataset, Sample, SampleRange } from './types.js';

/** One listed image file. */
export interface ListedFile {
  /** Path handed to the decoder (absolute in Node). */
  path: string;
  /** Stable name for reports, usually the path relative to the dataset root. */
  id: string;
  /** Class index into the dataset's classes. */
  label: number;
}

/**
 * Wraps a list of labelled files as a {@link Dataset}, keeping copies, so the caller may reuse
 * its own. Ids and labels are held in flat arrays, and a path that is just `location/id` is not
 * stored at all: about 100 bytes per file plus its id, so that a listing of a million images
 * stays small.
 *
 * @example
 * ```ts
 * const dataset = listedDataset('pets', '/data/pets', ['cat', 'dog'], [
 *   { path: '/data/pets/cat/1.jpg', id: 'cat/1.jpg', label: 0 },
 * ]);
 * dataset.size; // 1
 * ```
 */
export function listedDataset(
  name: string,
  location: string,
  classes: readonly string[],
  files: readonly ListedFile[],
): Dataset {
  const frozenClasses = Object.freeze([...classes]);
  const ids = files.map((file) => file.id);
  const labels = Int32Array.from(files, (file) => file.label);
  const derived = (i: number): string => `${location}/${ids[i]}`;
  const paths = files.every((file, i) => file.path === derived(i))
    ? undefined
    : files.map((file) => file.path);

  function sampleAt(index: number): Sample {
    const path = paths ? paths[index] : derived(index);
    return { index, id: ids[index], label: labels[index], source: { kind: 'file', path } };
  }

  // The range is checked here, at the call, rather than on the first step of the loop.
  function samples(range?: SampleRange): AsyncIterable<Sample> {
    const { start, end } = resolveSampleRange(range, ids.length, name);
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<Sample> => {
        let index = start;
        return {
          next: () =>
            Promise.resolve<IteratorResult<Sample>>(
              index < end
                ? { done: false, value: sampleAt(index++) }
                : { done: true, value: undefined },
            ),
        };
      },
    };
  }

  return Object.freeze({
    name,
    location,
    classes: frozenClasses,
    size: ids.length,
    samples,
  });
}
