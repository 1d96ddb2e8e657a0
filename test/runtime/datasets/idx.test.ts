import { expect } from 'chai';

import {
  encodeIdx,
  expectedIdxSize,
  looksLikeIdx,
  parseIdxHeader,
} from '../../../src/runtime/datasets/idx.js';

describe('parseIdxHeader', () => {
  it('reads the type and big-endian dims of an MNIST images header', () => {
    const bytes = new Uint8Array([0, 0, 0x08, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 28, 0, 0, 0, 28]);
    expect(parseIdxHeader(bytes)).to.deep.equal({
      type: 'uint8',
      dims: [10000, 28, 28],
      headerBytes: 16,
    });
  });

  it('recognises every IDX element type code', () => {
    const codes: Record<number, string> = {
      8: 'uint8',
      9: 'int8',
      11: 'int16',
      12: 'int32',
      13: 'float32',
      14: 'float64',
    };
    for (const [code, type] of Object.entries(codes)) {
      expect(parseIdxHeader(new Uint8Array([0, 0, Number(code), 1, 0, 0, 0, 5])).type).to.equal(
        type,
      );
    }
  });

  it('ignores the bytes after the header and reads from a subarray view', () => {
    const file = encodeIdx(new Uint8Array(6), [2, 3]);
    const padded = new Uint8Array(file.length + 8);
    padded.set(file, 8);
    expect(parseIdxHeader(padded.subarray(8), 'x.idx')).to.deep.equal({
      type: 'uint8',
      dims: [2, 3],
      headerBytes: 12,
    });
  });

  it('rejects a wrong magic, naming the file, the expected form and the bytes found', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]);
    expect(() => parseIdxHeader(png, 'cat.png')).to.throw(
      Error,
      /'cat\.png'.*expected 00 00 <type.*found 89 50 4e 47/,
    );
    expect(() => parseIdxHeader(new Uint8Array([0, 0, 0x07, 1]), 'a')).to.throw(
      /found 00 00 07 01/,
    );
    expect(() => parseIdxHeader(new Uint8Array([0, 0, 0x08, 0]), 'a')).to.throw(/dimension count/);
  });

  it('rejects data that ends inside the header, giving expected and found lengths', () => {
    expect(() => parseIdxHeader(new Uint8Array([0, 0]), 'short.idx')).to.throw(
      /'short\.idx'.*at least 4 bytes, found 2/,
    );
    expect(() => parseIdxHeader(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1]), 'f')).to.throw(
      /3 dimensions need 16 bytes, found 8/,
    );
  });

  it('rejects a non-Uint8Array with a TypeError', () => {
    expect(() => parseIdxHeader([0, 0, 8, 1] as unknown as Uint8Array)).to.throw(TypeError);
  });
});

describe('expectedIdxSize', () => {
  it('is the header length plus dims times the element size', () => {
    expect(expectedIdxSize({ type: 'uint8', dims: [10000, 28, 28], headerBytes: 16 })).to.equal(
      7840016,
    );
    expect(expectedIdxSize({ type: 'float32', dims: [2, 3], headerBytes: 12 })).to.equal(36);
    expect(expectedIdxSize({ type: 'float64', dims: [0], headerBytes: 8 })).to.equal(8);
  });
});

describe('looksLikeIdx and encodeIdx', () => {
  it('recognise each other: encoded data looks like IDX and parses back to its dims', () => {
    const bytes = encodeIdx(new Uint8Array([1, 2, 3, 4, 5, 6]), [3, 2]);
    expect(looksLikeIdx(bytes)).to.equal(true);
    expect(parseIdxHeader(bytes).dims).to.deep.equal([3, 2]);
    expect(Array.from(bytes.subarray(12))).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('looksLikeIdx is false for text, gzip and too-short data', () => {
    expect(looksLikeIdx(new TextEncoder().encode('a.jpg 1\n'))).to.equal(false);
    expect(looksLikeIdx(new Uint8Array([0x1f, 0x8b, 8, 0]))).to.equal(false);
    expect(looksLikeIdx(new Uint8Array([0, 0, 8]))).to.equal(false);
  });

  it('encodeIdx rejects dims that do not match the values with a RangeError', () => {
    expect(() => encodeIdx(new Uint8Array(5), [2, 3])).to.throw(
      RangeError,
      /hold 6 values but values has 5/,
    );
  });
});
