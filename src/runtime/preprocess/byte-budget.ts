/**
 * A budget of bytes shared by concurrent work: each piece acquires its estimated cost before it
 * starts and releases it when done, so that what is in flight stays under the budget. A piece
 * larger than the whole budget runs alone. Waiters are served in order.
 */
export class ByteBudget {
  private used = 0;
  private peak = 0;
  private readonly waiting: { cost: number; grant: () => void }[] = [];

  /** @throws RangeError unless `capacity` is a positive number. */
  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`capacity must be positive, got ${capacity}`);
  }

  /** The most bytes held at once so far. */
  get peakBytes(): number {
    return this.peak;
  }

  /** Resolves once `cost` bytes fit (at once when nothing is held); pair with `release(cost)`. */
  acquire(cost: number): Promise<void> {
    if (this.waiting.length === 0 && this.fits(cost)) {
      this.take(cost);
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ cost, grant }));
  }

  /** Returns `cost` bytes and starts the waiters that now fit, in order. */
  release(cost: number): void {
    this.used -= cost;
    while (this.waiting.length > 0 && this.fits(this.waiting[0].cost)) {
      const next = this.waiting.shift() as { cost: number; grant: () => void };
      this.take(next.cost);
      next.grant();
    }
  }

  private fits(cost: number): boolean {
    return this.used === 0 || this.used + cost <= this.capacity;
  }

  private take(cost: number): void {
    this.used += cost;
    this.peak = Math.max(this.peak, this.used);
  }
}
