// Tokenize texts with ortlab's own loader (src/runtime/tokenizer.ts) and store the ids, so that
// the Python build scripts can compare them with their tokenization.
//
// Usage: npx tsx tools/export/check_tokenizer.ts <manifest.json>
//
// The manifest (written by tools/export/build_wordpiece.py) names the tokenizer folder, the
// texts, a maxLength and the JSON file to write. `fetch` is replaced by a function that throws
// before the tokenizer loads, so a load that tried the network would fail here. Each text is
// encoded alone (no padding) and all of them again as one padded batch; the output holds each
// text's ids, whether the batch rows agree with them, and the tokenizer's vocabSize and padId.
// Exits 1 when the batch disagrees, 2 on bad usage or a failed load.

import { readFileSync, writeFileSync } from 'node:fs';

import { loadTokenizer } from '../../src/runtime/tokenizer.js';

interface Manifest {
  tokenizer: string;
  texts: string[];
  maxLength: number;
  out: string;
}

function rowsOf(ids: BigInt64Array, mask: BigInt64Array, tokens: number): number[][] {
  const rows: number[][] = [];
  for (let start = 0; start < ids.length; start += tokens) {
    const row: number[] = [];
    for (let t = start; t < start + tokens; t++) if (mask[t] === 1n) row.push(Number(ids[t]));
    rows.push(row);
  }
  return rows;
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: npx tsx tools/export/check_tokenizer.ts <manifest.json>\n');
    process.exit(2);
  }
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  let fetches = 0;
  globalThis.fetch = (input: unknown) => {
    fetches++;
    return Promise.reject(new Error(`network access attempted: ${String(input)}`));
  };

  const tokenizer = await loadTokenizer(manifest.tokenizer);
  const ids = manifest.texts.map((text) => {
    const batch = tokenizer.encode([text], { maxLength: manifest.maxLength });
    return Array.from(batch.inputIds, (id) => Number(id));
  });
  const batch = tokenizer.encode(manifest.texts, { maxLength: manifest.maxLength });
  const rows = rowsOf(batch.inputIds, batch.attentionMask, batch.dims[1]);
  const batchAgrees = rows.every((row, i) => row.join() === ids[i].join());
  const padded = batch.inputIds.filter((_, i) => batch.attentionMask[i] === 0n);
  const padIsPadId = padded.every((id) => Number(id) === tokenizer.padId);

  const result = {
    ids,
    batchAgrees,
    padIsPadId,
    fetches,
    vocabSize: tokenizer.vocabSize,
    padId: tokenizer.padId,
    decodedFirst: tokenizer.decode(ids[0] ?? [], { skipSpecialTokens: true }),
  };
  tokenizer.dispose();
  writeFileSync(manifest.out, JSON.stringify(result));
  process.stdout.write(
    `${JSON.stringify({ texts: ids.length, batchAgrees, padIsPadId, fetches })}\n`,
  );
  process.exit(batchAgrees && padIsPadId && fetches === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(2);
});
