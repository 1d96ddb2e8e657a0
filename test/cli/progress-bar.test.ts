import { expect } from 'chai';

import { progressBar } from '../../src/cli/progress-bar.js';

/** A stand-in for standard error that records what is written. */
function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; writes: string[] } {
  const writes: string[] = [];
  const stream = {
    isTTY,
    write(chunk: string): boolean {
      writes.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

describe('progress bar', () => {
  // A clock the tests move by hand, so rates, ETAs and the plain-line interval are exact.
  const realNow = Date.now;
  let now = 0;
  beforeEach(() => {
    now = 1_000_000;
    Date.now = () => now;
  });
  afterEach(() => {
    Date.now = realNow;
  });

  describe('on a terminal', () => {
    it('draws a 30-wide bar of # and - with counts, rate and ETA, redrawn in place', () => {
      const { stream, writes } = fakeStream(true);
      const bar = progressBar(stream);
      bar({ status: 'initiate', task: 'eval', total: 100 });
      expect(writes, 'initiate writes nothing on a terminal').to.deep.equal([]);
      now += 2000;
      bar({ status: 'progress', task: 'eval', done: 50, total: 100 });
      expect(writes).to.deep.equal([
        `\reval [${'#'.repeat(15)}${'-'.repeat(15)}] 50/100 25/s ETA 2s\x1b[K`,
      ]);
    });

    it('keeps the bar full when more items than announced are done', () => {
      const { stream, writes } = fakeStream(true);
      const bar = progressBar(stream);
      bar({ status: 'initiate', task: 'eval', total: 10 });
      now += 1000;
      bar({ status: 'progress', task: 'eval', done: 12, total: 10 });
      expect(writes[0]).to.include(`[${'#'.repeat(30)}] 12/10`);
    });

    it('shows skipped items and formats a long ETA as minutes and seconds', () => {
      const { stream, writes } = fakeStream(true);
      const bar = progressBar(stream);
      bar({ status: 'initiate', task: 'v2', total: 1000 });
      now += 10_000;
      bar({ status: 'progress', task: 'v2', done: 100, total: 1000, skipped: 3 });
      expect(writes[0]).to.equal(
        `\rv2 [${'#'.repeat(3)}${'-'.repeat(27)}] 100/1000 10/s ETA 1m30s, 3 skipped\x1b[K`,
      );
    });

    it("ends the line only on 'done', with a full bar and ETA 0s", () => {
      const { stream, writes } = fakeStream(true);
      const bar = progressBar(stream);
      bar({ status: 'initiate', task: 'eval', total: 40 });
      now += 1000;
      bar({ status: 'progress', task: 'eval', done: 20, total: 40 });
      expect(writes.some((w) => w.includes('\n'))).to.equal(false);
      now += 1000;
      bar({ status: 'done', task: 'eval', done: 40, total: 40 });
      expect(writes.slice(1)).to.deep.equal([
        `\reval [${'#'.repeat(30)}] 40/40 20/s ETA 0s\x1b[K`,
        '\n',
      ]);
    });

    it('draws an empty bar and ? for the total and the ETA when the total is unknown', () => {
      const { stream, writes } = fakeStream(true);
      const bar = progressBar(stream);
      bar({ status: 'initiate', task: 'scan' });
      now += 4000;
      bar({ status: 'progress', task: 'scan', done: 8 });
      expect(writes).to.deep.equal([`\rscan [${'-'.repeat(30)}] 8/? 2/s ETA ?\x1b[K`]);
    });
  });

  describe('not on a terminal', () => {
    it('announces the total, then prints plain lines at most every plainEverySeconds', () => {
      const { stream, writes } = fakeStream(false);
      const bar = progressBar(stream, { plainEverySeconds: 10 });
      bar({ status: 'initiate', task: 'eval', total: 100 });
      expect(writes).to.deep.equal(['eval: 100 items\n']);
      now += 1000;
      bar({ status: 'progress', task: 'eval', done: 10, total: 100 });
      expect(writes.slice(1), 'the first event after initiate prints').to.deep.equal([
        'eval: 10/100 10/s ETA 9s\n',
      ]);
      now += 5000;
      bar({ status: 'progress', task: 'eval', done: 60, total: 100 });
      now += 4999;
      bar({ status: 'progress', task: 'eval', done: 99, total: 100 });
      expect(writes, 'nothing within 10 s of the last line').to.have.length(2);
      now += 1;
      bar({ status: 'progress', task: 'eval', done: 99, total: 100 });
      expect(writes).to.have.length(3);
      expect(writes[2]).to.match(/^eval: 99\/100 9\/s ETA 0s\n$/);
      expect(writes.every((w) => !w.includes('\r') && !w.includes('#'))).to.equal(true);
    });

    it("always prints 'done', even right after another line", () => {
      const { stream, writes } = fakeStream(false);
      const bar = progressBar(stream, { plainEverySeconds: 60 });
      bar({ status: 'initiate', task: 'eval', total: 4 });
      now += 1000;
      bar({ status: 'progress', task: 'eval', done: 2, total: 4 });
      bar({ status: 'done', task: 'eval', done: 4, total: 4, skipped: 1 });
      expect(writes).to.deep.equal([
        'eval: 4 items\n',
        'eval: 2/4 2/s ETA 1s\n',
        'eval: 4/4 4/s ETA 0s, 1 skipped\n',
      ]);
    });

    it('defaults to one plain line every 5 seconds', () => {
      const { stream, writes } = fakeStream(false);
      const bar = progressBar(stream);
      bar({ status: 'initiate', task: 't', total: 1000 });
      for (let i = 1; i <= 20; i++) {
        now += 1000;
        bar({ status: 'progress', task: 't', done: i, total: 1000 });
      }
      // Lines at 1 s, 6 s, 11 s and 16 s after the start.
      expect(writes.slice(1).map((w) => w.split(' ')[1])).to.deep.equal([
        '1/1000',
        '6/1000',
        '11/1000',
        '16/1000',
      ]);
    });

    it('initiate restarts the clock and the interval for a new task', () => {
      const { stream, writes } = fakeStream(false);
      const bar = progressBar(stream, { plainEverySeconds: 100 });
      bar({ status: 'initiate', task: 'a', total: 10 });
      now += 1000;
      bar({ status: 'progress', task: 'a', done: 1, total: 10 });
      now += 1000;
      bar({ status: 'initiate', task: 'b', total: 10 });
      now += 1000;
      bar({ status: 'progress', task: 'b', done: 5, total: 10 });
      expect(writes).to.deep.equal([
        'a: 10 items\n',
        'a: 1/10 1/s ETA 9s\n',
        'b: 10 items\n',
        'b: 5/10 5/s ETA 1s\n',
      ]);
    });
  });
});
