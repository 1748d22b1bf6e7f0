/**
 * A hand-written TensorFlow.js loop of the quickstart network, using no Cinder module: the baseline
 * the Cinder network is benchmarked against. Same math, written with the fewest ops we could:
 *
 * - excitatory current `I_e = Q·(x·Wᵀ) + Q·(s_inh(t−1)·Lᵀ)` (Q = 100, L = −180·(1 − I));
 * - exact LIF/ALIF membranes with absolute refractory periods (voltage held while refractory);
 *   ALIF threshold Θ∞ + θ, θ ← mean_b(θ·e^{−Δt/τa} or θ if refractory, + 0.05·spike);
 * - inhibitory current `I_i = 75·22.5·s_exc(t)`;
 * - STDP (optional): traces x_pre ← x_pre·α + |η_post|·x, x_post ← x_post·α + |η_pre|·s_exc;
 *   W ← max(W + (1 − W)⊙(postᵀ·x_pre)/B − (x_postᵀ·x)/B, 0), kept transposed (`[784, 100]`);
 * - adaptation (θ) and STDP only with `learn` (Cinder's ALIF adapts in training mode only).
 * @module
 */
import { tf } from '../../src/core/tf.js';
import { QUICKSTART as Q } from './params.js';

/** The network state of the hand-written loop. */
export class HandQuickstart {
  /** Input weights, transposed: `[784, 100]` (the layout the forward product needs). */
  readonly wT: tf.Variable;
  private readonly wLat: tf.Tensor;
  private readonly ve: tf.Variable;
  private readonly re: tf.Variable;
  private readonly theta: tf.Variable;
  private readonly vi: tf.Variable;
  private readonly ri: tf.Variable;
  private readonly si: tf.Variable;
  private readonly xpre: tf.Variable;
  private readonly xpost: tf.Variable;
  private readonly c: Record<string, tf.Tensor>;

  /**
   * @param batch batch size B
   * @param w0 initial input weights `[100·784]` (row = excitatory neuron)
   */
  constructor(
    readonly batch: number,
    w0: Float32Array,
  ) {
    const n = Q.shape[0] * Q.shape[1];
    this.wT = tf.tidy(() => tf.variable(tf.transpose(tf.tensor2d(w0, [n, Q.nInputs])), false));
    const lat = new Float32Array(n * n).fill(Q.inhToExc * Q.excCharge);
    for (let i = 0; i < n; i++) lat[i * n + i] = 0;
    this.wLat = tf.keep(tf.tensor2d(lat, [n, n]));
    const v = (x: number, shape = [batch, n]) => tf.tidy(() => tf.variable(tf.fill(shape, x), false));
    this.ve = v(Q.exc.restV);
    this.re = v(0);
    this.theta = v(0, [1, n]);
    this.vi = v(Q.inh.restV);
    this.ri = v(0);
    this.si = v(0);
    this.xpre = v(0, [batch, Q.nInputs]);
    this.xpost = v(0);
    const s = (x: number) => tf.keep(tf.scalar(x));
    const full = (x: number) => tf.keep(tf.fill([batch, n], x));
    const de = Math.exp(-Q.dt / Q.exc.tauM);
    const di = Math.exp(-Q.dt / Q.inh.tauM);
    const at = Math.exp(-Q.dt / Q.stdp.tauPre);
    this.c = {
      q: s(Q.excCharge),
      de: s(de),
      deRest: s(Q.exc.restV * (1 - de)),
      deGain: s(Q.exc.resistance * (1 - de)),
      di: s(di),
      diRest: s(Q.inh.restV * (1 - di)),
      // exc → inh input current times the membrane gain, folded into one constant
      diDrive: s(Q.exc.resistance * (1 - di) * Q.inhCharge * Q.excToInh),
      thInf: s(Q.exc.threshInfV),
      thI: s(Q.inh.threshV),
      resetE: s(Q.exc.resetV),
      resetI: s(Q.inh.resetV),
      refE: s(Q.exc.refracT),
      refI: s(Q.inh.refracT),
      dt: s(Q.dt),
      zero: s(0),
      one: s(1),
      aDecay: s(Math.exp(-Q.dt / Q.exc.tauAdapt)),
      aInc: s(Q.exc.adaptIncrement),
      trPre: s(Math.exp(-Q.dt / Q.stdp.tauPre)),
      trPost: s(at),
      ampPre: s(Math.abs(Q.stdp.lrPost)),
      ampPost: s(Math.abs(Q.stdp.lrPre)),
      invB: s(1 / batch),
      // full-size constants for tf.where (no broadcast op per step)
      resetEFull: full(Q.exc.resetV),
      resetIFull: full(Q.inh.resetV),
      refEFull: full(Q.exc.refracT),
      refIFull: full(Q.inh.refracT),
    };
  }

  /**
   * One step with input spikes `x` `[B, 784]`; returns the excitatory spikes `[B, 100]`.
   * With `learn`, traces and weights are updated too. Call inside `tf.tidy`.
   */
  step(x: tf.Tensor, learn: boolean): tf.Tensor {
    const c = this.c;
    // excitatory ALIF
    const drive = tf.add(tf.matMul(tf.mul(x, c.q!), this.wT), tf.matMul(this.si, this.wLat));
    const freeE = tf.lessEqual(this.re, c.dt!);
    const veInt = tf.add(tf.add(tf.mul(this.ve, c.de!), c.deRest!), tf.mul(drive, c.deGain!));
    const ve1 = tf.where(freeE, veInt, this.ve);
    const firedE = tf.logicalAnd(freeE, tf.greaterEqual(ve1, tf.add(this.theta, c.thInf!)));
    const se = tf.cast(firedE, 'float32');
    const reE = tf.where(firedE, c.refEFull!, tf.relu(tf.sub(this.re, c.dt!)));
    if (learn) {
      // adaptation runs in training mode only (as Cinder's ALIF by default)
      const hold = tf.greater(reE, c.zero!);
      const th = tf.add(tf.where(hold, tf.broadcastTo(this.theta, reE.shape), tf.broadcastTo(tf.mul(this.theta, c.aDecay!), reE.shape)), tf.mul(se, c.aInc!));
      this.theta.assign(tf.mean(th, 0, true));
    }
    this.ve.assign(tf.where(firedE, c.resetEFull!, ve1));
    this.re.assign(reE);
    // inhibitory LIF
    const freeI = tf.lessEqual(this.ri, c.dt!);
    const viInt = tf.add(tf.add(tf.mul(this.vi, c.di!), c.diRest!), tf.mul(se, c.diDrive!));
    const vi1 = tf.where(freeI, viInt, this.vi);
    const firedI = tf.logicalAnd(freeI, tf.greaterEqual(vi1, c.thI!));
    this.si.assign(tf.cast(firedI, 'float32'));
    this.vi.assign(tf.where(firedI, c.resetIFull!, vi1));
    this.ri.assign(tf.where(firedI, c.refIFull!, tf.relu(tf.sub(this.ri, c.dt!))));
    if (learn) {
      const xpre = tf.add(tf.mul(this.xpre, c.trPre!), tf.mul(x, c.ampPre!));
      const xpost = tf.add(tf.mul(this.xpost, c.trPost!), tf.mul(se, c.ampPost!));
      // transposed updates [784, 100]: dpostᵀ = x_preᵀ·post/B, dpreᵀ = xᵀ·x_post/B
      const dpost = tf.matMul(tf.transpose(xpre), tf.mul(se, c.invB!));
      const dpre = tf.matMul(tf.transpose(x), tf.mul(xpost, c.invB!));
      const w = this.wT;
      this.wT.assign(tf.relu(tf.sub(tf.add(w, tf.mul(tf.sub(c.one!, w), dpost)), dpre)));
      this.xpre.assign(xpre);
      this.xpost.assign(xpost);
    }
    return se;
  }

  /** Resets membranes, refractory times, spikes and traces (not weights or θ). */
  clear(): void {
    tf.tidy(() => {
      this.ve.assign(tf.fill(this.ve.shape, Q.exc.restV));
      this.vi.assign(tf.fill(this.vi.shape, Q.inh.restV));
      for (const t of [this.re, this.ri, this.si, this.xpre, this.xpost]) t.assign(tf.zerosLike(t));
    });
  }

  /** Frees all tensors. */
  dispose(): void {
    for (const t of [this.wT, this.wLat, this.ve, this.re, this.theta, this.vi, this.ri, this.si, this.xpre, this.xpost]) t.dispose();
    for (const t of Object.values(this.c)) t.dispose();
  }
}
