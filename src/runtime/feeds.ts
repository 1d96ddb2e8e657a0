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
  const byName = new Map(inputs.map((i) => [i.name, i]));
  for (const name of Object.keys(feeds)) {
    if (!byName.has(name)) {
      throw new Error(
        `feed '${name}' is not an input of the model; its inputs are ` +
          inputs.map((i) => `'${i.name}' ${i.type}${shape(i.dims)}`).join(', '),
      );
    }
  }
  for (const input of inputs) {
    if (!feeds[input.name]) {
      throw new Error(`input '${input.name}' (${input.type}${shape(input.dims)}) has no feed`);
    }
  }
  for (const [name, t] of Object.entries(feeds)) {
    const input = byName.get(name) as InputInfo;
    if (t.type !== input.type) {
      throw new TypeError(
        `feed '${input.name}' has type ${t.type}; the model expects ${input.type}`,
      );
    }
    const fits =
      input.dims.length === 0 ||
      (t.dims.length === input.dims.length &&
        input.dims.every((d, i) => typeof d !== 'number' || d < 0 || d === t.dims[i]));
    if (!fits) {
      throw new RangeError(
        `feed '${input.name}' has dims ${shape(t.dims)}; the model expects ${shape(input.dims)} ` +
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
}
