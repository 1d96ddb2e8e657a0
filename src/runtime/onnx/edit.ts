/**
 * Graph edits that evaluation needs: weights fed as inputs (so one session serves every set of
 * weights) and inner tensors exposed as outputs (feature maps, hidden states).
 */
import {
  FLOAT_TYPES,
  dataTypeName,
  toNumber,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.js';
import { readWeight, weightTensors } from './weights.js';

function tensorValueInfo(name: string, t: TensorProto): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: t.dataType,
        shape: { dim: (t.dims ?? []).map((d) => ({ dimValue: d })) },
      },
    },
  };
}

/**
 * Moves `Constant` nodes that hold floating-point tensors into initializers of the same name,
 * so that they can be lifted and fed like any other weight. Returns the names moved.
 */
export function constantsToInitializers(graph: GraphProto): string[] {
  const moved: string[] = [];
  const kept: NodeProto[] = [];
  for (const node of graph.node ?? []) {
    const value =
      node.opType === 'Constant' ? node.attribute?.find((a) => a.name === 'value') : null;
    const name = node.output?.[0];
    if (value?.t && name && FLOAT_TYPES.has(value.t.dataType ?? 0)) {
      graph.initializer = [...(graph.initializer ?? []), { ...value.t, name }];
      moved.push(name);
    } else {
      kept.push(node);
    }
  }
  graph.node = kept;
  return moved;
}

/** Which weights to lift: all floating-point ones, a list of names, or a predicate (only
 * floating-point weights are ever lifted). */
export type WeightSelection =
  'float' | readonly string[] | ((name: string, dims: number[]) => boolean);

/** A weight moved out of the model into its inputs, with the data it held. */
export interface LiftedWeight {
  name: string;
  /** Element type as stored: `float32`, `float16` or `float64`; feed it in that type. */
  type: string;
  dims: number[];
  data: Float32Array;
}

/**
 * Moves initializers into the graph's inputs. ONNX Runtime ignores a feed for an initializer
 * that stays an initializer (from IR version 4 on, such inputs only have defaults that a
 * session may not take), so the weight is removed from the initializers and must be fed on
 * every run. Returns the lifted weights in graph order, each with its data.
 * @throws RangeError naming a listed weight that is not an initializer.
 */
export function liftInitializersToInputs(
  graph: GraphProto,
  select: WeightSelection = 'float',
): LiftedWeight[] {
  const initializers = graph.initializer ?? [];
  if (Array.isArray(select)) {
    const known = new Set(initializers.map((t) => t.name));
    const missing = (select as readonly string[]).filter((n) => !known.has(n));
    if (missing.length > 0) {
      throw new RangeError(`not initializers of the model: ${missing.join(', ')}`);
    }
  }
  const wanted = (t: TensorProto): boolean => {
    const name = t.name ?? '';
    if (!FLOAT_TYPES.has(t.dataType ?? 0)) return false;
    if (select === 'float') return true;
    if (typeof select === 'function') return select(name, (t.dims ?? []).map(toNumber));
    return select.includes(name);
  };
  const inputs = graph.input ?? [];
  const lifted: LiftedWeight[] = [];
  const kept: TensorProto[] = [];
  for (const t of initializers) {
    if (!wanted(t)) {
      kept.push(t);
      continue;
    }
    const name = t.name ?? '';
    lifted.push({
      name,
      type: dataTypeName(t.dataType),
      dims: (t.dims ?? []).map(toNumber),
      data: readWeight(graph, name),
    });
    if (!inputs.some((v) => v.name === name)) inputs.push(tensorValueInfo(name, t));
  }
  graph.input = inputs;
  graph.initializer = kept;
  return lifted;
}

/** Every tensor name the graph defines: inputs, initializers and node outputs. */
export function tensorNames(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  for (const v of graph.input ?? []) names.add(v.name ?? '');
  for (const t of graph.initializer ?? []) names.add(t.name ?? '');
  for (const n of graph.node ?? []) for (const o of n.output ?? []) names.add(o);
  return names;
}

/**
 * Adds inner tensors as graph outputs so that a session returns them. Type and shape come from
 * the graph's value info when the exporter recorded them; otherwise `elemType` (default float).
 * @throws RangeError naming a tensor the graph does not define.
 */
export function addOutputs(graph: GraphProto, names: readonly string[], elemType = 1): void {
  const known = tensorNames(graph);
  const outputs = new Set((graph.output ?? []).map((v) => v.name));
  const infos = new Map((graph.valueInfo ?? []).map((v) => [v.name, v]));
  const weights = weightTensors(graph);
  for (const name of names) {
    if (!known.has(name)) {
      const near = [...known].filter((k) => k.includes(name) || name.includes(k)).slice(0, 5);
      throw new RangeError(
        `tensor '${name}' is not defined in the graph` +
          (near.length ? `; similar names: ${near.join(', ')}` : '; list node outputs to find it'),
      );
    }
    if (outputs.has(name)) continue;
    const weight = weights.get(name);
    const info =
      infos.get(name) ??
      (weight
        ? tensorValueInfo(name, weight.tensor)
        : { name, type: { tensorType: { elemType } } });
    graph.output = [...(graph.output ?? []), info];
  }
}
