/**
 * Plain-JavaScript float64 recursions of Song, Miller & Abbott (2000), for the tests of
 * `cinder song2000`. Two discretisations of the same equations
 * (`τm dv/dt = ge·(Ee − v) + El − v` with `drive = 'conductance'`, or Brian2's example form
 * `τm dv/dt = ge·(Ee − vr) + El − v` with `drive = 'current'`; `dge/dt = −ge/τe`; additive STDP on
 * traces):
 *
 * - `cinder` — the discretisation Cinder's modules use: per-input conductances
 *   `g_i ← g_i·e^{−Δt/τe} + s_i` reach the neuron in the step of the spike as `ge = Σ w_i g_i`;
 *   exact membrane step with ge constant; traces include this step's spikes; one update
 *   `w ← clip(w + post·x_pre − pre·x_post, 0, gmax)` per step;
 * - `brian2` — Brian2's discretisation: Euler membrane and conductance for the conductance drive
 *   (Brian2's default for this nonlinear system), the exact solution of the linear system for the
 *   current drive (`method='exact'` in Brian2's example), `ge += w` after the state update
 *   (felt from the next step on), `on_pre` before `on_post`, each with its own clip, the
 *   presynaptic pathway using the postsynaptic trace before this step's post spike.
 */
import type { SongParams } from '../../examples/song2000/params.js';
import { Rng } from '../../src/core/random.js';

/** Bernoulli spikes `[steps, n]` at `rate` Hz (Brian2's PoissonGroup), from a seeded Rng. */
export function bernoulli(steps: number, n: number, rate: number, dt: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const p = (rate * dt) / 1000;
  const out = new Float32Array(steps * n);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform() < p ? 1 : 0;
  return out;
}

/** The recorded state after every step. */
export interface SongTrace {
  v: Float64Array;
  ge: Float64Array;
  post: Uint8Array;
  /** Weights after the last step. */
  w: Float64Array;
}

/**
 * Runs `steps` steps on the spike matrix `spikes` (`[steps, N]`, 0/1), from weights `w0`, v = El,
 * all conductances and traces 0.
 */
export function songReference(
  p: SongParams,
  w0: ArrayLike<number>,
  spikes: ArrayLike<number>,
  steps: number,
  variant: 'cinder' | 'brian2',
  learn = true,
  drive: 'conductance' | 'current' = 'conductance',
): SongTrace {
  const n = p.nInputs;
  const w = Float64Array.from(w0);
  const g = new Float64Array(n);
  const xpre = new Float64Array(n);
  let xpost = 0;
  let ge = 0;
  let v = p.El;
  const out: SongTrace = { v: new Float64Array(steps), ge: new Float64Array(steps), post: new Uint8Array(steps), w };
  const ag = Math.exp(-p.dt / p.taue);
  const apre = Math.exp(-p.dt / p.taupre);
  const apost = Math.exp(-p.dt / p.taupost);
  const clip = (x: number) => Math.min(Math.max(x, 0), p.gmax);
  for (let t = 0; t < steps; t++) {
    const row = t * n;
    if (variant === 'cinder') {
      ge = 0;
      for (let i = 0; i < n; i++) {
        g[i] = g[i]! * ag + spikes[row + i]!;
        ge += w[i]! * g[i]!;
      }
      if (drive === 'conductance') {
        const G = 1 + ge;
        const vinf = (p.El + ge * p.Ee) / G;
        v = vinf + (v - vinf) * Math.exp((-p.dt * G) / p.taum);
      } else {
        const vinf = p.El + ge * (p.Ee - p.vr);
        v = vinf + (v - vinf) * Math.exp(-p.dt / p.taum);
      }
      const post = v >= p.vt ? 1 : 0;
      if (post) v = p.vr;
      out.v[t] = v;
      out.ge[t] = ge;
      out.post[t] = post;
      xpost = xpost * apost + Math.abs(p.dApost) * post;
      for (let i = 0; i < n; i++) {
        const s = spikes[row + i]!;
        xpre[i] = xpre[i]! * apre + p.dApre * s;
        if (learn) w[i] = clip(w[i]! + post * xpre[i]! - s * xpost);
      }
    } else if (drive === 'conductance') {
      v = v + (p.dt / p.taum) * (ge * (p.Ee - v) + p.El - v);
      ge = ge - (p.dt / p.taue) * ge;
    } else {
      // Brian2's example integrates this linear system with method='exact':
      // ge(s) = ge·e^{−s/τe}, v(Δt) = El + (v − El)e^{−Δt/τm} + ge(Ee − vr)·τe/(τe − τm)·(e^{−Δt/τe} − e^{−Δt/τm})
      const em = Math.exp(-p.dt / p.taum);
      const ee = Math.exp(-p.dt / p.taue);
      v = p.El + (v - p.El) * em + ge * (p.Ee - p.vr) * (p.taue / (p.taue - p.taum)) * (ee - em);
      ge = ge * ee;
    }
    if (variant === 'brian2') {
      const post = v > p.vt ? 1 : 0;
      xpost *= apost;
      for (let i = 0; i < n; i++) {
        xpre[i]! *= apre;
        if (spikes[row + i]) {
          ge += w[i]!;
          xpre[i]! += p.dApre;
          if (learn) w[i] = clip(w[i]! + -xpost); // Apost = −xpost (Brian2's Apost is negative)
        }
      }
      if (post) {
        xpost += Math.abs(p.dApost);
        if (learn) for (let i = 0; i < n; i++) w[i] = clip(w[i]! + xpre[i]!);
        v = p.vr;
      }
      out.v[t] = v;
      out.ge[t] = ge;
      out.post[t] = post;
    }
  }
  return out;
}

/**
 * Float64 loop of the paper's model, dense over all inputs. `τm dV/dt = Vrest − V + gex(Eex − V) +
 * gin(Ein − V)`; a presynaptic spike at excitatory synapse a adds its peak conductance ḡa to gex,
 * one at an inhibitory synapse adds ḡin to gin, both decay exponentially (τex, τin). STDP: Pa += A+
 * on a presynaptic spike, M −= A− on a postsynaptic one (both decaying with τ+ = τ−); a
 * presynaptic spike sets ḡa += M·ḡmax, a postsynaptic spike ḡa += Pa·ḡmax, clipped to [0, ḡmax];
 * the modifications come after the conductance jump.
 *
 * Discretisation `cinder`: this step's spikes enter gex/gin first (the jump with the weight before
 * this step's modification), the membrane takes the exact step with the conductances held, fires
 * at V ≥ threshold (V ← reset), then the traces take this step's spikes and one clipped update per
 * synapse follows. `brian2`: Euler for V, gex and gin, then threshold (V > vt), then the jumps
 * (felt from the next step), presynaptic updates before postsynaptic, then the reset.
 */
export function paperLoop(p: SongParams, exc: Float32Array, inh: Float32Array, steps: number, scheme: 'cinder' | 'brian2'): { post: Uint8Array; w: Float64Array; v: Float64Array } {
  const n = p.nInputs;
  const ni = p.nInhib;
  const gmax = p.gmax;
  const aPlus = 0.005; // the paper's A+ (units of ḡmax)
  const aMinus = 1.05 * aPlus; // A−/A+ = 1.05
  const w = new Float64Array(n).fill(gmax); // Fig. 2: every peak conductance starts at ḡmax
  const P = new Float64Array(n);
  let M = 0;
  let gex = 0;
  let gin = 0;
  let v = p.El;
  const post = new Uint8Array(steps);
  const vs = new Float64Array(steps);
  const clip = (x: number) => Math.min(Math.max(x, 0), gmax);
  const dPlus = Math.exp(-p.dt / 20);
  const dMinus = Math.exp(-p.dt / 20);
  for (let t = 0; t < steps; t++) {
    let nInh = 0;
    for (let j = 0; j < ni; j++) nInh += inh[t * ni + j]!;
    if (scheme === 'cinder') {
      gex *= Math.exp(-p.dt / 5);
      gin *= Math.exp(-p.dt / 5);
      for (let a = 0; a < n; a++) if (exc[t * n + a]) gex += w[a]!;
      gin += 0.05 * nInh;
      const G = 1 + gex + gin;
      const vinf = (-70 + gex * 0 + gin * -70) / G;
      v = vinf + (v - vinf) * Math.exp((-p.dt * G) / 20);
      const fired = v >= -54;
      if (fired) v = -60;
      post[t] = fired ? 1 : 0;
      M = M * dMinus - (fired ? aMinus : 0);
      for (let a = 0; a < n; a++) {
        const s = exc[t * n + a]!;
        P[a] = P[a]! * dPlus + aPlus * s;
        w[a] = clip(w[a]! + (fired ? P[a]! * gmax : 0) + s * M * gmax);
      }
    } else {
      const v0 = v;
      v = v0 + (p.dt / 20) * (-70 - v0 + gex * (0 - v0) + gin * (-70 - v0));
      gex -= (p.dt / 5) * gex;
      gin -= (p.dt / 5) * gin;
      const fired = v > -54;
      post[t] = fired ? 1 : 0;
      M *= dMinus;
      for (let a = 0; a < n; a++) {
        P[a]! *= dPlus;
        if (exc[t * n + a]) {
          gex += w[a]!;
          P[a]! += aPlus;
          w[a] = clip(w[a]! + M * gmax);
        }
      }
      gin += 0.05 * nInh;
      if (fired) {
        M -= aMinus;
        for (let a = 0; a < n; a++) w[a] = clip(w[a]! + P[a]! * gmax);
        v = -60;
      }
    }
    vs[t] = v;
  }
  return { post, w, v: vs };
}
