/**
 * Loss-surface flatness and architecture search (GeNAS): the flatness of a model under seeded
 * weight perturbation, rank correlations, the NAS-Bench-201 cell space and evolutionary search.
 * Shared by the Node and browser builds (loading a supernet from a file is Node only).
 */
export { measureFlatness, flatnessOf, checkRadii, FlatnessMeter } from './flatness.js';
export type { FlatnessOptions, FlatnessResult } from './flatness.js';
export { kendallTau, spearman, rankData } from './correlation.js';
export { evolve } from './evolution.js';
export type { EvolutionOptions, Scored, GenerationEntry } from './evolution.js';
export {
  NAS_BENCH_201,
  edges,
  genotype,
  parseGenotype,
  oneHot,
  isConnected,
} from './cell-space.js';
export type { CellSpace } from './cell-space.js';
export { loadValidationSet, meanCrossEntropy } from './validation-set.js';
export type { ValidationSet } from './validation-set.js';
export { Random } from './random.js';
export { specializeSupernet } from './specialize.js';
