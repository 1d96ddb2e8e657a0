/**
 * Whether onnxruntime-node's WebGPU provider can start here, asked in a child process. Dawn,
 * under that provider, writes its adapter search straight to the process's stderr ("Found no
 * drivers!", "XDG_RUNTIME_DIR is invalid"), where no logger can hold it back; a child keeps
 * that out of the user's terminal, and its answer decides whether the provider is tried here.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

import { failureReason } from './execution-providers.js';
import { log } from './logger.js';
import { encodeModel, tensorValueInfo } from './onnx/proto.js';

const require = createRequire(import.meta.url);
const PROBE_TIMEOUT_MS = 60_000;

/** A one-node model (Relu of a float [1]): enough for the provider to look for an adapter. */
function probeModel(): Uint8Array {
  return encodeModel({
    name: 'webgpu-probe',
    node: [{ opType: 'Relu', input: ['x'], output: ['y'] }],
    input: [tensorValueInfo('x', [1])],
    output: [tensorValueInfo('y', [1])],
  });
}

// The child prints one JSON line: {} when a session started, { error } when none did.
const CHILD = `
const ort = require(process.argv[1]);
const done = (answer) => { process.stdout.write(JSON.stringify(answer) + '\\n'); process.exit(0); };
const model = Buffer.from(process.argv[2], 'base64');
ort.InferenceSession.create(model, { executionProviders: ['webgpu'] })
  .then(() => done({}), (e) => done({ error: String((e && e.message) || e) }));
`;

let answer: Promise<string | undefined> | undefined;

/**
 * Why the WebGPU provider cannot start in this process, or undefined when a child started a
 * session on it (or could not tell: then the provider is tried here). Asked once per process.
 */
export function probeWebGpuNode(): Promise<string | undefined> {
  answer ??= new Promise((resolve) => {
    const runtime = require.resolve('onnxruntime-node');
    const model = Buffer.from(probeModel()).toString('base64');
    execFile(
      process.execPath,
      ['-e', CHILD, runtime, model],
      { timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (stderr.trim() !== '') log.info('session', () => `WebGPU probe: ${stderr.trim()}`);
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          const parsed = JSON.parse(line) as { error?: string };
          resolve(parsed.error === undefined ? undefined : failureReason(parsed.error));
        } catch {
          const why = error ? error.message : `no answer (${line || 'empty output'})`;
          log.info('session', `WebGPU probe inconclusive (${why}); trying the provider here`);
          resolve(undefined);
        }
      },
    );
  });
  return answer;
}
