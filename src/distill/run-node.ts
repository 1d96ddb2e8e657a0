/**
 * Teacher-student evaluation from files (Node): loads both models, the tokenizer they share and
 * the text data, runs `evaluateDistillation`, and returns the report with its configuration.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { runConfig, sha256, type RunConfig } from '../runtime/run-config.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { loadTokenizer } from '../runtime/tokenizer.js';
import { distillModel } from './model-outputs.js';
import {
  evaluateDistillation,
  type DistillEvalOptions,
  type DistillEvaluation,
} from './evaluate.js';
import { openTextData } from './text-data.js';

/** Options of {@link runDistillation}. */
export interface DistillRunOptions extends DistillEvalOptions {
  /** Tokenizer folder. Default: the teacher card's `tokenizer`, else `tokenizer/` beside it. */
  tokenizer?: string;
  /** Sentences per domain (the first ones). */
  limit?: number;
  session?: SessionOptions;
}

/** One model in the report. */
export interface DistillModelSummary {
  path: string;
  sha256: string;
  hiddenStates: number;
  hidden?: number;
  logits?: string;
  executionProvider: string;
}

/** The report of `ortlab distill`. */
export interface DistillReport extends DistillEvaluation {
  teacher: DistillModelSummary;
  student: DistillModelSummary;
  tokenizer: string;
  data: string;
  labels?: string[];
  config: Omit<RunConfig, 'model'>;
}

interface DistillCard {
  tokenizer?: string;
  maxLength?: number;
  labels?: string[];
}

async function readCard(model: string): Promise<DistillCard | undefined> {
  const file = model.replace(/\.onnx$/i, '') + '.json';
  if (file === model) return undefined;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as DistillCard;
  } catch (error) {
    throw new Error(`model card '${file}' is not valid JSON (${(error as Error).message})`);
  }
}

async function readModel(file: string, role: string): Promise<Uint8Array> {
  const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.message})`;
    throw new Error(`${role} model '${file}' ${why}; check the path`);
  });
  return new Uint8Array(bytes);
}

function tokenizerFolder(model: string, card: DistillCard | undefined): string {
  return path.resolve(path.dirname(model), card?.tokenizer ?? 'tokenizer');
}

async function sameTokenizer(teacherFolder: string, studentFolder: string): Promise<void> {
  if (teacherFolder === studentFolder) return;
  const read = (folder: string): Promise<string | undefined> =>
    readFile(path.join(folder, 'tokenizer.json'), 'utf8').catch(() => undefined);
  const [a, b] = await Promise.all([read(teacherFolder), read(studentFolder)]);
  if (a !== undefined && b !== undefined && a !== b) {
    throw new Error(
      `the teacher's tokenizer '${teacherFolder}' and the student's '${studentFolder}' differ; ` +
        'the relations compare token by token, so both models must take the same tokens ' +
        '(pass --tokenizer to choose one when they are in fact the same)',
    );
  }
}

/**
 * Evaluates `student` against `teacher` on text data (`'sentiment'` or .jsonl/.txt files).
 *
 * @example
 * ```ts
 * const report = await runDistillation(
 *   'models/distill/teacher.onnx', 'models/distill/student-ckd.onnx', 'sentiment');
 * report.domains.map((d) => [d.name, d.agreement]); // [['yelp (test)', 0.925], ...]
 * ```
 */
export async function runDistillation(
  teacherPath: string,
  studentPath: string,
  data: string,
  options: DistillRunOptions = {},
): Promise<DistillReport> {
  const [teacherCard, studentCard] = await Promise.all([
    readCard(teacherPath),
    readCard(studentPath),
  ]);
  const folder = options.tokenizer
    ? path.resolve(options.tokenizer)
    : tokenizerFolder(teacherPath, teacherCard);
  if (!options.tokenizer && studentCard?.tokenizer !== undefined) {
    await sameTokenizer(folder, tokenizerFolder(studentPath, studentCard));
  }
  const labels = teacherCard?.labels ?? studentCard?.labels;
  const domains = await openTextData(data, { labels, limit: options.limit });
  const [teacherBytes, studentBytes] = await Promise.all([
    readModel(teacherPath, 'teacher'),
    readModel(studentPath, 'student'),
  ]);
  const tokenizer = await loadTokenizer(folder);
  const sessions: Session[] = [];
  try {
    const teacherSession = await Session.create(teacherBytes, options.session);
    sessions.push(teacherSession);
    const studentSession = await Session.create(studentBytes, options.session);
    sessions.push(studentSession);
    const maxLength = options.maxLength ?? teacherCard?.maxLength;
    const evaluation = await evaluateDistillation(
      teacherSession,
      studentSession,
      tokenizer,
      domains,
      { ...options, maxLength },
    );
    const summary = (
      session: Session,
      file: string,
      bytes: Uint8Array,
      role: 'teacher' | 'student',
    ) => {
      const model = distillModel(session, role);
      return {
        path: file,
        sha256: sha256(bytes),
        hiddenStates: model.hiddenStates.length,
        hidden: model.hidden,
        logits: model.logits,
        executionProvider: session.executionProvider,
      };
    };
    const { model, ...config } = runConfig(teacherSession, teacherPath, options.session?.threads);
    void model; // the report names both models in teacher and student
    return {
      teacher: summary(teacherSession, teacherPath, teacherBytes, 'teacher'),
      student: summary(studentSession, studentPath, studentBytes, 'student'),
      tokenizer: folder,
      data,
      labels,
      ...evaluation,
      config,
    };
  } finally {
    tokenizer.dispose();
    await Promise.all(sessions.map((s) => s.dispose()));
  }
}
