/**
 * External data: weights an ONNX file keeps in other files beside it. ortlab reads them only from
 * the model's own folder, and refuses any location that leaves it before ONNX Runtime sees it.
 */
import { onnx, toNumber, type ModelProto, type TensorProto } from './proto.js';

export interface ExternalDataReference {
  /** The tensor whose data is external. */
  tensor: string;
  /** The file, relative to the model's folder, as written in the model. */
  location: string;
  offset?: number;
  length?: number;
}

function tensorsOf(proto: ModelProto): TensorProto[] {
  const graph = proto.graph;
  if (!graph) return [];
  const constants = (graph.node ?? [])
    .filter((n) => n.opType === 'Constant')
    .flatMap((n) => (n.attribute ?? []).map((a) => a.t).filter((t): t is TensorProto => !!t));
  return [...(graph.initializer ?? []), ...constants];
}

/** Lists every tensor of the model whose data is stored outside the ONNX file. */
export function externalDataReferences(proto: ModelProto): ExternalDataReference[] {
  const refs: ExternalDataReference[] = [];
  for (const t of tensorsOf(proto)) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const ref: ExternalDataReference = {
      tensor: t.name ?? '',
      location: entries.get('location') ?? '',
    };
    if (entries.has('offset')) ref.offset = toNumber(entries.get('offset'));
    if (entries.has('length')) ref.length = toNumber(entries.get('length'));
    refs.push(ref);
  }
  return refs;
}

/**
 * Checks that an external data location stays inside the model's folder: relative, with no
 * `..` segment that climbs out of it. Works on the text alone, so the browser build shares it.
 * @throws Error naming the model, the tensor and the location.
 */
export function assertLocalExternalData(ref: ExternalDataReference, model: string): void {
  const location = ref.location;
  const fix =
    'ortlab reads external data only from the model folder: move the data file beside the ' +
    'model and save the model again with a relative location';
  if (location.length === 0) {
    throw new Error(`${model}: tensor '${ref.tensor}' is marked external but has no location`);
  }
  if (/^([a-zA-Z]:)?[\\/]/.test(location) || location.includes('\0')) {
    throw new Error(
      `${model}: tensor '${ref.tensor}' refers to external data at the absolute path ` +
        `'${location}'; ${fix}`,
    );
  }
  let depth = 0;
  for (const part of location.split(/[\\/]+/)) {
    if (part === '..') depth -= 1;
    else if (part !== '.' && part !== '') depth += 1;
    if (depth < 0) {
      throw new Error(
        `${model}: tensor '${ref.tensor}' refers to external data '${location}', which is ` +
          `outside the model's folder; ${fix}`,
      );
    }
  }
}
