/**
 * An exponential spike trace's step as one WGSL program on tfjs's webgpu backend (instead of two
 * or three element-wise kernels), the same float32 operations as the wasm/cpu kernel
 * (`../js/fused-trace.ts`) and the op path, with decay α and amplitude A baked in as float32:
 * - cumulative: `x ← α·x + A·[h ≠ 0]` (`A * select(0, 1, h ≠ 0)`: a spike value other than 1
 *   counts once, as in the nearest trace);
 * - nearest: `x ← h ≠ 0 ? A : α·x`.
 *
 * A pair rule keeps two traces (presynaptic `x_pre` of `connection.synspike`, postsynaptic
 * `x_post` of `neuron.spike`) in two monitors. {@link tracePairWebgpu} steps both in one dispatch
 * with two outputs: the first monitor to fold computes its partner's value too, and the partner
 * takes it when it folds with the same inputs (`src/learn/toolkit/pair-traces.ts`); otherwise (or
 * without the several-output dispatch) each trace is one dispatch of {@link traceStepWebgpu}.
 *
 * Inputs are read through `f32(…)`: tfjs's webgpu backend keeps a float32 tensor cast from bool or
 * int32 in its int32 buffer.
 * @module
 */
import type { tf } from '../../core/tf.js';
import { lit, programKey, runElementwise } from './step-program.js';
import { runMultiOutput } from './step-dispatch.js';

/** One trace step on webgpu: `prev` and the spikes `h` are float32 tensors of one shape; returns the new trace (a new tensor). */
export function traceStepWebgpu(prev: tf.Tensor, h: tf.Tensor, decay: number, amplitude: number, nearest: boolean): tf.Tensor {
  const a = lit(decay);
  const amp = lit(amplitude);
  const key = programKey('cinder-trace', prev.size, decay, amplitude, nearest);
  const body = nearest ? `let s = f32(h[index]); result[index] = select(${a} * f32(prev[index]), ${amp}, s != 0.0);` : `result[index] = ${a} * f32(prev[index]) + ${amp} * select(0.0, 1.0, f32(h[index]) != 0.0);`;
  return runElementwise(key, [...prev.shape], prev.size, ['prev', 'h'], [prev, h], () => ({ decls: '', body }));
}

/** One trace's step for {@link tracePairWebgpu}. */
export interface TraceStep {
  /** The trace's previous value (float32). */
  prev: tf.Tensor;
  /** This step's spikes, shaped like `prev`. */
  h: tf.Tensor;
  /** α = e^{−Δt/τ}. */
  decay: number;
  /** A. */
  amplitude: number;
  /** Nearest (else cumulative) trace. */
  nearest: boolean;
}

/**
 * Two traces' steps (a pair rule's `x_pre` and `x_post`) in one dispatch with two outputs
 * (`step-dispatch.ts`; check `multiOutputAvailable()` first). Returns the new traces (new tensors).
 */
export function tracePairWebgpu(a: TraceStep, b: TraceStep): [tf.Tensor, tf.Tensor] {
  const expr = (t: TraceStep, p: string, h: string) =>
    t.nearest ? `select(${lit(t.decay)} * f32(${p}[index]), ${lit(t.amplitude)}, f32(${h}[index]) != 0.0)` : `${lit(t.decay)} * f32(${p}[index]) + ${lit(t.amplitude)} * select(0.0, 1.0, f32(${h}[index]) != 0.0)`;
  const n1 = a.prev.size;
  const n2 = b.prev.size;
  const key = programKey('cinder-trace', 'pair', n1, a.decay, a.amplitude, a.nearest, n2, b.decay, b.amplitude, b.nearest);
  const body = `
    if (index < ${n1}) { x1[index] = ${expr(a, 'p1', 'h1')}; }
    if (index < ${n2}) { x2[index] = ${expr(b, 'p2', 'h2')}; }`;
  const [x1, x2] = runMultiOutput(
    key,
    [['x1', [...a.prev.shape]], ['x2', [...b.prev.shape]]],
    [['p1', a.prev], ['h1', a.h], ['p2', b.prev], ['h2', b.h]],
    Math.max(n1, n2),
    () => ({ decls: '', body }),
  );
  return [x1!, x2!];
}
