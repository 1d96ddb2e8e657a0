/**
 * Timing helpers: alternate rounds of two functions and compare median throughputs.
 */

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Items per second of `fn` over `rounds` rounds of `iterations` calls, alternating a and b. */
export async function compare(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  options: { rounds: number; iterations: number; itemsPerCall: number },
): Promise<{ a: number; b: number; ratio: number }> {
  const rates = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < 3; i++) {
    await a();
    await b();
  }
  for (let r = 0; r < options.rounds; r++) {
    for (const [key, fn] of r % 2
      ? ([
          ['b', b],
          ['a', a],
        ] as const)
      : ([
          ['a', a],
          ['b', b],
        ] as const)) {
      const start = performance.now();
      for (let i = 0; i < options.iterations; i++) await fn();
      const seconds = (performance.now() - start) / 1000;
      rates[key].push((options.iterations * options.itemsPerCall) / seconds);
    }
  }
  const ma = median(rates.a);
  const mb = median(rates.b);
  return { a: ma, b: mb, ratio: ma / mb };
}
