import { expect } from 'chai';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadTokenizer, type TextTokenizer } from '../../src/runtime/tokenizer.js';

// Built by tools/fixtures/make_tokenizer.mjs from the first 3000 entries of the real
// bert-base-uncased vocabulary, so these ids are BERT's own.
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'tokenizer');
const CLS = 101n;
const SEP = 102n;
const PAD = 0n;
// the=1996 model=2944 play=2377 ##s=2015 game=2208 in=1999 2010=2230 .=1012
const SENTENCE = 'The model plays the game in 2010.';
const SENTENCE_IDS = [CLS, 1996n, 2944n, 2377n, 2015n, 1996n, 2208n, 1999n, 2230n, 1012n, SEP];

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

describe('loadTokenizer', () => {
  let tokenizer: TextTokenizer;
  before(async () => {
    tokenizer = await loadTokenizer(FIXTURE);
  });
  after(() => tokenizer.dispose());

  it("gives BERT's ids for a sentence: [CLS], lower-cased word pieces, [SEP]", () => {
    const batch = tokenizer.encode([SENTENCE]);
    expect(batch.dims).to.deep.equal([1, 11]);
    expect(Array.from(batch.inputIds)).to.deep.equal(SENTENCE_IDS);
    expect(Array.from(batch.attentionMask)).to.deep.equal(Array(11).fill(1n));
    expect(Array.from(batch.tokenTypeIds)).to.deep.equal(Array(11).fill(0n));
  });

  it('maps a character outside the vocabulary to [UNK] (100)', () => {
    const batch = tokenizer.encode(['the 🦓']);
    expect(Array.from(batch.inputIds)).to.deep.equal([CLS, 1996n, 100n, SEP]);
  });

  it('pads a batch to its longest text with [PAD] and a zero attention mask', () => {
    const batch = tokenizer.encode(['The game.', SENTENCE]);
    expect(batch.dims).to.deep.equal([2, 11]);
    expect(Array.from(batch.inputIds.subarray(0, 11))).to.deep.equal([
      CLS,
      1996n,
      2208n,
      1012n,
      SEP,
      PAD,
      PAD,
      PAD,
      PAD,
      PAD,
      PAD,
    ]);
    expect(Array.from(batch.attentionMask.subarray(0, 11))).to.deep.equal([
      1n,
      1n,
      1n,
      1n,
      1n,
      0n,
      0n,
      0n,
      0n,
      0n,
      0n,
    ]);
    expect(Array.from(batch.inputIds.subarray(11))).to.deep.equal(SENTENCE_IDS);
  });

  it("pads every text to maxLength under padding: 'maxLength'", () => {
    const batch = tokenizer.encode(['The game.'], { padding: 'maxLength', maxLength: 8 });
    expect(batch.dims).to.deep.equal([1, 8]);
    expect(Array.from(batch.inputIds)).to.deep.equal([
      CLS,
      1996n,
      2208n,
      1012n,
      SEP,
      PAD,
      PAD,
      PAD,
    ]);
    expect(Array.from(batch.attentionMask)).to.deep.equal([1n, 1n, 1n, 1n, 1n, 0n, 0n, 0n]);
  });

  it('truncates long texts to maxLength and keeps [CLS] and [SEP]', () => {
    const batch = tokenizer.encode([SENTENCE], { maxLength: 5 });
    expect(Array.from(batch.inputIds)).to.deep.equal([CLS, 1996n, 2944n, 2377n, SEP]);
  });

  it('rejects an over-long text without truncation under maxLength padding: RangeError', () => {
    expect(() =>
      tokenizer.encode([SENTENCE], { maxLength: 5, truncation: false, padding: 'maxLength' }),
    ).to.throw(RangeError, /text 0 has 11 tokens, more than maxLength 5/);
  });

  it('decodes ids back to lower-cased text, with or without special tokens', () => {
    const ids = tokenizer.encode([SENTENCE]).inputIds;
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).to.equal(
      'the model plays the game in 2010.',
    );
    expect(tokenizer.decode([101, 1996, 102])).to.equal('[CLS] the [SEP]');
  });

  it('reports the vocabulary size and pad id of the fixture', () => {
    expect(tokenizer.vocabSize).to.equal(3000);
    expect(tokenizer.padId).to.equal(0);
  });

  it('throws after dispose, and dispose is safe to call twice', async () => {
    const own = await loadTokenizer(FIXTURE);
    own.dispose();
    own.dispose();
    expect(() => own.encode(['x'])).to.throw(Error, /was disposed/);
  });

  it('names a missing tokenizer.json and says what to put there', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ortlab-tokenizer-'));
    try {
      await copyFile(join(FIXTURE, 'tokenizer_config.json'), join(folder, 'tokenizer_config.json'));
      const error = await rejection(loadTokenizer(folder));
      expect(error.message)
        .to.contain(`'${join(folder, 'tokenizer.json')}' is missing`)
        .and.contain("put the model's tokenizer.json there")
        .and.contain('never downloads');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('names a missing folder, and rejects a non-string folder with a TypeError', async () => {
    const error = await rejection(loadTokenizer('/no/such/tokenizer'));
    expect(error.message).to.contain("'/no/such/tokenizer' does not exist");
    expect(await rejection(loadTokenizer(7 as unknown as string))).to.be.instanceOf(TypeError);
  });

  it('makes no network request while loading, even when a file is missing', async () => {
    const { env } = await import('@huggingface/transformers');
    const originalFetch = env.fetch;
    const requested: string[] = [];
    env.fetch = (input: string | URL) => {
      requested.push(String(input));
      return Promise.reject(new Error('network is not allowed in this test'));
    };
    const folder = await mkdtemp(join(tmpdir(), 'ortlab-tokenizer-'));
    try {
      (await loadTokenizer(FIXTURE)).dispose();
      await copyFile(join(FIXTURE, 'tokenizer.json'), join(folder, 'tokenizer.json'));
      await rejection(loadTokenizer(folder));
    } finally {
      env.fetch = originalFetch;
      await rm(folder, { recursive: true, force: true });
    }
    expect(requested).to.deep.equal([]);
  });

  it('leaves the library allowed to use remote models afterwards as it was before', async () => {
    const { env } = await import('@huggingface/transformers');
    const before = env.allowRemoteModels;
    (await loadTokenizer(FIXTURE)).dispose();
    expect(env.allowRemoteModels).to.equal(before);
  });
});
