/**
 * Progress reporting. Long operations take an `onProgress` callback that receives a tagged
 * union; ortlab itself never prints progress, the CLI turns these events into a bar or lines.
 */

export type ProgressEvent =
  | { status: 'initiate'; task: string; total?: number }
  | { status: 'progress'; task: string; done: number; total?: number; skipped?: number }
  | { status: 'done'; task: string; done: number; total?: number; skipped?: number };

export type ProgressCallback = (event: ProgressEvent) => void;
