/**
 * The configuration block every report carries: what ran, on what, with which versions.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { getBackend } from './backend.js';
import { packageRoot } from './datasets/package-root.js';
import type { Session } from './session.js';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** ortlab's own version, from its package.json. */
export function ortlabVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

export interface RunConfig {
  model: { path: string; sha256: string };
  executionProvider: string;
  failedProviders: { name: string; reason: string }[];
  threads: number | 'default';
  versions: Record<string, string>;
  date: string;
}

export function runConfig(session: Session, modelPath: string, threads?: number): RunConfig {
  return {
    model: { path: modelPath, sha256: sha256(session.modelBytes) },
    executionProvider: session.executionProvider,
    failedProviders: [...session.failedProviders],
    threads: threads ?? 'default',
    versions: { ortlab: ortlabVersion(), ...getBackend().versions() },
    date: new Date().toISOString(),
  };
}
