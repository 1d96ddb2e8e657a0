import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

import {
  Session,
  loadSuite,
  openDataset,
  runSuite,
  validateSuite,
  type SuiteConfig,
} from '../../src/index.js';
import type { ProgressEvent } from '../../src/runtime/progress.js';
import { imagenetClasses } from '../../src/eval/imagenet.js';
import { fakeDataset } from '../helpers/imagenet-fakes.js';

const MODEL = path.resolve('models/mnist-cnn.onnx');
const BIN = path.resolve('bin/ortlab.cjs');
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const WORD_MAP = Object.fromEntries(WORDS.map((w, i) => [w, i]));

/**
 * Writes the first `count` MNIST test digits as PNGs in class folders named by the digit's
 * word (`seven/…`). Sorted by name the folders are eight, five, four, …: without a class map
 * their labels would not be the digits.
 */
async function wordFolders(count: number): Promise<{ root: string; labels: Map<string, number> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ortlab-words-'));
  const labels = new Map<string, number>();
  for await (const s of (await openDataset('mnist')).samples({ end: count })) {
    if (s.source.kind !== 'pixels') throw new Error('expected pixel samples');
    const folder = path.join(root, WORDS[s.label]);
    await mkdir(folder, { recursive: true });
    const { data, width, height } = s.source;
    await sharp(Buffer.from(data), { raw: { width, height, channels: 1 } })
      .png()
      .toFile(path.join(folder, `${s.index}.png`));
    labels.set(`${WORDS[s.label]}/${s.index}.png`, s.label);
  }
  return { root, labels };
}

async function rejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('suite configurations', () => {
  describe('classMap', () => {
    let session: Session;
    let digits: { root: string; labels: Map<string, number> };
    before(async () => {
      session = await Session.create(MODEL);
      digits = await wordFolders(100);
      expect(new Set(digits.labels.values()).size, 'every digit has a folder').to.equal(10);
    });
    after(() => session.dispose());

    const suiteOf = (split: Record<string, unknown>): SuiteConfig =>
      validateSuite(
        { name: 's', preset: 'mnist', splits: [{ name: 'words', role: 'clean', ...split }] },
        'test',
        '/',
      );

    it('labels each folder by the map: digits are scored against their own class', async () => {
      const run = await runSuite(session, suiteOf({ data: digits.root, classMap: WORD_MAP }));
      const [split] = run.splits;
      expect(split.classes).to.deep.equal(WORDS);
      expect(split.records).to.have.length(100);
      for (const r of split.records) expect(r.y, r.id).to.equal(digits.labels.get(r.id));
      const correct = split.records.filter((r) => r.rank === 0).length;
      expect(correct / 100).to.be.above(0.9);
    });

    it('without the map labels follow the sorted folder names and accuracy collapses', async () => {
      const run = await runSuite(session, suiteOf({ data: digits.root }));
      const [split] = run.splits;
      expect(split.classes).to.deep.equal([...WORDS].sort());
      const correct = split.records.filter((r) => r.rank === 0).length;
      expect(correct / 100).to.be.below(0.5);
    });

    it('reads a classMap file named relative to the suite file', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-suite-'));
      await mkdir(path.join(dir, 'maps'));
      await writeFile(path.join(dir, 'maps', 'words.json'), JSON.stringify(WORD_MAP));
      const file = path.join(dir, 'suite.json');
      await writeFile(
        file,
        JSON.stringify({
          name: 'from file',
          preset: 'mnist',
          splits: [{ name: 'w', role: 'clean', data: digits.root, classMap: 'maps/words.json' }],
        }),
      );
      const suite = await loadSuite(file);
      expect(suite.splits[0].classMap).to.equal(path.join(dir, 'maps', 'words.json'));
      const run = await runSuite(session, suite);
      for (const r of run.splits[0].records) expect(r.y, r.id).to.equal(digits.labels.get(r.id));
    });

    it('names a folder that the map leaves out', async () => {
      const partial: Record<string, number> = { ...WORD_MAP };
      delete partial.nine;
      const error = await rejects(
        runSuite(session, suiteOf({ data: digits.root, classMap: partial })),
      );
      expect(error.message).to.match(/class folder 'nine' in '.*' is missing from the class map/);
    });

    it('refuses a classMap on data that is not a folder instead of ignoring it', async () => {
      const error = await rejects(
        runSuite(session, suiteOf({ data: 'digits', classMap: WORD_MAP })),
      );
      expect(error).to.be.instanceOf(RangeError);
      expect(error.message).to.match(
        /split 'words': classMap and classFolders .* 'digits' is not a folder; .* classIndices/,
      );
    });

    it('reads only the classFolders of a folder split', async () => {
      const run = await runSuite(
        session,
        suiteOf({ data: digits.root, classMap: WORD_MAP, classFolders: ['zero', 'one'] }),
      );
      const ids = run.splits[0].records.map((r) => r.id);
      expect(ids.length).to.equal(
        [...digits.labels.keys()].filter((k) => /^(zero|one)\//.test(k)).length,
      );
      expect(ids.every((id) => /^(zero|one)\//.test(id))).to.equal(true);
    });

    describe('model width', () => {
      it('refuses a map with more classes than the model scores, before scoring', async () => {
        const events: ProgressEvent[] = [];
        const wide = { ...WORD_MAP, ten: 10, eleven: 11 };
        const suite = validateSuite(
          {
            name: 's',
            preset: 'mnist',
            splits: [
              { name: 'fine', role: 'clean', data: digits.root, classMap: WORD_MAP },
              { name: 'wide', role: 'shifted', data: digits.root, classMap: wide },
            ],
          },
          'test',
          '/',
        );
        const error = await rejects(
          runSuite(session, suite, { onProgress: (e) => events.push(e) }),
        );
        expect(error).to.be.instanceOf(RangeError);
        expect(error.message).to.equal(
          "split 'wide' has 12 classes but the model scores 10; give the split a classMap or " +
            'classIndices that fit the model',
        );
        expect(events, 'no split was scored').to.deep.equal([]);
      });

      it('accepts a map with fewer classes than the model scores', async () => {
        const sevens = await wordFolders(1); // the first test digit is a 7
        const run = await runSuite(session, suiteOf({ data: sevens.root, classMap: { seven: 7 } }));
        expect(run.splits[0].classes).to.have.length(8);
        expect(run.splits[0].classes[7]).to.equal('seven');
        expect(run.splits[0].records[0].y).to.equal(7);
      });

      it('names a classIndices entry outside the model outputs before any scoring', async () => {
        const error = await rejects(
          runSuite(
            session,
            suiteOf({
              data: digits.root,
              classMap: WORD_MAP,
              classIndices: [...Array(9).keys(), 10],
            }),
          ),
        );
        expect(error.message).to.match(
          new RegExp(
            "^split '.+' scores class index 10, outside the model's 10 outputs; " +
              'fix its classIndices$',
          ),
        );
      });

      it('refuses an ImageNet split on a model without 1000 outputs, naming both', async () => {
        const classes = await imagenetClasses();
        const dir = await fakeDataset({ [classes[0].wnid]: [0] });
        const suite = validateSuite(
          { name: 's', splits: [{ name: 'val', role: 'clean', kind: 'imagenet', data: dir }] },
          'test',
          '/',
        );
        const error = await rejects(runSuite(session, suite, { preset: 'mnist' }));
        expect(error).to.be.instanceOf(RangeError);
        expect(error.message).to.equal(
          "split 'val' (imagenet) needs a model with 1000 outputs, one per ImageNet-1k class; " +
            "the model's output 'logits' has 10",
        );
      });

      it('ortlab robustness --config exits 1 with the width error', async () => {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-suite-'));
        const file = path.join(dir, 'suite.json');
        const wide = { ...WORD_MAP, ten: 10, eleven: 11 };
        await writeFile(
          file,
          JSON.stringify({
            name: 'wide',
            preset: 'mnist',
            splits: [{ name: 'wide', role: 'clean', data: digits.root, classMap: wide }],
          }),
        );
        let code = 0;
        let stderr = '';
        try {
          await promisify(execFile)('node', [BIN, 'robustness', MODEL, '--config', file]);
        } catch (error) {
          ({ code, stderr } = error as { code: number; stderr: string });
        }
        expect(code).to.equal(1);
        expect(stderr).to.match(/split 'wide' has 12 classes but the model scores 10/);
      });
    });
  });

  describe('validateSuite', () => {
    const split = { name: 'a', role: 'clean', data: 'a-data' };
    const check = (config: unknown) => () => validateSuite(config, 'my.json', '/base');

    it('makes data and classMap paths absolute against the base, keeps bundled names', () => {
      const suite = validateSuite(
        {
          name: 's',
          splits: [
            { ...split, classMap: 'maps/a.json' },
            { name: 'b', role: 'shifted', data: 'mnist', classMap: { x: 0 } },
          ],
        },
        'my.json',
        '/base',
      );
      expect(suite.splits[0]).to.deep.include({
        data: path.resolve('/base', 'a-data'),
        classMap: path.resolve('/base', 'maps/a.json'),
        kind: 'folder',
      });
      expect(suite.splits[1]).to.deep.include({ data: 'mnist', classMap: { x: 0 } });
    });

    it('rejects what is not a suite object, a missing name and empty splits', () => {
      expect(check(null)).to.throw(RangeError, 'my.json: a suite is a JSON object with "splits"');
      expect(check([])).to.throw('my.json: "name" must be a non-empty string');
      expect(check({ splits: [split] })).to.throw('my.json: "name" must be a non-empty string');
      expect(check({ name: 's', splits: [] })).to.throw(
        'my.json: "splits" must be a non-empty array',
      );
      expect(check({ name: 's' })).to.throw('my.json: "splits" must be a non-empty array');
    });

    it('names the split without a name, and the split whose name is used twice', () => {
      expect(check({ name: 's', splits: [split, { role: 'clean', data: 'x' }] })).to.throw(
        'my.json: split 2: "name" is required',
      );
      expect(check({ name: 's', splits: [split, { ...split, data: 'other' }] })).to.throw(
        "my.json: split 2 'a': the name is used twice",
      );
    });

    it('rejects an unknown role and an unknown kind, listing the valid ones', () => {
      expect(check({ name: 's', splits: [{ ...split, role: 'test' }] })).to.throw(
        RangeError,
        'my.json: split 1 \'a\': "role" must be one of clean, shifted, ood, got test',
      );
      expect(check({ name: 's', splits: [{ ...split, kind: 'cifar' }] })).to.throw(
        'my.json: split 1 \'a\': "kind" must be one of folder, imagenet, imagenet-v2, ' +
          'imagenet-a, imagenet-r, imagenet-o, got cifar',
      );
    });

    it('takes classFolders as a non-empty list of folder names, and nothing else', () => {
      const ok = validateSuite(
        { name: 's', splits: [{ ...split, classFolders: ['x', 'y'] }] },
        'my.json',
        '/b',
      );
      expect(ok.splits[0].classFolders).to.deep.equal(['x', 'y']);
      for (const classFolders of [[], 'x', [''], [3]]) {
        expect(check({ name: 's', splits: [{ ...split, classFolders }] })).to.throw(
          RangeError,
          'my.json: split 1 \'a\': "classFolders" must be a non-empty list of folder names',
        );
      }
    });

    it('requires data', () => {
      expect(check({ name: 's', splits: [{ name: 'a', role: 'clean' }] })).to.throw(
        'my.json: split 1 \'a\': "data" is required',
      );
      expect(check({ name: 's', splits: [{ ...split, data: '' }] })).to.throw(/"data" is required/);
    });

    it('requires inDistribution on an ood split, naming a clean or shifted split', () => {
      const ood = { name: 'o', role: 'ood', data: 'o-data' };
      expect(check({ name: 's', splits: [split, ood] })).to.throw(
        'my.json: split 2 \'o\': an ood split needs "inDistribution", the name of a clean or ' +
          'shifted split',
      );
      expect(check({ name: 's', splits: [split, { ...ood, inDistribution: 'nope' }] })).to.throw(
        "my.json: split 'o': inDistribution 'nope' must name a clean or shifted split of this " +
          'suite (a)',
      );
      const other = { name: 'o2', role: 'ood', data: 'x', inDistribution: 'a' };
      expect(
        check({ name: 's', splits: [split, other, { ...ood, inDistribution: 'o2' }] }),
      ).to.throw(/inDistribution 'o2' must name a clean or shifted split/);
    });

    it('rejects classIndices that are not distinct non-negative integers', () => {
      for (const classIndices of [[0, 0], [-1], [1.5], 'all', [0, '1']]) {
        expect(
          check({ name: 's', splits: [{ ...split, classIndices }] }),
          JSON.stringify(classIndices),
        ).to.throw(
          'my.json: split 1 \'a\': "classIndices" must be a list of distinct non-negative integers',
        );
      }
    });
  });

  describe('loadSuite', () => {
    it('names a missing file and a file that is not JSON', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-suite-'));
      const missing = path.join(dir, 'none.json');
      expect((await rejects(loadSuite(missing))).message).to.equal(
        `suite configuration '${missing}' not found; check the path`,
      );
      const bad = path.join(dir, 'bad.json');
      await writeFile(bad, '{ "name": ');
      expect((await rejects(loadSuite(bad))).message).to.match(
        new RegExp(`^suite configuration '${bad}' is not valid JSON: `),
      );
    });

    it('prefixes validation errors with the file name', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'ortlab-suite-'));
      const file = path.join(dir, 'suite.json');
      await writeFile(file, JSON.stringify({ name: 's', splits: [{ name: 'a', role: 'x' }] }));
      expect((await rejects(loadSuite(file))).message).to.equal(
        `${file}: split 1 'a': "role" must be one of clean, shifted, ood, got x`,
      );
    });
  });
});
