import { expect } from 'chai';
import { readFileSync } from 'node:fs';

import '../../../src/index.js';
import {
  occlusionMap,
  riseMap,
  riseMasks,
  scoreCamMap,
} from '../../../src/eval/attribution/forward-maps.js';
import { GradCam, classMapsFor } from '../../../src/eval/attribution/grad-cam.js';
import {
  minMaxNormalize,
  upsampleBilinear,
  type MapBatch,
} from '../../../src/eval/attribution/maps.js';
import {
  argmaxAgreement,
  argmaxPixel,
  mapSpearman,
  maskAuroc,
  pointingHit,
  topKIoU,
  topPixels,
  wcamDistance,
} from '../../../src/eval/attribution/map-metrics.js';
import { OnnxModel } from '../../../src/runtime/onnx/model.js';
import { Session } from '../../../src/runtime/session.js';
import { expectClose } from '../../helpers/assert.js';

/**
 * ortlab's attribution maps and metrics against tools/fixtures/attribution_reference.py:
 * Grad-CAM by PyTorch autograd, Score-CAM, occlusion and RISE by PyTorch forward passes,
 * bilinear upsampling by F.interpolate, the metrics by numpy, scipy and scikit-learn.
 */
interface Arr {
  dims: number[];
  data: number[];
}
const DIR = 'test/fixtures/attribution';
const ref = JSON.parse(readFileSync(`${DIR}/reference.json`, 'utf8')) as {
  tolerance: number;
  inputs: Arr;
  predicted: number[];
  gradCam: { cams: Arr; upsampledPredicted: Arr };
  scoreCam: { cams: Arr };
  occlusion: { patch: number; stride: number; baseline: number; maps: Arr }[];
  rise: {
    N: number;
    p1: number;
    cells: number;
    upsampledSide: number;
    grids: Arr;
    offsets: [number, number][];
    masks: Arr;
    maps: Arr;
  };
  mapPairs: {
    name: string;
    a: Arr;
    b: Arr;
    wcamDistance: number;
    spearman: number | null;
    topK: { k: number; topA: number[]; iou: number }[];
    argmaxA: number;
    argmaxAgree: boolean;
  }[];
  localization: { name: string; map: Arr; mask: number[]; rocAuc: number; pointingHit: boolean }[];
  bilinear: { input: Arr; outputs: { size: number[]; output: Arr }[] };
};
const TOL = ref.tolerance;
const MODEL = new Uint8Array(readFileSync(`${DIR}/tiny-cnn.onnx`));
const IMAGE_SIZE = 144;

function image(i: number) {
  const data = Float32Array.from(ref.inputs.data.slice(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE));
  return { type: 'float32' as const, data, dims: [1, 1, 12, 12] };
}

function slice(arr: Arr, i: number, size: number): Float64Array {
  return Float64Array.from(arr.data.slice(i * size, (i + 1) * size));
}

describe('attribution maps against the PyTorch reference (1e-6)', function () {
  this.timeout(60_000);

  it('the fixture states the tolerance these tests use', () => {
    expect(TOL).to.equal(1e-6);
  });

  it('a GradCam without allClasses computes only chosen classes, to the same maps', async () => {
    const cam = await GradCam.create(MODEL);
    try {
      const input = {
        type: 'float32' as const,
        data: Float32Array.from(ref.inputs.data),
        dims: [3, 1, 12, 12],
      };
      for (let c = 0; c < 3; c++) {
        const result = await cam.compute(input, Int32Array.from([c, c, c]));
        expect(result.classMaps).to.equal(undefined);
        for (let i = 0; i < 3; i++) {
          const expected = slice(ref.gradCam.cams, i * 3 + c, 36);
          expectClose(result.maps.data.subarray(i * 36, (i + 1) * 36), expected, TOL, `${i} ${c}`);
        }
        expect(() => classMapsFor(result, Int32Array.from([0, 0, 0]))).to.throw(/allClasses: true/);
      }
      const predicted = await cam.compute(input);
      expect(Array.from(predicted.targets)).to.deep.equal(ref.predicted);
      expectClose(
        predicted.upsampled!.data,
        Float64Array.from(ref.gradCam.upsampledPredicted.data),
        TOL,
        'upsampled',
      );
    } finally {
      await cam.dispose();
    }
  });

  it('Grad-CAM equals autograd Grad-CAM for every image and class', async () => {
    const cam = await GradCam.create(MODEL, { allClasses: true });
    try {
      const input = {
        type: 'float32' as const,
        data: Float32Array.from(ref.inputs.data),
        dims: [3, 1, 12, 12],
      };
      for (let c = 0; c < 3; c++) {
        const { maps } = await cam.compute(input, Int32Array.from([c, c, c]));
        for (let i = 0; i < 3; i++) {
          const expected = slice(ref.gradCam.cams, i * 3 + c, 36);
          expectClose(
            maps.data.subarray(i * 36, (i + 1) * 36),
            expected,
            TOL,
            `image ${i} class ${c}`,
          );
        }
      }
      const result = await cam.compute(input);
      const { maps, targets } = result;
      expect(Array.from(targets)).to.deep.equal(ref.predicted);
      for (let c = 0; c < 3; c++) {
        const again = classMapsFor(result, Int32Array.from([c, c, c]));
        expectClose(
          again.data.subarray(0, 36),
          slice(ref.gradCam.cams, c, 36),
          TOL,
          `class ${c} again`,
        );
      }
      expect(() => classMapsFor(result, Int32Array.from([0, 3, 1]))).to.throw(
        RangeError,
        /target 3 of sample 1 is not a class of 0\.\.2/,
      );
      expect(() => classMapsFor(result, Int32Array.from([0]))).to.throw(RangeError, /batch of 3/);
      const up = minMaxNormalize(upsampleBilinear(maps, 12, 12));
      expectClose(
        up.data,
        Float64Array.from(ref.gradCam.upsampledPredicted.data),
        TOL,
        'upsampled',
      );
      // The same map upsampled and normalized inside ONNX Runtime, in float32.
      expect(result.upsampled).to.include({ count: 3, height: 12, width: 12 });
      expectClose(
        result.upsampled!.data,
        Float64Array.from(ref.gradCam.upsampledPredicted.data),
        TOL,
        'upsampled by ONNX Runtime',
      );
      const forClass1 = await cam.compute(input, Int32Array.from([1, 1, 1]));
      expect(Array.from(forClass1.targets)).to.deep.equal([1, 1, 1]);
      expectClose(
        forClass1.upsampled!.data,
        minMaxNormalize(upsampleBilinear(forClass1.maps, 12, 12)).data,
        TOL,
        'class 1 upsampled by ONNX Runtime',
      );
    } finally {
      await cam.dispose();
    }
  });

  it('occlusion equals the reference, pixels no patch covers included', async () => {
    const session = await Session.create(MODEL);
    try {
      for (const c of ref.occlusion) {
        for (let i = 0; i < 3; i++) {
          const map = await occlusionMap(session, { image: image(i) }, c);
          expectClose(map.data, slice(c.maps, i, IMAGE_SIZE), TOL, `patch ${c.patch} image ${i}`);
        }
      }
    } finally {
      await session.dispose();
    }
  });

  it("RISE's mask generator, fed the stored grids and shifts, makes the stored masks", () => {
    const { cells, grids, offsets, masks, upsampledSide } = ref.rise;
    expect(upsampledSide).to.equal((cells + 1) * Math.ceil(12 / cells));
    const made = riseMasks(12, 12, { cells, grids: grids.data, offsets: offsets.flat() });
    expect(made).to.have.length(masks.data.length);
    expectClose(made, Float64Array.from(masks.data), TOL, 'RISE masks');
    // The shifts matter: the same grids without them give other masks.
    const unshifted = riseMasks(12, 12, {
      cells,
      grids: grids.data,
      offsets: offsets.flat().fill(0),
    });
    expect(unshifted.some((v, i) => Math.abs(v - masks.data[i]) > 0.1)).to.equal(true);
    expect(() => riseMasks(12, 12, { cells, grids: grids.data, offsets: [0, 4] })).to.throw(
      RangeError,
      'offsets hold 2 values; 20 masks need 40',
    );
    const far = offsets.flat();
    far[1] = 4;
    expect(() => riseMasks(12, 12, { cells, grids: grids.data, offsets: far })).to.throw(
      RangeError,
      'offset 0 is (2, 4); shifts are whole pixels from (0, 0) to (3, 3), less than one 4x4 cell',
    );
    expect(() => riseMasks(12, 12, { cells, grids: [1, 0, 1] })).to.throw(
      RangeError,
      'grids hold 3 values, not a positive multiple of 3x3 cells',
    );
  });

  it('RISE with the stored masks equals the reference', async () => {
    const session = await Session.create(MODEL);
    try {
      const given = Float32Array.from(ref.rise.masks.data);
      for (let i = 0; i < 3; i++) {
        const map = await riseMap(session, { image: image(i) }, { given, keep: ref.rise.p1 });
        expectClose(map.data, slice(ref.rise.maps, i, IMAGE_SIZE), TOL, `image ${i}`);
      }
    } finally {
      await session.dispose();
    }
  });

  it('Score-CAM equals the reference', async () => {
    const model = OnnxModel.fromBytes(MODEL);
    model.addOutputs(['features']);
    const session = await Session.create(model.toBytes());
    try {
      for (let i = 0; i < 3; i++) {
        const map = await scoreCamMap(session, 'features', { image: image(i) });
        expect([map.height, map.width]).to.deep.equal([6, 6]);
        expectClose(map.data, slice(ref.scoreCam.cams, i, 36), TOL, `image ${i}`);
      }
    } finally {
      await session.dispose();
    }
  });

  it('bilinear upsampling equals F.interpolate(align_corners=False), identity included', () => {
    const bilinear = ref.bilinear;
    const input: MapBatch = {
      data: Float32Array.from(bilinear.input.data),
      count: 1,
      height: bilinear.input.dims[0],
      width: bilinear.input.dims[1],
    };
    for (const { size, output } of bilinear.outputs) {
      const got = upsampleBilinear(input, size[0], size[1]);
      expectClose(got.data, Float64Array.from(output.data), TOL, `to ${size.join('x')}`);
    }
  });
});

describe('map metrics against numpy, scipy and scikit-learn', () => {
  for (const pair of ref.mapPairs) {
    it(`pair '${pair.name}': WCAM distance, Spearman, top-k IoU and argmax`, () => {
      const a = Float64Array.from(pair.a.data);
      const b = Float64Array.from(pair.b.data);
      expect(wcamDistance(a, b)).to.be.closeTo(pair.wcamDistance, 1e-12);
      const rho = mapSpearman(a, b);
      if (pair.spearman === null) expect(rho).to.be.NaN;
      else expect(rho).to.be.closeTo(pair.spearman, 1e-12);
      for (const top of pair.topK) {
        expect(Array.from(topPixels(a, top.k))).to.deep.equal(top.topA);
        expect(topKIoU(a, b, top.k)).to.be.closeTo(top.iou, 1e-12);
      }
      expect(argmaxPixel(a)).to.equal(pair.argmaxA);
      expect(argmaxAgreement(a, b)).to.equal(pair.argmaxAgree);
    });
  }

  for (const case_ of ref.localization) {
    it(`localization '${case_.name}': mask ROC-AUC and pointing game`, () => {
      const map = Float64Array.from(case_.map.data);
      expect(maskAuroc(map, case_.mask)).to.be.closeTo(case_.rocAuc, 1e-12);
      expect(pointingHit(map, case_.mask)).to.equal(case_.pointingHit);
    });
  }

  it('maps and masks of different sizes are a RangeError that says to upsample', () => {
    expect(() => maskAuroc(new Float32Array(36), new Uint8Array(144))).to.throw(
      RangeError,
      /upsample the map to the image size first/,
    );
    expect(() => wcamDistance(new Float32Array(3), new Float32Array(4))).to.throw(RangeError);
  });
});
