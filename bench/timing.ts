/**
 * Timing helpers. Two sides are compared in alternating phases (a b, b a, a b, ...); each phase
 * sets its side up, warms it, times a block of calls and tears it down, so that only one side
 * holds resources at a time. Two live onnxruntime sessions with their own spinning thread pools
 * slow each other unevenly (measured: 0.81 between two identical sessions), which would bias
 * the comparison. The medians of the phases' rates are compared.
 */

export interface Side {
  call: () => Promise<unknown>;
  dispose: () => Promise<void>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function phase(
  setup: () => Promise<Side>,
  iterations: number,
  items: number,
): Promise<number> {
  const side = await setup();
  try {
    for (let i = 0; i < Math.max(3, iterations >> 3); i++) await side.call();
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await side.call();
    return (iterations * items * 1000) / (performance.now() - start);
  } finally {
    await side.dispose();
  }
}

/** Median items per second of sides `a` and `b`, and their ratio a / b. */
export async function compare(
  a: () => Promise<Side>,
  b: () => Promise<Side>,
  options: { phases: number; iterations: number; itemsPerCall: number },
): Promise<{ a: number; b: number; ratio: number }> {
  const { phases, iterations, itemsPerCall } = options;
  const rates = { a: [] as number[], b: [] as number[] };
  for (let r = 0; r < phases; r++) {
    const order = r % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    for (const key of order) {
      rates[key].push(await phase(key === 'a' ? a : b, iterations, itemsPerCall));
    }
  }
  const ma = median(rates.a);
  const mb = median(rates.b);
  return { a: ma, b: mb, ratio: ma / mb };
}
