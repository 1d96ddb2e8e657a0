/**
 * `ortlab retrieval eval` on the queue: a shard encodes whole batches of the split's images
 * (under every style) and captions with every pair; the merge joins the parts in shard order and
 * scores them with the code of a local run, so that its report is the local run's.
 */
import { existsSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';

import { pairsOf, retrievalHtml } from '../cli/retrieval-command.js';
import { checkDataStamp, shardRange } from '../eval/robustness.js';
import { packageRoot } from '../runtime/datasets/package-root.js';
import { sha256 } from '../runtime/run-config.js';
import type { Session } from '../runtime/session.js';
import { loadTokenizer, tokenizerSha256 } from '../runtime/tokenizer.js';
import {
  EMOJI,
  imageSources,
  openRetrievalData,
  retrievalDataStamp,
  type RetrievalData,
} from '../retrieval/data-node.js';
import { DEFAULT_ENCODE_BATCH } from '../retrieval/encode.js';
import { DEFAULT_EXAMPLES, exampleIndices } from '../retrieval/examples-node.js';
import { shippedManifest, type EncoderPair } from '../retrieval/manifest-node.js';
import { encodePairPart, type PairPart } from '../retrieval/pair-part-node.js';
import { retrievalRun, scorePair, type RetrievalReport } from '../retrieval/run-node.js';
import type { RetrievalTask } from './jobs.js';
import type { WorkerRoots } from './roots.js';
import { queueInfo, workerHost, type QueueInfo, type ShardContext } from './shard-context.js';

/** What a retrieval shard returns: each pair's part of the split, in pair order. */
export interface RetrievalShardResult {
  kind: 'retrieval';
  shard: number;
  pairs: PairPart[];
  worker: string;
}

/** The merged report, and its page (drawn where the example images are). */
export interface MergedRetrieval {
  kind: 'retrieval';
  report: RetrievalReport & { config: RetrievalReport['config'] & { queue: QueueInfo } };
  html: string;
}

/** ortlab's own encoders and emoji set: readable on every worker, as its bundled sets are. */
const SHIPPED = ['models/retrieval', 'data/emoji'];

/** The shipped folders, resolved (those that exist). */
async function shippedFolders(): Promise<string[]> {
  const found = await Promise.all(
    SHIPPED.map((folder) => realpath(path.join(packageRoot(), folder)).catch(() => undefined)),
  );
  return found.filter((f): f is string => f !== undefined);
}

/** Checks that the worker may read `file`: inside its roots, or one of ortlab's shipped files. */
async function checkReadable(roots: WorkerRoots, file: string, what: string): Promise<void> {
  const resolved = await realpath(file).catch(() => file);
  for (const shipped of await shippedFolders()) {
    const relative = path.relative(shipped, resolved);
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) return;
  }
  await roots.check(file, what);
}

/** The task's pairs and data, every path checked, the manifest's hash compared. */
async function planOf(
  task: RetrievalTask,
  context: ShardContext,
): Promise<{ pairs: EncoderPair[]; data: RetrievalData }> {
  const { roots, paths } = context;
  const { args } = task;
  const named = { manifest: 'encoder manifest', images: 'image encoder', texts: 'text encoder' };
  const more = { tokenizer: 'tokenizer', imageRoot: 'image root' };
  for (const [key, what] of Object.entries({ ...named, ...more })) {
    const file = args[key as keyof typeof named | keyof typeof more];
    if (file !== undefined) await checkReadable(roots, file, what);
  }
  if (args.data !== undefined && args.data !== EMOJI) {
    await checkReadable(roots, args.data, 'retrieval data');
  }

  const manifest = args.manifest ?? shippedManifest();
  const found = existsSync(manifest) ? sha256(new Uint8Array(await readFile(manifest))) : 'none';
  if (found !== (task.manifestSha256 ?? 'none')) {
    throw new Error(
      `encoder manifest '${manifest}' on this worker (${workerHost()}) has sha256 ${found}, not ` +
        `the ${task.manifestSha256 ?? 'none'} it was submitted with: the worker sees a ` +
        'different file; give every worker the same one',
    );
  }
  const pairs = await pairsOf(args, { mapPaths: (manifest) => paths.apply(manifest) });
  if (pairs.length * 2 !== task.encoderSha256.length) {
    throw new Error(
      `the worker reads ${pairs.length} encoder pairs from '${manifest}'; the submission has ` +
        `hashes for ${task.encoderSha256.length / 2}`,
    );
  }
  for (const [k, pair] of pairs.entries()) {
    await checkReadable(roots, pair.image, `image encoder of pair '${pair.name}'`);
    await checkReadable(roots, pair.text, `text encoder of pair '${pair.name}'`);
    await checkReadable(roots, pair.tokenizer, `tokenizer of pair '${pair.name}'`);
    const tokenizer = await tokenizerSha256(pair.tokenizer);
    if (tokenizer !== task.tokenizerSha256[k]) {
      throw new Error(
        `tokenizer '${pair.tokenizer}' of pair '${pair.name}' on this worker (${workerHost()}) ` +
          `has sha256 ${tokenizer}, not the ${task.tokenizerSha256[k]} it was submitted with: ` +
          'the worker sees different tokenizer files; give every worker the same ones',
      );
    }
  }
  const { split, style, imageRoot } = args;
  const data = await openRetrievalData(args.data ?? EMOJI, { split, style, imageRoot });
  checkDataStamp(
    retrievalDataStamp(data),
    task.dataStamp,
    `retrieval data '${data.file}' (split '${data.split}') on this worker (${workerHost()})`,
    "every worker must read the submitter's data file, split and styles",
  );
  const readable = roots.including(await shippedFolders());
  for (const root of data.roots) {
    await checkReadable(roots, root.root, `images '${root.style}'`);
    const files = imageSources(data, root).map((s) => (s.kind === 'file' ? s.path : ''));
    await readable.checkFiles(files, `images '${root.style}' of '${data.file}'`);
  }
  return { pairs, data };
}

/** Encodes shard `shard` of the split's images and captions with every pair of the task. */
export async function runRetrievalShard(
  task: RetrievalTask,
  shard: { index: number; count: number },
  context: ShardContext,
): Promise<RetrievalShardResult> {
  const { pairs, data } = await planOf(task, context);
  const { batch, ep, threads } = task.args;
  const ranges = {
    images: shardRange(data.images.length, batch ?? DEFAULT_ENCODE_BATCH, shard),
    texts: shardRange(data.captions.length, batch ?? DEFAULT_ENCODE_BATCH, shard),
  };
  const chosen = exampleIndices(data.images.length, task.args.examples ?? DEFAULT_EXAMPLES);
  const open = (file: string, hash: string) =>
    context.sessions.acquire(file, hash, { ep, threads });
  const parts: PairPart[] = [];
  for (const [k, pair] of pairs.entries()) {
    const held: Session[] = [];
    try {
      held.push(await open(pair.image, task.encoderSha256[2 * k]));
      held.push(await open(pair.text, task.encoderSha256[2 * k + 1]));
      const tokenizer = await loadTokenizer(pair.tokenizer);
      try {
        const encoders = { image: held[0], text: held[1], tokenizer };
        const options = { batchSize: batch, threads, onProgress: context.onProgress };
        parts.push(await encodePairPart(pair, encoders, data, ranges, chosen, options));
      } finally {
        tokenizer.dispose();
      }
    } finally {
      for (const session of held) context.sessions.release(session);
    }
  }
  return { kind: 'retrieval', shard: shard.index, pairs: parts, worker: workerHost() };
}

/** Joins every shard's parts (in shard order) and scores them as one local run does. */
export async function mergeRetrievalShards(
  results: readonly RetrievalShardResult[],
  task: RetrievalTask,
  submission: string,
  context: ShardContext,
): Promise<MergedRetrieval> {
  const { pairs, data } = await planOf(task, context);
  const session = { executionProviders: task.args.ep, threads: task.args.threads };
  const runs = [];
  for (const [k, pair] of pairs.entries()) {
    const parts = results.map((r) => r.pairs[k]);
    if (parts.some((p) => p?.model !== pair.name)) {
      throw new Error(`a shard did not encode pair '${pair.name}' (pair ${k}); resubmit`);
    }
    const hashes = { image: task.encoderSha256[2 * k], text: task.encoderSha256[2 * k + 1] };
    runs.push(await scorePair(pair, data, parts, hashes, session));
  }
  const run = retrievalRun(data, runs);
  const queue = queueInfo(
    submission,
    results.length,
    results.map((r) => r.worker),
  );
  const report = { ...run.report, config: { ...run.report.config, queue } };
  return { kind: 'retrieval', report, html: await retrievalHtml(run) };
}
