import { expect } from 'chai';

import { naturalCompare, naturalSort } from '../../../src/runtime/datasets/natural-sort.js';

describe('naturalSort', () => {
  it('orders the folder names 0 to 999 numerically, whatever the input order', () => {
    const names = Array.from({ length: 1000 }, (_, i) => String(i));
    const shuffled = [...names].sort(); // '0', '1', '10', '100', ... (code-unit order)
    expect(shuffled[2]).to.equal('10');
    expect(naturalSort(shuffled)).to.deep.equal(names);
  });

  it('puts 2 before 10, n01 before n10 and img9.png before img10.png', () => {
    expect(naturalSort(['10', '2'])).to.deep.equal(['2', '10']);
    expect(naturalSort(['n10', 'n01', 'n2'])).to.deep.equal(['n01', 'n2', 'n10']);
    expect(naturalSort(['img10.png', 'img9.png', 'img100.png'])).to.deep.equal([
      'img9.png',
      'img10.png',
      'img100.png',
    ]);
  });

  it('sorts mixed names: ImageNet wnids, several numbers, prefixes and text', () => {
    const input = ['b', 'a10b2', 'n01440764', 'a2', 'a10b10', 'a', 'n00000001', 'a10', 'A1'];
    expect(naturalSort(input)).to.deep.equal([
      'A1',
      'a',
      'a2',
      'a10',
      'a10b2',
      'a10b10',
      'b',
      'n00000001',
      'n01440764',
    ]);
  });

  it('compares digit runs longer than a double can hold exactly', () => {
    const big = '123456789012345678901234567890';
    expect(naturalSort([`x${big}1`, `x${big}0`, 'x9'])).to.deep.equal([
      'x9',
      `x${big}0`,
      `x${big}1`,
    ]);
  });

  it('breaks ties between equal numbers with leading zeros, so the order is total', () => {
    expect(naturalCompare('img01', 'img1')).to.not.equal(0);
    expect(Math.sign(naturalCompare('img01', 'img1'))).to.equal(
      -Math.sign(naturalCompare('img1', 'img01')),
    );
    expect(naturalCompare('same', 'same')).to.equal(0);
  });

  it('is antisymmetric and transitive over a mixed set of names', () => {
    const names = [
      '',
      '0',
      '00',
      '1',
      '01',
      '9',
      '10',
      'a',
      'a0',
      'a00',
      'a1',
      'a 1',
      'a-1',
      'a~',
      'a.1',
      'b',
      'B',
      '~',
    ];
    for (const a of names) {
      for (const b of names) {
        expect(Math.sign(naturalCompare(a, b)), `${a} vs ${b}`).to.equal(
          -Math.sign(naturalCompare(b, a)),
        );
        if (a !== b) expect(naturalCompare(a, b), `${a} vs ${b}`).to.not.equal(0);
        for (const c of names) {
          if (naturalCompare(a, b) < 0 && naturalCompare(b, c) < 0) {
            expect(naturalCompare(a, c), `${a} < ${b} < ${c}`).to.be.lessThan(0);
          }
        }
      }
    }
  });

  it('returns a sorted copy and leaves the input unchanged', () => {
    const input = ['3', '1', '2'];
    expect(naturalSort(input)).to.deep.equal(['1', '2', '3']);
    expect(input).to.deep.equal(['3', '1', '2']);
  });

  it('rejects a non-string with a TypeError', () => {
    expect(() => naturalCompare('a', 3 as unknown as string)).to.throw(TypeError, /two strings/);
    expect(() => naturalSort('abc' as unknown as string[])).to.throw(TypeError, /array of strings/);
  });
});
