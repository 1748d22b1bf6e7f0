// The backends the fused-kernel tests compare on (wasm and cpu, when registered), and a reset of the
// fused switch and the backend after a file.
import { afterAll } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { setFusedKernels } from '../../src/kernels/js/fused-memory.js';

await import('@tensorflow/tfjs-backend-cpu');

/** Registered backends among wasm and cpu; call once per file (restores the backend afterwards). */
export function fusedBackends(): string[] {
  const initial = tf.getBackend();
  afterAll(async () => {
    setFusedKernels(true);
    await tf.setBackend(initial);
  });
  return ['wasm', 'cpu'].filter((b) => tf.findBackend(b) !== null);
}
