/**
 * A weight-sharing supernet exported to ONNX with its architecture as a graph input: one session
 * scores any candidate of the cell space by feeding the candidate's one-hot encoding.
 */
import { readFile } from 'node:fs/promises';

import { Session, type SessionOptions } from '../runtime/session.js';
import type { Tensor } from '../runtime/tensor.js';
import { NAS_BENCH_201, edges, oneHot, type CellSpace } from './cell-space.js';
import { specializeSupernet } from './specialize.js';
import type { ValidationSet } from './validation-set.js';

/** A supernet model and the cell space it was trained over. */
export interface Supernet {
  file: string;
  bytes: Uint8Array;
  space: CellSpace;
  /** Name of the architecture input, `[edges, ops]`. */
  archInput: string;
  /** Name of the image input. */
  imageInput: string;
}

/**
 * Reads a supernet and its card (`supernet.json` beside `supernet.onnx`, holding
 * `{ space: { ops, nodes }, inputs: { arch } }`; NAS-Bench-201's space when absent), and checks
 * that the model's architecture input matches the space.
 * @throws Error naming the input and both shapes when they disagree.
 */
export async function loadSupernet(file: string, options: SessionOptions = {}): Promise<Supernet> {
  const bytes = new Uint8Array(
    await readFile(file).catch(() => {
      throw new Error(`supernet file '${file}' not found; check the path`);
    }),
  );
  const cardPath = file.replace(/\.onnx$/i, '') + '.json';
  const card = JSON.parse(await readFile(cardPath, 'utf8').catch(() => '{}')) as {
    space?: { ops?: string[]; nodes?: number };
    archInput?: string;
  };
  const space: CellSpace =
    card.space?.ops && card.space.nodes
      ? { ops: card.space.ops, nodes: card.space.nodes }
      : NAS_BENCH_201;
  const session = await Session.create(bytes, options);
  const inputs = session.inputs;
  await session.dispose();
  const arch =
    inputs.find((i) => i.name === (card.archInput ?? 'arch')) ??
    inputs.find((i) => i.dims.length === 2);
  const image = inputs.find((i) => i !== arch);
  const expected = [edges(space).length, space.ops.length];
  if (!arch || !image) {
    throw new Error(
      `'${file}' is not a supernet: it needs an image input and an architecture input ` +
        `[${expected.join(', ')}]; its inputs are ${inputs.map((i) => i.name).join(', ')}`,
    );
  }
  if (arch.dims.length !== 2 || arch.dims[0] !== expected[0] || arch.dims[1] !== expected[1]) {
    throw new Error(
      `'${file}': architecture input '${arch.name}' has dims [${arch.dims.join(', ')}] but the ` +
        `declared cell space (${space.nodes} nodes, ${space.ops.length} operations: ` +
        `${space.ops.join(', ')}) needs [${expected.join(', ')}]; fix the space in ${cardPath}`,
    );
  }
  return { file, bytes, space, archInput: arch.name, imageInput: image.name };
}

/** The architecture feed of a candidate. */
export function archFeeds(supernet: Supernet, encoding: readonly number[]): Record<string, Tensor> {
  const data = oneHot(supernet.space, encoding);
  return {
    [supernet.archInput]: {
      type: 'float32',
      data,
      dims: [edges(supernet.space).length, supernet.space.ops.length],
    },
  };
}

/** Options of {@link candidateAccuracy}. */
export interface CandidateOptions {
  /**
   * Cut the candidate's own network out of the supernet (`specializeSupernet`) and run that, in
   * a session of its own (default true): a few times faster than feeding the encoding to the
   * whole supernet, with the same outputs. The shared session serves when the supernet cannot
   * be specialized.
   */
  specialize?: boolean;
  session?: SessionOptions;
}

/**
 * Top-1 accuracy of one candidate on the validation set: through its own network cut out of the
 * supernet, or by feeding its encoding to the supernet's `session`.
 */
export async function candidateAccuracy(
  session: Session,
  supernet: Supernet,
  data: ValidationSet,
  encoding: readonly number[],
  options: CandidateOptions = {},
): Promise<number> {
  const arch = archFeeds(supernet, encoding);
  const own =
    options.specialize === false
      ? undefined
      : specializeSupernet(supernet.bytes, supernet.archInput, {
          data: arch[supernet.archInput].data as Float32Array,
          dims: arch[supernet.archInput].dims,
        });
  if (!own) return accuracy(session, supernet.imageInput, data, arch);
  const candidate = await Session.create(own, { ...session.options, ...options.session });
  try {
    return await accuracy(candidate, supernet.imageInput, data, {});
  } finally {
    await candidate.dispose();
  }
}

async function accuracy(
  session: Session,
  imageInput: string,
  data: ValidationSet,
  fixed: Record<string, Tensor>,
): Promise<number> {
  const output = session.outputs[0].name;
  let correct = 0;
  for (const batch of data.batches) {
    const feeds = {
      ...fixed,
      [imageInput]: { type: 'float32' as const, data: batch.data, dims: batch.dims },
    };
    const logits = (await session.run(feeds, [output]))[output].data as Float32Array;
    const classes = logits.length / batch.labels.length;
    for (let r = 0; r < batch.labels.length; r++) {
      let best = 0;
      for (let c = 1; c < classes; c++)
        if (logits[r * classes + c] > logits[r * classes + best]) best = c;
      if (best === batch.labels[r]) correct++;
    }
  }
  return correct / data.n;
}
