/**
 * The NAS-Bench-201 style cell space: a cell of `nodes` nodes where every earlier node feeds
 * every later one through an edge that holds one operation. A candidate is one operation index
 * per edge; its genotype string is NAS-Bench-201's `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.
 */

/** A cell space: the operations an edge may hold and the number of nodes of a cell. */
export interface CellSpace {
  ops: readonly string[];
  nodes: number;
}

/** NAS-Bench-201's space: 4 nodes, 6 edges, 5 operations. */
export const NAS_BENCH_201: CellSpace = Object.freeze({
  ops: Object.freeze(['none', 'skip', 'conv1x1', 'conv3x3', 'avgpool3x3']),
  nodes: 4,
});

/** Edges `[to, from]` in order: (1,0), (2,0), (2,1), (3,0), (3,1), (3,2), ... */
export function edges(space: CellSpace): [number, number][] {
  const out: [number, number][] = [];
  for (let to = 1; to < space.nodes; to++)
    for (let from = 0; from < to; from++) out.push([to, from]);
  return out;
}

/** Checks a candidate: one valid operation index per edge. */
export function checkEncoding(space: CellSpace, encoding: readonly number[]): void {
  const count = edges(space).length;
  if (
    encoding.length !== count ||
    encoding.some((o) => !(Number.isInteger(o) && o >= 0 && o < space.ops.length))
  ) {
    throw new RangeError(
      `a candidate of this space has ${count} operation indices in 0..${space.ops.length - 1}, ` +
        `got [${encoding.join(', ')}]`,
    );
  }
}

/** The genotype string of a candidate. */
export function genotype(space: CellSpace, encoding: readonly number[]): string {
  checkEncoding(space, encoding);
  const list = edges(space);
  const parts: string[] = [];
  for (let to = 1; to < space.nodes; to++) {
    const ops = list
      .map(([t, f], e) => (t === to ? `${space.ops[encoding[e]]}~${f}` : ''))
      .filter((p) => p.length > 0);
    parts.push(`|${ops.join('|')}|`);
  }
  return parts.join('+');
}

/** Parses a genotype string back into a candidate. */
export function parseGenotype(space: CellSpace, text: string): number[] {
  const list = edges(space);
  const encoding = new Array<number>(list.length).fill(-1);
  const nodes = text.split('+');
  if (nodes.length !== space.nodes - 1) {
    throw new RangeError(
      `genotype '${text}' has ${nodes.length} nodes; this space has ${space.nodes - 1}`,
    );
  }
  nodes.forEach((node, n) => {
    for (const item of node.split('|').filter((s) => s.length > 0)) {
      const [op, from] = item.split('~');
      const e = list.findIndex(([t, f]) => t === n + 1 && f === Number(from));
      const o = space.ops.indexOf(op);
      if (e < 0 || o < 0)
        throw new RangeError(`genotype '${text}': '${item}' is not an edge of this space`);
      encoding[e] = o;
    }
  });
  checkEncoding(space, encoding);
  return encoding;
}

/** The one-hot `[edges, ops]` tensor data a supernet takes as its architecture input. */
export function oneHot(space: CellSpace, encoding: readonly number[]): Float32Array {
  checkEncoding(space, encoding);
  const out = new Float32Array(encoding.length * space.ops.length);
  encoding.forEach((o, e) => {
    out[e * space.ops.length + o] = 1;
  });
  return out;
}

/** True when some path of operations other than `none` joins the cell's input to its output. */
export function isConnected(space: CellSpace, encoding: readonly number[]): boolean {
  const none = space.ops.indexOf('none');
  const reach = new Array<boolean>(space.nodes).fill(false);
  reach[0] = true;
  edges(space).forEach(([to, from], e) => {
    if (reach[from] && encoding[e] !== none) reach[to] = true;
  });
  return reach[space.nodes - 1];
}
