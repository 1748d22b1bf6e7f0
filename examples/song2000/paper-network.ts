/**
 * The paper's model of Song, Miller & Abbott (2000) ({@link songPaperParams}: 1000 plastic
 * excitatory and 200 fixed inhibitory inputs onto one conductance-based LIF neuron) built from
 * Cinder modules — the `tfjs` engine of `cinder song2000 --model paper`. One {@link Biclique}
 * layer, two conductance connections into one {@link LIF} with two receptors:
 *
 * - `excitatory` (receptor `exc`, E = Ee): with `p.frozenJumps` (the paper's Methods: "gex →
 *   gex + ḡa" at the spike; a later change of ḡa leaves the conductance in flight alone) a
 *   {@link FrozenConductanceDense}, `gex ← gex·e^{−Δt/τex} + Σ_a w_a·s_a` with the weights before
 *   this step's STDP update; without, {@link SongNetwork}'s form, a {@link LinearDense} with an
 *   {@link ExponentialConductance} per input, `gex = Σ_a w_a·g_a`, `g_a ← g_a·e^{−Δt/τex} + s_a`;
 * - `inhibitory` (receptor `inh`, E = Ei): a {@link LinearDense} with an
 *   {@link ExponentialConductance} (τin) per input and every weight ḡin, never trained:
 *   `gin = Σ_j ḡin·g_j` (fixed weights, so the in-flight question does not arise);
 * - the neuron (τm, Vrest = El, threshold vt, reset vr, no refractory period): the exact step with
 *   both conductances held, `G = 1 + gex + gin`, `V∞ = (El + gex·Ee + gin·Ei)/G`,
 *   `V ← V∞ + (V − V∞)·e^{−Δt·G/τm}`, a spike at `V ≥ vt`, then `V ← vr`.
 *
 * STDP as {@link SongNetwork} (the same rule and step order as the event engine's scheme `cinder`):
 * {@link STDP} on the excitatory cell (lrPost = dApre, lrPre = dApost, cumulative traces that
 * include this step's spikes), one update per step, then {@link Clamping} to [0, ḡmax].
 *
 * Numbers: float32 throughout (conductances, membrane, traces, weights); the event engine keeps
 * the membrane and conductances in float64 and the weights in float32.
 * @module
 */
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError, checkPositive } from '../../src/core/errors.js';
import { DeltaConductance, ExponentialConductance } from '../../src/neural/synapses/index.js';
import { LinearDense, constantInit, postFiltered, type LinearDenseOptions } from '../../src/neural/connections/index.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { Biclique } from '../../src/neural/layers/index.js';
import type { SongParams } from './params.js';
import { SongModuleNetwork, songNeuron } from './network.js';

/** Options of {@link FrozenConductanceDense}: {@link LinearDense}'s, without `synapse`, plus τ. */
export interface FrozenConductanceDenseOptions extends Omit<LinearDenseOptions, 'synapse'> {
  /** Decay time constant τ of the postsynaptic conductance (ms, > 0). */
  tau: number;
}

/**
 * A dense conductance connection whose exponential filter sits after the weights, so each spike's
 * jump keeps the weight it arrived with (the paper's `gex → gex + ḡa`): per output unit
 * `g ← g·e^{−Δt/τ} + Σ_a w_a·s_a` (float32; `e^{−Δt/τ}` rounded to float32 once) — the library's
 * {@link postFiltered} {@link LinearDense} over a {@link DeltaConductance} (Δg = 1). Unlike
 * `LinearDense` with an {@link ExponentialConductance} (`Σ_a w_a·g_a`, per-input g_a), a weight
 * change does not rescale conductance already in flight. The postsynaptic conductance is the
 * filter's state `postFilter.value` `[B, ...outShape]` (saved and restored with the module, zero on
 * `clear()`, re-created on a batch-size change). No delays here (the paper's model has none).
 */
export class FrozenConductanceDense extends postFiltered(LinearDense) {
  /** Decay time constant τ (ms). */
  readonly tau: number;

  /**
   * @param inShape presynaptic shape
   * @param outShape postsynaptic shape
   * @param dt step (ms)
   * @param options τ and LinearDense's options (no `synapse`, no `maxDelay`)
   */
  constructor(inShape: readonly number[], outShape: readonly number[], dt: number, options: FrozenConductanceDenseOptions) {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, '{ tau, ...LinearDense options }');
    const tau = checkPositive('tau', options.tau);
    if ((options as LinearDenseOptions).synapse !== undefined) throw new CinderArgumentError('synapse', 'a factory', 'none (FrozenConductanceDense uses DeltaConductance)');
    if ((options.maxDelay ?? 0) !== 0) throw new CinderArgumentError('maxDelay', options.maxDelay, '0 (FrozenConductanceDense has no delays)');
    const { tau: _tau, ...rest } = options;
    super({ tau }, inShape, outShape, dt, { ...rest, synapse: DeltaConductance.factory() });
    this.tau = tau;
  }

  /** The postsynaptic conductance after the last step `[B, ...outShape]` (owned by the connection). */
  get conductance(): tf.Tensor {
    return this.filtered;
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), tau: this.tau };
  }
}

/** The paper's model as Cinder modules (see the module documentation). */
export class SongPaperNetwork extends SongModuleNetwork {
  /** Inhibitory inputs → neuron (weights `[1, Ni]`, all ḡin, fixed). */
  readonly inhibitory: LinearDense;
  /** Both connections → neuron (`excitatory` is the plastic {@link SongModuleNetwork.connection}). */
  declare readonly layer: Biclique;

  /**
   * @param p model constants (`nInhib` ≥ 1)
   * @param w0 initial excitatory weights (N values; the paper: all ḡmax)
   * @param learn whether STDP is on (default true)
   */
  constructor(p: SongParams, w0: ArrayLike<number>, learn = true) {
    if (!(Number.isInteger(p.nInhib) && p.nInhib >= 1)) throw new CinderArgumentError('p.nInhib', p.nInhib, 'an integer >= 1 (SongPaperNetwork has inhibitory inputs; without, use SongNetwork)');
    if (!w0 || w0.length !== p.nInputs) throw new CinderArgumentError('w0', w0?.length, `${p.nInputs} initial weights`);
    const init = () => tf.tensor2d(Float32Array.from(w0), [1, p.nInputs]);
    const connection = p.frozenJumps
      ? new FrozenConductanceDense([p.nInputs], [1], p.dt, { tau: p.taue, weightInit: init })
      : new LinearDense([p.nInputs], [1], p.dt, { synapse: ExponentialConductance.factory({ tau: p.taue }), weightInit: init });
    const inhibitory = new LinearDense([p.nInhib], [1], p.dt, {
      synapse: ExponentialConductance.factory({ tau: p.taui }),
      weightInit: constantInit(p.gin),
    });
    const neuron = songNeuron(p, [{ name: 'exc', reversal: p.Ee }, { name: 'inh', reversal: p.Ei }]);
    const layer = new Biclique({
      connections: {
        excitatory: { connection, receptor: 'exc' },
        inhibitory: { connection: inhibitory, receptor: 'inh' },
      },
      neurons: { neuron },
    });
    super(p, connection, neuron, layer, learn);
    this.inhibitory = inhibitory;
  }

  /**
   * One step with excitatory spikes `[1, N]` and inhibitory spikes `[1, Ni]`: returns the post
   * spike `[1, 1]` (caller owns; call inside tf.tidy).
   */
  step(spikes: tf.Tensor, inhibitory: tf.Tensor): tf.Tensor {
    const post = this.layer.forward({ excitatory: spikes, inhibitory }).neuron!;
    this.learn();
    return post;
  }

  /** The excitatory conductance the neuron saw in the last step `[1, 1]` (a new tensor; call inside tf.tidy). */
  excitatoryConductance(): tf.Tensor {
    if (this.connection instanceof FrozenConductanceDense) return tf.clone(this.connection.conductance);
    return tf.matMul(this.connection.synapse.current, this.connection.weight, false, true);
  }
}
