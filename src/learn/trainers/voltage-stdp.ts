/**
 * Voltage-gated STDP (livn's `StdpLinExp2Syn`; `inhibitory: true` for `StdpLinExp2SynInh`) as a
 * trainer of Cinder cells — the tfjs op path of the rule. The event-driven CPU kernel with the same
 * formulas and discretisation is `src/kernels/js/voltage-stdp.ts` (its module text states the rule);
 * the culture network of `src/network/plasticity-network.ts` uses that kernel.
 *
 * Per cell, one learning site per postsynaptic neuron and sample holds the signal L and its integral
 * I `[B, ...outShape]`; each synapse keeps I_c, shaped like the receptive product
 * `presynReceptive(synspike)·postsynReceptive(I)` (`[B, O, I, 1]` for `LinearDense`, `[B, S, 1]` for
 * `SparseLinear`: one I_c per listed synapse). Per step, after
 * `layer.forward(x)` (so `neuron.voltage` is the voltage at the end of the step):
 *
 * - `I ← I + τ_L(1 − α)·L + on·D(v)·τ_L(dt − τ_L(1 − α))/125`, `L ← α·L + on·D(v)·τ_L(1 − α)/125`
 *   (α = e^{−dt/τ_L}; the voltage held over the step, solved exactly);
 * - while on, for the presynaptic spikes s of the step: `Δw = Σ_R w·(I − I_c)·s`, reduced over the
 *   batch (`batchReduction`, default `sum`: for B = 1 the rule itself), `w ← clip(w + Δw, w_min,
 *   w_max)` for the synapses with a presynaptic spike in some sample (the others keep w, also one
 *   outside the bounds, as in the kernel and livn), added to the connection's updater as pos/neg
 *   parts; and `I_c ← I` where s = 1.
 *
 * Non-finite voltages behave as in the kernel (see its module text): a NaN voltage makes D, L and I
 * of its site NaN while plasticity is on, and the weights of the synapses sampling it NaN at their
 * next presynaptic spike (NaN is kept by the bounds on every backend), where the finite checks see
 * it. With plasticity off the voltage is not read.
 *
 * With a batch, each sample has its own sites and I_c; the weight is shared (Cinder's batched
 * connections), so per-sample changes are reduced over the batch. Float32: every op in float32 on
 * the backend; the sigmoids' `s^{−x}` evaluated as `e^{−x·ln s}`, and the saturation as
 * `2/(1 + s^{−x}) − 1 = tanh(x·ln s/2)` (an odd polynomial to 9th order for |x·ln s/2| < 1/8, so a
 * small drive keeps float32 relative precision: absolute error of D < 1e-6 of max|D|). No reads
 * back to the CPU. The new weight `w' = clip(fl(w + fl(w·ΔI)))` is added as `w' − w`, and
 * `connection.update()` computes `w + (w' − w)` in float32, which misses w' by up to half an ulp of
 * `w' − w` when w' < w/2 or w' > 2w (a weight clipped from 3 to w_min = 1e-4 ended 1.2e-7 off, below
 * w_min for half of them): a hook on the connection's updater (registered with the cell) then sets
 * each such weight to w' when it lies within `(|w' − w| + |w'|)·2^−22` of it (so a bound is met
 * exactly, and the update of a step whose pending parts were dropped or changed is left alone).
 *
 * Per step: `layer.forward(x)`, then `trainer.step()`, then `connection.update()`.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import type { Snapshot, Snapshottable } from '../../core/snapshot.js';
import {
  VOLTAGE_STDP_KEYS, voltageStdpPreset, voltageStdpStep, withVoltageStdpOverrides, type VoltageStdpParams,
} from '../../kernels/js/voltage-stdp.js';
import { CellTrainer, type CellResources } from '../toolkit/trainer.js';
import type { TrainableCell, TrainableConnection, TrainableNeurons } from '../toolkit/trainable-cell.js';
import { checkBatchReduction, type TrainerBatchReduction } from '../toolkit/contraction.js';
import { reduceOverBatch } from './batch-reduce.js';

export { EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP, type VoltageStdpParams } from '../../kernels/js/voltage-stdp.js';

/** Hyperparameters of {@link VoltageSTDP}: the rule's parameters plus the batch reduction. */
export interface VoltageStdpHyper extends VoltageStdpParams {
  /** Reduction of the per-sample changes over the batch (default `sum`). */
  batchReduction: TrainerBatchReduction;
}

/** Options: `inhibitory` picks the preset, the other keys override it. */
export type VoltageStdpOptions = Partial<VoltageStdpHyper>;

/** The neurons of a voltage-STDP cell: they expose their membrane voltage. */
export interface VoltageNeurons extends TrainableNeurons {
  /** Membrane voltage `[B, ...shape]` (mV) at the end of the last step. */
  readonly voltage: tf.Tensor;
}

/** What the trainer needs from a connection. */
export interface VoltageStdpConnection extends TrainableConnection {
  /** The weight. */
  readonly weight: tf.Tensor;
}

/** A cell {@link VoltageSTDP} can train. */
export interface VoltageStdpCell extends TrainableCell {
  /** The trained connection. */
  readonly connection: VoltageStdpConnection;
  /** The postsynaptic neurons. */
  readonly neuron: VoltageNeurons;
}

/** The step coefficients of {@link VoltageStdpSitesState} as float32 scalars (see `voltageStdpStep`). */
export interface VoltageStdpScalars {
  /** α = e^{−dt/τ_L}. */
  decay: tf.Scalar;
  /** τ_L(1 − α): I's gain per unit of L. */
  sToI: tf.Scalar;
  /** τ_L(1 − α)/125: L's gain per unit of drive. */
  dToS: tf.Scalar;
  /** τ_L(dt − τ_L(1 − α))/125: I's gain per unit of drive. */
  dToI: tf.Scalar;
  /** ln s (the sigmoids' base). */
  lnSlope: tf.Scalar;
}

/** Per-cell state: sites L, I and the synapses' I_c. */
export class VoltageStdpSitesState implements CellResources {
  /** Signal L `[B, ...outShape]` (null until the first step). */
  signal: tf.Variable | null = null;
  /** Integral I `[B, ...outShape]`. */
  integral: tf.Variable | null = null;
  /** I_c per synapse (receptive product shape). */
  lastIntegral: tf.Variable | null = null;
  /** Plasticity on for this cell. */
  on = true;
  /**
   * The last step's new weights w' and their snapping tolerance (−1 where the step left w), read by
   * the updater hook after `connection.update()`; null when none is pending.
   */
  pending: {
    /** The new weights w' (weight-shaped). */
    to: tf.Tensor;
    /** Snapping tolerance per weight (−1: leave the weight). */
    tol: tf.Tensor;
  } | null = null;
  /** Unregisters the updater hook (set by the trainer). */
  detach: () => void = () => {};
  /**
   * L, I, I_c and the on flag for the trainer's checkpoints (`snapshotState` of the trainer):
   * values `on` (0/1); tensors `signal`, `integral`, `lastIntegral` once allocated (by the first
   * step). Restoring checks everything before changing anything; a snapshot without tensors
   * restores the state before the first step.
   */
  readonly sites: Snapshottable = {
    snapshotState: (): Snapshot => {
      const tensors: Record<string, tf.Tensor> = {};
      if (this.signal && this.integral && this.lastIntegral) {
        tensors.signal = this.signal.clone();
        tensors.integral = this.integral.clone();
        tensors.lastIntegral = this.lastIntegral.clone();
      }
      return { tensors, values: { on: this.on ? 1 : 0 } };
    },
    restoreState: (snap: Snapshot): void => {
      const on = snap.values.on;
      if (on !== 0 && on !== 1) throw new CinderArgumentError('snapshot sites.on', on, '0 or 1');
      const keys = Object.keys(snap.tensors).sort();
      const names = ['integral', 'lastIntegral', 'signal'];
      if (keys.length && keys.join() !== names.join()) throw new CinderArgumentError('snapshot sites tensors', keys, `none or ${names.join(', ')}`);
      const { signal, integral, lastIntegral } = snap.tensors;
      if (signal && integral && lastIntegral) {
        const same = (a: number[], b: number[]) => tf.util.arraysEqual(a, b);
        for (const [k, t] of Object.entries(snap.tensors)) if (t.dtype !== 'float32') throw new CinderArgumentError(`snapshot sites.${k}`, t.dtype, 'a float32 tensor');
        if (!same(integral.shape, signal.shape)) throw new CinderArgumentError('snapshot sites.integral', integral.shape, `shape [${signal.shape.join(', ')}] (as signal)`);
        if (this.signal && !same(signal.shape, this.signal.shape)) throw new CinderArgumentError('snapshot sites.signal', signal.shape, `shape [${this.signal.shape.join(', ')}] (the cell's)`);
        if (this.lastIntegral && !same(lastIntegral.shape, this.lastIntegral.shape)) throw new CinderArgumentError('snapshot sites.lastIntegral', lastIntegral.shape, `shape [${this.lastIntegral.shape.join(', ')}] (the cell's)`);
        if (signal.shape[0] !== lastIntegral.shape[0]) throw new CinderArgumentError('snapshot sites.lastIntegral', lastIntegral.shape, `a batch of ${signal.shape[0]} (as signal)`);
      }
      this.dropPending();
      for (const v of [this.signal, this.integral, this.lastIntegral]) v?.dispose();
      this.signal = this.integral = this.lastIntegral = null;
      if (signal && integral && lastIntegral) {
        this.signal = tf.tidy(() => tf.variable(signal.clone(), false));
        this.integral = tf.tidy(() => tf.variable(integral.clone(), false));
        this.lastIntegral = tf.tidy(() => tf.variable(lastIntegral.clone(), false));
      }
      this.on = on === 1;
    },
  };
  readonly observers = [];
  /** Step coefficients as scalars. */
  readonly k: VoltageStdpScalars;

  /** @param dt step (ms) @param h hyperparameters */
  constructor(dt: number, readonly h: Readonly<VoltageStdpHyper>) {
    const c = voltageStdpStep(dt, h.tauSignal);
    this.k = tf.tidy(() => ({
      decay: tf.keep(tf.scalar(c.decay)), sToI: tf.keep(tf.scalar(c.signalToIntegral)), dToS: tf.keep(tf.scalar(c.driveToSignal)),
      dToI: tf.keep(tf.scalar(c.driveToIntegral)), lnSlope: tf.keep(tf.scalar(Math.log(h.slope))),
    }));
  }

  /** Resets L, I and I_c to 0. */
  clear(): void {
    for (const v of [this.signal, this.integral, this.lastIntegral]) if (v) tf.tidy(() => v.assign(tf.zerosLike(v)));
  }

  /** Frees the tensors (and unregisters the updater hook). */
  dispose(): void {
    this.detach();
    this.dropPending();
    for (const v of [this.signal, this.integral, this.lastIntegral]) v?.dispose();
    for (const s of Object.values(this.k)) s.dispose();
    this.signal = this.integral = this.lastIntegral = null;
  }

  /** Frees the pending new weights. */
  dropPending(): void {
    if (this.pending) tf.dispose([this.pending.to, this.pending.tol]);
    this.pending = null;
  }
}

/** Voltage-gated STDP trainer (see the module text). */
export class VoltageSTDP extends CellTrainer<VoltageStdpHyper, VoltageStdpSitesState> {
  /** The class name recorded in network saves (see `CellTrainer.kind`). */
  static override readonly kind: string = 'VoltageSTDP';
  /** @param options `inhibitory` selects the preset; other keys override it */
  constructor(options: VoltageStdpOptions = {}) {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object of voltage-STDP options');
    const { batchReduction, ...rule } = options;
    const base = voltageStdpPreset(rule.inhibitory === true);
    super({ ...withVoltageStdpOverrides(base, rule, 'options'), batchReduction: batchReduction ?? 'sum' });
  }

  protected validate(h: VoltageStdpHyper): VoltageStdpHyper {
    const rule = Object.fromEntries(VOLTAGE_STDP_KEYS.map((k) => [k, h[k]])) as unknown as VoltageStdpParams;
    const p = withVoltageStdpOverrides(voltageStdpPreset(rule.inhibitory === true), rule, 'options');
    return { ...p, batchReduction: checkBatchReduction('batchReduction', h.batchReduction ?? 'sum') };
  }

  /** Registers a cell whose neurons expose `voltage`. */
  override register(cell: VoltageStdpCell, overrides: Partial<VoltageStdpHyper> = {}): VoltageStdpSitesState {
    if (!cell?.neuron || !(cell.neuron.voltage instanceof tf.Tensor)) throw new CinderArgumentError('cell.neuron.voltage', cell?.neuron?.voltage ?? null, 'neurons with a membrane voltage tensor');
    if (!cell.connection || !(cell.connection.weight instanceof tf.Tensor)) throw new CinderArgumentError('cell.connection.weight', null, 'a connection with a weight');
    return super.register(cell, overrides);
  }

  protected build(cell: TrainableCell, h: Readonly<VoltageStdpHyper>): VoltageStdpSitesState {
    const s = new VoltageStdpSitesState(cell.connection.dt, h);
    const weight = cell.connection.updater.accumulator('weight').target;
    // after an update: weights within rounding of the step's w' become w' exactly (see the module text)
    s.detach = cell.connection.updater.onUpdate(() => {
      const p = s.pending;
      if (!p) return;
      s.pending = null;
      try {
        if (tf.util.arraysEqual(weight.shape, p.to.shape)) {
          tf.tidy(() => {
            const w = weight.value;
            weight.assign(tf.where(tf.lessEqual(tf.abs(tf.sub(w, p.to)), p.tol), p.to, w));
          });
        }
      } finally {
        tf.dispose([p.to, p.tol]);
      }
    });
    return s;
  }

  /** Turns plasticity on (for `cells`, default all) and sets every I_c ← I. */
  enable(cells?: readonly TrainableCell[]): void {
    for (const cell of cells ?? this.cells) {
      const s = this.entry(cell).state;
      s.on = true;
      if (s.integral && s.lastIntegral) {
        const conn = cell.connection;
        const I = s.integral;
        tf.tidy(() => s.lastIntegral!.assign(tf.broadcastTo(conn.postsynReceptive(I), s.lastIntegral!.shape)));
      }
    }
  }

  /** Turns plasticity off (for `cells`, default all): weights freeze; L decays and I integrates. */
  disable(cells?: readonly TrainableCell[]): void {
    for (const cell of cells ?? this.cells) this.entry(cell).state.on = false;
  }

  /** D(v) of the rule as tensors (float32). */
  drive(v: tf.Tensor, h: Readonly<VoltageStdpHyper>, lnSlope: tf.Scalar): tf.Tensor {
    return tf.tidy(() => {
      const gate = (theta: number) => tf.cast(h.inhibitory ? tf.less(v, theta) : tf.greater(v, theta), 'float32');
      const sig = (half: number) => tf.reciprocal(tf.add(1, tf.exp(tf.mul(tf.neg(tf.sub(v, half)), lnSlope))));
      const ltd = tf.mul(gate(h.thetaLtd), sig(h.ltdHalf));
      const ltp = tf.mul(gate(h.thetaLtp), sig(h.ltpHalf));
      const x = tf.div(tf.add(tf.mul(ltd, -h.aLtd), tf.mul(ltp, 2 * h.aLtp)), h.learningScale);
      // 2/(1 + s^{−x}) − 1 = tanh(a), a = x·ln s/2, without the cancellation against 1 of the
      // plain form for small a (|D| ≤ 6.6e-3 with livn's defaults): odd Taylor polynomial to a⁹
      // for |a| < 1/8 (truncation < 1e-11 relative), tf.tanh above (webgpu's tanh is 1 − e^{−2|a|} based)
      const a = tf.mul(x, tf.mul(lnSlope, 0.5));
      const a2 = tf.square(a);
      let poly = tf.add(-17 / 315, tf.mul(a2, 62 / 2835));
      for (const c of [2 / 15, -1 / 3, 1]) poly = tf.add(c, tf.mul(a2, poly));
      return tf.where(tf.less(tf.abs(a), 0.125), tf.mul(a, poly), tf.tanh(a));
    });
  }

  /**
   * One step of every learning cell (or of `cells`); see the module text. Every cell's new L, I, I_c
   * and weight change are computed first, then stored and added: a step that throws (e.g. a custom
   * batch reduction of the wrong shape) changes no cell.
   */
  step(cells?: readonly TrainableCell[]): void {
    const next: { s: VoltageStdpSitesState; conn: VoltageStdpConnection; values: tf.Tensor[] }[] = [];
    try {
      for (const { cell, hyper: h, state: s } of this.active(cells)) {
        const conn = cell.connection as VoltageStdpConnection;
        const v = (cell.neuron as VoltageNeurons).voltage;
        if (!s.signal || s.signal.shape.some((d, i) => d !== v.shape[i])) {
          s.signal?.dispose();
          s.integral?.dispose();
          s.lastIntegral?.dispose();
          s.signal = tf.tidy(() => tf.variable(tf.zerosLike(v), false));
          s.integral = tf.tidy(() => tf.variable(tf.zerosLike(v), false));
          s.lastIntegral = tf.tidy(() => {
            const product = tf.mul(conn.presynReceptive(tf.zerosLike(conn.synspike), 'synaptic'), conn.postsynReceptive(tf.zerosLike(v)));
            return tf.variable(product, false);
          });
        }
        const values = tf.tidy(() => {
          const d = s.on ? this.drive(v, h, s.k.lnSlope) : null;
          const L = s.signal!, I = s.integral!;
          let nI = tf.add(I, tf.mul(L, s.k.sToI));
          let nL = tf.mul(L, s.k.decay);
          if (d) {
            nI = tf.add(nI, tf.mul(d, s.k.dToI));
            nL = tf.add(nL, tf.mul(d, s.k.dToS));
          }
          if (!s.on) return [nI, nL];
          const spikes = tf.broadcastTo(conn.presynReceptive(conn.synspike, 'synaptic'), s.lastIntegral!.shape);
          const post = tf.broadcastTo(conn.postsynReceptive(nI), s.lastIntegral!.shape);
          const w = conn.weight;
          const diff = tf.mul(tf.sub(post, s.lastIntegral!), spikes);
          const perSample = tf.sum(diff, -1); // [B, ...W'] (W' broadcastable to W)
          const dI = reduceOverBatch(tf.reshape(perSample, [perSample.shape[0]!, ...w.shape]), h.batchReduction);
          // synapses with a presynaptic spike in some sample: w' = clip(w + w·ΔI); the others keep w
          const spiked = tf.notEqual(tf.reshape(tf.sum(tf.sum(spikes, -1), 0), w.shape), 0);
          // the bounds keep NaN (wasm's ClipByValue would turn it into w_min; see the module text)
          const raw = tf.add(w, tf.mul(w, dI));
          const next = tf.where(spiked, tf.where(tf.isNaN(raw), raw, tf.clipByValue(raw, h.wMin, h.wMax)), w);
          const delta = tf.sub(next, w);
          const tol = tf.where(spiked, tf.mul(tf.add(tf.abs(delta), tf.abs(next)), 2 ** -22), -1);
          const nLast = tf.add(tf.mul(post, spikes), tf.mul(s.lastIntegral!, tf.sub(1, spikes)));
          return [nI, nL, tf.relu(delta), tf.relu(tf.neg(delta)), nLast, next, tol];
        });
        next.push({ s, conn, values });
      }
    } catch (err) {
      for (const n of next) tf.dispose(n.values);
      throw err;
    }
    for (const { s, conn, values } of next) {
      const [nI, nL, pos, neg, nLast, to, tol] = values;
      s.integral!.assign(nI!);
      s.signal!.assign(nL!);
      s.dropPending();
      if (nLast) {
        conn.updater.add('weight', pos, neg);
        s.lastIntegral!.assign(nLast);
        s.pending = { to: to!, tol: tol! };
      }
      tf.dispose([nI!, nL!]);
      nLast?.dispose();
    }
  }
}
