/**
 * What a queued job carries: paths and options, never code. A submission is one `merge` job
 * whose children are its `shard` jobs (a BullMQ flow); job ids are derived from the submission
 * and the shard index, so a shard is queued, counted and merged once whatever happens.
 */
import type { DataStamp } from '../eval/robustness.js';
import { SPLIT_KINDS, type SplitKind } from '../eval/suite.js';

/** The BullMQ queue every ortlab job goes through. */
export const QUEUE_NAME = 'ortlab';

/** Options of a suite or eval shard: those of the command line that change results. */
export interface ScoreArgs {
  preset?: string;
  batch?: number;
  ep?: string;
  threads?: number;
  maxPixels?: number;
  temperature?: number;
}

/** Where a suite comes from: a suite file, the ImageNet flags, or `eval --suite`. */
export type SuiteSource =
  | { config: string }
  | { flags: { val?: string; v2?: string; a?: string; r?: string; o?: string } }
  | { eval: { data: string; kind: SplitKind; val?: string } };

/** A robustness suite (`ortlab robustness`, `ortlab eval --suite`), sharded by sample. */
export interface SuiteTask {
  kind: 'suite';
  model: string;
  modelSha256: string;
  source: SuiteSource;
  /** The stamp of each split's data as the submitter listed it, in split order. */
  dataStamps: DataStamp[];
  args: ScoreArgs;
}

/** Top-1 and top-5 on one dataset (`ortlab eval`), sharded by sample. */
export interface EvalTask {
  kind: 'eval';
  model: string;
  modelSha256: string;
  data: string;
  /** The data's stamp as the submitter listed it. */
  dataStamp: DataStamp;
  args: ScoreArgs;
}

/** A flatness ranking of a manifest's models (`ortlab search rank`), sharded by model. */
export interface RankTask {
  kind: 'rank';
  manifest: string;
  manifestSha256: string;
  /** sha256 of each manifest entry's model file, in manifest order. */
  modelSha256: string[];
  /** The validation data's stamp as the submitter listed it. */
  dataStamp: DataStamp;
  args: {
    data?: string;
    limit?: number;
    radii?: number[];
    gamma?: number;
    seed?: number;
    engine?: 'auto' | 'inputs' | 'patch';
    /** A preset's name (a preset object comes from the manifest the worker reads). */
    preset?: string;
  };
}

/**
 * Image-text retrieval (`ortlab retrieval eval`): a shard encodes whole batches of the split's
 * images (under every style) and captions with every pair; the merge scores the joined
 * embeddings.
 */
export interface RetrievalTask {
  kind: 'retrieval';
  /** sha256 of every pair's image and text encoder: `[image 0, text 0, image 1, ...]`. */
  encoderSha256: string[];
  /** sha256 of the encoder manifest the pairs come from (or are completed from), if one exists. */
  manifestSha256?: string;
  /** `tokenizerSha256` of each pair's tokenizer folder, in pair order. */
  tokenizerSha256: string[];
  /** The split's stamp (`retrievalDataStamp`) as the submitter read it. */
  dataStamp: DataStamp;
  /** The command's options that change results; paths absolute. No manifest: the shipped one. */
  args: {
    images?: string;
    texts?: string;
    manifest?: string;
    tokenizer?: string;
    preset?: string;
    data?: string;
    split?: string;
    style?: string;
    imageRoot?: string;
    batch?: number;
    examples?: number;
    ep?: string;
    threads?: number;
  };
}

/** Any task a submission queues. */
export type Task = SuiteTask | EvalTask | RankTask | RetrievalTask;

/** Data of a `shard` job. */
export interface ShardJobData {
  ortlabJob: 1;
  submission: string;
  shard: { index: number; count: number };
  task: Task;
}

/** Data of a submission's `merge` job (the parent of its shards). */
export interface MergeJobData {
  ortlabJob: 1;
  submission: string;
  shards: number;
  task: Task;
  /** The command as submitted, for `ortlab status`. */
  command: string;
}

/** Job id of shard `index` of a submission. */
export function shardJobId(submission: string, index: number): string {
  return `${submission}.shard-${index}`;
}

/** Job id of a submission's merge job. */
export function mergeJobId(submission: string): string {
  return `${submission}.merge`;
}

function fail(message: string): never {
  throw new TypeError(`job data is not an ortlab job: ${message}`);
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isHash = (v: unknown): boolean => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isStamp = (v: unknown): boolean => {
  const stamp = v as Partial<DataStamp> | undefined;
  return typeof stamp === 'object' && isCount(stamp?.size) && isHash(stamp?.fingerprint);
};
const STAMP = 'a data stamp ({ size, fingerprint: sha256 in hex })';

/** A field's check and, for messages, what it must be. */
type Field = [check: (v: unknown) => boolean, what: string];

const TEXT: Field = [isText, 'a non-empty string'];
const NUMBER: Field = [(v) => typeof v === 'number' && Number.isFinite(v), 'a finite number'];
const NUMBERS: Field = [
  (v) => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)),
  'a list of numbers',
];

function checkFields(
  value: unknown,
  where: string,
  fields: Record<string, Field>,
  required: string[] = [],
): void {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    fail(`${where} is not an object`);
  for (const [key, v] of Object.entries(value)) {
    const field = fields[key];
    if (!field) fail(`${where}.${key} is not an option ortlab queues`);
    if (!field[0](v)) fail(`${where}.${key} must be ${field[1]}`);
  }
  for (const key of required) if (!(key in value)) fail(`${where}.${key} is missing`);
}

const SCORE_ARGS = {
  preset: TEXT,
  batch: NUMBER,
  ep: TEXT,
  threads: NUMBER,
  maxPixels: NUMBER,
  temperature: NUMBER,
};
const RANK_ARGS = {
  data: TEXT,
  preset: TEXT,
  limit: NUMBER,
  radii: NUMBERS,
  gamma: NUMBER,
  seed: NUMBER,
  engine: [
    (v: unknown) => v === 'auto' || v === 'inputs' || v === 'patch',
    'auto, inputs or patch',
  ],
} satisfies Record<string, Field>;
const RETRIEVAL_ARGS = {
  images: TEXT,
  texts: TEXT,
  manifest: TEXT,
  tokenizer: TEXT,
  preset: TEXT,
  data: TEXT,
  split: TEXT,
  style: TEXT,
  imageRoot: TEXT,
  batch: NUMBER,
  examples: NUMBER,
  ep: TEXT,
  threads: NUMBER,
};
const KIND: Field = [(v) => SPLIT_KINDS.includes(v as SplitKind), SPLIT_KINDS.join(', ')];

function checkSource(source: unknown): void {
  const s = (source ?? {}) as Record<string, unknown>;
  const keys = Object.keys(s);
  if (keys.length !== 1) fail('task.source must be one of { config }, { flags } or { eval }');
  if (keys[0] === 'config') return checkFields(s, 'task.source', { config: TEXT }, ['config']);
  if (keys[0] === 'flags') {
    const flags = { val: TEXT, v2: TEXT, a: TEXT, r: TEXT, o: TEXT };
    return checkFields(s.flags, 'task.source.flags', flags);
  }
  if (keys[0] === 'eval') {
    const fields = { data: TEXT, kind: KIND, val: TEXT };
    return checkFields(s.eval, 'task.source.eval', fields, ['data', 'kind']);
  }
  fail(`task.source.${keys[0]} is not a suite source`);
}

/**
 * Checks a task's shape: known kind, known options of the right types, sha256 hashes. The
 * worker runs nothing else than ortlab's own commands, and only on files inside its roots.
 * @throws TypeError naming the field that is wrong.
 */
export function checkTask(task: unknown): Task {
  const t = task as Record<string, unknown> | undefined;
  if (!t || typeof t !== 'object') fail('no task');
  if (t.kind === 'suite' || t.kind === 'eval') {
    if (!isText(t.model)) fail('task.model must be a path');
    if (!isHash(t.modelSha256)) fail('task.modelSha256 must be a sha256 in hex');
    checkFields(t.args, 'task.args', SCORE_ARGS);
    if (t.kind === 'suite') {
      checkSource(t.source);
      if (!Array.isArray(t.dataStamps) || !t.dataStamps.every(isStamp)) {
        fail(`task.dataStamps must list ${STAMP} per split`);
      }
    } else {
      if (!isText(t.data)) fail('task.data must be a dataset');
      if (!isStamp(t.dataStamp)) fail(`task.dataStamp must be ${STAMP}`);
    }
    return t as unknown as Task;
  }
  if (t.kind === 'rank') {
    if (!isText(t.manifest)) fail('task.manifest must be a path');
    if (!isHash(t.manifestSha256)) fail('task.manifestSha256 must be a sha256 in hex');
    if (!Array.isArray(t.modelSha256) || !t.modelSha256.every(isHash)) {
      fail('task.modelSha256 must list a sha256 per model');
    }
    if (!isStamp(t.dataStamp)) fail(`task.dataStamp must be ${STAMP}`);
    checkFields(t.args, 'task.args', RANK_ARGS);
    return t as unknown as Task;
  }
  if (t.kind === 'retrieval') {
    const hashes = t.encoderSha256;
    if (!Array.isArray(hashes) || !hashes.length || hashes.length % 2 || !hashes.every(isHash)) {
      fail('task.encoderSha256 must list a sha256 per image and text encoder of each pair');
    }
    if (t.manifestSha256 !== undefined && !isHash(t.manifestSha256)) {
      fail('task.manifestSha256 must be a sha256 in hex');
    }
    const tokenizers = t.tokenizerSha256;
    if (
      !Array.isArray(tokenizers) ||
      tokenizers.length * 2 !== hashes.length ||
      !tokenizers.every(isHash)
    ) {
      fail('task.tokenizerSha256 must list a sha256 per tokenizer of each pair');
    }
    if (!isStamp(t.dataStamp)) fail(`task.dataStamp must be ${STAMP}`);
    checkFields(t.args, 'task.args', RETRIEVAL_ARGS);
    return t as unknown as Task;
  }
  return fail(`task.kind must be suite, eval, rank or retrieval, got ${String(t.kind)}`);
}

/**
 * Checks the data of a `shard` or `merge` job.
 * @throws TypeError naming what is wrong.
 */
export function checkJobData(name: string, data: unknown): ShardJobData | MergeJobData {
  const d = data as Record<string, unknown> | undefined;
  if (!d || d.ortlabJob !== 1) fail(`'${name}' job without ortlabJob: 1`);
  if (!isText(d.submission)) fail('submission must be an id');
  checkTask(d.task);
  if (name === 'shard') {
    const shard = d.shard as { index?: unknown; count?: unknown } | undefined;
    if (!shard || !isCount(shard.index) || !isCount(shard.count) || shard.index >= shard.count) {
      fail('shard must be { index, count } with 0 <= index < count');
    }
    return d as unknown as ShardJobData;
  }
  if (name === 'merge') {
    if (!isCount(d.shards) || d.shards < 1) fail('shards must be a positive count');
    return d as unknown as MergeJobData;
  }
  return fail(`job name must be shard or merge, got '${name}'`);
}
