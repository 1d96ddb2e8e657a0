/**
 * What a dataset folder holds, with symbolic links followed as torchvision's `ImageFolder` follows
 * them: a link to a folder is a class folder (or a nested folder), a link to a file is a file.
 * Subsets of ImageNet are often built as folders of links, and the official evaluations read
 * them through the links. Node only.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** An entry of a folder, its link followed. */
export interface FolderEntry {
  name: string;
  /** `file` includes a broken link: it is listed, and reported as unreadable when decoded. */
  kind: 'folder' | 'file' | 'other';
  /** Whether the entry is a symbolic link. */
  link: boolean;
}

function kindOf(
  entry: Dirent,
  target: () => { isDirectory(): boolean; isFile(): boolean } | undefined,
): FolderEntry {
  const link = entry.isSymbolicLink();
  const info = link ? target() : entry;
  let kind: FolderEntry['kind'] = 'file';
  if (info !== undefined) kind = info.isDirectory() ? 'folder' : info.isFile() ? 'file' : 'other';
  return { name: entry.name, kind, link };
}

/** The entries of `folder`, hidden ones (a leading dot) left out. */
export async function folderEntries(folder: string): Promise<FolderEntry[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const out: FolderEntry[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const target = entry.isSymbolicLink()
      ? await stat(join(folder, entry.name)).catch(() => undefined)
      : undefined;
    out.push(kindOf(entry, () => target));
  }
  return out;
}

/** {@link folderEntries}, synchronously. */
export function folderEntriesSync(folder: string): FolderEntry[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith('.'))
    .map((entry) =>
      kindOf(entry, () => {
        try {
          return statSync(join(folder, entry.name));
        } catch {
          return undefined;
        }
      }),
    );
}
