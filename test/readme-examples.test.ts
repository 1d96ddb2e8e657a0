import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * The README's TypeScript examples type-check against the sources, so that a renamed function,
 * option or result field cannot leave them behind. Each block is a module of its own; the few
 * values an example takes from its surroundings (the images to encode, a file input) are
 * declared without types, so calls, options and what is read from the results are checked.
 */
const ROOT = path.resolve('.');
const CONTEXT = ['sources', 'preset', 'captions', 'textToImage', 'fileInput'];

/** The ```ts blocks of a Markdown text, with the line each starts at. */
export function typescriptBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) throw new Error(`README.md:${i + 1}: a ts block that never closes`);
    blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** tsc's diagnostics for the blocks, each written to its own file; '' when they check. */
async function typeCheck(blocks: { line: number; code: string }[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-readme-'));
  try {
    const files: string[] = [];
    for (const { line, code } of blocks) {
      const used = CONTEXT.filter((name) => new RegExp(`\\b${name}\\b`).test(code));
      const declared = used.filter((name) => !new RegExp(`(const|let) ${name}\\b`).test(code));
      const preamble = declared.map((name) => `declare const ${name}: any;`).join(' ');
      const file = `readme-line-${line}.mts`;
      // The preamble shares the first line, so that tsc's line numbers are the block's.
      await writeFile(path.join(dir, file), `${preamble} ${code}\nexport {};\n`);
      files.push(file);
    }
    const config = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        esModuleInterop: true,
        resolveJsonModule: true,
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules/@types')],
        paths: {
          ortlab: [path.join(ROOT, 'src/index.ts')],
          'ortlab/browser': [path.join(ROOT, 'src/browser.ts')],
        },
      },
      files,
    };
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const run = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], {
      encoding: 'utf8',
    });
    return run.status === 0 ? '' : (run.stdout + run.stderr).split(dir + path.sep).join('');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the README examples', function () {
  this.timeout(120_000);
  const blocks = typescriptBlocks(readFileSync('README.md', 'utf8'));

  it('has TypeScript examples to check', () => {
    expect(blocks.length).to.be.at.least(5);
  });

  it('type-check against the sources, every block a module of its own', async () => {
    expect(await typeCheck(blocks), 'tsc on the README blocks').to.equal('');
  });

  it('would fail on an example that calls what ortlab does not export', async () => {
    const block = blocks.find((b) => b.code.includes('recallAtK'));
    expect(block, 'a block that calls recallAtK').to.not.equal(undefined);
    const wrong = { ...block!, code: block!.code.replace(/\brecallAtK\b/g, 'recallAtTen') };
    expect(await typeCheck([wrong])).to.match(/has no exported member named 'recallAtTen'/);
  });
});
