import { expect } from 'chai';

import { ByteBudget } from '../../../src/runtime/preprocess/byte-budget.js';

/** Whether `promise` has settled after the microtasks queued so far. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('ByteBudget', () => {
  it('grants what fits at once, then makes the next wait for a release', async () => {
    const budget = new ByteBudget(100);
    expect(await settled(budget.acquire(60))).to.equal(true);
    expect(await settled(budget.acquire(40))).to.equal(true);
    const third = budget.acquire(10);
    expect(await settled(third), 'over the budget').to.equal(false);
    budget.release(40);
    expect(await settled(third), 'after a release').to.equal(true);
    expect(budget.peakBytes).to.equal(100);
  });

  it('serves waiters in order: a small one does not pass a large one', async () => {
    const budget = new ByteBudget(100);
    await budget.acquire(90);
    const order: string[] = [];
    const large = budget.acquire(50).then(() => order.push('large'));
    const small = budget.acquire(5).then(() => order.push('small'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order, 'both wait behind the first').to.deep.equal([]);
    budget.release(90);
    await Promise.all([large, small]);
    expect(order).to.deep.equal(['large', 'small']);
  });

  it('runs a piece larger than the whole budget alone, never refusing it', async () => {
    const budget = new ByteBudget(100);
    expect(await settled(budget.acquire(500)), 'alone, it starts').to.equal(true);
    const next = budget.acquire(1);
    expect(await settled(next)).to.equal(false);
    budget.release(500);
    expect(await settled(next)).to.equal(true);
    expect(budget.peakBytes).to.equal(500);
  });

  it('refuses a capacity that is not positive, naming it', () => {
    expect(() => new ByteBudget(0)).to.throw(RangeError, 'capacity must be positive, got 0');
  });
});
