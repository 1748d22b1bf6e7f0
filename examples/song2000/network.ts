/**
 * Song, Miller & Abbott (2000) built from Cinder modules: Poisson input spikes → {@link LinearDense}
 * → one {@link LIF} neuron, trained by {@link STDP} (lrPost = dApre, lrPre = dApost, cumulative
 * traces as Brian2's event-driven `Apre`/`Apost`), weights clamped to [0, gmax] by
 * {@link Clamping} after every update.
 *
 * Two drives (see {@link SongDrive}):
 * - `conductance` (Song et al.'s conductance-based neuron, `τm dv/dt = ge·(Ee − v) + El − v`): an
 *   {@link ExponentialConductance} synapse (τe, jump 1) feeds the LIF receptor `exc` (E = Ee);
 * - `current` (Brian2's example, `τm dv/dt = ge·(Ee − vr) + El − v`, a fixed driving force): a
 *   {@link SingleExponentialCurrent} synapse (τe, jump Ee − vr) feeds the LIF as a current (R = 1).
 * @module
 */
import { tf } from '../../src/core/tf.js';
import type { Rng } from '../../src/core/random.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { LinearDense, uniformInit } from '../../src/neural/connections/index.js';
import { LIF } from '../../src/neural/neurons/index.js';
import type { Receptor } from '../../src/neural/types.js';
import { ExponentialConductance, SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { Serial, type Cell, type Layer } from '../../src/neural/layers/index.js';
import { Clamping } from '../../src/neural/hooks/index.js';
import { STDP } from '../../src/learn/trainers/index.js';
import type { SongParams } from './params.js';

/** How the input conductance drives the membrane: `ge·(Ee − v)` or Brian2's `ge·(Ee − vr)`. */
export type SongDrive = 'conductance' | 'current';

/** The drives, for option validation. */
export const SONG_DRIVES: readonly SongDrive[] = ['conductance', 'current'];

/** The postsynaptic LIF of the module-built networks (no refractory period) with `receptors`. */
export function songNeuron(p: SongParams, receptors: Receptor[]): LIF {
  return new LIF([1], p.dt, { restV: p.El, resetV: p.vr, threshV: p.vt, refracT: 0, tauM: p.taum, receptors });
}

/**
 * What the module-built Song networks share ({@link SongNetwork}, and `SongPaperNetwork` in
 * `paper-network.ts`): the trained cell (the plastic connection → the neuron), additive {@link STDP}
 * (lrPost = dApre, lrPre = dApost, cumulative traces), the {@link Clamping} of the weights to
 * [0, gmax] after every update, the learning step, the weights and disposal.
 */
export abstract class SongModuleNetwork {
  /** The trained cell. */
  readonly cell: Cell;
  /** Additive STDP. */
  readonly trainer: STDP;
  /** Keeps the weights in [0, gmax] after every update. */
  readonly clamp: Clamping;
  private readonly detachClamp: () => void;

  /**
   * @param p model constants
   * @param connection the plastic connection (inputs → neuron, weights `[1, N]`)
   * @param neuron the postsynaptic neuron
   * @param layer the layer holding both
   * @param learn whether STDP is on
   */
  protected constructor(
    readonly p: SongParams,
    readonly connection: LinearDense,
    readonly neuron: LIF,
    readonly layer: Layer,
    learn: boolean,
  ) {
    this.cell = layer.cell(connection, neuron);
    this.trainer = new STDP({ lrPost: p.dApre, lrPre: p.dApost, tauPost: p.taupost, tauPre: p.taupre, traceMode: 'cumulative' });
    this.trainer.register(this.cell);
    this.clamp = new Clamping(connection.weightParameter, { min: 0, max: p.gmax });
    this.detachClamp = this.clamp.attachToUpdate(connection.updater);
    layer.train(learn);
    this.trainer.train(learn);
  }

  /** True while STDP is on. */
  get learning(): boolean {
    return this.layer.training;
  }

  /** After the layer's step: the STDP step and the weight update (clamped), while learning. */
  protected learn(): void {
    if (this.layer.training) {
      this.trainer.step();
      this.connection.update();
    }
  }

  /** Current weights of the plastic connection (a copy). */
  weights(): Float32Array {
    return (this.connection.weight.dataSync() as Float32Array).slice();
  }

  /** {@link SongModuleNetwork.weights} without a synchronous read. */
  async weightsAsync(): Promise<Float32Array> {
    return ((await this.connection.weight.data()) as Float32Array).slice();
  }

  /** Frees every tensor. */
  dispose(): void {
    this.detachClamp();
    this.clamp.dispose();
    this.trainer.dispose();
    this.layer.dispose();
  }
}

/** The network of the example. */
export class SongNetwork extends SongModuleNetwork {
  /** connection → neuron. */
  declare readonly layer: Serial<LinearDense, LIF>;

  /**
   * @param p model constants
   * @param rng draws the initial weights uniformly in [0, gmax)
   * @param learn whether STDP is on (default true)
   * @param drive `conductance` (default) or `current` (Brian2's fixed driving force Ee − vr)
   */
  constructor(
    p: SongParams,
    rng: Rng,
    learn = true,
    readonly drive: SongDrive = 'conductance',
  ) {
    if (!SONG_DRIVES.includes(drive)) throw new CinderArgumentError('drive', drive, `one of ${SONG_DRIVES.join(', ')}`);
    const conductance = drive === 'conductance';
    const connection = new LinearDense([p.nInputs], [1], p.dt, {
      synapse: conductance
        ? ExponentialConductance.factory({ tau: p.taue })
        : SingleExponentialCurrent.factory({ tau: p.taue, charge: (p.Ee - p.vr) * p.taue }),
      weightInit: uniformInit(rng, 0, p.gmax),
    });
    const neuron = songNeuron(p, conductance ? [{ name: 'exc', reversal: p.Ee }] : []);
    super(p, connection, neuron, new Serial(connection, neuron, conductance ? { receptor: 'exc' } : {}), learn);
  }

  /** One step with input spikes `[1, N]`: returns the post spike `[1, 1]` (caller owns; call inside tf.tidy). */
  step(spikes: tf.Tensor): tf.Tensor {
    const post = this.layer.forward(spikes);
    this.learn();
    return post;
  }
}
