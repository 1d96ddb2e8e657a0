/**
 * The PyTorch reference of tools/fixtures/ckd_reference.py: cases with hidden states, masks and
 * logits from the .f32 file, and the losses the script computed from their definitions.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';

import type { HiddenStates } from '../../src/distill/index.js';

const FOLDER = 'test/fixtures/distill';

interface Stored {
  offset: number;
  dims: number[];
}

export interface Relations {
  pair: number;
  angle: Record<string, number>;
  distance: Record<string, number>;
}

export interface CkdEntry {
  mapping: string;
  weights: Record<string, number>;
  window: number;
  temperature: number;
  terms: Record<string, number>;
  total: number;
}

interface RawCase {
  name: string;
  about: string;
  batch: number;
  tokens: number;
  mask: number[];
  teacherHidden: Stored;
  studentHidden: Stored;
  teacherLogits: Stored;
  studentLogits: Stored;
  windows: string[];
  mappings: Record<string, [number, number][]>;
  wr: Record<string, Relations>;
  ltr: Record<string, Relations>;
  kd: Record<string, number>;
  tokenLogits?: { teacher: Stored; student: Stored; T2: number; mse: number };
  ckd: CkdEntry[];
}

export interface DistanceVariant {
  loss: 'l1' | 'mse' | 'huber';
  normalize: boolean;
  huberDelta: number;
}

export const reference = JSON.parse(readFileSync(`${FOLDER}/ckd-reference.json`, 'utf8')) as {
  tolerance: number;
  binary: string;
  distanceVariants: Record<string, DistanceVariant>;
  ckdTemperature: number;
  cases: RawCase[];
};

const buffer = readFileSync(`${FOLDER}/${reference.binary}`);
const floats = new Float32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 4);

function slice(stored: Stored): Float32Array {
  const size = stored.dims.reduce((a, b) => a * b, 1);
  return floats.slice(stored.offset, stored.offset + size);
}

/** Splits stored `[layers, batch, tokens, hidden]` into one `HiddenStates` per layer. */
function layers(stored: Stored): HiddenStates[] {
  const [count, ...dims] = stored.dims;
  const all = slice(stored);
  const size = all.length / count;
  return Array.from({ length: count }, (_, l) => ({
    data: all.slice(l * size, (l + 1) * size),
    dims,
  }));
}

export interface Case extends RawCase {
  teacher: HiddenStates[];
  student: HiddenStates[];
  maskArray: Uint8Array;
  logits: {
    teacher: { data: Float32Array; dims: number[] };
    student: { data: Float32Array; dims: number[] };
  };
}

export const cases: Case[] = reference.cases.map((c) => ({
  ...c,
  teacher: layers(c.teacherHidden),
  student: layers(c.studentHidden),
  maskArray: Uint8Array.from(c.mask),
  logits: {
    teacher: { data: slice(c.teacherLogits), dims: c.teacherLogits.dims },
    student: { data: slice(c.studentLogits), dims: c.studentLogits.dims },
  },
}));

/** The stored tensor of `stored`, with its dims. */
export function tensorOf(stored: Stored): { data: Float32Array; dims: number[] } {
  return { data: slice(stored), dims: stored.dims };
}

/** The window option of a fixture window name. */
export function windowOption(name: string): number | 'full' {
  return name === 'full' ? 'full' : Number(name);
}

/** Relative tolerance against the reference, stated by the issue: 1e-5. */
export const RELATIVE = 1e-5;

/** Asserts |actual - expected| <= 1e-5 |expected| (exact zeros: 1e-15 absolute). */
export function expectRelative(actual: number, expected: number, what: string): void {
  const bound = RELATIVE * Math.abs(expected) + 1e-15;
  const relative = Math.abs(actual - expected) / Math.abs(expected);
  expect(
    Math.abs(actual - expected),
    `${what}: ortlab ${actual}, PyTorch ${expected} (relative ${relative})`,
  ).to.be.at.most(bound);
}
