/**
 * What a forward scan of the recurrent population leaves behind for the e-prop backward pass:
 * surrogate gradients ψ and spikes z of every (sequence, step, neuron), and optionally the voltage
 * and adaptive-threshold traces of one sequence (for figures).
 * @module
 */

/** Voltage and threshold traces of one sequence, each [T, n] row-major. */
export interface SequenceTrace {
  /** Which sequence of the batch was traced. */
  index: number;
  /** Membrane voltages (relative to rest) after the step's update, [T, n]. */
  v: Float32Array;
  /** Adaptive thresholds A = V_th + β·a, [T, n]. */
  threshold: Float32Array;
}

/** The result of a forward scan, layout [B, T, n] row-major. */
export interface ForwardRecord {
  /** Batch size B. */
  batch: number;
  /** Steps per sequence T. */
  steps: number;
  /** Neurons n. */
  n: number;
  /** Surrogate gradients ψ (0 while refractory). */
  psi: Float64Array | Float32Array;
  /** Spikes (0/1). */
  z: Uint8Array;
  /** Traces of one sequence, when requested. */
  trace?: SequenceTrace;
}

/** Dense input spikes [B, T, nIn] row-major (0/1, any numeric array). */
export interface DenseInput {
  /** Batch size B. */
  batch: number;
  /** Steps per sequence T. */
  steps: number;
  /** Inputs nIn. */
  nIn: number;
  /** Values, length B·T·nIn. */
  data: Float32Array | Uint8Array;
}
