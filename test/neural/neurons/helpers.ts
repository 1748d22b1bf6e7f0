// Shared helpers for the neuron tests: run a group for a number of steps and record its state.
import { tf } from '../../../src/core/tf.js';
import type { NeuronGroup, NeuronStepOptions } from '../../../src/neural/neurons/index.js';
import type { NeuronInput } from '../../../src/neural/types.js';

export interface Trace {
  /** voltage after each step, [step][flat index] */
  v: number[][];
  /** spikes after each step */
  s: number[][];
  /** remaining refractory time after each step */
  r: number[][];
}

/** Runs `steps` steps (input from `input(step)`, step numbered from 1) and records state. */
export function simulate(
  n: NeuronGroup,
  steps: number,
  input: (step: number) => tf.Tensor | NeuronInput,
  options: NeuronStepOptions = {},
  extra?: (step: number) => void,
): Trace {
  const out: Trace = { v: [], s: [], r: [] };
  for (let t = 1; t <= steps; t++) {
    const spikes = n.forward(input(t), options);
    out.s.push(Array.from(spikes.dataSync()));
    spikes.dispose();
    out.v.push(Array.from(n.voltage.dataSync()));
    out.r.push(Array.from(n.refrac.dataSync()));
    extra?.(t);
  }
  return out;
}

/** Steps (1-based) at which flat neuron `i` spiked. */
export function spikeSteps(trace: Trace, i = 0): number[] {
  const out: number[] = [];
  trace.s.forEach((row, k) => {
    if (row[i] === 1) out.push(k + 1);
  });
  return out;
}
