import { expect } from 'chai';

import { layerMapping, MAPPING_KINDS } from '../../src/distill/index.js';
import { cases } from './reference.js';

const pairs = (
  kind: Parameters<typeof layerMapping>[0],
  teacherLayers: number,
  studentLayers: number,
) => layerMapping(kind, { teacherLayers, studentLayers }).map((p) => [p.teacher, p.student]);

describe('layerMapping', () => {
  it("'emb+skip' maps 12 to 6 layers as the embeddings and every 2nd teacher layer", () => {
    expect(pairs('emb+skip', 13, 7)).to.deep.equal([
      [0, 0], [2, 1], [4, 2], [6, 3], [8, 4], [10, 5], [12, 6],
    ]); // prettier-ignore
  });

  it("'emb+skip' maps 12 to 4 layers as the embeddings and every 3rd teacher layer", () => {
    expect(pairs('emb+skip', 13, 5)).to.deep.equal([
      [0, 0],
      [3, 1],
      [6, 2],
      [9, 3],
      [12, 4],
    ]);
  });

  it("'emb+skip' maps equal depths layer to layer", () => {
    expect(pairs('emb+skip', 4, 4)).to.deep.equal([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it("'emb+skip' rejects counts that do not divide, pointing to 'uniform'", () => {
    expect(() => pairs('emb+skip', 13, 6)).to.throw(
      RangeError,
      /multiple of the student's 5.*'uniform'/,
    );
    expect(() => pairs('emb+skip', 13, 1)).to.throw(RangeError, /'uniform'/);
  });

  it("'uniform' spreads the transformer layers evenly, rounding halves up", () => {
    expect(pairs('uniform', 13, 7)).to.deep.equal([
      [2, 1],
      [4, 2],
      [6, 3],
      [8, 4],
      [10, 5],
      [12, 6],
    ]);
    expect(pairs('uniform', 13, 6).map(([t]) => t)).to.deep.equal([2, 5, 7, 10, 12]);
    // 10 layers onto 4: l * 2.5 = 2.5, 5, 7.5, 10, and halves round up.
    expect(pairs('uniform', 11, 5).map(([t]) => t)).to.deep.equal([3, 5, 8, 10]);
  });

  it("'last' matches the last hidden states only", () => {
    expect(pairs('last', 13, 7)).to.deep.equal([[12, 6]]);
  });

  it('an explicit list is used as given, repeats and order included', () => {
    expect(
      pairs(
        [
          [12, 6],
          [0, 0],
          [12, 6],
        ],
        13,
        7,
      ),
    ).to.deep.equal([
      [12, 6],
      [0, 0],
      [12, 6],
    ]);
  });

  it('a list naming a layer the teacher or student does not have is a RangeError naming it', () => {
    expect(() => pairs([[13, 0]], 13, 7)).to.throw(
      RangeError,
      /mapping\[0\] names teacher layer 13.*0\.\.12/,
    );
    expect(() =>
      pairs(
        [
          [0, 0],
          [2, 7],
        ],
        13,
        7,
      ),
    ).to.throw(RangeError, /mapping\[1\] names student layer 7.*0\.\.6/);
    expect(() => pairs([[1.5, 0]], 13, 7)).to.throw(RangeError, /teacher layer 1\.5/);
    expect(() => pairs([], 13, 7)).to.throw(RangeError, /empty/);
  });

  it('an unknown kind or a bad count is a RangeError listing what is allowed', () => {
    expect(() => pairs('skip' as 'last', 13, 7)).to.throw(
      RangeError,
      `'skip' is not one of ${MAPPING_KINDS.join(', ')}`,
    );
    expect(() => pairs('last', 0, 7)).to.throw(
      RangeError,
      /teacherLayers must be a positive integer.*got 0/,
    );
    expect(() => pairs('last', 13, 2.5)).to.throw(RangeError, /studentLayers .* got 2\.5/);
  });

  it('every named mapping equals the one the PyTorch reference derives', () => {
    for (const c of cases) {
      for (const kind of MAPPING_KINDS) {
        expect(pairs(kind, c.teacher.length, c.student.length), `${c.name} ${kind}`).to.deep.equal(
          c.mappings[kind],
        );
      }
    }
  });
});
