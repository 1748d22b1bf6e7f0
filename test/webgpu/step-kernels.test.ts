// The quickstart network with STDP on webgpu: WGSL programs dispatched per step with the fused step
// programs (src/kernels/webgpu/step-*.ts) and without them (the op path), the tensor count flat,
// and the same spikes and weights both ways over a few steps.
//
// The bound: with the step programs a step at B ≤ 32 is five of Cinder's programs and no tfjs op:
// the excitatory layer's drive (input LinearDense and LinearLateral with their DeltaCurrent synapses
// and the Biclique sum, src/kernels/webgpu/step-drive.ts: one program, since the ALIF program with
// them inside would bind 13 storage buffers and WebGPU allows 8), the ALIF group (v, r, s, θ), both
// traces (x_pre, x_post), the LIF group with LinearDirect × DeltaCurrent folded in, and the weight
// update. BOUND = 6 leaves one for a backend that splits a program; the op path (measured 53 at
// B = 1, 62 at B = 4) must need at least eight times as many.
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { QuickstartNetwork } from '../../examples/quickstart/network.js';
import { countPrograms, setStepPrograms } from '../../src/kernels/webgpu/step-program.js';
import { onBackend, webgpuForTests } from './gpu.js';

const gpu = await webgpuForTests();
const BOUND = 6;

function inputs(B: number, steps: number): tf.Tensor[] {
  const rng = new Rng(5);
  return Array.from({ length: steps }, () => tf.tensor2d(Float32Array.from({ length: B * 784 }, () => (rng.uniform() < 0.15 ? 1 : 0)), [B, 784]));
}

describe.skipIf(!gpu.ok)(`quickstart + STDP programs per step on webgpu (${gpu.detail})`, () => {
  for (const B of [1, 4]) {
    it(`B = ${B}: ≤ ${BOUND} programs per step fused, ≥ 8× that on the op path, no tfjs op, tensors flat`, async () => {
      await onBackend('webgpu', async () => {
        const was = setStepPrograms(true);
        const xs = inputs(B, 6);
        try {
          const count = async (on: boolean) => {
            setStepPrograms(on);
            const net = new QuickstartNetwork(B, new Rng(2));
            net.train(true);
            for (let i = 0; i < 3; i++) tf.tidy(() => void net.step(xs[i]!));
            const n0 = tf.memory().numTensors;
            const c = await countPrograms(() => tf.tidy(() => void net.step(xs[3]!)));
            tf.tidy(() => void net.step(xs[4]!));
            const drift = tf.memory().numTensors - n0;
            net.dispose();
            return { ...c, drift };
          };
          const fused = await count(true);
          const ops = await count(false);
          console.log(JSON.stringify({ B, kernels_per_step: fused.programs, kernels_per_step_op_path: ops.programs }));
          expect(fused.drift).toBe(0);
          expect(fused.programs, fused.names.join(',')).toBeLessThanOrEqual(BOUND);
          expect(fused.names.filter((n) => !n.startsWith('cinder-')), 'tfjs programs left').toEqual([]);
          expect(ops.programs).toBeGreaterThanOrEqual(8 * fused.programs);
        } finally {
          setStepPrograms(was);
          tf.dispose(xs);
        }
      });
    });
  }

  it('B = 2: the fused step gives the op path\'s spikes and weights over 8 steps', async () => {
    const B = 2;
    const run = async (on: boolean) => {
      const was = setStepPrograms(on);
      const xs = inputs(B, 8);
      const net = new QuickstartNetwork(B, new Rng(2));
      net.train(true);
      const kept: tf.Tensor[] = [];
      try {
        for (const x of xs) {
          kept.push(tf.tidy(() => {
            const s = net.step(x);
            return tf.concat([tf.reshape(s.exc, [-1]), tf.reshape(s.inh, [-1]), tf.reshape(net.exc.voltage, [-1])]);
          }));
        }
        kept.push(tf.reshape(tf.clone(net.input.weight), [-1]));
        const all = tf.concat(kept);
        const out = Float32Array.from(await all.data());
        all.dispose();
        return out;
      } finally {
        setStepPrograms(was);
        tf.dispose([...kept, ...xs]);
        net.dispose();
      }
    };
    const [a, b] = await onBackend('webgpu', async () => [await run(true), await run(false)]);
    expect(a.length).toBe(b.length);
    let worst = 0;
    let scale = 1e-6;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      scale = Math.max(scale, Math.abs(b[i]!));
    }
    expect(worst / scale).toBeLessThan(1e-5);
    let spikes = 0;
    for (let i = 0; i < 8 * 3 * B * 100; i++) if (i % (3 * B * 100) < 2 * B * 100) spikes += b[i]!;
    expect(spikes, 'the network spikes').toBeGreaterThan(0);
  });
});
