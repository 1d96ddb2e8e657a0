/**
 * Checks feeds against a model's inputs before ONNX Runtime sees them, so that a mistake is
 * reported with the input's name and what it expects rather than as a native error.
 */
import { elementCount, type Tensor } from './tensor.js';

interface InputInfo {
  name: string;
  dims: (number | string)[];
  type: string;
}

function shape(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/**
 * @throws Error for a feed that is not an input or a missing input; TypeError for a wrong type;
 * RangeError for dims that do not fit or data of the wrong length.
 */
export function checkFeeds(
  feeds: Readonly<Record<string, Tensor>>,
  inputs: readonly InputInfo[],
): void {
  let matched = 0;
  for (const input of inputs) {
    const t = feeds[input.name];
    if (t === undefined) continue;
    matched++;
    checkOne(input, t);
  }
  if (matched === inputs.length && Object.keys(feeds).length === matched) return;

  const names = new Set(inputs.map((i) => i.name));
  for (const name of Object.keys(feeds)) {
    if (!names.has(name)) {
      throw new Error(
        `feed '${name}' is not an input of the model; its inputs are ` +
          inputs.map((i) => `'${i.name}' ${i.type}${shape(i.dims)}`).join(', '),
      );
    }
  }
  const missing = inputs.find((i) => feeds[i.name] === undefined) as InputInfo;
  throw new Error(`input '${missing.name}' (${missing.type}${shape(missing.dims)}) has no feed`);
}

function checkOne(input: InputInfo, t: Tensor): void {
  if (t.type !== input.type) {
    throw new TypeError(`feed '${input.name}' has type ${t.type}; the model expects ${input.type}`);
  }
  const dims = input.dims;
  let fits = dims.length === 0 || t.dims.length === dims.length;
  for (let i = 0; fits && i < dims.length; i++) {
    const d = dims[i];
    fits = typeof d !== 'number' || d < 0 || d === t.dims[i];
  }
  if (!fits) {
    throw new RangeError(
      `feed '${input.name}' has dims ${shape(t.dims)}; the model expects ${shape(dims)} ` +
        '(named dims may take any size)',
    );
  }
  if (t.data.length !== elementCount(t.dims)) {
    throw new RangeError(
      `feed '${input.name}' has dims ${shape(t.dims)} (${elementCount(t.dims)} elements) but ` +
        `its data holds ${t.data.length}`,
    );
  }
}
