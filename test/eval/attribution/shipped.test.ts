import { expect } from 'chai';
import { readFileSync } from 'node:fs';

import '../../../src/index.js';
import { runAttribution } from '../../../src/eval/attribution/run-node.js';

interface Entry {
  name: string;
  file: string;
  testAccuracy: number;
  top1Agreement: number;
  wcamDistance: number;
  pointingGameOwn: number;
}
const manifest = JSON.parse(readFileSync('models/attribution/manifest.json', 'utf8')) as {
  models: Entry[];
};

/**
 * The shipped attribution experiment, measured by ortlab, against what the export script
 * measured in PyTorch (tools/export/train_attribution.py) on the same 1,000 localization images.
 */
describe('shipped attribution experiment models/attribution', function () {
  this.timeout(180_000);
  const chosen = ['structured-0.5-ce', 'structured-0.5-wcam'];

  it('ortlab measures the accuracy, agreement, WCAM distance and pointing game PyTorch did', async () => {
    const entries = chosen.map((name) => manifest.models.find((m) => m.name === name)!);
    const report = await runAttribution(
      'models/attribution/original.onnx',
      entries.map((e) => `models/attribution/${e.file}`),
      'localization',
    );
    expect(report.samples).to.equal(1000);
    expect(report.data.masks).to.match(/data\/localization\/masks-idx3-ubyte\.gz$/);
    expect(report.original.accuracy).to.equal(manifest.models[0].testAccuracy);
    report.compressed.forEach((got, i) => {
      const want = entries[i];
      expect(got.name).to.equal(want.name);
      expect(got.accuracy, 'accuracy').to.equal(want.testAccuracy);
      expect(got.top1Agreement, 'agreement').to.equal(want.top1Agreement);
      // The manifest rounds distances to 1e-6.
      expect(got.wcamDistance, 'WCAM distance').to.be.closeTo(want.wcamDistance, 1e-6);
      expect(got.localization!.pointingGame, 'pointing game').to.be.closeTo(
        want.pointingGameOwn,
        1e-6,
      );
    });
    const [ce, wcam] = report.compressed;
    expect(wcam.wcamDistance).to.be.lessThan(ce.wcamDistance);
  });
});
