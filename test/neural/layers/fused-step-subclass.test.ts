// The webgpu fused layer step (`fused-step.ts`) replaces the neuron group's `forward` by its WGSL step
// program. A user subclass that overrides `forward` (e.g. to shape its input) must keep its own step:
// the layer then takes the op path. Run on any backend: the step programs are reported on and the
// group's fused-step entry points are spied on, so the test sees which path the layer chose.
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../../src/kernels/webgpu/step-program.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../src/kernels/webgpu/step-program.js')>()),
  stepProgramsOn: () => true,
}));

import { tf } from '../../../src/core/tf.js';
import { LIF } from '../../../src/neural/neurons/index.js';
import type { NeuronInput } from '../../../src/neural/types.js';
import type { NeuronStepOptions } from '../../../src/neural/neurons/neuron-group.js';
import type { DrivePlan } from '../../../src/kernels/webgpu/step-drive.js';
import { LinearDirect } from '../../../src/neural/connections/index.js';
import { Serial } from '../../../src/neural/layers/index.js';

const P = { restV: -65, resetV: -60, threshV: -50, refracT: 2, tauM: 10 };

/** A LIF group that doubles its input current: V∞ = V_rest + R·2I. */
class DoubledInput extends LIF {
  calls = 0;
  override forward(input: tf.Tensor | NeuronInput, options: NeuronStepOptions = {}): tf.Tensor {
    this.calls++;
    return tf.tidy(() => super.forward(tf.mul(input as tf.Tensor, 2), options));
  }
}

describe('fused layer step and a neuron subclass overriding forward', () => {
  it('the subclass forward runs (the group is not stepped by the fused program)', () => {
    const neuron = new DoubledInput([3], 1, P);
    const planDrive = vi.spyOn(neuron, 'planDrive').mockReturnValue({} as DrivePlan);
    const forwardDrive = vi.spyOn(neuron, 'forwardDrive').mockImplementation(() => ({ spike: tf.zeros([1, 3]), synapse: [tf.zeros([1, 3])] }));
    const layer = new Serial(new LinearDirect([3], 1, { weightInit: (s) => tf.fill([...s], 1) }), neuron);
    const y = tf.tidy(() => layer.forward(tf.tensor2d([[1, 0, 1]])));
    y.dispose();
    expect(forwardDrive).not.toHaveBeenCalled();
    expect(neuron.calls).toBe(1);
    // one exact step from rest with I = 2·w·s (DeltaCurrent: charge 1 / dt 1): V = V_rest + 2I(1 − e^{−Δt/τ_m})
    const d = Math.exp(-1 / 10);
    const want = [1, 0, 1].map((s) => -65 * d + -65 * (1 - d) + 2 * s * (1 - d));
    const got = Array.from(neuron.voltage.dataSync());
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    planDrive.mockRestore();
    layer.dispose();
  });

  it('a plain LIF group still takes the fused step (control: the spies see the fused path)', () => {
    const neuron = new LIF([3], 1, P);
    vi.spyOn(neuron, 'planDrive').mockReturnValue({} as DrivePlan);
    const forwardDrive = vi.spyOn(neuron, 'forwardDrive').mockImplementation(() => ({ spike: tf.zeros([1, 3]), synapse: [tf.zeros([1, 3])] }));
    const layer = new Serial(new LinearDirect([3], 1, { weightInit: (s) => tf.fill([...s], 1) }), neuron);
    const y = tf.tidy(() => layer.forward(tf.tensor2d([[1, 0, 1]])));
    y.dispose();
    expect(forwardDrive).toHaveBeenCalledTimes(1);
    layer.dispose();
  });
});
