/**
 * The Vogels & Abbott (2005) balanced network as benchmarks 1 (COBA) and 2 (CUBA) of Brette et al.
 * (2007), built from Cinder modules: one {@link LIF} group of N neurons (the first
 * Ne = round(0.8·N) excitatory, the rest inhibitory), two {@link SparseLinear} connections from the
 * whole group onto itself (one holding the excitatory presynaptic neurons' synapses, one the
 * inhibitory ones) fed with the group's previous spikes, and a {@link Biclique} layer stepping the
 * group with the two filtered inputs.
 *
 * Parameters (Brette et al. 2007, Benchmarks 1 and 2; as Brian's `COBA.py` / Brian2's `CUBA.py`):
 * τ_m = 20 ms, Θ = −50 mV, V_reset = −60 mV, refractory 5 ms, τ_e = 5 ms, τ_i = 10 ms, each ordered
 * pair (i, j) connected with probability p (self-pairs included, as `connect(p=…)`).
 * - COBA: τ_m dV/dt = (E_l − V) + g_e (E_e − V) + g_i (E_i − V), E_l = −60, E_e = 0, E_i = −80 mV,
 *   conductances in units of the leak conductance, jumps w_e = 0.6 and w_i = 6.7 per spike. Initial
 *   state (Brian's benchmark script): V ~ N(−65, 5²) mV, g_e ~ N(4, 1.5²), g_i ~ N(20, 12²), the
 *   conductances clipped at 0 (a negative conductance is not physical; the script left ~5 % of g_i
 *   negative).
 * - CUBA: τ_m dV/dt = (E_l − V) + I_e + I_i, E_l = −49 mV (above threshold: the neurons fire by
 *   themselves), current jumps w_e = 1.62 mV and w_i = −9 mV per spike. Initial V uniform in
 *   [V_reset, Θ), currents 0 (Brian2's `CUBA.py`).
 *
 * Step scheme (Cinder's LIF, `LinearMembrane`): per step, first the postsynaptic variables
 * g_j ← g_j·e^{−dt/τ} + Σ_i w_ji s_i (s_i: neuron i's spike of the previous step), then V is
 * integrated exactly with g (or I) held constant over the step: COBA V ← V∞ + (V − V∞)·e^{−dt·G/τ_m}
 * with G = 1 + g_e + g_i, V∞ = (E_l + g_e E_e + g_i E_i)/G; CUBA V ← V·d + E_l(1 − d) + (1 − d)·I with
 * d = e^{−dt/τ_m}. This is Brian2's `exponential_euler` scheme for these equations (V exact for the
 * conductances at the start of the step, the conductances then decay and receive the step's spikes).
 * CUBA's group rests at E_l = −49 mV, above Θ ({@link LIF} allows it: the neurons fire by themselves).
 *
 * Work per spike: each connection is a {@link postFiltered} {@link SparseLinear} over a delta synapse
 * (memoryless: its output is the spikes), so the event-driven forward of {@link SparseLinear} on
 * wasm/cpu visits only the spiking neurons' synapses and yields the step's jumps Σ_i w_ji s_i, and
 * the connection's postsynaptic filter keeps the conductance (current) per neuron:
 * - COBA ({@link DeltaConductance}, Δg = 1): g_j ← g_j·e^{−dt/τ} + Σ_i w_ji s_i (Brian's `g_j += w`);
 * - CUBA ({@link DeltaCurrent} of charge Q = τ, a current filter): I_j ← I_j·e^{−dt/τ} +
 *   (dt/τ)·Σ_i w_ji s_i·τ/dt, a jump of w_ji per spike (up to float32 rounding of τ/dt and dt/τ).
 * Both connections read the group's spikes of the previous step (`lif.spike`) and feed the group in
 * one {@link Biclique} layer step. The initial COBA conductances are the filters' state: the state is
 * the value after the previous step, which the first step decays once, so it is set to
 * g(0)·e^{dt/τ} (float64, rounded to float32) and the first step sees g(0) (within float32 rounding).
 * @module
 */
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { LIF, type RefracCount } from '../../src/neural/neurons/index.js';
import { SparseLinear } from '../../src/neural/connections/index.js';
import { postFiltered, type PostFiltered } from '../../src/neural/connections/post-filter.js';
import { randomSynapses, type SynapseList } from '../../src/neural/connections/sparse-topology.js';
import { DeltaConductance, DeltaCurrent } from '../../src/neural/synapses/index.js';
import { Biclique } from '../../src/neural/layers/index.js';
import { Network } from '../../src/network/index.js';

/** The network's settings. */
export interface CobaParams {
  /** `coba` (conductance synapses) or `cuba` (current synapses). */
  model: 'coba' | 'cuba';
  /** Number of neurons N (Ne = round(0.8·N) excitatory). */
  neurons: number;
  /** Connection probability p of every ordered pair. */
  p: number;
  /** Step (ms). */
  dt: number;
  /**
   * How the 5 ms refractory period is counted (default `'steps'`): `'steps'` holds a neuron exactly
   * ⌊5/dt + 10⁻³⌋ steps (50 at dt = 0.1, as Brian2 and NEST); `'time'` counts the remaining time down in
   * float32 as Inferno (51 steps at dt = 0.1). The LIF's `refracCount`; the event engine follows it.
   */
  refractory?: RefracCount;
}

/** Constants of the two benchmarks (mV, ms; COBA conductances relative to the leak). */
export const COBA_CONSTANTS = {
  tauM: 20, threshV: -50, resetV: -60, refracT: 5, tauE: 5, tauI: 10,
  coba: { El: -60, Ee: 0, Ei: -80, we: 0.6, wi: 6.7, v0Mean: -65, v0Sd: 5, ge0Mean: 4, ge0Sd: 1.5, gi0Mean: 20, gi0Sd: 12 },
  cuba: { El: -49, we: (60 * 0.27) / 10, wi: (-20 * 4.5) / 10 },
} as const;

/** The random draws of one network: connectivity and initial state, in this order from the seed. */
export interface CobaDraws {
  /** Number of excitatory neurons. */
  ne: number;
  /** Synapses from excitatory neurons (nPre = N, pre < Ne). */
  exc: SynapseList;
  /** Synapses from inhibitory neurons (nPre = N, pre ≥ Ne). */
  inh: SynapseList;
  /** Initial voltage (mV) per neuron. */
  v0: Float64Array;
  /** Initial excitatory conductance / current per neuron (COBA: clipped N(4, 1.5²); CUBA: 0). */
  ge0: Float64Array;
  /** Initial inhibitory conductance / current per neuron. */
  gi0: Float64Array;
}

/**
 * How {@link cobaDraws} draws the pairs (`randomSynapses`' method): a seed's network depends on it,
 * so event-engine checkpoints record it and a resume refuses one drawn otherwise (checkpoints
 * written before 2026-11-29 drew pair by pair).
 */
export const COBA_DRAWS = 'jumps';

/**
 * The draws of a network for `seed`: the pairs (as Brian2's `connect(p)`: pre-major, each pair
 * independently with probability p, drawn by geometric jumps — {@link randomSynapses} method
 * 'jumps', one draw per synapse, so a 40 000-neuron network draws 3.2·10⁷ numbers, not 1.6·10⁹),
 * then the initial voltages, then (COBA) g_e and g_i. The list is sorted by pre, so the excitatory
 * synapses (pre < Ne) are its first part and the inhibitory ones the rest: both are views of it (no copy).
 */
export function cobaDraws(p: CobaParams, seed: number): CobaDraws {
  const N = p.neurons;
  const ne = Math.round(0.8 * N);
  if (ne < 1 || ne >= N) throw new CinderArgumentError('--neurons', N, 'at least 2, with round(0.8·N) excitatory and at least 1 inhibitory neuron');
  const rng = new Rng(seed);
  const all = randomSynapses(N, N, p.p, rng.fork(), { method: COBA_DRAWS });
  let cut = 0; // first inhibitory synapse (binary search: pre is sorted)
  for (let hi = all.pre.length; cut < hi;) {
    const mid = (cut + hi) >>> 1;
    if (all.pre[mid]! < ne) cut = mid + 1;
    else hi = mid;
  }
  const part = (a: number, b: number): SynapseList => ({ nPre: N, nPost: N, pre: all.pre.subarray(a, b), post: all.post.subarray(a, b) });
  const init = rng.fork();
  const v0 = new Float64Array(N);
  const ge0 = new Float64Array(N);
  const gi0 = new Float64Array(N);
  const C = COBA_CONSTANTS;
  if (p.model === 'coba') {
    for (let j = 0; j < N; j++) v0[j] = C.coba.v0Mean + C.coba.v0Sd * init.normal();
    for (let j = 0; j < N; j++) ge0[j] = Math.max(0, C.coba.ge0Mean + C.coba.ge0Sd * init.normal());
    for (let j = 0; j < N; j++) gi0[j] = Math.max(0, C.coba.gi0Mean + C.coba.gi0Sd * init.normal());
  } else {
    for (let j = 0; j < N; j++) v0[j] = C.resetV + init.uniform() * (C.threshV - C.resetV);
  }
  return { ne, exc: part(0, cut), inh: part(cut, all.pre.length), v0, ge0, gi0 };
}

/**
 * {@link cobaDraws} for a network to build (either engine): refused unless it has at least one
 * excitatory and one inhibitory synapse.
 */
export function buildableDraws(p: CobaParams, seed: number): CobaDraws {
  const draws = cobaDraws(p, seed);
  if (draws.exc.pre.length < 1 || draws.inh.pre.length < 1) {
    throw new CinderArgumentError('--p', p.p, `a probability giving at least one excitatory and one inhibitory synapse for seed ${seed} (got ${draws.exc.pre.length} and ${draws.inh.pre.length})`);
  }
  return draws;
}

/** A built network: step it with {@link CobaNetwork.step}; save and load it with `net`. */
export interface CobaNetwork {
  /** The network (layer `pop`: the group and the two filtered connections), saved and loaded as a whole. */
  net: Network;
  /** The layer. */
  layer: Biclique;
  /** The neuron group. */
  lif: LIF;
  /** The excitatory and inhibitory connections; `filtered` is g_e / g_i (COBA) or I_e / I_i (CUBA) after the last step. */
  exc: SparseLinear & PostFiltered;
  /** See {@link CobaNetwork.exc}. */
  inh: SparseLinear & PostFiltered;
  /** The draws it was built from. */
  draws: CobaDraws;
  /**
   * One step; returns this step's spikes `[1, N]` (caller owns; call inside or outside a tidy).
   * `first` is ignored (the initial conductances are the filters' state; kept so callers written for
   * the earlier form, which injected them at the first step, still compile).
   */
  step(first?: boolean): tf.Tensor;
  /** Frees every tensor. */
  dispose(): void;
}

/** Builds the network of {@link CobaParams} for `seed` (see the module docs for the equations). */
export function buildCoba(p: CobaParams, seed: number): CobaNetwork {
  const C = COBA_CONSTANTS;
  const draws = buildableDraws(p, seed);
  const N = p.neurons;
  const cob = p.model === 'coba';
  const lif = new LIF([N], p.dt, {
    restV: cob ? C.coba.El : C.cuba.El, resetV: C.resetV, threshV: C.threshV, refracT: C.refracT, tauM: C.tauM, refracCount: p.refractory ?? 'steps',
    ...(cob ? { receptors: [{ name: 'exc', reversal: C.coba.Ee }, { name: 'inh', reversal: C.coba.Ei }] } : {}),
  });
  // previous step's spikes → jumps Σ_i w_ji s_i (delta synapse, work per spike) → x_j ← x_j·e^{−dt/τ} + jump_j
  const Filtered = postFiltered(SparseLinear);
  const connection = (list: SynapseList, w: number, tau: number) => new Filtered({ tau }, [N], [N], p.dt, {
    synapses: list,
    synapse: cob ? DeltaConductance.factory() : DeltaCurrent.factory({ charge: tau }),
    weightInit: () => tf.fill([list.pre.length], w),
  });
  const exc = connection(draws.exc, cob ? C.coba.we : C.cuba.we, C.tauE);
  const inh = connection(draws.inh, cob ? C.coba.wi : C.cuba.wi, C.tauI);
  const layer = new Biclique({
    connections: {
      exc: { connection: exc, input: 'spikes', ...(cob ? { receptor: 'exc' } : {}) },
      inh: { connection: inh, input: 'spikes', ...(cob ? { receptor: 'inh' } : {}) },
    },
    neurons: { pop: lif },
  });
  layer.eval();
  const net = new Network();
  net.addLayer('pop', layer);
  const state = (m: { namedStates(): [string, { assign(t: tf.Tensor): void }][] }, name: string) => m.namedStates().find(([n]) => n === name)![1];
  tf.tidy(() => {
    state(lif, 'voltage').assign(tf.tensor2d(Float32Array.from(draws.v0), [1, N]));
    if (cob) {
      // the filters' value after "step −1": the first step decays it once to g(0)
      const before = (g: Float64Array, tau: number) => tf.tensor2d(Float32Array.from(g, (x) => x * Math.exp(p.dt / tau)), [1, N]);
      state(exc.postFilter, 'value').assign(before(draws.ge0, C.tauE));
      state(inh.postFilter, 'value').assign(before(draws.gi0, C.tauI));
    }
  });
  return {
    net, layer, lif, exc, inh, draws,
    step(): tf.Tensor {
      return tf.tidy(() => layer.forward({ spikes: lif.spike }).pop!);
    },
    dispose(): void {
      net.dispose();
    },
  };
}
