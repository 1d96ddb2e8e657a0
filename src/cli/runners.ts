/**
 * The commands whose work can be cut into shards, as the command line runs them. `ortlab
 * submit` parses its command exactly as a local run would and receives the same arguments, with
 * runners that queue the work instead of doing it.
 */
import type { SplitKind } from '../eval/suite.js';
import { evalCommand, type EvalArgs, type Output } from './commands.js';
import { retrievalEvalCommand, type RetrievalArgs } from './retrieval-command.js';
import { robustnessCommand, suiteEvalCommand, type RobustnessArgs } from './robustness-command.js';
import { rankCommand, type SearchArgs } from './search-command.js';

/** What runs `ortlab eval`, `eval --suite`, `robustness`, `search rank` and `retrieval eval`. */
export interface Runners {
  eval(args: EvalArgs, io: Output): Promise<void>;
  suiteEval(data: string, kind: SplitKind, args: RobustnessArgs, io: Output): Promise<void>;
  robustness(args: RobustnessArgs, io: Output): Promise<void>;
  rank(manifest: string, args: SearchArgs, io: Output): Promise<void>;
  retrievalEval(args: RetrievalArgs, io: Output): Promise<void>;
}

/** The runners of a local run. */
export const LOCAL_RUNNERS: Runners = Object.freeze({
  eval: evalCommand,
  suiteEval: suiteEvalCommand,
  robustness: robustnessCommand,
  rank: rankCommand,
  retrievalEval: retrievalEvalCommand,
});
