/**
 * EI culture systems EI1–EI4 (10 / 100 / 1,000 / 10,000 neurons, 80 % excitatory) standing in for
 * livn's EI systems, built for {@link PlasticityNetwork}.
 *
 * - Culture: neurons placed uniformly on a flat square (side 40 µm for EI1 as livn's, else
 *   400·√(N/100) µm: EI2 400 µm, EI3 1,265 µm, EI4 4,000 µm, the density of EI2); gids 0..0.8N−1 are
 *   excitatory, the rest inhibitory.
 * - Connectivity: each ordered pair (i ≠ j) connects with probability `p0·exp(−d²/(2σ²))`,
 *   σ = 200 µm, p0 = 0.3 (in-degree ≈ 45 in the interior of EI3/EI4); delay `max(d/(250 µm/ms), 2·dt)`
 *   rounded to steps (livn's generator). An excitatory connection makes an AMPA and an NMDA synapse,
 *   an inhibitory one a GABA_A synapse; all three are plastic (EXC: AMPA, NMDA; INH: GABA_A).
 * - Receptors (rise/decay, reversal): AMPA 0.5/3 ms, 0 mV; NMDA 0.5/80 ms, 0 mV, Mg block
 *   (Jahr–Stevens, [Mg] = 1 mM); GABA_A 0.3/5 ms, −75 mV (this model's choice: livn's generator
 *   uses 0.3/6 ms at −60 mV for its newer cultures; see docs/livn.md). Static weights are peak
 *   conductances (nS).
 * - Neurons: conductance-based leaky integrate-and-fire point neurons instead of livn's
 *   two-compartment RCSD cells (Booth–Rinzel–Kiehn motoneuron, V_th −37 mV): they keep what the
 *   voltage-gated rule reads — a resting level near −60 mV, noise-driven subthreshold excursions
 *   into the LTD window and a depolarised spike (a 1 ms rectangular action potential at +20 mV) in
 *   the LTP window — at a fraction of the cost. EXC: C 200 pF, g_L 10 nS (τ_m 20 ms), E_L −65,
 *   V_th −50, V_reset −60 mV, refractory 2 ms. INH (fast-spiking): C 100 pF, g_L 10 nS (10 ms),
 *   E_L −65, V_th −50, V_reset −60 mV, refractory 1 ms.
 * - Noise: livn's Gfluct3 values (g_e0 1.0, g_i0 1.217, σ 0.329 / 0.356, τ 33.0 / 28.5 ms) in units
 *   of {@link NOISE_UNIT_NS} nS (the unit is this model's tuning choice: 3.5 nS puts the free membrane
 *   near −57 mV, a few mV below threshold, for spontaneous rates of a few Hz), reversals 0 / −75 mV.
 * - dt 0.1 ms.
 * @module
 */
import { Rng } from '../../src/core/random.js';
import type { CultureNeuronParams, CultureSpec, ReceptorKinetics } from '../../src/kernels/js/culture.js';
import { EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP } from '../../src/kernels/js/voltage-stdp.js';
import { PlasticityNetwork } from '../../src/network/plasticity-network.js';

/** System names and sizes. */
export const EI_SYSTEMS = { EI1: 10, EI2: 100, EI3: 1000, EI4: 10000 } as const;
/** A system name. */
export type EiSystem = keyof typeof EI_SYSTEMS;

/** Unit of livn's noise conductances in this model (nS). */
export const NOISE_UNIT_NS = 3.5;
/** Connection length scale σ (µm). */
export const SIGMA_UM = 200;
/** Peak connection probability p0. */
export const P0 = 0.3;
/** Conduction velocity (µm/ms). */
export const VELOCITY_UM_PER_MS = 250;
/** Step (ms). */
export const DT = 0.1;

/** Static peak conductances (nS) by (pre population → receptor → post population). */
export const WEIGHTS_NS = {
  AMPA: { EXC: 0.5, INH: 0.8 },
  NMDA: { EXC: 0.05, INH: 0.05 },
  GABA_A: { EXC: 3.0, INH: 3.0 },
} as const;

/** Receptors in code order (AMPA 0, NMDA 1, GABA_A 2); `group` 0 = EXC, 1 = INH. */
export const RECEPTORS: readonly ReceptorKinetics[] = [
  { name: 'AMPA', tauRise: 0.5, tauDecay: 3, reversal: 0, mgBlock: false, group: 0 },
  { name: 'NMDA', tauRise: 0.5, tauDecay: 80, reversal: 0, mgBlock: true, group: 0 },
  { name: 'GABA_A', tauRise: 0.3, tauDecay: 5, reversal: -75, mgBlock: false, group: 1 },
];

/** EXC and INH neuron parameters. */
export const NEURONS: readonly CultureNeuronParams[] = [
  { capacitance: 200, gLeak: 10, eLeak: -65, vThreshold: -50, vReset: -60, refractory: 2, vPeak: 20, spikeWidth: 1 },
  { capacitance: 100, gLeak: 10, eLeak: -65, vThreshold: -50, vReset: -60, refractory: 1, vPeak: 20, spikeWidth: 1 },
];

/** Side of the culture (µm). */
export function cultureSide(n: number): number {
  return n <= 10 ? 40 : 400 * Math.sqrt(n / 100);
}

/** One generated culture: positions and edges (unsorted). */
interface Graph {
  x: Float64Array;
  y: Float64Array;
  pre: number[];
  post: number[];
  receptor: number[];
  weight: number[];
  delay: number[];
}

function generate(n: number, rng: Rng): Graph {
  const side = cultureSide(n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.uniform() * side;
    y[i] = rng.uniform() * side;
  }
  const nExc = Math.round(0.8 * n);
  const g: Graph = { x, y, pre: [], post: [], receptor: [], weight: [], delay: [] };
  const inv2s2 = 1 / (2 * SIGMA_UM * SIGMA_UM);
  for (let post = 0; post < n; post++) {
    const postPop = post < nExc ? 'EXC' : 'INH';
    for (let pre = 0; pre < n; pre++) {
      if (pre === post) continue;
      const dx = x[pre]! - x[post]!;
      const dy = y[pre]! - y[post]!;
      const d2 = dx * dx + dy * dy;
      if (rng.uniform() >= P0 * Math.exp(-d2 * inv2s2)) continue;
      const delay = Math.max(1, Math.round(Math.max(Math.sqrt(d2) / VELOCITY_UM_PER_MS, 2 * DT) / DT));
      const receptors = pre < nExc ? [0, 1] : [2];
      for (const r of receptors) {
        g.pre.push(pre);
        g.post.push(post);
        g.receptor.push(r);
        g.weight.push(WEIGHTS_NS[RECEPTORS[r]!.name as keyof typeof WEIGHTS_NS][postPop]);
        g.delay.push(delay);
      }
    }
  }
  return g;
}

/** A built batch of cultures. */
export interface BuiltCultures {
  /** The network (all cultures, gids `b·size + i`). */
  network: PlasticityNetwork;
  /** Neurons per culture. */
  size: number;
  /** Excitatory neurons per culture (gids 0..nExc−1 of each culture). */
  nExc: number;
  /** Number of cultures. */
  batch: number;
  /** Positions (µm) per neuron (global gid). */
  x: Float64Array;
  /** Positions (µm) per neuron (global gid). */
  y: Float64Array;
}

/**
 * Builds `batch` independent cultures of `system` (different seeds: culture b draws its layout and
 * edges from `Rng(seed + ':' + b)`; one noise stream for all) as one network.
 */
export function buildCultures(system: EiSystem, batch: number, seed: number, noiseUnit = NOISE_UNIT_NS): BuiltCultures {
  const size = EI_SYSTEMS[system];
  const nExc = Math.round(0.8 * size);
  const N = size * batch;
  const pre: number[] = [], post: number[] = [], receptor: number[] = [], weight: number[] = [], delay: number[] = [];
  const x = new Float64Array(N), y = new Float64Array(N);
  for (let b = 0; b < batch; b++) {
    const g = generate(size, new Rng(`${seed}:${b}`));
    x.set(g.x, b * size);
    y.set(g.y, b * size);
    // edges are generated by post, then pre with receptors in code order; re-sort to (post, receptor, pre)
    const order = g.pre.map((_, k) => k).sort((a, c) => g.post[a]! - g.post[c]! || g.receptor[a]! - g.receptor[c]! || g.pre[a]! - g.pre[c]!);
    for (const k of order) {
      pre.push(g.pre[k]! + b * size);
      post.push(g.post[k]! + b * size);
      receptor.push(g.receptor[k]!);
      weight.push(g.weight[k]!);
      delay.push(g.delay[k]!);
    }
  }
  const population = new Uint8Array(N);
  const culture = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    population[i] = i % size < nExc ? 0 : 1;
    culture[i] = Math.floor(i / size);
  }
  const u = noiseUnit;
  const spec: CultureSpec = {
    dt: DT,
    populations: NEURONS,
    population,
    noise: { ge0: 1.0 * u, gi0: 1.217 * u, sigmaE: 0.329 * u, sigmaI: 0.356 * u, tauE: 33.0, tauI: 28.5, eE: 0, eI: -75 },
    receptors: RECEPTORS,
    groups: [EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP],
    edgePre: Int32Array.from(pre),
    edgePost: Int32Array.from(post),
    edgeReceptor: Uint8Array.from(receptor),
    edgeWeight: Float32Array.from(weight),
    edgeDelay: Int32Array.from(delay),
    seed: new Rng(`${seed}:noise`).uniform() * 4294967296 >>> 0,
  };
  return { network: new PlasticityNetwork(spec, culture), size, nExc, batch, x, y };
}
