/**
 * Turns samples into one input batch. Images are decoded concurrently; one that cannot be used
 * is set aside with its reason and the batch closes up around it.
 */
import { getBackend } from '../backend.js';
import type { Sample } from '../datasets/types.js';
import type { ResolvedPreset } from './presets.js';

/** A sample that could not be used, and why. */
export interface SkippedSample {
  id: string;
  reason: string;
}

/** A batch ready for a session. */
export interface Batch {
  /** `[rows, ...]` in the preset's layout. */
  data: Float32Array;
  dims: number[];
  labels: Int32Array;
  ids: string[];
  skipped: SkippedSample[];
}

/** Floats one preprocessed image takes. */
export function imageVolume(preset: ResolvedPreset): number {
  return (preset.channels === 'gray' ? 1 : 3) * preset.height * preset.width;
}

/** Input dims of a batch of `rows` images for the preset. */
export function batchDims(rows: number, preset: ResolvedPreset): number[] {
  const c = preset.channels === 'gray' ? 1 : 3;
  return preset.layout === 'NCHW'
    ? [rows, c, preset.height, preset.width]
    : [rows, preset.height, preset.width, c];
}

/**
 * Preprocesses `samples` into one batch (one allocation per batch).
 */
export async function loadBatch(
  samples: readonly Sample[],
  preset: ResolvedPreset,
  options: { maxPixels?: number } = {},
): Promise<Batch> {
  const backend = getBackend();
  const volume = imageVolume(preset);
  const data = new Float32Array(samples.length * volume);
  const results = await Promise.allSettled(
    samples.map((s, i) => backend.preprocessInto(s.source, preset, data, i * volume, options)),
  );
  const labels: number[] = [];
  const ids: string[] = [];
  const skipped: SkippedSample[] = [];
  let rows = 0;
  results.forEach((result, i) => {
    const sample = samples[i];
    if (result.status === 'rejected') {
      const error: unknown = result.reason;
      skipped.push({
        id: sample.id,
        reason: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    if (rows !== i) data.copyWithin(rows * volume, i * volume, (i + 1) * volume);
    labels.push(sample.label);
    ids.push(sample.id);
    rows++;
  });
  return {
    data: rows === samples.length ? data : data.subarray(0, rows * volume),
    dims: batchDims(rows, preset),
    labels: Int32Array.from(labels),
    ids,
    skipped,
  };
}
