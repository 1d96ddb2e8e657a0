/**
 * An ONNX model held in memory for reading and editing: its inputs, outputs and opset, its
 * weights, and the edits ortlab needs (lifting weights to inputs, exposing inner tensors).
 * Shared by the Node and browser builds; reading files is left to the caller or `loadOnnxModel`.
 */
import {
  onnx,
  toNumber,
  dataTypeName,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.js';
import { externalDataReferences, type ExternalDataReference } from './external-data.js';
import {
  addOutputs,
  constantsToInitializers,
  liftInitializersToInputs,
  type LiftedWeight,
  type WeightSelection,
} from './edit.js';
import {
  countParameters,
  listWeights,
  readWeight,
  writeWeight,
  type WeightInfo,
} from './weights.js';

/** Name, dims and element type of a graph input or output; symbolic dims are strings. */
export interface ValueInfo {
  name: string;
  dims: (number | string)[];
  type: string;
}

/**
 * Raised when bytes are not a readable ONNX model. `file` names where they came from.
 */
export class OnnxFormatError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'OnnxFormatError';
  }
}

function describe(file: string | undefined): string {
  return file ? `'${file}'` : 'the given bytes';
}

/**
 * Decodes and checks model bytes.
 * @throws OnnxFormatError naming the file when the bytes are empty, truncated or not ONNX.
 */
export function decodeModel(bytes: Uint8Array, file?: string): ModelProto {
  if (bytes.byteLength === 0) {
    throw new OnnxFormatError(`${describe(file)} is empty (0 bytes): re-export the model`, file);
  }
  let proto: ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new OnnxFormatError(
      `${describe(file)} is not a valid ONNX model: the protobuf data ends early or is corrupt ` +
        `(${reason}). If it was downloaded or copied, check it is complete; ` +
        'otherwise re-export it.',
      file,
    );
  }
  const irVersion = toNumber(proto.irVersion);
  if (!proto.graph || !(irVersion >= 1 && irVersion <= 64) || proto.opsetImport.length === 0) {
    throw new OnnxFormatError(
      `${describe(file)} is not an ONNX model (no graph, IR version or opset found in ` +
        `${bytes.byteLength} bytes). Pass the .onnx file exported from your framework.`,
      file,
    );
  }
  return proto;
}

function valueInfo(v: ValueInfoProto): ValueInfo {
  const t = v.type?.tensorType;
  const dims = (t?.shape?.dim ?? []).map((d) =>
    d.dimParam ? d.dimParam : d.dimValue != null ? toNumber(d.dimValue) : '?',
  );
  return { name: v.name ?? '', dims, type: t ? dataTypeName(t.elemType) : 'non-tensor' };
}

/**
 * An editable ONNX model.
 *
 * @example
 * ```ts
 * const model = OnnxModel.fromBytes(await readFile('models/mnist-cnn.onnx'));
 * model.opset;            // 17
 * model.inputs[0].dims;   // ['batch', 1, 28, 28]
 * model.parameterCount(); // 23,466
 * ```
 */
export class OnnxModel {
  private constructor(
    readonly proto: ModelProto,
    readonly file?: string,
  ) {}

  /** Decodes model bytes; `file` is only used in messages. */
  static fromBytes(bytes: Uint8Array, options: { file?: string } = {}): OnnxModel {
    return new OnnxModel(decodeModel(bytes, options.file), options.file);
  }

  /** The graph; decoding guarantees it exists. */
  get graph(): Graph {
    return this.proto.graph as Graph;
  }

  /** The version of the default (`ai.onnx`) operator set. */
  get opset(): number {
    const entry = this.proto.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
    return entry ? toNumber(entry.version) : 0;
  }

  get irVersion(): number {
    return toNumber(this.proto.irVersion);
  }

  /** Graph inputs that are not initializers: what a user feeds. */
  get inputs(): ValueInfo[] {
    const weights = new Set((this.graph.initializer ?? []).map((t) => t.name));
    return (this.graph.input ?? []).filter((v) => !weights.has(v.name ?? '')).map(valueInfo);
  }

  get outputs(): ValueInfo[] {
    return (this.graph.output ?? []).map(valueInfo);
  }

  /** Every weight (initializers, then `Constant` node values) with name, dims, type and size. */
  weights(): WeightInfo[] {
    return listWeights(this.graph);
  }

  /** A `Float32Array` copy of one weight's data. */
  getWeight(name: string): Float32Array {
    return readWeight(this.graph, name);
  }

  /** Replaces one floating-point weight's data, keeping its stored type. */
  setWeight(name: string, data: Float32Array): void {
    writeWeight(this.graph, name, data);
  }

  /** Number of floating-point weight elements. */
  parameterCount(): number {
    return countParameters(this.graph);
  }

  /**
   * Turns weights into graph inputs so that they are fed on every run: one session then serves
   * any number of weight sets. `includeConstants` first turns float `Constant` nodes into
   * initializers. Returns each lifted weight with its original data, which the model no longer
   * holds: feed it back to reproduce the original outputs.
   */
  liftWeightsToInputs(
    select: WeightSelection = 'float',
    options: { includeConstants?: boolean } = {},
  ): LiftedWeight[] {
    if (options.includeConstants) constantsToInitializers(this.graph);
    return liftInitializersToInputs(this.graph, select);
  }

  /** Adds inner tensors as graph outputs (feature maps, hidden states). */
  addOutputs(names: readonly string[]): void {
    addOutputs(this.graph, names);
  }

  /** Tensors whose data lives in files beside the model. */
  externalData(): ExternalDataReference[] {
    return externalDataReferences(this.proto);
  }

  /** Serializes the model, with every edit made, to ONNX bytes. */
  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.proto).finish();
  }
}

export type Graph = GraphProto & {
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
};
