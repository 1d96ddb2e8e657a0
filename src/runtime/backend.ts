/**
 * The seam between ortlab and an onnxruntime package. The Node entry registers a backend over
 * `onnxruntime-node`, the browser entry one over `onnxruntime-web`; everything else is shared.
 */
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-common';

import type { ImageSource } from './datasets/types.js';
import type { ExecutionProviderName, RuntimeKind } from './execution-providers.js';
import type { ResolvedPreset } from './preprocess/presets.js';
import type { Tensor } from './tensor.js';

export type OrtSessionOptions = OrtSession.SessionOptions;

/** What a backend provides; each entry point registers exactly one. */
export interface RuntimeBackend {
  readonly kind: RuntimeKind;
  /** Reads a model given by path (Node) or URL (browser). */
  readModel(location: string): Promise<Uint8Array>;
  /**
   * Checks that the external data files of a model read from `location` exist inside the
   * model's folder (after following links), before onnxruntime opens any of them.
   */
  checkExternalData(
    location: string | undefined,
    references: readonly { tensor: string; location: string }[],
  ): Promise<void>;
  /**
   * Optional: why `name` cannot start here, found before onnxruntime tries it (the browser asks
   * for a WebGPU adapter); undefined when it may start.
   */
  probeProvider?(name: ExecutionProviderName): Promise<string | undefined>;
  /**
   * Creates an onnxruntime session. `location` is set when the model came from a path and has
   * external data, which onnxruntime then reads from the model's folder.
   */
  createSession(
    model: Uint8Array,
    location: string | undefined,
    options: OrtSessionOptions,
  ): Promise<OrtSession>;
  toOrtTensor(t: Tensor): OrtTensor;
  /**
   * Decodes, resizes and normalizes one image into `out` at `offset`; throws an error naming
   * the image when it cannot be used.
   */
  preprocessInto(
    source: ImageSource,
    preset: ResolvedPreset,
    out: Float32Array,
    offset: number,
    options?: { maxPixels?: number },
  ): Promise<void>;
  /**
   * Optional: preprocesses a whole batch, `sources[i]` into `out` at `i * volume` (volume: the
   * preset's `channels * height * width`), and resolves to one outcome per image, rejected with
   * the error `preprocessInto` would throw for it. The Node backend runs it on worker threads;
   * without it, `loadBatch` calls `preprocessInto` for each image.
   */
  preprocessBatch?(
    sources: readonly ImageSource[],
    preset: ResolvedPreset,
    out: Float32Array,
    options?: { maxPixels?: number },
  ): Promise<PromiseSettledResult<void>[]>;
  /**
   * Optional: starts whatever `preprocessBatch` runs on (Node: the worker threads) without
   * waiting for it, so that it starts while a session is created.
   */
  warmPreprocessing?(): void;
  /** Package versions for reports, e.g. `{ 'onnxruntime-node': '1.30.0' }`. */
  versions(): Record<string, string>;
}

let registered: RuntimeBackend | undefined;

/** Called once by each entry point. */
export function registerBackend(backend: RuntimeBackend): void {
  registered = backend;
}

/** The registered backend. */
export function getBackend(): RuntimeBackend {
  if (!registered) {
    throw new Error(
      "no onnxruntime backend is registered: import ortlab through its package entry ('ortlab' " +
        "or 'ortlab/browser'), not a file inside it",
    );
  }
  return registered;
}
