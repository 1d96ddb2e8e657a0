/**
 * One candidate's own network cut out of a weight-sharing supernet: the architecture input is
 * fixed to the candidate's encoding, every operation whose gate is 0 is dropped with the branch
 * that feeds only it, a gate of 1 becomes no multiplication at all. The result shares the
 * supernet's weights and gives its outputs for that candidate, at the cost of the candidate's own
 * operations instead of every operation of the space.
 *
 * It understands supernets whose gates are read from the architecture input by `Gather` (with
 * constant indices) and multiplied into branches that are summed by `Add`, as
 * tools/export/train_supernet.py exports them; for any other use of the architecture input it
 * returns undefined, and the caller keeps feeding the whole supernet.
 */
import { OnnxModel } from '../runtime/onnx/model.js';
import { onnx, toNumber, type NodeProto, type TensorProto } from '../runtime/onnx/proto.js';

/** A value known while specializing: a constant tensor, or the zero a dropped branch adds. */
type Known = { kind: 'tensor'; data: Float64Array; dims: number[] } | { kind: 'zero' };

function intScalar(t: TensorProto): number | undefined {
  const count = (t.dims ?? []).reduce((a, d) => a * toNumber(d), 1);
  if (count !== 1) return undefined;
  if (t.dataType === onnx.TensorProto.DataType.INT64) {
    if (t.rawData && t.rawData.length >= 8) {
      return Number(new BigInt64Array(t.rawData.slice(0, 8).buffer)[0]);
    }
    return t.int64Data?.length ? toNumber(t.int64Data[0]) : undefined;
  }
  if (t.dataType === onnx.TensorProto.DataType.INT32) {
    if (t.rawData && t.rawData.length >= 4) return new Int32Array(t.rawData.slice(0, 4).buffer)[0];
    return t.int32Data?.[0];
  }
  return undefined;
}

/** `Gather(data, index)` on axis 0 with a scalar index; undefined for anything else. */
function gather(
  data: Known | undefined,
  index: number | undefined,
  node: NodeProto,
): Known | undefined {
  const axis = node.attribute?.find((a) => a.name === 'axis');
  if (data?.kind !== 'tensor' || index === undefined || (axis && toNumber(axis.i) !== 0)) {
    return undefined;
  }
  const [rows, ...rest] = data.dims;
  const size = rest.reduce((a, d) => a * d, 1);
  const row = index < 0 ? index + rows : index;
  if (!(row >= 0 && row < rows)) return undefined;
  return { kind: 'tensor', data: data.data.slice(row * size, (row + 1) * size), dims: rest };
}

function scalarOf(value: Known | undefined): number | undefined {
  return value?.kind === 'tensor' && value.data.length === 1 ? value.data[0] : undefined;
}

/**
 * The supernet's graph specialized to one architecture, as ONNX bytes; undefined when the
 * architecture input is used in a way this does not understand.
 *
 * @param arch the candidate's architecture matrix, row major `[edges, ops]` (see `archFeeds`).
 * Linear in the number of nodes.
 */
export function specializeSupernet(
  bytes: Uint8Array,
  archInput: string,
  arch: { data: Float32Array; dims: readonly number[] },
): Uint8Array | undefined {
  const model = OnnxModel.fromBytes(bytes);
  const graph = model.graph;
  const known = new Map<string, Known>([
    [archInput, { kind: 'tensor', data: Float64Array.from(arch.data), dims: [...arch.dims] }],
  ]);
  const ints = new Map<string, number>();
  for (const t of graph.initializer) {
    const v = intScalar(t);
    if (v !== undefined && t.name) ints.set(t.name, v);
  }
  const alias = new Map<string, string>();
  const resolve = (name: string): string => alias.get(name) ?? name;
  const kept: NodeProto[] = [];
  const gates: TensorProto[] = [];
  // The first zero-gated Mul of each zero value, kept in case the zero must be materialized.
  const zeroSource = new Map<string, NodeProto>();

  for (const node of graph.node) {
    const inputs = (node.input ?? []).map(resolve);
    const out = node.output?.[0] ?? '';
    const uses = inputs.filter((i) => known.has(i));
    if (node.opType === 'Constant') {
      const value = node.attribute?.find((a) => a.name === 'value')?.t;
      const v = value ? intScalar(value) : undefined;
      if (v !== undefined) ints.set(out, v);
      kept.push(node);
      continue;
    }
    if (node.opType === 'Gather' && known.get(inputs[0])?.kind === 'tensor') {
      const value = gather(known.get(inputs[0]), ints.get(inputs[1]), node);
      if (!value) return undefined;
      known.set(out, value);
      continue;
    }
    const zeroIn = uses.find((u) => known.get(u)?.kind === 'zero');
    if (node.opType === 'Mul' && zeroIn && uses.length === 2 && inputs.length === 2) {
      // A gate times a branch already dropped: still zero, of the branch's shape.
      const gate = uses.find((u) => u !== zeroIn);
      if (gate !== undefined && scalarOf(known.get(gate)) === undefined) return undefined;
      known.set(out, { kind: 'zero' });
      zeroSource.set(out, zeroSource.get(zeroIn) as NodeProto);
      alias.set(out, zeroIn);
      continue;
    }
    if (node.opType === 'Mul' && uses.length === 1 && scalarOf(known.get(uses[0])) !== undefined) {
      const gate = scalarOf(known.get(uses[0])) as number;
      const other = inputs[inputs[0] === uses[0] ? 1 : 0];
      if (gate === 0) {
        known.set(out, { kind: 'zero' });
        const name = `${out}_gate`;
        gates.push({ name, dims: [], dataType: 1, rawData: new Uint8Array(4) });
        zeroSource.set(out, { ...node, input: [name, other] });
      } else if (gate === 1) {
        alias.set(out, other);
      } else {
        const name = `${out}_gate`;
        const raw = new Uint8Array(Float32Array.of(gate).buffer);
        gates.push({ name, dims: [], dataType: 1, rawData: raw });
        kept.push({ ...node, input: inputs.map((i) => (i === uses[0] ? name : i)) });
      }
      continue;
    }
    if (
      node.opType === 'Add' &&
      uses.length > 0 &&
      uses.every((u) => known.get(u)?.kind === 'zero')
    ) {
      const live = inputs.filter((i) => !known.has(i));
      if (live.length === 1) alias.set(out, live[0]);
      else if (live.length === 0) {
        known.set(out, { kind: 'zero' });
        zeroSource.set(out, zeroSource.get(inputs[0]) as NodeProto);
        alias.set(out, inputs[0]);
      } else return undefined;
      continue;
    }
    if (uses.length > 0) {
      // A node reads a zero branch or the architecture otherwise: materialize zeros, or give up.
      for (const u of uses) {
        const source = known.get(u)?.kind === 'zero' ? zeroSource.get(u) : undefined;
        if (!source) return undefined;
        kept.push({ ...source, output: [u] });
        known.delete(u);
      }
    }
    kept.push({ ...node, input: inputs });
  }
  return finish(model, kept, gates, archInput, resolve, known, zeroSource);
}

/** Drops what no output needs, the architecture input and unused initializers. */
function finish(
  model: OnnxModel,
  nodes: NodeProto[],
  gates: TensorProto[],
  archInput: string,
  resolve: (name: string) => string,
  known: Map<string, Known>,
  zeroSource: Map<string, NodeProto>,
): Uint8Array | undefined {
  const graph = model.graph;
  for (const output of graph.output) {
    const name = output.name ?? '';
    const target = resolve(name);
    if (known.get(target)?.kind === 'zero') {
      const source = zeroSource.get(target);
      if (!source) return undefined;
      nodes.push({ ...source, output: [name] });
    } else if (target !== name) {
      nodes.push({ opType: 'Identity', name: `${name}_alias`, input: [target], output: [name] });
    }
  }
  const needed = new Set(graph.output.map((o) => o.name ?? ''));
  const live: NodeProto[] = [];
  for (const node of [...nodes].reverse()) {
    if (!(node.output ?? []).some((o) => needed.has(o))) continue;
    live.push(node);
    for (const i of node.input ?? []) needed.add(i);
  }
  if (needed.has(archInput)) return undefined;
  graph.node = live.reverse();
  graph.initializer = [...graph.initializer, ...gates].filter((t) => needed.has(t.name ?? ''));
  graph.input = graph.input.filter((i) => i.name !== archInput);
  return model.toBytes();
}
