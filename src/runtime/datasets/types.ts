/**
 * The shapes every dataset reader produces. A reader lists what it holds up front (classes,
 * size) and streams its samples, so that memory stays bounded whatever the dataset's size.
 */

/** Where a sample's pixels come from: a file to decode, or pixels already in memory. */
export type ImageSource =
  | { kind: 'file'; path: string }
  | {
      kind: 'pixels';
      /** Interleaved 8-bit pixels, row major, `[height, width, channels]`. */
      data: Uint8Array;
      width: number;
      height: number;
      channels: 1 | 3 | 4;
    };

/** One labelled item of a dataset. */
export interface Sample {
  /** Position in the dataset's order, from 0. */
  index: number;
  /** A stable name for reports: a path relative to the dataset root, or `name#index`. */
  id: string;
  /** Class index into `Dataset.classes`. */
  label: number;
  source: ImageSource;
}

/** Options for `Dataset.samples`. */
export interface SampleRange {
  /** First index to yield (inclusive). Default 0. */
  start?: number;
  /** Index to stop before (exclusive). Default `size`. */
  end?: number;
}

/** A labelled image dataset, read lazily. */
export interface Dataset {
  /** What the user named: a bundled name, a folder or a file. */
  readonly name: string;
  /** Where it was read from, for reports. */
  readonly location: string;
  /** Class names by index. */
  readonly classes: readonly string[];
  /** Number of samples. */
  readonly size: number;
  /** Streams samples in order; each call starts a fresh pass. */
  samples(range?: SampleRange): AsyncIterable<Sample>;
}
