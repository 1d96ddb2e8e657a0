/**
 * Image preprocessing on worker threads (Node). Each worker runs the same `preprocessInto` as
 * the inline path (sharp decodes, ortlab resamples and normalizes) and writes its floats straight
 * into a `SharedArrayBuffer`; the main thread only hands out batches, so resampling no longer
 * competes with it. Idle workers are unreferenced: a pool never keeps a process alive. A pool of
 * no workers (the default on two cores or fewer) preprocesses on the calling thread, with a
 * budget on the decoded bytes a batch holds at once.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';

import type { ImageSource } from '../datasets/types.js';
import { imageVolume } from './batch.js';
import { ByteBudget } from './byte-budget.js';
import type { DecodeOptions } from './image-node.js';
import { preprocessInline, type ImageOutcome } from './pool-inline.js';
import {
  portable,
  rebuildFailure,
  startWorker,
  type PoolReply,
  type PoolRequest,
  type RemoteFailure,
} from './pool-thread.js';
import type { ResolvedPreset } from './presets.js';

/** Options of `PreprocessPool.create`. */
export interface PreprocessPoolOptions {
  /**
   * Worker threads (default `defaultPreprocessWorkers()`: none on two cores or fewer, else one
   * per core); 0 preprocesses on the calling thread, where sharp still decodes on libuv's pool.
   */
  workers?: number;
  /** Images each worker keeps in flight, so that decoding overlaps resampling (default 2). */
  lanes?: number;
  /**
   * With `workers: 0`: the decoded bytes a batch may hold at once (default 256 MiB). The
   * calling thread waits for every ONNX Runtime run, so decoded images pile up there; past
   * this budget the next image is decoded only once earlier ones are done. Sizes come from
   * JPEG and PNG headers, other formats count 32 bytes per byte of file.
   */
  inlineBudgetBytes?: number;
}

/** The default of `inlineBudgetBytes`. */
export const INLINE_BUDGET_BYTES = 256 << 20;

/**
 * The default number of preprocessing worker threads: none on a machine of one or two cores,
 * one per core (`os.availableParallelism()`) above. onnxruntime-node runs a session
 * synchronously on the calling thread, so preprocessing left there waits for each run while
 * worker threads go on; but on two cores ONNX Runtime's threads fill the machine either way and
 * sharp decodes on libuv's pool. Measured there with ResNet-18 (images/s, peak RSS), the calling
 * thread against two workers: 500 JPEGs of 224x224, 119 to 128 against 110 to 128, 40 to 60 MB
 * lighter; 384 of 500x375, 114 to 119 against 114 to 118, 65 MB lighter; 64 of 4000x3000, 15.8
 * to 16.0 against 15.9 to 16.3, 120 to 150 MB lighter (`inlineBudgetBytes` bounds what waits).
 */
export function defaultPreprocessWorkers(): number {
  const cores = os.availableParallelism();
  return cores <= 2 ? 0 : cores;
}

/** Options of `PreprocessPool.preprocessBatch`. */
export interface PoolBatchOptions extends DecodeOptions {
  /** Where image 0 goes in `out` (default 0); image i goes at `offset + i * volume`. */
  offset?: number;
}

export type { ImageOutcome } from './pool-inline.js';

interface Member {
  worker: Worker;
  threadId: number;
  /** Batches sent and not answered; the worker is referenced while this is above 0. */
  busy: number;
}

interface Pending {
  resolve: (failures: RemoteFailure[]) => void;
  reject: (error: Error) => void;
  failures: RemoteFailure[];
  waiting: Set<Member>;
}

type Work = Omit<PoolRequest, 'type' | 'id' | 'claim'>;

/**
 * A pool of preprocessing worker threads.
 *
 * @example
 * ```ts
 * const pool = await PreprocessPool.create({ workers: 2 });
 * const preset = resolvePreset('imagenet');
 * const out = new Float32Array(new SharedArrayBuffer(2 * 3 * 224 * 224 * 4));
 * const outcomes = await pool.preprocessBatch(
 *   [{ kind: 'file', path: 'cat.jpg' }, { kind: 'file', path: 'empty.jpg' }], preset, out);
 * outcomes.map((o) => o.status); // ['fulfilled', 'rejected'], the second with an ImageDecodeError
 * await pool.dispose();
 * ```
 */
export class PreprocessPool {
  private readonly members: Member[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly images = new Map<number, number>();
  private readonly scratch: SharedArrayBuffer[] = [];
  private nextId = 0;
  private disposed = false;

  private constructor(
    /** Worker threads the pool keeps; 0 when it preprocesses on the calling thread. */
    readonly size: number,
    private readonly lanes: number,
    private readonly budget: ByteBudget,
  ) {}

  /** With `workers: 0`: the most decoded bytes (estimated) the pool held at once so far. */
  get inlinePeakBytes(): number {
    return this.budget.peakBytes;
  }

  /**
   * Starts the workers and waits until each has loaded sharp and the resampler.
   * @throws RangeError for a bad option; Error when a worker cannot start.
   */
  static async create(options: PreprocessPoolOptions = {}): Promise<PreprocessPool> {
    const {
      workers = defaultPreprocessWorkers(),
      lanes = 2,
      inlineBudgetBytes = INLINE_BUDGET_BYTES,
    } = options;
    if (!(Number.isInteger(workers) && workers >= 0 && workers <= 256)) {
      throw new RangeError(`workers must be an integer from 0 to 256, got ${String(workers)}`);
    }
    if (!(Number.isInteger(lanes) && lanes >= 1 && lanes <= 64)) {
      throw new RangeError(`lanes must be an integer from 1 to 64, got ${String(lanes)}`);
    }
    if (!(Number.isFinite(inlineBudgetBytes) && inlineBudgetBytes > 0)) {
      throw new RangeError(
        `inlineBudgetBytes must be a positive number, got ${String(inlineBudgetBytes)}`,
      );
    }
    const pool = new PreprocessPool(workers, lanes, new ByteBudget(inlineBudgetBytes));
    try {
      await pool.replenish();
    } catch (error) {
      await pool.dispose();
      throw error;
    }
    return pool;
  }

  /** Images each worker thread has preprocessed, by thread id. */
  get imagesByThread(): ReadonlyMap<number, number> {
    return new Map(this.images);
  }

  /**
   * Preprocesses `sources[i]` into `out` at `offset + i * volume` (volume: the preset's
   * `channels * height * width`) and resolves to one outcome per image, in order: fulfilled,
   * or rejected with the error `preprocessInto` throws for it (an `ImageDecodeError` naming
   * the file). Workers write straight into `out` when it is a view of a `SharedArrayBuffer`;
   * otherwise into a reused shared buffer that is copied into `out` once at the end.
   *
   * An image that fails is tried once more on its own: libvips keeps one error buffer per
   * process, so images failing at the same moment on different threads can swap, double or lose
   * each other's messages ('Unknown error'), and the reason would depend on timing.
   * @throws RangeError when `out` is too short; Error when a worker stops or the pool is disposed.
   */
  async preprocessBatch(
    sources: readonly ImageSource[],
    preset: ResolvedPreset,
    out: Float32Array,
    options: PoolBatchOptions = {},
  ): Promise<ImageOutcome[]> {
    if (this.disposed) throw new Error('PreprocessPool.preprocessBatch() called after dispose()');
    const volume = imageVolume(preset);
    const offset = options.offset ?? 0;
    const length = sources.length * volume;
    if (!(Number.isInteger(offset) && offset >= 0 && offset + length <= out.length)) {
      throw new RangeError(
        `out holds ${out.length} floats; ${sources.length} images of ${volume} from offset ` +
          `${offset} need ${offset + length}`,
      );
    }
    if (sources.length === 0) return [];
    if (this.size === 0) {
      return preprocessInline(sources, preset, out, offset, options.maxPixels, this.budget);
    }
    // Only a pool that lost a worker waits here; otherwise the batch is posted before this
    // function first yields, so that it is under way before the caller blocks on a session run.
    if (this.members.length < this.size) await this.replenish();

    const direct = out.buffer instanceof SharedArrayBuffer;
    const target = direct ? out : this.takeScratch(length);
    const start = direct ? offset : 0;
    const outcomes = await this.run({
      sources: sources.map(portable),
      offsets: sources.map((_, i) => start + i * volume),
      preset,
      out: target,
      maxPixels: options.maxPixels,
      lanes: this.lanes,
    });
    if (!direct) {
      out.set(target, offset);
      this.scratch.push(target.buffer as SharedArrayBuffer);
    }
    return outcomes;
  }

  /** Stops the workers; a batch still running rejects. Safe to call more than once. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const members = this.members.splice(0);
    for (const [id, pending] of this.pending) {
      pending.reject(new Error('the preprocessing pool was disposed while a batch was running'));
      this.pending.delete(id);
    }
    this.scratch.length = 0;
    await Promise.all(members.map((m) => m.worker.terminate()));
  }

  /** Runs `work` on every worker, then its failures again on one worker, one at a time. */
  private async run(work: Work): Promise<ImageOutcome[]> {
    const outcomes: ImageOutcome[] = work.sources.map(() => ({
      status: 'fulfilled',
      value: undefined,
    }));
    const failed = (await this.post(work, work.sources.length)).map((f) => f.index);
    if (failed.length === 0) return outcomes;
    const retry = await this.post(
      {
        ...work,
        sources: failed.map((i) => work.sources[i]),
        offsets: failed.map((i) => work.offsets[i]),
        lanes: 1,
      },
      1,
    );
    for (const failure of retry) {
      outcomes[failed[failure.index]] = { status: 'rejected', reason: rebuildFailure(failure) };
    }
    return outcomes;
  }

  /**
   * Sends `work` to the `count` least busy workers (at most one per source), which claim its
   * sources one at a time; resolves with the sources that failed.
   */
  private post(work: Work, count: number): Promise<RemoteFailure[]> {
    const id = this.nextId++;
    const members = [...this.members]
      .sort((a, b) => a.busy - b.busy)
      .slice(0, Math.min(count, work.sources.length));
    if (members.length === 0) {
      return Promise.reject(new Error('every preprocessing worker thread has stopped'));
    }
    const request: PoolRequest = {
      ...work,
      type: 'batch',
      id,
      claim: new Int32Array(new SharedArrayBuffer(4)),
    };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, failures: [], waiting: new Set(members) });
      for (const member of members) {
        if (member.busy++ === 0) member.worker.ref();
        member.worker.postMessage(request);
      }
    });
  }

  /** A shared buffer of `length` floats, reused across batches. */
  private takeScratch(length: number): Float32Array {
    const i = this.scratch.findIndex((b) => b.byteLength >= length * 4);
    const buffer = i >= 0 ? this.scratch.splice(i, 1)[0] : new SharedArrayBuffer(length * 4);
    return new Float32Array(buffer, 0, length);
  }

  /** Starts workers until the pool has `size` of them. */
  private async replenish(): Promise<void> {
    const missing = this.size - this.members.length;
    await Promise.all(Array.from({ length: missing }, () => this.spawn()));
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = startWorker();
      const member: Member = { worker, threadId: worker.threadId, busy: 0 };
      let ready = false;
      worker.on('message', (reply: PoolReply) => {
        if (reply.type !== 'ready') {
          this.onReply(member, reply);
          return;
        }
        ready = true;
        if (this.disposed) {
          void worker.terminate();
          reject(new Error('the preprocessing pool was disposed while it was starting'));
          return;
        }
        worker.unref();
        this.members.push(member);
        resolve();
      });
      const stopped = (reason: string): void => {
        if (!ready) {
          reject(new Error(`a preprocessing worker thread did not start: ${reason}`));
          return;
        }
        this.lose(member, reason);
      };
      worker.on('error', (error) => stopped(error.message));
      worker.on('exit', (code) => stopped(`it exited with code ${code}`));
    });
  }

  private onReply(member: Member, reply: Exclude<PoolReply, { type: 'ready' }>): void {
    if (--member.busy === 0) member.worker.unref();
    const pending = this.pending.get(reply.id);
    if (reply.type === 'crash') {
      this.fail(
        reply.id,
        `preprocessing worker thread ${member.threadId} failed: ${reply.message}`,
      );
      return;
    }
    this.images.set(member.threadId, (this.images.get(member.threadId) ?? 0) + reply.processed);
    // A batch that already failed (another worker stopped) still gets late replies.
    if (pending === undefined) return;
    pending.failures.push(...reply.failures);
    pending.waiting.delete(member);
    if (pending.waiting.size > 0) return;
    this.pending.delete(reply.id);
    pending.resolve(pending.failures);
  }

  /** A worker stopped: the batches it owed fail, and the next batch starts a replacement. */
  private lose(member: Member, reason: string): void {
    const at = this.members.indexOf(member);
    if (at < 0) return;
    this.members.splice(at, 1);
    for (const [id, pending] of this.pending) {
      if (pending.waiting.has(member)) {
        this.fail(id, `preprocessing worker thread ${member.threadId} stopped: ${reason}`);
      }
    }
  }

  private fail(id: number, message: string): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    pending.reject(new Error(message));
  }
}
