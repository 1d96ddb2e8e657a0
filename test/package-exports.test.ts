import { expect } from 'chai';
import { createRequire } from 'node:module';
import path from 'node:path';

const NAMES = [
  'measureFlatness',
  'kendallTau',
  'evolve',
  'pruneMagnitude',
  'quantizeInt8',
  'GradCam',
  'wcamDistance',
  'ckdLoss',
  'runDistillation',
  'recallAtK',
  'encodeImages',
  'runRetrievalEval',
  'runRetrievalQuery',
  'useResampler',
  'activeResampler',
];

describe('the ortlab package exports', () => {
  it("resolves 'ortlab' to the built dist/index.js", () => {
    const require = createRequire(path.resolve('package.json'));
    expect(require.resolve('ortlab')).to.equal(path.resolve('dist/index.js'));
  });

  it('exposes search, compress, attribution, distill, retrieval, resampler functions', async () => {
    const ortlab = (await import('ortlab')) as Record<string, unknown>;
    const missing = NAMES.filter((name) => typeof ortlab[name] !== 'function');
    expect(missing, 'exports that are not functions').to.deep.equal([]);
  });

  it('exposes GradCam as a class, not a plain function', async () => {
    const { GradCam } = (await import('ortlab')) as Record<string, unknown>;
    expect(Function.prototype.toString.call(GradCam)).to.match(/^class\b/);
  });
});
