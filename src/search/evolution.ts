/**
 * Evolutionary architecture search as SPOS (Guo et al., 2020) and GeNAS run it: a random
 * population, then generations of mutations and crossovers of the best candidates seen so far.
 */
import { checkEncoding, isConnected, type CellSpace } from './cell-space.js';
import { Random } from './random.js';

/** Options of `evolve`; defaults are GeNAS's. */
export interface EvolutionOptions {
  /** Candidates of the first generation (default 50). */
  population?: number;
  /** Generations after the first (default 20). */
  generations?: number;
  /** Best candidates kept as parents (default 10). */
  topK?: number;
  /** Mutated children per generation (default 25). */
  mutations?: number;
  /** Probability that a mutation re-draws an edge's operation (default 0.1). */
  mutationProbability?: number;
  /** Crossover children per generation (default 25). */
  crossovers?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Called after each generation. */
  onGeneration?: (entry: GenerationEntry) => void;
}

/** A scored candidate. */
export interface Scored<S> {
  encoding: number[];
  fitness: number;
  /** Whatever the fitness function measured. */
  scores: S;
}

/** One generation of the history. */
export interface GenerationEntry {
  generation: number;
  /** Candidates evaluated in this generation (new ones only). */
  evaluated: number;
  bestFitness: number;
  meanFitness: number;
  /** Encodings of the parents after this generation. */
  top: number[][];
}

const key = (encoding: readonly number[]): string => encoding.join(',');

/** Best first; a NaN fitness (a candidate whose measurement failed) ranks last. */
function byFitness(a: { fitness: number }, b: { fitness: number }): number {
  const fa = Number.isNaN(a.fitness) ? -Infinity : a.fitness;
  const fb = Number.isNaN(b.fitness) ? -Infinity : b.fitness;
  return fb - fa;
}

/**
 * Runs the search. `score` measures one candidate and returns its fitness (higher is better) and
 * its scores; each distinct candidate is scored once. Candidates whose cell does not connect its
 * input to its output are never proposed. Returns every candidate scored, best first, and the
 * history.
 */
export async function evolve<S>(
  space: CellSpace,
  score: (encoding: number[]) => Promise<{ fitness: number; scores: S }>,
  options: EvolutionOptions = {},
): Promise<{ ranked: Scored<S>[]; history: GenerationEntry[] }> {
  const population = options.population ?? 50;
  const generations = options.generations ?? 20;
  const topK = options.topK ?? 10;
  const mutations = options.mutations ?? 25;
  const crossovers = options.crossovers ?? 25;
  const p = options.mutationProbability ?? 0.1;
  for (const [name, value] of Object.entries({ population, topK, mutations, crossovers })) {
    if (!(Number.isInteger(value) && value >= (name === 'population' || name === 'topK' ? 1 : 0))) {
      throw new RangeError(`${name} must be a whole number, got ${value}`);
    }
  }
  if (!(Number.isInteger(generations) && generations >= 0)) {
    throw new RangeError(`generations must be a whole number, got ${generations}`);
  }
  if (!(p >= 0 && p <= 1)) throw new RangeError(`mutationProbability must be in [0, 1], got ${p}`);

  const rng = new Random(options.seed ?? 0);
  const edgeCount = (space.nodes * (space.nodes - 1)) / 2;
  const pick = (n: number): number => Math.floor(rng.uniform() * n);
  const seen = new Map<string, Scored<S>>();
  const history: GenerationEntry[] = [];
  let parents: Scored<S>[] = [];

  const propose = (make: () => number[], count: number, fresh: Set<string>): number[][] => {
    const out: number[][] = [];
    for (let tries = 0; out.length < count && tries < count * 50; tries++) {
      const candidate = make();
      const k = key(candidate);
      if (seen.has(k) || fresh.has(k) || !isConnected(space, candidate)) continue;
      fresh.add(k);
      out.push(candidate);
    }
    return out;
  };
  const random = (): number[] => Array.from({ length: edgeCount }, () => pick(space.ops.length));
  const mutate = (): number[] =>
    parents[pick(parents.length)].encoding.map((o) =>
      rng.uniform() < p ? pick(space.ops.length) : o,
    );
  const cross = (): number[] => {
    const a = parents[pick(parents.length)].encoding;
    const b = parents[pick(parents.length)].encoding;
    return a.map((o, e) => (rng.uniform() < 0.5 ? o : b[e]));
  };

  for (let generation = 0; generation <= generations; generation++) {
    const fresh = new Set<string>();
    const batch =
      generation === 0
        ? propose(random, population, fresh)
        : [...propose(mutate, mutations, fresh), ...propose(cross, crossovers, fresh)];
    const scored: Scored<S>[] = [];
    for (const encoding of batch) {
      checkEncoding(space, encoding);
      const result = await score(encoding);
      const entry = { encoding, fitness: result.fitness, scores: result.scores };
      seen.set(key(encoding), entry);
      scored.push(entry);
    }
    parents = [...seen.values()].sort(byFitness).slice(0, topK);
    const entry: GenerationEntry = {
      generation,
      evaluated: scored.length,
      bestFitness: parents[0]?.fitness ?? NaN,
      meanFitness: scored.length ? scored.reduce((s, c) => s + c.fitness, 0) / scored.length : NaN,
      top: parents.map((c) => c.encoding),
    };
    history.push(entry);
    options.onGeneration?.(entry);
  }
  return { ranked: [...seen.values()].sort(byFitness), history };
}
