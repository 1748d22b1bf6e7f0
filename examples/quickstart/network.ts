/**
 * Inferno's quickstart network built from Cinder modules, with every neuron group stepping once
 * per time step:
 *
 * - `excLayer` ({@link Biclique}): 784 Poisson inputs (LinearDense, DeltaCurrent charge 100,
 *   weights U(0, 0.3)) and the inhibitory spikes of the previous step (LinearLateral, charge 100,
 *   w −180 except self) → 10×10 {@link ALIF} excitatory group;
 * - `inhLayer` ({@link Serial}): excitatory spikes of this step (LinearDirect, charge 75, w 22.5)
 *   → 10×10 {@link LIF} inhibitory group;
 * - {@link STDP} on input → excitatory (lrPost 5e-4, lrPre −5e-6, τ 30/30, batch mean), with a
 *   multiplicative upper bound at 1, {@link Clamping} at 0 after every update, and L1
 *   {@link Normalization} of every excitatory neuron's input weights to 78.4 after every training
 *   presentation (and once at the start), as in Inferno's quickstart.
 * @module
 */
import { tf } from '../../src/core/tf.js';
import type { Rng } from '../../src/core/random.js';
import { ALIF, LIF } from '../../src/neural/neurons/index.js';
import { DeltaCurrent } from '../../src/neural/synapses/index.js';
import { LinearDense, LinearDirect, LinearLateral, constantInit, uniformInit } from '../../src/neural/connections/index.js';
import { Biclique, Serial, type Cell } from '../../src/neural/layers/index.js';
import { Clamping, Normalization } from '../../src/neural/hooks/index.js';
import { Bounding } from '../../src/neural/bounding.js';
import { STDP } from '../../src/learn/trainers/index.js';
import { QUICKSTART as Q } from './params.js';

/** The spikes of one step. */
export interface QuickstartStep {
  /** Excitatory spikes `[B, 10, 10]`. */
  exc: tf.Tensor;
  /** Inhibitory spikes `[B, 10, 10]`. */
  inh: tf.Tensor;
}

/** The quickstart network. */
export class QuickstartNetwork {
  /** Excitatory ALIF group. */
  readonly exc: ALIF;
  /** Inhibitory LIF group. */
  readonly inh: LIF;
  /** Input → excitatory weights `[100, 784]` (trained). */
  readonly input: LinearDense;
  /** Inhibitory → excitatory (previous step's spikes). */
  readonly lateral: LinearLateral;
  /** Excitatory → inhibitory, one to one. */
  readonly direct: LinearDirect;
  /** [input, lateral] → exc. */
  readonly excLayer: Biclique;
  /** direct → inh. */
  readonly inhLayer: Serial<LinearDirect, LIF>;
  /** The trained cell (input, exc). */
  readonly cell: Cell;
  /** The STDP trainer. */
  readonly stdp: STDP;
  /** Multiplicative upper bound (P_max = 1) of the input weights. */
  readonly bound: Bounding;
  /** Clamps the input weights at 0 after every update. */
  readonly clamp: Clamping;
  /** L1 normalization of each excitatory neuron's input weights. */
  readonly norm: Normalization;
  private readonly detach: () => void;
  private excSteps = 0;

  /**
   * @param batchSize samples presented in parallel (changeable between presentations: {@link batchSize})
   * @param rng draws the initial input weights
   */
  constructor(batchSize: number, rng: Rng) {
    const shape = [...Q.shape];
    const dt = Q.dt;
    this.exc = new ALIF(shape, dt, {
      restV: Q.exc.restV, resetV: Q.exc.resetV, threshV: Q.exc.threshInfV, refracT: Q.exc.refracT, tauM: Q.exc.tauM,
      tauAdapt: Q.exc.tauAdapt, adaptIncrement: Q.exc.adaptIncrement, resistance: Q.exc.resistance, batchSize,
    });
    this.inh = new LIF(shape, dt, { restV: Q.inh.restV, resetV: Q.inh.resetV, threshV: Q.inh.threshV, refracT: Q.inh.refracT, tauM: Q.inh.tauM, resistance: Q.inh.resistance, batchSize });
    this.input = new LinearDense([Q.nInputs], shape, dt, { synapse: DeltaCurrent.factory({ charge: Q.excCharge }), weightInit: uniformInit(rng, 0, Q.inputWeightMax), batchSize });
    this.lateral = new LinearLateral(shape, dt, { synapse: DeltaCurrent.factory({ charge: Q.excCharge }), weightInit: constantInit(Q.inhToExc), batchSize });
    this.direct = new LinearDirect(shape, dt, { synapse: DeltaCurrent.factory({ charge: Q.inhCharge }), weightInit: constantInit(Q.excToInh), batchSize });
    this.excLayer = new Biclique({ connections: { input: this.input, lateral: this.lateral }, neurons: { exc: this.exc } });
    this.inhLayer = new Serial(this.direct, this.inh);
    this.cell = this.excLayer.cell(this.input, this.exc);
    this.stdp = new STDP({ lrPost: Q.stdp.lrPost, lrPre: Q.stdp.lrPre, tauPost: Q.stdp.tauPost, tauPre: Q.stdp.tauPre });
    this.stdp.register(this.cell);
    this.bound = new Bounding('multiplicative', { max: Q.weightMax });
    this.input.updater.bound('weight', this.bound);
    this.clamp = new Clamping(this.input.weightParameter, { min: 0 });
    this.detach = this.clamp.attachToUpdate(this.input.updater);
    this.norm = new Normalization(this.input.weightParameter, { order: 1, scale: Q.normScale, dims: 1 });
    this.norm.run();
  }

  /** Samples presented in parallel. */
  get batchSize(): number {
    return this.excLayer.batchSize;
  }

  /**
   * Sets the samples presented in parallel (e.g. a last, smaller batch instead of padding it with
   * copies, which would count in the batch means of STDP and of the θ adaptation). Re-creates the
   * per-sample state (voltages, refractory counters, synapse and trace histories) as after
   * {@link clear} (the STDP traces are cleared too); weights and θ are kept. Call between
   * presentations.
   */
  set batchSize(value: number) {
    if (value === this.batchSize) return;
    this.excLayer.batchSize = value;
    this.inhLayer.batchSize = value;
    this.stdp.clear();
  }

  /** Number of excitatory-group steps so far (one per network step). */
  get excitatorySteps(): number {
    return this.excSteps;
  }

  /** Training mode of the layers and the trainer (STDP and adaptation on). */
  train(mode = true): void {
    this.excLayer.train(mode);
    this.inhLayer.train(mode);
    this.stdp.train(mode);
  }

  /** True in training mode. */
  get training(): boolean {
    return this.excLayer.training;
  }

  /**
   * One step with input spikes `x` `[B, 784]`: the excitatory group integrates the input and the
   * previous step's inhibitory spikes, the inhibitory group this step's excitatory spikes; in
   * training mode STDP accumulates and the input weights are updated. Call inside `tf.tidy`.
   */
  step(x: tf.Tensor): QuickstartStep {
    const exc = this.excLayer.forward({ input: x, lateral: this.inh.spike }).exc!;
    this.excSteps++;
    const inh = this.inhLayer.forward(exc);
    if (this.training) {
      this.stdp.step();
      this.input.update();
    }
    return { exc, inh };
  }

  /** Clears neuron, synapse and trace state between presentations (keeps weights and θ). */
  clear(): void {
    this.excLayer.clear();
    this.inhLayer.clear();
    this.stdp.clear();
  }

  /** Normalizes the input weights (after a training presentation). */
  normalize(): void {
    this.norm.run();
  }

  /** Frees every tensor. */
  dispose(): void {
    this.detach();
    this.clamp.dispose();
    this.norm.dispose();
    this.bound.dispose();
    this.stdp.dispose();
    this.excLayer.dispose();
    this.inhLayer.dispose();
  }
}
