import { expect } from 'chai';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { PathMap, parsePathMapping } from '../../src/queue/path-map.js';
import { readPairManifest } from '../../src/retrieval/manifest-node.js';
import { planRanking, rankModelFile, type RankManifest } from '../../src/search/rank-manifest.js';

const NAS = path.resolve('models/nas');
const RETRIEVAL = path.resolve('models/retrieval');

describe("a worker's path map (--map FROM=TO)", () => {
  it('parses FROM=TO, both absolute, and names a value that is not', () => {
    expect(parsePathMapping('/home/ana/data=/mnt/data')).to.deep.equal({
      from: '/home/ana/data',
      to: '/mnt/data',
    });
    expect(parsePathMapping('/a/b/=/c/./d')).to.deep.equal({ from: '/a/b', to: '/c/d' });
    for (const bad of ['/a', 'data=/mnt/data', '/a=', '=/b', '']) {
      expect(() => parsePathMapping(bad)).to.throw(
        RangeError,
        `--map takes FROM=TO, the submitter's folder and this worker's, both absolute ` +
          `(--map /home/ana/data=/mnt/data), got '${bad}'`,
      );
    }
  });

  it('maps paths under a folder, the folder itself, and nothing beside it', () => {
    const map = new PathMap([{ from: '/data', to: '/mnt/d' }]);
    expect(map.path('/data')).to.equal('/mnt/d');
    expect(map.path('/data/val/n01/x.JPEG')).to.equal('/mnt/d/val/n01/x.JPEG');
    expect(map.path('/database/x')).to.equal('/database/x');
    expect(map.path('/other/data/x')).to.equal('/other/data/x');
    expect(map.path('data/x')).to.equal('data/x'); // relative: a name, not a path
  });

  it('takes the longest folder that covers a path', () => {
    const map = new PathMap([
      { from: '/data', to: '/mnt/d' },
      { from: '/data/imagenet', to: '/fast/imagenet' },
    ]);
    expect(map.path('/data/imagenet/val/a.jpg')).to.equal('/fast/imagenet/val/a.jpg');
    expect(map.path('/data/coco/a.jpg')).to.equal('/mnt/d/coco/a.jpg');
  });

  it('maps back, for the report a merging worker writes', () => {
    const map = new PathMap([
      { from: '/data', to: '/mnt/d' },
      { from: '/data/imagenet', to: '/fast/imagenet' },
    ]);
    const back = map.reversed();
    for (const file of ['/data/imagenet/val/a.jpg', '/data/coco/a.jpg', '/data', '/elsewhere/x']) {
      expect(back.path(map.path(file))).to.equal(file);
    }
    expect(back.apply({ splits: [{ data: '/mnt/d/coco', n: 3 }] })).to.deep.equal({
      splits: [{ data: '/data/coco', n: 3 }],
    });
  });

  it('rewrites every absolute path of a task, leaving hashes, names and numbers', () => {
    const map = new PathMap([{ from: '/home/ana', to: '/mnt/ana' }]);
    const task = {
      kind: 'suite',
      model: '/home/ana/m.onnx',
      modelSha256: 'ab'.repeat(32),
      source: { flags: { val: '/home/ana/val', o: '/elsewhere/o' } },
      dataStamps: [{ size: 3, fingerprint: 'cd'.repeat(32) }],
      args: { preset: 'imagenet', batch: 64 },
      list: ['/home/ana/a', 'mnist'],
    };
    const mapped = map.apply(task);
    expect(mapped).to.deep.equal({
      ...task,
      model: '/mnt/ana/m.onnx',
      source: { flags: { val: '/mnt/ana/val', o: '/elsewhere/o' } },
      list: ['/mnt/ana/a', 'mnist'],
    });
    expect(task.model).to.equal('/home/ana/m.onnx'); // a copy: the job's data is left alone
    const typed = { indices: new Int32Array([1, 2]) };
    expect(map.apply(typed).indices).to.equal(typed.indices);
    expect(new PathMap().apply(task)).to.equal(task);
  });

  it('rewrites the absolute paths a rank manifest holds, before they are resolved', async () => {
    const manifest = JSON.parse(
      await readFile(path.join(NAS, 'manifest.json'), 'utf8'),
    ) as RankManifest;
    // The submitter wrote absolute paths into the manifest, under a folder this machine lacks.
    const theirs = '/home/ana/nas';
    const models = manifest.models
      .slice(0, 2)
      .map((m) => ({ ...m, file: path.join(theirs, m.file) }));
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'ortlab-map-')), 'manifest.json');
    await writeFile(file, JSON.stringify({ ...manifest, models }));
    const data = path.resolve('data/nas-val/images-idx3-ubyte.gz');
    await planRanking(file, { data }).then(
      () => expect.fail('an unmapped manifest loaded'),
      (error: Error) => expect(error.message).to.contain(theirs),
    );
    const map = new PathMap([{ from: theirs, to: NAS }]);
    const plan = await planRanking(file, { data, mapPaths: (m) => map.apply(m) });
    expect(rankModelFile(plan, 1)).to.equal(path.join(NAS, manifest.models[1].file));
    expect(plan.manifest.models[1].genotype).to.equal(manifest.models[1].genotype);
  });

  it('rewrites the absolute paths an encoder manifest holds, before resolving them', async () => {
    const manifest = JSON.parse(await readFile(path.join(RETRIEVAL, 'manifest.json'), 'utf8'));
    const theirs = '/home/ana/retrieval';
    const models = (manifest.models as Record<string, unknown>[]).map((p) => ({
      ...p,
      image: path.join(theirs, path.basename(p.image as string)),
      text: path.join(theirs, path.basename(p.text as string)),
      tokenizer: path.join(theirs, 'tokenizer'),
    }));
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'ortlab-map-')), 'manifest.json');
    await writeFile(file, JSON.stringify({ ...manifest, models }));
    const unmapped = await readPairManifest(file);
    expect(unmapped[0].image.startsWith(theirs)).to.equal(true);
    const map = new PathMap([{ from: theirs, to: RETRIEVAL }]);
    const mapped = await readPairManifest(file, { mapPaths: (m) => map.apply(m) });
    const shipped = await readPairManifest(path.join(RETRIEVAL, 'manifest.json'));
    expect(mapped.map((p) => [p.image, p.text, p.tokenizer])).to.deep.equal(
      shipped.map((p) => [p.image, p.text, p.tokenizer]),
    );
  });
});
