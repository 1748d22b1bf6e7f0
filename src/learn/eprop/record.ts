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
  /** Spikes of each neuron in each sequence, [B, n] (the JavaScript kernel counts them as it goes). */
  counts?: Int32Array;
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

/** The typed arrays an {@link EPropScratch} keeps. */
export type ScratchArray = Float64Array | Uint8Array | Int32Array;
/** The constructor of a {@link ScratchArray} type. */
export type ScratchConstructor<A extends ScratchArray> = new (length: number) => A;

/**
 * Reusable scratch arrays of the JavaScript e-prop kernels, owned by one trainer (or one worker
 * thread). A slice of NEST's task (8 sequences, T = 2250, n = 100) needs ψ and D of 14 MB each;
 * allocating them afresh for every slice costs more than a tenth of the work in page faults (the operating system zeroes
 * every fresh page on its first write). {@link EPropScratch.take} hands back (the start of) the
 * array kept under a name when its type fits and it is long enough, else a new one, **with stale
 * contents**: the kernels that take from it write every entry. An array taken here is valid until
 * the next take of the same name, so results that outlive an iteration (records returned to users)
 * never use it.
 */
export class EPropScratch {
  private readonly arrays = new Map<string, ScratchArray>();

  /**
   * The first `length` entries of the array kept under `name` when it has this type and is long
   * enough (a batch's shorter last slice reuses it), else a new one (kept).
   */
  take<A extends ScratchArray>(name: string, type: ScratchConstructor<A>, length: number): A {
    const a = this.arrays.get(name);
    if (a instanceof type && a.length >= length) return (a.length === length ? a : a.subarray(0, length)) as A;
    this.arrays.delete(name); // let the old one go before the new one is allocated
    const fresh = new type(length);
    this.arrays.set(name, fresh);
    return fresh;
  }

  /** Drops every array (e.g. after the last batch of a given size). */
  clear(): void {
    this.arrays.clear();
  }
}
