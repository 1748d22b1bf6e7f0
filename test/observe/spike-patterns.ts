// Shared by the SpikeRecorder packing tests (test/observe and test/webgpu): random spike patterns
// given as plain JS values, the events a plain host loop finds in them (the independent reference),
// and a spy that counts the bytes read back from the device.
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import type { RecordedSpikes } from '../../src/observe/index.js';

export type Event = [step: number, sample: number, neuron: number];

/** A recording: `values[t - 1]` is the flat `[B, ...shape]` content of step t. */
export interface Pattern {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  values: number[][];
}

/**
 * T steps of random spikes of density `p` (steps 2, 19, 36, … all on, steps 3, 20, … all off). Float32 spikes are
 * mostly 1, sometimes 0.5, -2, NaN or Infinity, and silence is 0 or -0; int32 spikes are 1, 7 or -1;
 * bool ones are 1.
 */
export function pattern(seed: number, shape: number[], dtype: Pattern['dtype'], T: number, p: number): Pattern {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const odd = dtype === 'float32' ? [0.5, -2, NaN, Infinity] : dtype === 'int32' ? [7, -1] : [1];
  const values: number[][] = [];
  for (let t = 0; t < T; t++) {
    const q = t % 17 === 1 ? 1 : t % 17 === 2 ? 0 : p; // all on (full words 2^24 - 1) at steps 2, 19, …
    values.push(
      Array.from({ length: size }, () => {
        if (rng.uniform() < q) return rng.uniform() < 0.9 ? 1 : odd[Math.floor(rng.uniform() * odd.length)]!;
        return dtype === 'float32' && rng.uniform() < 0.5 ? -0 : 0;
      }),
    );
  }
  return { shape, dtype, values };
}

/** The reference: a plain loop over the dense values, every `v !== 0` an event, in (step, sample, neuron) order. */
export function referenceEvents(pat: Pattern, neurons?: readonly number[]): Event[] {
  const B = pat.shape[0]!;
  const N = pat.values[0]!.length / B;
  const keep = neurons ? new Set(neurons) : null;
  const out: Event[] = [];
  for (let t = 0; t < pat.values.length; t++) {
    const v = pat.values[t]!;
    for (let b = 0; b < B; b++) for (let i = 0; i < N; i++) if (v[b * N + i] !== 0 && (!keep || keep.has(i))) out.push([t + 1, b, i]);
  }
  return out;
}

/** Step t's tensor of the pattern (1-based). */
export function tensorAt(pat: Pattern, t: number): tf.Tensor {
  return tf.tensor(pat.values[t - 1]!, pat.shape, pat.dtype);
}

export function list(e: RecordedSpikes): Event[] {
  return Array.from(e.step, (s, k) => [s, e.sample[k]!, e.neuron[k]!]);
}

/**
 * Counts the bytes of every asynchronous read (`data()`, through the engine's `read`) while it is
 * installed; `stop()` removes it.
 */
export function readSpy(): { bytes: () => number; reads: () => number; stop: () => void } {
  const engine = tf.engine() as unknown as { read: (id: object) => Promise<ArrayLike<number> & { byteLength?: number }> };
  const read = engine.read;
  let bytes = 0;
  let reads = 0;
  engine.read = function (this: unknown, id: object) {
    reads++;
    const p = read.call(this, id);
    return p.then((v) => {
      bytes += v.byteLength ?? 0;
      return v;
    });
  };
  return { bytes: () => bytes, reads: () => reads, stop: () => void (engine.read = read) };
}
