import { expect } from 'chai';

import {
  ckdLoss,
  kdLoss,
  ltrAngleLoss,
  ltrDistanceLoss,
  ltrPairLoss,
  wrAngleLoss,
  wrDistanceLoss,
  wrPairLoss,
  type LayerMappingSpec,
} from '../../src/distill/index.js';
import { cases, expectRelative, reference, RELATIVE, tensorOf, windowOption } from './reference.js';

function mappingOption(name: string, pairs: [number, number][]): LayerMappingSpec {
  return name === 'list' ? pairs : (name as LayerMappingSpec);
}

describe('CKD losses against PyTorch (tools/fixtures/ckd_reference.py), 1e-5 relative', () => {
  it('the fixture states the tolerance these tests use (1e-5 relative)', () => {
    expect(reference.tolerance).to.equal(RELATIVE);
  });

  for (const c of cases) {
    describe(`case '${c.name}': ${c.about}`, () => {
      const mask = c.maskArray;

      it('wrPairLoss matches for every mapped layer pair', () => {
        for (const [key, expected] of Object.entries(c.wr)) {
          const [t, s] = key.split(',').map(Number);
          expectRelative(wrPairLoss(c.teacher[t], c.student[s], { mask }), expected.pair, key);
        }
      });

      it(`wrAngleLoss matches for windows ${c.windows.join(', ')}`, () => {
        for (const [key, expected] of Object.entries(c.wr)) {
          const [t, s] = key.split(',').map(Number);
          for (const name of c.windows) {
            const window = windowOption(name);
            const actual = wrAngleLoss(c.teacher[t], c.student[s], { mask, window });
            expectRelative(actual, expected.angle[name], `${key} window ${name}`);
          }
        }
      });

      it('wrDistanceLoss matches for L1, MSE and Huber, with and without normalization', () => {
        for (const [key, expected] of Object.entries(c.wr)) {
          const [t, s] = key.split(',').map(Number);
          for (const [name, variant] of Object.entries(reference.distanceVariants)) {
            const actual = wrDistanceLoss(c.teacher[t], c.student[s], { mask, ...variant });
            expectRelative(actual, expected.distance[name], `${key} ${name}`);
          }
        }
      });

      for (const [name, expected] of Object.entries(c.ltr)) {
        it(`LTR pair, angle and distance losses match with mapping '${name}'`, () => {
          const mapping = mappingOption(name, c.mappings[name]);
          const options = { mask, mapping };
          expectRelative(ltrPairLoss(c.teacher, c.student, options), expected.pair, 'pair');
          if (c.mappings[name].length >= 3) {
            const angle = ltrAngleLoss(c.teacher, c.student, options);
            expectRelative(angle, expected.angle.full, 'angle');
          } else {
            expect(() => ltrAngleLoss(c.teacher, c.student, options)).to.throw(
              RangeError,
              /at least 3 matched layers, got 2/,
            );
          }
          for (const [variant, settings] of Object.entries(reference.distanceVariants)) {
            const actual = ltrDistanceLoss(c.teacher, c.student, { ...options, ...settings });
            expectRelative(actual, expected.distance[variant], `distance ${variant}`);
          }
        });
      }

      it('kdLoss matches for T = 1, 2, 4 with and without T^2, and MSE for regression', () => {
        const { teacher, student } = c.logits;
        for (const temperature of [1, 2, 4]) {
          for (const temperatureSquared of [false, true]) {
            const key = `T${temperature}${temperatureSquared ? '-squared' : ''}`;
            const actual = kdLoss(teacher, student, { temperature, temperatureSquared });
            expectRelative(actual, c.kd[key], key);
          }
        }
        expectRelative(kdLoss(teacher, student, { task: 'regression' }), c.kd.mse, 'mse');
      });

      if (c.tokenLogits) {
        it('kdLoss on [batch, tokens, classes] logits counts the masked tokens only', () => {
          const teacher = tensorOf(c.tokenLogits!.teacher);
          const student = tensorOf(c.tokenLogits!.student);
          expectRelative(
            kdLoss(teacher, student, { mask, temperature: 2 }),
            c.tokenLogits!.T2,
            'T2',
          );
          const mse = kdLoss(teacher, student, { mask, task: 'regression' });
          expectRelative(mse, c.tokenLogits!.mse, 'mse');
        });
      }

      for (const entry of c.ckd) {
        const label = Object.values(entry.weights).join(', ');
        it(`ckdLoss total and terms match, '${entry.mapping}', weights [${label}]`, async () => {
          const result = await ckdLoss(
            { hidden: c.teacher, logits: c.logits.teacher },
            { hidden: c.student, logits: c.logits.student },
            {
              mask,
              mapping: mappingOption(entry.mapping, c.mappings[entry.mapping]),
              weights: entry.weights,
              window: entry.window,
              kd: { temperature: entry.temperature },
            },
          );
          expect(Object.keys(result.terms).sort()).to.deep.equal(Object.keys(entry.terms).sort());
          for (const [term, expected] of Object.entries(entry.terms)) {
            expectRelative(result.terms[term as keyof typeof result.terms]!, expected, term);
          }
          expectRelative(result.total, entry.total, 'total');
          expect(result.mapping.map((p) => [p.teacher, p.student])).to.deep.equal(
            c.mappings[entry.mapping],
          );
        });
      }
    });
  }
});
