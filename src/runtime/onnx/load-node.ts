/**
 * Reading an ONNX file from disk into an editable `OnnxModel`.
 */
import { readFile, stat } from 'node:fs/promises';

import { OnnxModel } from './model.js';

/**
 * Loads and decodes an ONNX file.
 * @throws Error naming the file when it is missing, a folder, or not ONNX.
 */
export async function loadOnnxModel(file: string): Promise<OnnxModel> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new Error(`model file '${file}' not found; check the path`);
  if (info.isDirectory()) throw new Error(`model path '${file}' is a folder; pass the .onnx file`);
  return OnnxModel.fromBytes(new Uint8Array(await readFile(file)), { file });
}
