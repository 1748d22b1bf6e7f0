/**
 * The event-driven engine of `cinder song2000`: the same model and discretisation as the tfjs path
 * (`song2000/network.ts`, checked step by step against it in the tests), in plain JavaScript, with
 * work per step proportional to the spikes:
 *
 * - conductance: the neuron sees `ge = Σ_i w_i g_i`, `g_i ← g_i·e^{−Δt/τe} + s_i`. Because the
 *   g_i decay alike, `ge` is kept as one running sum: `ge ← ge·e^{−Δt/τe} + Σ_{i spiking} w_i`, plus
 *   `δw_i·g_i(t)` whenever STDP changes w_i (g_i is kept lazily: value and step of its last spike).
 * - membrane: the exact step with ge held over the step, as the tfjs path
 *   (`conductance`: v∞ = (El + ge·Ee)/(1 + ge), v ← v∞ + (v − v∞)·e^{−Δt(1 + ge)/τm};
 *   `current`: v∞ = El + ge·(Ee − vr), v ← v∞ + (v − v∞)·e^{−Δt/τm}); spike when v ≥ vt, then v ← vr.
 * - STDP: {@link EventSTDP} in Cinder's step order (traces include the step's spikes, one clipped
 *   update per step; aPre = dApre, aPost = dApost, bounds [0, gmax]): O(pre spikes) per step and
 *   O(N) per post spike.
 *
 * Scheme `'brian2'` instead runs Brian2's discretisation of the same model: with the conductance
 * drive forward Euler for v and ge (`v ← v + Δt/τm·(ge·(Ee − v) + El − v)`, then
 * `ge ← ge − Δt/τe·ge`; Brian2's choice for this nonlinear system, as `bench/peers/brian2_song2000.py`),
 * with the current drive the exact solution of the linear system over the step, as Brian2's example
 * (`method='exact'`): `v ← El + (v − El)·e^{−Δt/τm} + ge·(Ee − vr)·τe/(τe − τm)·(e^{−Δt/τe} − e^{−Δt/τm})`,
 * `ge ← ge·e^{−Δt/τe}`; spike when v > vt, then the synapses —
 * {@link EventSTDP} in Brian2's order, whose `on_pre` adds w to ge (felt from the next step) — and
 * the reset.
 *
 * Batched: B independent instances (seeds) run side by side, sharing the all-to-all connectivity,
 * each with its own weights, inputs and neuron.
 *
 * Inputs: per instance and input, Bernoulli spikes with p = rate·Δt per step (Brian2's
 * `PoissonGroup`), drawn as geometric gaps between spikes (one uniform draw per spike, not per
 * step), one chunk of steps at a time.
 *
 * Inhibition (`p.nInhib > 0`, the paper's parameters, conductance drive only): fixed inhibitory
 * inputs add `gin` per spike to one conductance gi per instance, which decays with τi and enters the
 * membrane as `gi·(Ei − v)`: scheme `'cinder'` `gi ← gi·e^{−Δt/τi} + gin·n_inh` before the membrane
 * step (as ge), with `G = 1 + ge + gi`, `v∞ = (El + ge·Ee + gi·Ei)/G`; scheme `'brian2'` Euler
 * `gi ← gi − Δt/τi·gi` and `gi += gin·n_inh` after the thresholds (as `ge += w`).
 * With `p.frozenJumps` (the paper's parameters) a spike's conductance keeps the weight it arrived
 * with: ge is not corrected when STDP changes a weight (scheme `'cinder'`; scheme `'brian2'` always
 * works so).
 *
 * Numbers: weights float32 (as the tfjs path); the membrane, ge, gi and g_i are float64, so the two
 * paths differ by float32 rounding only.
 * @module
 */
import { CinderArgumentError, checkInteger, checkRange } from '../../src/core/errors.js';
import type { Rng } from '../../src/core/random.js';
import { EventSTDP } from '../../src/kernels/js/event-stdp.js';
import type { SynapseList } from '../../src/neural/connections/sparse-topology.js';
import type { SongParams } from './params.js';
import type { SongDrive } from './network.js';

/** Spikes of a chunk of steps grouped by step: step k's ids are `ids[start[k] .. start[k+1])`. */
export interface SpikeChunk {
  /** Number of steps. */
  steps: number;
  /** Offsets (length steps + 1). */
  start: Int32Array;
  /** Global input ids b·N + i. */
  ids: Int32Array;
}

/** Converts dense spikes `[steps, B·N]` (0/1) into a {@link SpikeChunk}. */
export function chunkFromDense(dense: ArrayLike<number>, steps: number, width: number): SpikeChunk {
  const start = new Int32Array(steps + 1);
  const ids: number[] = [];
  for (let t = 0; t < steps; t++) {
    for (let u = 0; u < width; u++) if (dense[t * width + u]! !== 0) ids.push(u);
    start[t + 1] = ids.length;
  }
  return { steps, start, ids: Int32Array.from(ids) };
}

/**
 * Draws a chunk of Bernoulli(p) spikes for `width` independent inputs: gaps between spikes are
 * geometric, `⌊ln u / ln(1 − p)⌋` failures, u uniform in (0, 1]; input u's draws come from
 * `rngs[⌊u / perRng⌋]` (one generator per instance), inputs in order. p = 0 gives no spikes,
 * p = 1 a spike every step.
 */
export function bernoulliChunk(steps: number, width: number, p: number, rngs: readonly Rng[], perRng: number): SpikeChunk {
  checkInteger('steps', steps, 1);
  checkInteger('width', width, 1);
  checkRange('p', p, 0, 1);
  checkInteger('perRng', perRng, 1);
  if (!Array.isArray(rngs) || rngs.length < Math.ceil(width / perRng)) throw new CinderArgumentError('rngs', rngs, `${Math.ceil(width / perRng)} generators (one per ${perRng} inputs)`);
  const logq = Math.log1p(-p);
  const counts = new Int32Array(steps + 1);
  const times: number[] = [];
  const units: number[] = [];
  for (let u = 0; u < width; u++) {
    const rng = rngs[Math.floor(u / perRng)]!;
    let t = -1;
    for (;;) {
      const x = 1 - rng.uniform(); // (0, 1]
      t += p === 0 ? steps + 1 : p === 1 ? 1 : 1 + Math.floor(Math.log(x) / logq);
      if (t >= steps) break;
      times.push(t);
      units.push(u);
      counts[t + 1]!++;
    }
  }
  for (let k = 0; k < steps; k++) counts[k + 1]! += counts[k]!;
  const fill = counts.slice(0, steps);
  const ids = new Int32Array(times.length);
  for (let e = 0; e < times.length; e++) ids[fill[times[e]!]!++] = units[e]!;
  return { steps, start: counts, ids };
}

/**
 * Step k's inhibitory spike count per instance from a chunk of inhibitory spikes (global ids
 * b·nInhib + j), written into `out` (length B).
 */
export function inhibitoryCounts(chunk: SpikeChunk, k: number, nInhib: number, out: Float64Array): Float64Array {
  out.fill(0);
  for (let e = chunk.start[k]!; e < chunk.start[k + 1]!; e++) out[(chunk.ids[e]! / nInhib) | 0]!++;
  return out;
}

/** `'cinder'` (the tfjs path's discretisation) or `'brian2'` (Brian2's; see the module documentation). */
export type SongScheme = 'cinder' | 'brian2';

/** B instances of the Song 2000 neuron with event-driven input and STDP. */
export class EventSong {
  /** Number of instances. */
  readonly batch: number;
  /** Inputs per instance N. */
  readonly n: number;
  /** STDP and the weights (`stdp.weight[b·N + i]`). */
  readonly stdp: EventSTDP;
  /** Membrane per instance (mV). */
  readonly v: Float64Array;
  /** Total conductance ge per instance, kept up to date with the weights. */
  readonly ge: Float64Array;
  /** Total inhibitory conductance gi per instance (stays 0 without inhibitory inputs). */
  readonly gi: Float64Array;
  /** The ge the membrane saw in the last step, per instance (before that step's STDP updates). */
  readonly geSeen: Float64Array;
  /** Post spikes per instance since the last {@link takeCounts}. */
  readonly counts: Float64Array;
  /** Steps run. */
  t = 0;
  /** Instances that fired in the last step (the first {@link step}'s return value of them). */
  readonly fired: Int32Array;
  private readonly gVal: Float64Array;
  private readonly gStep: Int32Array;
  private readonly gTable: Float64Array;
  private readonly kg: number;
  private readonly ag: number;
  private readonly conductance: boolean;
  private readonly decayM: number;
  private readonly decayE: number;
  private readonly kick: number;
  private readonly ai: number;
  private readonly tracked: boolean;

  /**
   * @param p model constants
   * @param w0 initial weights: B·N values (instance-major) or N (copied to every instance)
   * @param drive `conductance` or `current` (as {@link SongNetwork})
   * @param learn STDP on
   * @param batch number of instances B (default 1)
   * @param scheme discretisation (default `'cinder'`)
   */
  constructor(
    readonly p: SongParams,
    w0: ArrayLike<number>,
    readonly drive: SongDrive = 'conductance',
    readonly learn = true,
    batch = 1,
    readonly scheme: SongScheme = 'cinder',
  ) {
    if (scheme !== 'cinder' && scheme !== 'brian2') throw new CinderArgumentError('scheme', scheme, "'cinder' or 'brian2'");
    if (drive !== 'conductance' && drive !== 'current') throw new CinderArgumentError('drive', drive, 'one of conductance, current');
    if (p.nInhib > 0 && drive !== 'conductance') throw new CinderArgumentError('drive', drive, 'conductance with inhibitory inputs (nInhib > 0)');
    this.batch = checkInteger('batch', batch, 1);
    this.n = p.nInputs;
    const n = this.n;
    const all: SynapseList = { nPre: n, nPost: 1, pre: Int32Array.from({ length: n }, (_, i) => i), post: new Int32Array(n) };
    this.stdp = new EventSTDP(all, {
      dt: p.dt, tauPre: p.taupre, tauPost: p.taupost, aPre: p.dApre, aPost: p.dApost, wMax: p.gmax, order: scheme, weight: w0,
      ...(scheme === 'cinder' && !p.frozenJumps ? { onChange: (g: number, d: number) => this.weightChanged(g, d) } : {}),
    }, this.batch);
    this.v = new Float64Array(this.batch).fill(p.El);
    this.ge = new Float64Array(this.batch);
    this.gi = new Float64Array(this.batch);
    this.ai = Math.exp(-p.dt / p.taui);
    this.tracked = scheme === 'cinder' && !p.frozenJumps;
    this.geSeen = new Float64Array(this.batch);
    this.counts = new Float64Array(this.batch);
    this.gVal = new Float64Array(this.batch * n);
    this.gStep = new Int32Array(this.batch * n);
    this.kg = p.dt / p.taue;
    this.ag = Math.exp(-this.kg);
    this.gTable = Float64Array.from({ length: 4096 }, (_, k) => Math.exp(-k * this.kg));
    this.fired = new Int32Array(this.batch);
    this.conductance = drive === 'conductance';
    this.decayM = Math.exp(-p.dt / p.taum);
    this.decayE = Math.exp(-p.dt / p.taue);
    // exact step of the linear current-drive system (scheme brian2): the response of v to ge over one
    // step, (Ee − vr)·τe/(τe − τm)·(e^{−Δt/τe} − e^{−Δt/τm}) = (Ee − vr)·e^{−Δt/τm}·(Δt/τm)·φ(Δt·k),
    // k = 1/τm − 1/τe, φ(x) = expm1(x)/x (φ(0) = 1: no cancellation near τe = τm)
    const x = p.dt * (1 / p.taum - 1 / p.taue);
    this.kick = (p.Ee - p.vr) * this.decayM * (p.dt / p.taum) * (x === 0 ? 1 : Math.expm1(x) / x);
  }

  /** g_i of global input u at step t (lazy decay from its last spike). */
  private gAt(u: number, t: number): number {
    const gap = t - this.gStep[u]!;
    return this.gVal[u]! * (gap < 4096 ? this.gTable[gap]! : Math.exp(-gap * this.kg));
  }

  private weightChanged(g: number, delta: number): void {
    this.ge[(g / this.n) | 0]! += delta * this.gAt(g, this.t);
  }

  /**
   * One step with the input spikes `ids[from .. to)` (global ids b·N + i) and, with inhibitory
   * inputs, `inh[b]` inhibitory spikes of instance b in this step (none when omitted). Returns how
   * many instances fired; their indices are {@link fired}`[0 .. count)`.
   */
  step(ids: ArrayLike<number>, from: number, to: number, inh?: ArrayLike<number>): number {
    if (this.scheme === 'brian2') return this.stepBrian2(ids, from, to, inh);
    const t = this.t;
    const { p, n } = this;
    const w = this.stdp.weight;
    const ge = this.ge;
    for (let b = 0; b < this.batch; b++) ge[b]! *= this.ag;
    for (let k = from; k < to; k++) {
      const u = ids[k]!;
      if (this.tracked) {
        this.gVal[u] = this.gAt(u, t) + 1;
        this.gStep[u] = t;
      }
      ge[(u / n) | 0]! += w[u]!;
    }
    const gi = this.gi;
    if (p.nInhib > 0) for (let b = 0; b < this.batch; b++) gi[b] = gi[b]! * this.ai + (inh ? p.gin * inh[b]! : 0);
    let nPost = 0;
    for (let b = 0; b < this.batch; b++) {
      const g = ge[b]!;
      this.geSeen[b] = g;
      let v = this.v[b]!;
      if (this.conductance) {
        const G = 1 + g + gi[b]!;
        const vinf = (p.El + g * p.Ee + gi[b]! * p.Ei) / G;
        v = vinf + (v - vinf) * Math.exp((-p.dt * G) / p.taum);
      } else {
        const vinf = p.El + g * (p.Ee - p.vr);
        v = vinf + (v - vinf) * this.decayM;
      }
      if (v >= p.vt) {
        v = p.vr;
        this.fired[nPost++] = b;
        this.counts[b]!++;
      }
      this.v[b] = v;
    }
    // STDP; its onChange hook reads this.t as the current step
    if (this.learn) this.stdp.step(ids, to - from, this.fired, nPost, null, 1, from);
    else this.stdp.t = t + 1;
    this.t = t + 1;
    return nPost;
  }

  private stepBrian2(ids: ArrayLike<number>, from: number, to: number, inh?: ArrayLike<number>): number {
    const { p } = this;
    const ge = this.ge;
    const gi = this.gi;
    let nPost = 0;
    for (let b = 0; b < this.batch; b++) {
      const g = ge[b]!;
      this.geSeen[b] = g;
      const v = this.v[b]!;
      if (this.conductance) {
        this.v[b] = v + (p.dt / p.taum) * (g * (p.Ee - v) + p.El - v + gi[b]! * (p.Ei - v));
        ge[b] = g - (p.dt / p.taue) * g;
        gi[b] = gi[b]! - (p.dt / p.taui) * gi[b]!;
      } else {
        this.v[b] = p.El + (v - p.El) * this.decayM + g * this.kick;
        ge[b] = g * this.decayE;
      }
      if (this.v[b]! > p.vt) this.fired[nPost++] = b;
    }
    if (this.learn) {
      this.stdp.step(ids, to - from, this.fired, nPost, ge, 1, from);
    } else {
      const w = this.stdp.weight;
      for (let k = from; k < to; k++) ge[(ids[k]! / this.n) | 0]! += w[ids[k]!]!;
      this.stdp.t++;
    }
    if (p.nInhib > 0 && inh) for (let b = 0; b < this.batch; b++) gi[b]! += p.gin * inh[b]!;
    for (let k = 0; k < nPost; k++) {
      const b = this.fired[k]!;
      this.v[b] = p.vr;
      this.counts[b]!++;
    }
    this.t++;
    return nPost;
  }

  /**
   * Runs a chunk of steps (its spikes as a {@link SpikeChunk}); `inhibitory`, with inhibitory
   * inputs, the inhibitory spikes of the same steps (global ids b·nInhib + j; only the count per
   * instance and step matters).
   */
  run(chunk: SpikeChunk, inhibitory?: SpikeChunk): void {
    const { start, ids } = chunk;
    const counts = new Float64Array(this.batch);
    for (let k = 0; k < chunk.steps; k++) {
      if (inhibitory) inhibitoryCounts(inhibitory, k, this.p.nInhib, counts);
      this.step(ids, start[k]!, start[k + 1]!, inhibitory ? counts : undefined);
    }
  }

  /** Returns and clears the post spike counts per instance. */
  takeCounts(): Float64Array {
    const c = this.counts.slice();
    this.counts.fill(0);
    return c;
  }

  /** Weights of instance b (a copy). */
  weights(b = 0): Float32Array {
    return this.stdp.weight.slice(b * this.n, (b + 1) * this.n);
  }
}
