/**
 * How well each predictor ranks architectures: Kendall's tau-b and Spearman's rho of flatness,
 * validation accuracy and loss, their GeNAS combination and parameter count, against test
 * accuracy and accuracy under distribution shift.
 */
import { kendallTau, spearman } from './correlation.js';

/** One trained architecture with what was measured of it. */
export interface RankedModel {
  id: string;
  genotype?: string;
  parameters: number;
  valLoss: number;
  valAccuracy: number;
  testAccuracy: number;
  /** Accuracy per shifted split. */
  shifted: Record<string, number>;
  flatness: number;
  poor: number;
}

/** The predictors compared, each a score per model (higher should mean better). */
export type PredictorName = 'flatness' | 'valAccuracy' | 'valLoss' | 'combined' | 'parameters';

/** Correlation of one predictor with one target. */
export interface Correlation {
  kendall: number;
  spearman: number;
}

/** A predictor's value for a model; `combined` is accuracy + gamma * flatness / s_1 (GeNAS). */
export function predictor(name: PredictorName, m: RankedModel, gamma: number, s1: number): number {
  switch (name) {
    case 'flatness':
      return m.flatness;
    case 'valAccuracy':
      return m.valAccuracy;
    case 'valLoss':
      return m.valLoss;
    case 'combined':
      return m.valAccuracy + (gamma * m.flatness) / s1;
    default:
      return m.parameters;
  }
}

export const PREDICTORS: readonly PredictorName[] = Object.freeze([
  'flatness',
  'valAccuracy',
  'valLoss',
  'combined',
  'parameters',
]);

/**
 * Correlations of every predictor with test accuracy, with each shifted split's accuracy and
 * with their mean (`shifted`). Raw values: validation loss correlates negatively when it
 * predicts well.
 */
export function rankCorrelations(
  models: readonly RankedModel[],
  options: { gamma: number; s1: number },
): Record<PredictorName, Record<string, Correlation>> {
  if (models.length < 3) {
    throw new RangeError(`ranking needs at least 3 models, got ${models.length}`);
  }
  const splits = Object.keys(models[0].shifted);
  const targets: Record<string, number[]> = {
    test: models.map((m) => m.testAccuracy),
    ...Object.fromEntries(splits.map((s) => [s, models.map((m) => m.shifted[s])])),
  };
  if (splits.length > 0) {
    targets.shifted = models.map(
      (m) => splits.reduce((a, s) => a + m.shifted[s], 0) / splits.length,
    );
  }
  const out = {} as Record<PredictorName, Record<string, Correlation>>;
  for (const name of PREDICTORS) {
    const x = models.map((m) => predictor(name, m, options.gamma, options.s1));
    out[name] = Object.fromEntries(
      Object.entries(targets).map(([t, y]) => [
        t,
        { kendall: kendallTau(x, y), spearman: spearman(x, y) },
      ]),
    );
  }
  return out;
}
