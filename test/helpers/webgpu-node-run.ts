/**
 * Run in a child process by the WebGPU test: the bundled model on a fixed input through ortlab's
 * Node build, once with `webgpu` (falling back to `cpu` when it does not start) and once with
 * `cpu`; prints one JSON line with the providers that ran, the reasons, and both outputs. A child
 * process, because the WebGPU adapter is chosen from the environment (VK_ICD_FILENAMES) at load.
 */
import { Session } from '../../src/index.js';
import { sequence } from './tiny-models.js';

const input = { type: 'float32' as const, data: sequence(2 * 784, 11), dims: [2, 1, 28, 28] };
const out: Record<string, unknown> = {};
for (const providers of ['webgpu,cpu', 'cpu']) {
  const session = await Session.create('models/mnist-cnn.onnx', {
    executionProviders: providers,
  });
  const { logits } = await session.run({ input });
  out[providers] = {
    provider: session.executionProvider,
    failed: session.failedProviders,
    logits: Array.from(logits.data as Float32Array),
  };
  await session.dispose();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
// A WebGPU device can keep the process alive after its session is released.
process.exit(0);
