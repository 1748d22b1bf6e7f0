/**
 * Song, Miller & Abbott (2000) built from Cinder modules: Poisson input spikes → {@link LinearDense}
 * with an {@link ExponentialConductance} synapse (τe) → one conductance-based {@link LIF} (receptor
 * `exc`, E = Ee), trained by {@link STDP} (lrPost = dApre, lrPre = dApost, cumulative traces as
 * Brian2's event-driven `Apre`/`Apost`), weights clamped to [0, gmax] by {@link Clamping} after
 * every update.
 * @module
 */
import { tf } from '../../src/core/tf.js';
import type { Rng } from '../../src/core/random.js';
import { LinearDense, uniformInit } from '../../src/neural/connections/index.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { ExponentialConductance } from '../../src/neural/synapses/index.js';
import { Serial, type Cell } from '../../src/neural/layers/index.js';
import { Clamping } from '../../src/neural/hooks/index.js';
import { STDP } from '../../src/learn/trainers/index.js';
import type { SongParams } from './params.js';

/** The network of the example. */
export class SongNetwork {
  /** Inputs → neuron (weights `[1, N]`). */
  readonly connection: LinearDense;
  /** The postsynaptic neuron. */
  readonly neuron: LIF;
  /** connection → neuron. */
  readonly layer: Serial<LinearDense, LIF>;
  /** The trained cell. */
  readonly cell: Cell;
  /** Additive STDP. */
  readonly trainer: STDP;
  /** Keeps the weights in [0, gmax] after every update. */
  readonly clamp: Clamping;
  private readonly detachClamp: () => void;

  /**
   * @param p model constants
   * @param rng draws the initial weights uniformly in [0, gmax)
   * @param learn whether STDP is on (default true)
   */
  constructor(
    readonly p: SongParams,
    rng: Rng,
    learn = true,
  ) {
    this.connection = new LinearDense([p.nInputs], [1], p.dt, {
      synapse: ExponentialConductance.factory({ tau: p.taue }),
      weightInit: uniformInit(rng, 0, p.gmax),
    });
    this.neuron = new LIF([1], p.dt, {
      restV: p.El,
      resetV: p.vr,
      threshV: p.vt,
      refracT: 0,
      tauM: p.taum,
      receptors: [{ name: 'exc', reversal: p.Ee }],
    });
    this.layer = new Serial(this.connection, this.neuron, { receptor: 'exc' });
    this.cell = this.layer.cell(this.connection, this.neuron);
    this.trainer = new STDP({ lrPost: p.dApre, lrPre: p.dApost, tcPost: p.taupost, tcPre: p.taupre, traceMode: 'cumulative' });
    this.trainer.register(this.cell);
    this.clamp = new Clamping(this.connection.weightParameter, { min: 0, max: p.gmax });
    this.detachClamp = this.clamp.attachToUpdate(this.connection.updater);
    this.layer.train(learn);
    this.trainer.train(learn);
  }

  /** True while STDP is on. */
  get learning(): boolean {
    return this.layer.training;
  }

  /** One step with input spikes `[1, N]`: returns the post spike `[1, 1]` (caller owns; call inside tf.tidy). */
  step(spikes: tf.Tensor): tf.Tensor {
    const post = this.layer.forward(spikes);
    if (this.layer.training) {
      this.trainer.step();
      this.connection.update();
    }
    return post;
  }

  /** Current weights (a copy). */
  weights(): Float32Array {
    return (this.connection.weight.dataSync() as Float32Array).slice();
  }

  /** Frees every tensor. */
  dispose(): void {
    this.detachClamp();
    this.clamp.dispose();
    this.trainer.dispose();
    this.layer.dispose();
  }
}
