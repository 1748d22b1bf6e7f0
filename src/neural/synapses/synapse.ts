/**
 * Shared machinery of every synapse: validation of the {@link SynapseSpec}, a true ring buffer of
 * the last `delaySteps + 1` spikes and currents (one {@link State} per slot, written by a zero-copy
 * `assign`, so no step copies the whole history), and batch-size handling.
 * @module
 */
import { tf } from '../../core/tf.js';
import { BatchedModule } from '../../core/batched-module.js';
import type { State } from '../../core/state.js';
import { CinderArgumentError, checkDt, checkInteger, checkShape } from '../../core/errors.js';
import type { Synapse, SynapseSpec } from '../types.js';

/** Validates a {@link SynapseSpec} and returns a normalised copy. */
export function checkSynapseSpec(spec: SynapseSpec): SynapseSpec {
  if (spec === null || typeof spec !== 'object') throw new CinderArgumentError('spec', spec, 'a SynapseSpec object');
  return {
    shape: checkShape('shape', spec.shape),
    dt: checkDt(spec.dt),
    delaySteps: checkInteger('delaySteps', spec.delaySteps, 0),
    batchSize: checkInteger('batchSize', spec.batchSize, 1),
  };
}

/**
 * Base class of the synapses in this folder. A subclass implements {@link BaseSynapse.integrate}
 * (this step's current from this step's spikes and its own kinetic state); the base class checks
 * the input, records spikes and current in the history ring and serves {@link currentAgo} /
 * {@link spikeAgo}.
 *
 * The ring's slots are registered as states `spike_k` / `current_k` (k = slot index, not age), so
 * `clear()`, `dispose()` and saving work unchanged; the write position is reset by `clear()`.
 */
export abstract class BaseSynapse extends BatchedModule implements Synapse {
  /** Presynaptic shape (no batch). */
  readonly shape: readonly number[];
  /** Step length (ms). */
  readonly dt: number;
  /** History length in steps beyond the latest (0 = no delays). */
  readonly delaySteps: number;
  /** Whether the output adds to a neuron's current or is a conductance. */
  abstract readonly kind: 'current' | 'conductance';

  private head = 0;
  /** The ring's write position, synced into state only when saving (see {@link beforeSave}). */
  private readonly headState: State | null;
  private readonly spikeSlots: State[] = [];
  private readonly currentSlots: State[] = [];

  /** @param spec shape, dt, history length and batch size chosen by the connection */
  constructor(spec: SynapseSpec) {
    const s = checkSynapseSpec(spec);
    super(s.batchSize);
    this.shape = Object.freeze([...s.shape]);
    this.dt = s.dt;
    this.delaySteps = s.delaySteps;
    this.headState = this.delaySteps > 0 ? this.addState('history_head', () => tf.scalar(0, 'int32')) : null;
    for (let k = 0; k <= this.delaySteps; k++) {
      this.spikeSlots.push(this.addBatchedState(`spike_${k}`, () => this.zeros()));
      this.currentSlots.push(this.addBatchedState(`current_${k}`, () => this.zeros()));
    }
  }

  /** Zeros of shape `[B, ...shape]`. */
  protected zeros(): tf.Tensor {
    return tf.zeros([this.batchSize, ...this.shape], 'float32');
  }

  /** Registers a kinetic state `[B, ...shape]` (zero on reset) that follows batch-size changes. */
  protected addKineticState(name: string): State {
    return this.addBatchedState(name, () => this.zeros());
  }

  /** A batch-size change rewinds the history ring (all its slots are re-created as zeros). */
  protected override batchSizeChanged(): void {
    this.head = 0;
  }

  /** Latest current (or conductance) `[B, ...shape]`; owned by the synapse. */
  get current(): tf.Tensor {
    return this.currentSlots[this.head]!.value;
  }

  /** Latest spikes `[B, ...shape]` (0/1 float); owned by the synapse. */
  get spike(): tf.Tensor {
    return this.spikeSlots[this.head]!.value;
  }

  private slot(k: number): number {
    if (!Number.isInteger(k) || k < 0 || k > this.delaySteps) {
      throw new CinderArgumentError('k', k, `an integer in [0, ${this.delaySteps}] (the synapse keeps delaySteps + 1 steps)`);
    }
    return (this.head - k + this.delaySteps + 1) % (this.delaySteps + 1);
  }

  /** Current `k` steps ago (0 = latest); zeros before enough steps have run. Owned by the synapse. */
  currentAgo(k: number): tf.Tensor {
    return this.currentSlots[this.slot(k)]!.value;
  }

  /** Spikes `k` steps ago (0 = latest); zeros before enough steps have run. Owned by the synapse. */
  spikeAgo(k: number): tf.Tensor {
    return this.spikeSlots[this.slot(k)]!.value;
  }

  /** Checks that `t` is a live float32, int32 or bool tensor `[B, ...shape]`; `param` names it in the error. */
  protected checkInput(param: string, t: tf.Tensor): void {
    const want = [this.batchSize, ...this.shape];
    if (!t || !(t instanceof tf.Tensor)) throw new CinderArgumentError(param, t, `a tensor of shape [${want.join(', ')}]`);
    if (t.isDisposed) throw new CinderArgumentError(param, 'a disposed tensor', `a live tensor of shape [${want.join(', ')}]`);
    if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') throw new CinderArgumentError(`${param} dtype`, t.dtype, 'one of "float32", "int32", "bool"');
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new CinderArgumentError(param, t, `shape [${want.join(', ')}] (batch ${this.batchSize}, presynaptic shape [${this.shape.join(', ')}])`);
    }
  }

  /**
   * Computes this step's current (or conductance) from this step's spikes (float32, already
   * checked), updating the subclass's kinetic state. `previous` is the latest recorded current.
   */
  protected abstract integrate(spikes: tf.Tensor, previous: tf.Tensor, injected?: tf.Tensor): tf.Tensor;

  /** Whether `forward` accepts an injected current (only {@link DeltaPlusCurrent}). */
  protected get acceptsInjected(): boolean {
    return false;
  }

  /**
   * Pushes this step's spikes `[B, ...shape]` into the history and returns this step's current
   * (a new tensor owned by the caller; the history shares its data).
   */
  forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
    this.checkInput('spikes', spikes);
    if (injected !== undefined) {
      if (!this.acceptsInjected) throw new CinderArgumentError('injected', injected, `undefined (${this.constructor.name} takes no injected current; use DeltaPlusCurrent)`);
      this.checkInput('injected', injected);
    }
    const s = spikes.dtype === 'float32' ? spikes : tf.cast(spikes, 'float32');
    const previous = this.current;
    const current = this.integrate(s, previous, injected);
    this.head = (this.head + 1) % (this.delaySteps + 1);
    this.spikeSlots[this.head]!.assign(s);
    this.currentSlots[this.head]!.assign(current);
    return current;
  }

  /**
   * webgpu's fused layer step (`../layers/fused-step.ts`) only: pushes this step's float32 spikes
   * `[B, ...shape]` and the current a step program computed for them into the history, as
   * {@link forward} does after {@link integrate} (for memoryless synapses: no kinetic state).
   * @internal
   */
  record(spikes: tf.Tensor, current: tf.Tensor): void {
    this.checkInput('spikes', spikes);
    this.checkInput('current', current);
    this.head = (this.head + 1) % (this.delaySteps + 1);
    this.spikeSlots[this.head]!.assign(spikes);
    this.currentSlots[this.head]!.assign(current);
  }

  /**
   * A failed layer step's rollback (`Layer.step`) only: returns a function that puts the ring's write
   * position back where it is now (the slots themselves are states, restored by the layer).
   * @internal
   */
  checkpoint(): () => void {
    const head = this.head;
    return () => void (this.head = head);
  }

  /** Writes the ring's write position into the `history_head` state before saving. */
  override beforeSave(): void {
    if (!this.headState) return;
    const t = tf.scalar(this.head, 'int32');
    this.headState.assign(t);
    t.dispose();
  }

  /**
   * Restores the ring's write position after loading. The one scalar read here is synchronous
   * on every backend, webgpu included: the loaded `history_head` is always a tensor made from host
   * values (a file's data, or the scalar {@link beforeSave} wrote for `exportState`), which tfjs
   * keeps on the CPU until a kernel uses it, so no GPU read happens (test/webgpu/network-resume).
   * @throws CinderArgumentError when the loaded `history_head` is not a slot index in
   * [0, delaySteps] (the position is then left as it was)
   */
  override afterLoad(): void {
    if (!this.headState) return;
    const h = this.headState.value.dataSync()[0];
    if (h === undefined || !Number.isInteger(h) || h < 0 || h > this.delaySteps) {
      throw new CinderArgumentError('state "history_head"', h, `an integer in [0, ${this.delaySteps}] (a slot of the ring of ${this.delaySteps + 1})`);
    }
    this.head = h;
  }

  /** Resets history and kinetic state to zero. */
  override clear(): void {
    super.clear();
    this.head = 0;
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return { shape: [...this.shape], dt: this.dt, delaySteps: this.delaySteps, batchSize: this.batchSize, kind: this.kind };
  }
}
