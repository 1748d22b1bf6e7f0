/**
 * Per-step input spikes with one encoder call per chunk: the encoder renders `chunk` steps at once
 * (one upload), the chunk is read back once, and each step is handed out as a small tensor created
 * from a slice of that JavaScript array (one ≈10 µs upload per step, no slicing op; slicing a big
 * tensor per step, or unstacking it, costs milliseconds on the wasm backend).
 * @module
 */
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import type { Encoder } from '../../src/neural/encoders/index.js';

/** Step-by-step spikes from an encoder whose `steps` is the chunk length. */
export class ChunkedSpikes {
  private data: Float32Array = new Float32Array(0);
  private offset = 0;
  private readonly stepSize: number;
  private readonly shape: number[];

  /**
   * @param encoder renders one chunk per call (`encoder.steps` steps)
   * @param inputs intensities `[B, ...shape]` in [0, 1] (kept by the caller)
   * @param values the same intensities on the host (row-major); with them no chunk reads `inputs`
   *   back (no synchronous read, so it runs on webgpu)
   */
  constructor(
    private readonly encoder: Encoder,
    private readonly inputs: tf.Tensor,
    private readonly values?: ArrayLike<number>,
  ) {
    if (!(inputs instanceof tf.Tensor) || inputs.rank < 2) throw new CinderArgumentError('inputs', inputs, 'a tensor [B, ...shape]');
    this.shape = [...inputs.shape];
    this.stepSize = inputs.size;
    this.offset = encoder.steps; // forces a render on the first call
  }

  /** The JavaScript view of the next step's spikes (advances the stream). */
  nextArray(): Float32Array {
    if (this.offset >= this.encoder.steps) {
      if (this.values) this.data = this.encoder.encodeArray(this.values);
      else {
        const train = this.encoder.encode(this.inputs);
        this.data = train.dataSync() as Float32Array;
        train.dispose();
      }
      this.offset = 0;
    }
    const s = this.data.subarray(this.offset * this.stepSize, (this.offset + 1) * this.stepSize);
    this.offset++;
    return s;
  }

  /** The next step's spikes `[B, ...shape]` as a new tensor owned by the caller. */
  next(): tf.Tensor {
    return tf.tensor(this.nextArray(), this.shape, 'float32');
  }
}
