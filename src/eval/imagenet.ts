/**
 * The ImageNet-1k class table and the class mapping of the ImageNet test sets, as their
 * official evaluations define it: class index = position of the wnid in the sorted list of the
 * 1000 wnids; ImageNet-A, -R and -O keep the logits of their 200 classes, in sorted-wnid order.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { folderEntries } from '../runtime/datasets/folder-entries.js';
import { naturalSort } from '../runtime/datasets/natural-sort.js';
import { packageRoot } from '../runtime/datasets/package-root.js';
import type { SplitKind } from './suite.js';

/** One ImageNet-1k class. */
export interface ImagenetClass {
  index: number;
  wnid: string;
  name: string;
}

let table: Promise<ImagenetClass[]> | undefined;

/** The 1000 classes, from the table ortlab ships in `data/imagenet/classes.tsv`. */
export function imagenetClasses(): Promise<ImagenetClass[]> {
  table ??= readFile(path.join(packageRoot(), 'data', 'imagenet', 'classes.tsv'), 'utf8').then(
    (text) =>
      text
        .split('\n')
        .filter((line) => line.trim().length > 0)
        .map((line) => {
          const [index, wnid, name] = line.split('\t');
          return { index: Number(index), wnid, name };
        }),
  );
  return table;
}

/** How an ImageNet-style split maps its folders to labels and model outputs. */
export interface ImagenetMapping {
  /** Folder name to label. */
  classMap: Record<string, number>;
  /** 1k indices of the scored classes, in label order; undefined = all 1000. */
  classIndices?: number[];
  /** Class names in label order. */
  classes: string[];
}

async function classFolders(dir: string): Promise<string[]> {
  const entries = await folderEntries(dir).catch(() => {
    throw new Error(`dataset folder '${dir}' not found; check the path`);
  });
  const folders = entries.filter((e) => e.kind === 'folder');
  if (folders.length === 0) {
    throw new Error(`'${dir}' holds no class folders; an ImageNet split has one folder per class`);
  }
  return naturalSort(folders.map((e) => e.name));
}

/**
 * Derives the class mapping of an ImageNet split from its folder names (`only`: just these).
 * @throws Error naming a folder that is not a wnid of ImageNet-1k (or, for ImageNet-V2, not an
 * index 0..999).
 */
export async function imagenetMapping(
  dir: string,
  kind: SplitKind,
  only?: readonly string[],
): Promise<ImagenetMapping> {
  const classes = await imagenetClasses();
  const present = await classFolders(dir);
  const missing = only?.find((f) => !present.includes(f));
  if (missing !== undefined) {
    throw new Error(`'${dir}' has no class folder '${missing}', which the split asks for`);
  }
  const folders = only ? present.filter((f) => only.includes(f)) : present;
  if (kind === 'imagenet-v2') {
    const classMap: Record<string, number> = {};
    for (const folder of folders) {
      const index = Number(folder);
      if (!/^\d+$/.test(folder) || index >= classes.length) {
        throw new Error(
          `'${path.join(dir, folder)}': ImageNet-V2 class folders are named by class index ` +
            `0..${classes.length - 1}; '${folder}' is not one`,
        );
      }
      classMap[folder] = index;
    }
    return { classMap, classes: classes.map((c) => c.name) };
  }
  const byWnid = new Map(classes.map((c) => [c.wnid, c]));
  const wnids = [...folders].sort();
  for (const wnid of wnids) {
    if (!byWnid.has(wnid)) {
      throw new Error(
        `'${path.join(dir, wnid)}': folder '${wnid}' is not an ImageNet-1k wnid; ${kind} class ` +
          'folders are named by wnid (e.g. n01440764)',
      );
    }
  }
  const classMap = Object.fromEntries(wnids.map((w, label) => [w, label]));
  const picked = wnids.map((w) => byWnid.get(w) as ImagenetClass);
  return {
    classMap,
    classIndices: picked.map((c) => c.index),
    classes: picked.map((c) => c.name),
  };
}
