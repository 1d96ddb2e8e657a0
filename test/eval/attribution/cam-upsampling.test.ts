import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import '../../../src/index.js';
import { extremeSamples } from '../../../src/eval/attribution/cam-graph.js';
import { GradCam } from '../../../src/eval/attribution/grad-cam.js';
import { upsampleBilinear } from '../../../src/eval/attribution/maps.js';
import { OnnxModel } from '../../../src/runtime/onnx/model.js';
import { Random } from '../../../src/search/random.js';
import { expectClose } from '../../helpers/assert.js';

const MODEL = 'models/attribution/original.onnx';

describe('Grad-CAM upsampled by matrix products', function () {
  this.timeout(60_000);

  it('finds every map extreme among the extreme samples of each axis', () => {
    const rng = new Random(7);
    const next = () => rng.uniform();
    const sizes = [
      [1, 5],
      [2, 3],
      [3, 64],
      [7, 224],
      [16, 64],
      [5, 17],
      [13, 13],
      [9, 4],
    ];
    let checked = 0;
    for (const [h, H] of sizes) {
      for (const [w, W] of sizes) {
        for (let trial = 0; trial < 4; trial++) {
          // Random maps, some with ties and flat stretches.
          const data = Float32Array.from({ length: h * w }, () =>
            trial % 2 === 0 ? next() * 2 - 1 : Math.round(next() * 3),
          );
          const up = upsampleBilinear({ data, count: 1, height: h, width: w }, H, W).data;
          const ys = extremeSamples(h, H);
          const xs = extremeSamples(w, W);
          expect(ys.length).to.be.at.most(Math.min(H, 2 * h + 2));
          let lo = Infinity;
          let hi = -Infinity;
          for (const y of ys) {
            for (const x of xs) {
              lo = Math.min(lo, up[y * W + x]);
              hi = Math.max(hi, up[y * W + x]);
            }
          }
          const label = `${h}x${w} to ${H}x${W}, trial ${trial}`;
          expect(lo, label).to.equal(up.reduce((m, v) => Math.min(m, v), Infinity));
          expect(hi, label).to.equal(up.reduce((m, v) => Math.max(m, v), -Infinity));
          checked++;
        }
      }
    }
    expect(checked).to.equal(256);
  });

  it('gives the maps of Resize in the graph, each from 0 to 1, for fixed sizes', async () => {
    const bytes = new Uint8Array(await readFile(MODEL));
    // The same model with a symbolic height and width: its maps are upsampled by Resize.
    const open = OnnxModel.fromBytes(bytes);
    const dims = open.graph.input[0].type?.tensorType?.shape?.dim ?? [];
    expect(dims).to.have.length(4);
    dims[2] = { dimParam: 'height' };
    dims[3] = { dimParam: 'width' };
    const fixed = await GradCam.create(bytes);
    const resized = await GradCam.create(open.toBytes());
    expect([fixed.upsampling, resized.upsampling]).to.deep.equal(['products', 'resize']);
    try {
      const rng = new Random(11);
      const next = () => rng.uniform();
      const data = Float32Array.from({ length: 6 * 64 * 64 }, () => next());
      const input = { type: 'float32' as const, data, dims: [6, 1, 64, 64] };
      const targets = Int32Array.of(-1, 0, 3, -1, 9, 5);
      const a = await fixed.compute(input, targets);
      const b = await resized.compute(input, targets);
      expect(a.targets).to.deep.equal(b.targets);
      expect(a.upsampled).to.include({ count: 6, height: 64, width: 64 });
      expectClose(a.upsampled!.data, b.upsampled!.data, 1e-6, 'products against Resize');
      for (let m = 0; m < 6; m++) {
        const map = a.upsampled!.data.subarray(m * 4096, (m + 1) * 4096);
        const lo = map.reduce((x, v) => Math.min(x, v), Infinity);
        const hi = map.reduce((x, v) => Math.max(x, v), -Infinity);
        expect(lo, `map ${m} minimum`).to.be.closeTo(0, 1e-6);
        expect(hi, `map ${m} maximum`).to.be.closeTo(1, 1e-6);
      }
    } finally {
      await fixed.dispose();
      await resized.dispose();
    }
  });
});
