/**
 * The one table that maps ortlab's execution provider names to what each onnxruntime package
 * calls them. `null` means the provider does not exist in that package.
 */

export type ExecutionProviderName = 'cuda' | 'webgpu' | 'wasm' | 'cpu';

/** Which onnxruntime package a session runs on. */
export type RuntimeKind = 'node' | 'web';

export const EXECUTION_PROVIDERS: Readonly<
  Record<ExecutionProviderName, Readonly<Record<RuntimeKind, string | null>>>
> = Object.freeze({
  cuda: Object.freeze({ node: 'cuda', web: null }),
  webgpu: Object.freeze({ node: 'webgpu', web: 'webgpu' }),
  wasm: Object.freeze({ node: null, web: 'wasm' }),
  cpu: Object.freeze({ node: 'cpu', web: 'wasm' }),
});

/** The default order: the CPU in Node; in the browser WebGPU, then wasm. */
export const DEFAULT_EXECUTION_PROVIDERS: Readonly<Record<RuntimeKind, ExecutionProviderName[]>> =
  Object.freeze({ node: ['cpu'], web: ['webgpu', 'wasm'] });

export function isExecutionProviderName(name: unknown): name is ExecutionProviderName {
  return (
    typeof name === 'string' && Object.prototype.hasOwnProperty.call(EXECUTION_PROVIDERS, name)
  );
}

/**
 * Parses a list of provider names, as a user writes it on a command line (`cuda,cpu`) or as an
 * array.
 * @throws RangeError naming the unknown provider and the valid ones.
 */
export function parseExecutionProviders(
  value: string | readonly string[],
): ExecutionProviderName[] {
  const names = typeof value === 'string' ? value.split(',') : value;
  const list = names.map((n) => n.trim().toLowerCase()).filter((n) => n.length > 0);
  if (list.length === 0) {
    throw new RangeError(
      `no execution provider given; choose from ${Object.keys(EXECUTION_PROVIDERS).join(', ')}`,
    );
  }
  for (const name of list) {
    if (!isExecutionProviderName(name)) {
      throw new RangeError(
        `unknown execution provider '${name}'; valid names are ` +
          `${Object.keys(EXECUTION_PROVIDERS).join(', ')}`,
      );
    }
  }
  return [...new Set(list)] as ExecutionProviderName[];
}

/**
 * The useful part of onnxruntime's message for a session that did not start on a provider: for
 * WebGPU without an adapter, that (with Dawn's reason); else the first line, cut at 300 characters.
 */
export function failureReason(message: string): string {
  const first = message.split('\n')[0].trim();
  const adapter = /Failed to get a WebGPU adapter: (.*)$/.exec(first);
  if (adapter) return `no WebGPU adapter on this machine (${adapter[1]})`;
  return first.length > 300 ? `${first.slice(0, 300)}...` : first;
}
