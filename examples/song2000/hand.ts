/**
 * A hand-written TensorFlow.js loop of Song, Miller & Abbott (2000), using no Cinder module: the
 * baseline that the Cinder version of `cinder song2000` is benchmarked against, and a second,
 * independent implementation of the same discretisation.
 *
 * Discretisation (the one the Cinder modules use): input spikes of step t enter the per-input
 * conductances at step t (`g_i ← g_i·e^{−Δt/τe} + s_i`), the neuron sees `ge = Σ_i w_i g_i`, the
 * membrane follows the exact solution of `τm dv/dt = ge·(Ee − v) + El − v` over one step with ge
 * held constant, spikes when `v ≥ vt` (then `v ← vr`); traces include the current step's spikes
 * (`x ← x·e^{−Δt/τ} + A·s`, A = dApre for x_pre and |dApost| for x_post), and
 * `w ← clip(w + post·x_pre − pre·x_post, 0, gmax)`.
 * @module
 */
import { tf } from '../../src/core/tf.js';
import type { SongParams } from './params.js';

/** State and constants of the hand-written loop (batch 1). */
export class HandSong {
  /** Weights `[1, N]`. */
  w: tf.Variable;
  /** Per-input conductances `[1, N]`. */
  g: tf.Variable;
  /** Presynaptic traces `[1, N]` (amplitude dApre). */
  xpre: tf.Variable;
  /** Postsynaptic trace `[1, 1]` (amplitude |dApost|). */
  xpost: tf.Variable;
  /** Membrane `[1, 1]`. */
  v: tf.Variable;
  private readonly c: Record<string, tf.Scalar>;

  /** @param p model constants  @param w0 initial weights (length N) */
  constructor(
    readonly p: SongParams,
    w0: Float32Array,
  ) {
    const n = p.nInputs;
    // a variable keeps its own reference: the initial tensor is freed by the tidy
    const v = (make: () => tf.Tensor) => tf.tidy(() => tf.variable(make(), false));
    this.w = v(() => tf.tensor2d(w0, [1, n]));
    this.g = v(() => tf.zeros([1, n]));
    this.xpre = v(() => tf.zeros([1, n]));
    this.xpost = v(() => tf.zeros([1, 1]));
    this.v = v(() => tf.fill([1, 1], p.El));
    const s = (x: number) => tf.keep(tf.scalar(x));
    this.c = {
      ag: s(Math.exp(-p.dt / p.taue)),
      apre: s(Math.exp(-p.dt / p.taupre)),
      apost: s(Math.exp(-p.dt / p.taupost)),
      dApre: s(p.dApre),
      dApost: s(-p.dApost),
      one: s(1),
      negDtTau: s(-p.dt / p.taum),
      El: s(p.El),
      Ee: s(p.Ee),
      vt: s(p.vt),
      vr: s(p.vr),
      zero: s(0),
      gmax: s(p.gmax),
    };
  }

  /** One step with input spikes `s` `[1, N]`; returns the post spike `[1, 1]`. Call inside tf.tidy. */
  step(s: tf.Tensor): tf.Tensor {
    const c = this.c;
    const g = tf.add(tf.mul(this.g, c.ag!), s);
    const ge = tf.sum(tf.mul(g, this.w), 1, true);
    // exact step with ge constant: v∞ = (El + ge·Ee)/(1 + ge), v ← v∞ + (v − v∞)·exp(−Δt(1 + ge)/τm)
    const k = tf.add(c.one!, ge);
    const vinf = tf.div(tf.add(c.El!, tf.mul(ge, c.Ee!)), k);
    const decay = tf.exp(tf.mul(k, c.negDtTau!));
    const v1 = tf.add(vinf, tf.mul(tf.sub(this.v, vinf), decay));
    const fired = tf.greaterEqual(v1, c.vt!);
    const post = tf.cast(fired, 'float32');
    const xpre = tf.add(tf.mul(this.xpre, c.apre!), tf.mul(s, c.dApre!));
    const xpost = tf.add(tf.mul(this.xpost, c.apost!), tf.mul(post, c.dApost!));
    const dw = tf.sub(tf.mul(post, xpre), tf.mul(s, xpost));
    this.w.assign(tf.clipByValue(tf.add(this.w, dw), 0, this.p.gmax));
    this.v.assign(tf.where(fired, tf.broadcastTo(c.vr!, [1, 1]), v1));
    this.g.assign(g);
    this.xpre.assign(xpre);
    this.xpost.assign(xpost);
    return post;
  }

  /** Frees the state and constants. */
  dispose(): void {
    for (const t of [this.w, this.g, this.xpre, this.xpost, this.v]) t.dispose();
    for (const t of Object.values(this.c)) t.dispose();
  }
}
