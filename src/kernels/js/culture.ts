/**
 * Event-driven CPU engine of a neural culture: conductance-based point neurons with
 * Ornstein–Uhlenbeck conductance noise, rise/decay receptor synapses (AMPA, NMDA with Mg block,
 * GABA_A) kicked per connection, per-connection delays, and voltage-gated STDP
 * ({@link VoltageStdpSites}) on every receptor synapse. One step costs O(neurons + delivered spikes).
 *
 * Neuron i (population parameters {@link CultureNeuronParams}), per step of `dt` ms:
 *
 * 1. OU noise, exact: `g_e ← g_e0 + (g_e − g_e0)·a_e + σ_e·√(1 − a_e²)·ξ`, a_e = e^{−dt/τ_e} (same for g_i);
 * 2. receptor conductances `g_r = B_r − A_r` (NMDA times `1/(1 + e^{−0.062·v}·[Mg]/3.57)`), then
 *    `A_r ← A_r·e^{−dt/τ_rise}`, `B_r ← B_r·e^{−dt/τ_decay}` (exact);
 * 3. membrane, forward Euler unless refractory:
 *    `v ← v + dt/C·(g_L(E_L − v) + g_e(E_e − v) + g_i(E_i − v) + Σ_r g_r(E_r − v))`;
 *    `v > V_th` → spike, `v ← V_reset`, held for `refractory` ms;
 * 4. the rule's voltage ("somatic voltage") is `V_peak` for `spikeWidth` ms from the spike step
 *    (a rectangular action potential standing in for the multi-compartment spike), else v;
 * 5. the learning sites advance with that voltage; then the presynaptic spikes due this step are
 *    delivered: the plastic weight samples the integral (see {@link VoltageStdpSites.pre}) and
 *    `A_r, B_r += w·weight·η_r` with η_r the peak normalisation (one spike, w = 1: peak g = weight nS).
 *
 * A NaN membrane voltage (e.g. forward Euler diverging for a large dt·g/C, or a value written into
 * {@link CultureEngine.v}) is kept, not repaired: the neuron never crosses threshold again, its
 * somatic voltage is NaN outside a spike's hold, and the learning sites take it as the kernel does
 * (`VoltageStdpSites`: D = NaN while plasticity is on), so the plastic weight of every synapse onto
 * the neuron becomes NaN at its next presynaptic spike — as in the `VoltageSTDP` trainer — and
 * shows in the recorded weights and voltages.
 *
 * Float32: all state is stored as float32, each update computed in double and rounded on store.
 * Rise and decay components that decay below 1e-30 nS are set to 0 (float32 subnormals are slow
 * on CPUs and such conductances are far below anything that matters). The Mg block is interpolated linearly in a table at 0.01 mV over [−120, 60] mV (relative error
 * < 1e-7; exact outside). Noise uses its own xoshiro128** stream seeded from the given seed
 * (ziggurat normals, Marsaglia & Tsang 2000).
 * @module
 */
import { CinderArgumentError, describe, checkDt, checkFinite, checkInteger, checkNonNegative, checkPositive } from '../../core/errors.js';
import { groupByUnit } from '../../core/group-by.js';
import { doubleExponentialPeakFactor } from '../../neural/synapses/double-exponential.js';
import { VOLTAGE_STDP_KEYS, VoltageStdpSites, checkVoltageStdpParams, type VoltageStdpParams } from './voltage-stdp.js';

/** Parameters of one population of conductance-based point neurons (pF, nS, mV, ms). */
export interface CultureNeuronParams {
  /** Membrane capacitance C (pF). */
  capacitance: number;
  /** Leak conductance g_L (nS). */
  gLeak: number;
  /** Leak reversal E_L (mV). */
  eLeak: number;
  /** Spike threshold V_th (mV). */
  vThreshold: number;
  /** Reset V_reset (mV). */
  vReset: number;
  /** Absolute refractory period (ms; v held at V_reset). */
  refractory: number;
  /** Peak of the rectangular action potential seen by the rule and recordings (mV). */
  vPeak: number;
  /** Width of that action potential (ms). */
  spikeWidth: number;
}

/** Ornstein–Uhlenbeck conductance noise (nS, ms, mV), livn's Gfluct3 parameters. */
export interface CultureNoise {
  /** Mean excitatory conductance g_e0. */
  ge0: number;
  /** Mean inhibitory conductance g_i0. */
  gi0: number;
  /** Standard deviation σ_e. */
  sigmaE: number;
  /** Standard deviation σ_i. */
  sigmaI: number;
  /** Correlation time τ_e (ms). */
  tauE: number;
  /** Correlation time τ_i (ms). */
  tauI: number;
  /** Excitatory reversal (mV). */
  eE: number;
  /** Inhibitory reversal (mV). */
  eI: number;
}

/** Kinetics of one receptor type. */
export interface ReceptorKinetics {
  /** Name (`AMPA`, `NMDA`, `GABA_A`). */
  name: string;
  /** τ_rise (ms). */
  tauRise: number;
  /** τ_decay (ms, > τ_rise). */
  tauDecay: number;
  /** Reversal potential (mV). */
  reversal: number;
  /** Jahr–Stevens Mg²⁺ block (NMDA). */
  mgBlock: boolean;
  /** Plasticity group the receptor's synapses belong to (index into `groups`). */
  group: number;
}

/**
 * Everything the engine needs; edges must be sorted by (post, receptor, pre). Checked by the
 * engine: finite values; C, τ's > 0; g_L, σ's, refractory, spike width, static weights ≥ 0;
 * refractory and spike width at most 2^31 − 1 steps (round(t/dt), counted in int32);
 * τ_decay > τ_rise; receptor groups index `groups`; delays ≥ 1 step.
 */
export interface CultureSpec {
  /** Step (ms): a number > 0 that float32 holds as a normal number (2^-126 <= dt <= 3.4028234663852886e38, see {@link checkDt}). */
  dt: number;
  /** Population parameters; `population[i]` indexes this list. */
  populations: readonly CultureNeuronParams[];
  /** Population of each neuron. */
  population: Uint8Array;
  /** Noise (shared by all neurons). */
  noise: CultureNoise;
  /** Receptor types; `edgeReceptor[e]` indexes this list. */
  receptors: readonly ReceptorKinetics[];
  /** Rule parameters per plasticity group (e.g. [EXC, INH]). */
  groups: readonly VoltageStdpParams[];
  /** Presynaptic neuron of each edge. */
  edgePre: Int32Array;
  /** Postsynaptic neuron of each edge. */
  edgePost: Int32Array;
  /** Receptor of each edge. */
  edgeReceptor: Uint8Array;
  /** Static weight (peak conductance in nS at w = 1). */
  edgeWeight: Float32Array;
  /** Delay in steps (≥ 1). */
  edgeDelay: Int32Array;
  /** Seed of the noise stream. */
  seed: number;
}

/** Ziggurat tables (Marsaglia & Tsang 2000, 128 layers). */
const ZIG = (() => {
  const m1 = 2147483648;
  const kn = new Float64Array(128), wn = new Float64Array(128), fn = new Float64Array(128);
  let dn = 3.442619855899;
  let tn = dn;
  const vn = 9.91256303526217e-3;
  const q = vn / Math.exp(-0.5 * dn * dn);
  kn[0] = (dn / q) * m1;
  kn[1] = 0;
  wn[0] = q / m1;
  wn[127] = dn / m1;
  fn[0] = 1;
  fn[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = (dn / tn) * m1;
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / m1;
  }
  return { kn, wn, fn, r: 3.442619855899 };
})();

/** xoshiro128** 32-bit words and ziggurat normals, filled a block at a time. */
export class NoiseStream {
  private readonly s = new Uint32Array(4);
  /** @param seed any 32-bit integer */
  constructor(seed: number) {
    let x = (seed >>> 0) ^ 0x9e3779b9;
    for (let k = 0; k < 4; k++) {
      x = (x + 0x6d2b79f5) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 15), z | 1);
      z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
      this.s[k] = (z ^ (z >>> 14)) >>> 0;
    }
  }

  /** A copy of the generator's four xoshiro128** state words (its position in the stream). */
  getState(): Uint32Array {
    return Uint32Array.from(this.s);
  }

  /**
   * Moves the generator to a position from {@link NoiseStream.getState}: the words that follow are
   * those that followed there. Refuses anything but 4 words that are not all 0 (xoshiro's fixed
   * point) before changing anything.
   */
  setState(words: ArrayLike<number>): void {
    checkNoiseWords('noise state', words);
    for (let k = 0; k < 4; k++) this.s[k] = words[k]! >>> 0;
  }

  /** Next 32-bit word as a signed integer. */
  word(): number {
    const st = this.s;
    const s0 = st[0]!, s1 = st[1]!;
    let r = Math.imul(s1, 5);
    r = Math.imul((r << 7) | (r >>> 25), 9);
    const t = s1 << 9;
    const s2 = st[2]! ^ s0, s3 = st[3]! ^ s1;
    st[1] = s1 ^ s2;
    st[0] = s0 ^ s3;
    st[2] = s2 ^ t;
    st[3] = (s3 << 11) | (s3 >>> 21);
    return r | 0;
  }

  /** Uniform in (0, 1). */
  uniform(): number {
    return ((this.word() >>> 0) + 0.5) / 4294967296;
  }

  /** Fills `out` with standard normals (the generator state is kept in locals on the fast path). */
  fill(out: Float64Array): void {
    const { kn, wn } = ZIG;
    const st = this.s;
    let s0 = st[0]! | 0, s1 = st[1]! | 0, s2 = st[2]! | 0, s3 = st[3]! | 0;
    for (let k = 0; k < out.length; k++) {
      let r = Math.imul(s1, 5);
      r = Math.imul((r << 7) | (r >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      const hz = r | 0;
      const iz = hz & 127;
      if (Math.abs(hz) < kn[iz]!) out[k] = hz * wn[iz]!;
      else {
        st[0] = s0; st[1] = s1; st[2] = s2; st[3] = s3;
        out[k] = this.tail(hz, iz);
        s0 = st[0]! | 0; s1 = st[1]! | 0; s2 = st[2]! | 0; s3 = st[3]! | 0;
      }
    }
    st[0] = s0; st[1] = s1; st[2] = s2; st[3] = s3;
  }

  private tail(hz: number, iz: number): number {
    const { kn, wn, fn, r } = ZIG;
    for (;;) {
      const x = hz * wn[iz]!;
      if (iz === 0) {
        let a: number, b: number;
        do {
          a = -Math.log(this.uniform()) / r;
          b = -Math.log(this.uniform());
        } while (b + b < a * a);
        return hz > 0 ? r + a : -r - a;
      }
      if (fn[iz]! + this.uniform() * (fn[iz - 1]! - fn[iz]!) < Math.exp(-0.5 * x * x)) return x;
      hz = this.word();
      iz = hz & 127;
      if (Math.abs(hz) < kn[iz]!) return hz * wn[iz]!;
    }
  }
}

/** Throws unless `words` is 4 integers in [−2^31, 2^32) (a uint32 or its int32 bit pattern), not all 0. */
function checkNoiseWords(what: string, words: ArrayLike<number>): void {
  if (!words || typeof words !== 'object' || words.length !== 4) throw new CinderArgumentError(what, describe(words), '4 xoshiro128** state words');
  let any = 0;
  for (let k = 0; k < 4; k++) {
    const x = words[k]!;
    if (!Number.isInteger(x) || x < -(2 ** 31) || x >= 2 ** 32) throw new CinderArgumentError(`${what}[${k}]`, x, 'a 32-bit word (an integer in [-2^31, 2^32))');
    any |= x;
  }
  if (any === 0) throw new CinderArgumentError(what, [0, 0, 0, 0], 'a state that is not all 0 (the generator would only produce 0)');
}

/** The largest int32, 2^31 − 1: the most steps a refractory period or spike width may last. */
const INT32_MAX = 2 ** 31 - 1;

/**
 * Throws a {@link CinderArgumentError} naming the first bad population, receptor or noise
 * parameter (a negative kick, or τ_rise ≥ τ_decay, would otherwise be flushed to 0 silently).
 */
function checkCultureParams(spec: CultureSpec): void {
  spec.populations.forEach((p, k) => {
    const at = `populations[${k}]`;
    checkPositive(`${at}.capacitance`, p.capacitance);
    checkNonNegative(`${at}.gLeak`, p.gLeak);
    for (const key of ['eLeak', 'vThreshold', 'vReset', 'vPeak'] as const) checkFinite(`${at}.${key}`, p[key]);
    for (const key of ['refractory', 'spikeWidth'] as const) {
      checkNonNegative(`${at}.${key}`, p[key]);
      // counted down in an Int32Array: more steps would wrap (3e9 → −1294967296: no period at all)
      if (!(Math.round(p[key] / spec.dt) <= INT32_MAX)) {
        throw new CinderArgumentError(`${at}.${key}`, p[key], `a time of at most ${INT32_MAX} steps of dt = ${spec.dt} ms (round(${key}/dt) = ${Math.round(p[key] / spec.dt)} steps; the step counters are int32)`);
      }
    }
  });
  spec.receptors.forEach((r, k) => {
    const at = `receptors[${k}]`;
    checkPositive(`${at}.tauRise`, r.tauRise);
    checkPositive(`${at}.tauDecay`, r.tauDecay);
    if (!(r.tauDecay > r.tauRise)) throw new CinderArgumentError(`${at}.tauDecay`, r.tauDecay, `a number > tauRise = ${r.tauRise}`);
    checkFinite(`${at}.reversal`, r.reversal);
    if (!(Number.isInteger(r.group) && r.group >= 0 && r.group < spec.groups.length)) throw new CinderArgumentError(`${at}.group`, r.group, `an integer in [0, ${spec.groups.length}) (an index into groups)`);
  });
  const z = spec.noise;
  for (const key of ['ge0', 'gi0', 'eE', 'eI'] as const) checkFinite(`noise.${key}`, z[key]);
  checkNonNegative('noise.sigmaE', z.sigmaE);
  checkNonNegative('noise.sigmaI', z.sigmaI);
  checkPositive('noise.tauE', z.tauE);
  checkPositive('noise.tauI', z.tauI);
}

/** Per-receptor constants. */
interface RC {
  aRise: number;
  aDecay: number;
  eta: number;
  rev: number;
  mg: boolean;
}

/** Jahr–Stevens Mg²⁺ block at [Mg] = 1 mM: `1/(1 + e^{−0.062·v}/3.57)`. */
export function mgBlock(v: number): number {
  return 1 / (1 + Math.exp(-0.062 * v) / 3.57);
}
/** Conductance components below this (nS) are set to 0: they would decay into float32 subnormals (slow). */
const TINY = 1e-30;
const MG_LO = -120;
const MG_STEP = 0.01;
const MG_INV = 1 / MG_STEP;
const MG_POINTS = 18000; // [−120, 60] mV

/** Spikes of a chunk: step index (from the engine's start) and neuron. */
export interface SpikeSink {
  /** Called for every spike. */
  (step: number, neuron: number): void;
}

/**
 * Everything of a {@link CultureEngine} that changes while it runs, as plain typed arrays (every one
 * an `.npy` dtype) and one number: what {@link CultureEngine.importState} needs so that an engine
 * built from the same {@link CultureSpec} continues bit for bit as the exported one would have.
 * n neurons, R receptors, G plasticity groups, m edges, K = `VOLTAGE_STDP_KEYS.length`, S delay-ring
 * slots (max delay + 1). Not in it: the spec (the caller builds the engine from the same one),
 * the constants derived from it, `onSpike`, and the per-step scratch (the normals and currents,
 * overwritten before they are read in every step).
 */
export interface CultureEngineState {
  /** Steps taken (an integer >= 0; `stepCount·dt` is the time, `step mod S` the ring slot). */
  stepCount: number;
  /** Membrane potential [n] (mV). */
  v: Float32Array;
  /** Somatic voltage [n] (mV). */
  vSoma: Float32Array;
  /** OU conductance g_e [n] (nS). */
  ge: Float32Array;
  /** OU conductance g_i [n] (nS). */
  gi: Float32Array;
  /** Rise components A_r [R·n], receptor-major (nS). */
  rise: Float32Array;
  /** Decay components B_r [R·n], receptor-major (nS). */
  decay: Float32Array;
  /** Refractory steps left [n] (>= 0). */
  refLeft: Int32Array;
  /** Action-potential hold steps left [n] (>= 0). */
  holdLeft: Int32Array;
  /** Learning signal L [G·n], group-major. */
  signal: Float32Array;
  /** Integral I [G·n], group-major. */
  integral: Float32Array;
  /** Plastic weight w of each edge [m], edge order. */
  weight: Float32Array;
  /** I_c of each edge [m], edge order. */
  lastIntegral: Float32Array;
  /** Plasticity on (1) or off (0) per group [G]. */
  plasticityOn: Uint8Array;
  /** Rule parameters [G·K], group-major, keys in `VOLTAGE_STDP_KEYS` order (`inhibitory` as 0/1). */
  params: Float64Array;
  /** Spikes in flight: the number of pending deliveries in each ring slot [S]. */
  pendingCount: Int32Array;
  /** The pending deliveries' edges, slot by slot in delivery order [Σ pendingCount]. */
  pendingEdges: Int32Array;
  /** The noise stream's xoshiro128** words [4] (the uint32 words' int32 bit patterns). */
  noise: Int32Array;
}

/** The engine (see the module text). */
export class CultureEngine {
  /** Number of neurons. */
  readonly n: number;
  /** Step (ms). */
  readonly dt: number;
  /** Steps taken. */
  stepCount = 0;
  /** Membrane potential (mV). */
  readonly v: Float32Array;
  /** Voltage as the rule and the recordings see it (mV; V_peak during a spike). */
  readonly vSoma: Float32Array;
  /** OU conductances (nS). */
  readonly ge: Float32Array;
  /** OU conductances (nS). */
  readonly gi: Float32Array;
  /** Per receptor: rise components A_r (nS). */
  readonly rise: Float32Array[];
  /** Per receptor: decay components B_r (nS). */
  readonly decay: Float32Array[];
  /** Learning sites per plasticity group (one site per neuron). */
  readonly sites: VoltageStdpSites[];
  /** Index of each edge in its group's synapse arrays. */
  readonly edgeSlot: Int32Array;
  /** Group of each edge. */
  readonly edgeGroup: Uint8Array;
  /** Called on every spike (set by the owner). */
  onSpike: SpikeSink | null = null;
  private readonly spec: CultureSpec;
  private readonly refLeft: Int32Array;
  private readonly holdLeft: Int32Array;
  private readonly outStart: Int32Array;
  private readonly outEdge: Int32Array;
  private readonly ring: Int32Array[];
  private readonly ringLen: Int32Array;
  private readonly noise: NoiseStream;
  private readonly normals: Float64Array;
  private readonly mgTable: Float64Array;
  private readonly current: Float64Array;
  private readonly nm: { dtOverC: Float64Array; gL: Float64Array; EL: Float64Array; vTh: Float64Array; vReset: Float64Array; vPeak: Float64Array; ref: Int32Array; hold: Int32Array };
  private readonly rc: RC[];

  /** @param spec the culture (checked) */
  constructor(spec: CultureSpec) {
    checkDt(spec.dt);
    checkCultureParams(spec);
    const n = spec.population.length;
    const m = spec.edgePre.length;
    for (const [k, a] of [['edgePost', spec.edgePost], ['edgeReceptor', spec.edgeReceptor], ['edgeWeight', spec.edgeWeight], ['edgeDelay', spec.edgeDelay]] as const) {
      if (a.length !== m) throw new CinderArgumentError(k, a.length, `${m} entries (one per edge)`);
    }
    for (let e = 0; e < m; e++) checkNonNegative(`edgeWeight[${e}]`, spec.edgeWeight[e]!);
    for (let e = 0; e < m; e++) {
      if (!(spec.edgePre[e]! >= 0 && spec.edgePre[e]! < n && spec.edgePost[e]! >= 0 && spec.edgePost[e]! < n)) throw new CinderArgumentError(`edge ${e}`, [spec.edgePre[e], spec.edgePost[e]], `neurons in [0, ${n})`);
      if (!(spec.edgeDelay[e]! >= 1)) throw new CinderArgumentError(`edgeDelay[${e}]`, spec.edgeDelay[e], 'an integer >= 1 (steps)');
      if (!(spec.edgeReceptor[e]! < spec.receptors.length)) throw new CinderArgumentError(`edgeReceptor[${e}]`, spec.edgeReceptor[e], `an index < ${spec.receptors.length}`);
      if (e > 0) {
        const a = spec.edgePost[e - 1]!, b = spec.edgePost[e]!;
        const ra = spec.edgeReceptor[e - 1]!, rb = spec.edgeReceptor[e]!;
        if (a > b || (a === b && (ra > rb || (ra === rb && spec.edgePre[e - 1]! >= spec.edgePre[e]!)))) throw new CinderArgumentError(`edge ${e}`, 'out of order', 'edges sorted by (post, receptor, pre) without duplicates');
      }
    }
    this.spec = spec;
    this.n = n;
    this.dt = spec.dt;
    const dt = spec.dt;
    this.v = new Float32Array(n);
    this.vSoma = new Float32Array(n);
    this.ge = new Float32Array(n).fill(spec.noise.ge0);
    this.gi = new Float32Array(n).fill(spec.noise.gi0);
    this.rise = spec.receptors.map(() => new Float32Array(n));
    this.decay = spec.receptors.map(() => new Float32Array(n));
    this.refLeft = new Int32Array(n);
    this.holdLeft = new Int32Array(n);
    const P = spec.populations;
    const nm = {
      dtOverC: new Float64Array(n), gL: new Float64Array(n), EL: new Float64Array(n), vTh: new Float64Array(n), vReset: new Float64Array(n), vPeak: new Float64Array(n),
      ref: new Int32Array(n), hold: new Int32Array(n),
    };
    for (let i = 0; i < n; i++) {
      const p = P[spec.population[i]!];
      if (!p) throw new CinderArgumentError(`population[${i}]`, spec.population[i], `an index < ${P.length}`);
      nm.dtOverC[i] = dt / p.capacitance; nm.gL[i] = p.gLeak; nm.EL[i] = p.eLeak; nm.vTh[i] = p.vThreshold; nm.vReset[i] = p.vReset; nm.vPeak[i] = p.vPeak;
      nm.ref[i] = Math.round(p.refractory / dt); nm.hold[i] = Math.round(p.spikeWidth / dt);
      this.v[i] = p.eLeak; this.vSoma[i] = p.eLeak;
    }
    this.nm = nm;
    this.rc = spec.receptors.map((r) => ({ aRise: Math.exp(-dt / r.tauRise), aDecay: Math.exp(-dt / r.tauDecay), eta: doubleExponentialPeakFactor(r.tauDecay, r.tauRise), rev: r.reversal, mg: r.mgBlock }));
    // plastic synapses per group, in edge order
    this.edgeGroup = new Uint8Array(m);
    this.edgeSlot = new Int32Array(m);
    const counts = spec.groups.map(() => 0);
    for (let e = 0; e < m; e++) {
      const g = spec.receptors[spec.edgeReceptor[e]!]!.group;
      this.edgeGroup[e] = g;
      this.edgeSlot[e] = counts[g]!++;
    }
    const siteOf = spec.groups.map((_, g) => new Int32Array(counts[g]!));
    for (let e = 0; e < m; e++) siteOf[this.edgeGroup[e]!]![this.edgeSlot[e]!] = spec.edgePost[e]!;
    this.sites = spec.groups.map((p, g) => new VoltageStdpSites(n, siteOf[g]!, dt, p));
    // outgoing edges (CSR by pre)
    const out = groupByUnit(spec.edgePre, n, m);
    this.outStart = out.start;
    this.outEdge = out.order;
    let maxDelay = 1;
    for (let e = 0; e < m; e++) maxDelay = Math.max(maxDelay, spec.edgeDelay[e]!);
    this.ring = Array.from({ length: maxDelay + 1 }, () => new Int32Array(64));
    this.ringLen = new Int32Array(maxDelay + 1);
    this.noise = new NoiseStream(spec.seed);
    this.normals = new Float64Array(2 * n);
    this.mgTable = new Float64Array(MG_POINTS + 1);
    for (let k = 0; k <= MG_POINTS; k++) this.mgTable[k] = mgBlock(MG_LO + k * MG_STEP);
    this.current = new Float64Array(n);
  }

  /** Number of edges (= plastic synapses). */
  get edges(): number {
    return this.spec.edgePre.length;
  }

  /** The specification. */
  get culture(): CultureSpec {
    return this.spec;
  }

  /** Plastic weight of edge e. */
  plasticWeight(e: number): number {
    return this.sites[this.edgeGroup[e]!]!.weight[this.edgeSlot[e]!]!;
  }

  /**
   * A copy of the engine's running state (see {@link CultureEngineState}); the engine is not changed.
   * Importing it into an engine built from the same spec gives the same spikes and weights from
   * there on, bit for bit.
   */
  exportState(): CultureEngineState {
    const n = this.n, m = this.edges;
    const R = this.rise.length, G = this.sites.length, K = VOLTAGE_STDP_KEYS.length;
    const rise = new Float32Array(R * n), decay = new Float32Array(R * n);
    for (let r = 0; r < R; r++) {
      rise.set(this.rise[r]!, r * n);
      decay.set(this.decay[r]!, r * n);
    }
    const signal = new Float32Array(G * n), integral = new Float32Array(G * n), params = new Float64Array(G * K), on = new Uint8Array(G);
    this.sites.forEach((site, g) => {
      signal.set(site.signal, g * n);
      integral.set(site.integral, g * n);
      on[g] = site.on ? 1 : 0;
      VOLTAGE_STDP_KEYS.forEach((k, j) => (params[g * K + j] = Number(site.params[k])));
    });
    const weight = new Float32Array(m), lastIntegral = new Float32Array(m);
    for (let e = 0; e < m; e++) {
      const site = this.sites[this.edgeGroup[e]!]!;
      weight[e] = site.weight[this.edgeSlot[e]!]!;
      lastIntegral[e] = site.lastIntegral[this.edgeSlot[e]!]!;
    }
    let total = 0;
    for (let k = 0; k < this.ringLen.length; k++) total += this.ringLen[k]!;
    const pendingEdges = new Int32Array(total);
    for (let k = 0, at = 0; k < this.ring.length; k++) {
      pendingEdges.set(this.ring[k]!.subarray(0, this.ringLen[k]!), at);
      at += this.ringLen[k]!;
    }
    return {
      stepCount: this.stepCount,
      v: Float32Array.from(this.v), vSoma: Float32Array.from(this.vSoma), ge: Float32Array.from(this.ge), gi: Float32Array.from(this.gi),
      rise, decay, refLeft: Int32Array.from(this.refLeft), holdLeft: Int32Array.from(this.holdLeft),
      signal, integral, weight, lastIntegral, plasticityOn: on, params,
      pendingCount: Int32Array.from(this.ringLen), pendingEdges,
      noise: Int32Array.from(this.noise.getState()),
    };
  }

  /**
   * Replaces the running state with `state` (from {@link exportState} of an engine built from the
   * same spec). Everything is checked first — each array's type and length, integer counters >= 0,
   * pending edges that exist and add up to `pendingCount`, valid rule parameters with the group's
   * `inhibitory` flag, a noise state — and a mismatch throws a {@link CinderArgumentError}
   * ("invalid state.X: got Y, expected Z") with the engine unchanged. Values are copied (float32
   * values as they are, NaN included: a NaN voltage is state too, see the module text).
   */
  importState(state: CultureEngineState): void {
    if (state === null || typeof state !== 'object') throw new CinderArgumentError('state', describe(state), 'a CultureEngineState (from exportState)');
    const n = this.n, m = this.edges;
    const R = this.rise.length, G = this.sites.length, K = VOLTAGE_STDP_KEYS.length, S = this.ring.length;
    const arr = <T>(key: keyof CultureEngineState, type: { new (k: number): T; name: string }, length: number, what: string): T => {
      const a = state[key] as unknown;
      if (!(a instanceof (type as unknown as typeof Float32Array))) throw new CinderArgumentError(`state.${key}`, describe(a), `a ${type.name}`);
      if ((a as Float32Array).length !== length) throw new CinderArgumentError(`state.${key}.length`, (a as Float32Array).length, `${length} (${what})`);
      return a as T;
    };
    if (!Number.isSafeInteger(state.stepCount) || state.stepCount < 0) throw new CinderArgumentError('state.stepCount', state.stepCount, 'an integer >= 0');
    const v = arr('v', Float32Array, n, 'one per neuron');
    const vSoma = arr('vSoma', Float32Array, n, 'one per neuron');
    const ge = arr('ge', Float32Array, n, 'one per neuron');
    const gi = arr('gi', Float32Array, n, 'one per neuron');
    const rise = arr('rise', Float32Array, R * n, `${R} receptors × ${n} neurons`);
    const decay = arr('decay', Float32Array, R * n, `${R} receptors × ${n} neurons`);
    const refLeft = arr('refLeft', Int32Array, n, 'one per neuron');
    const holdLeft = arr('holdLeft', Int32Array, n, 'one per neuron');
    for (const [key, a] of [['refLeft', refLeft], ['holdLeft', holdLeft]] as const) {
      const k = a.findIndex((x) => x < 0);
      if (k >= 0) throw new CinderArgumentError(`state.${key}[${k}]`, a[k], 'a step count >= 0');
    }
    const signal = arr('signal', Float32Array, G * n, `${G} groups × ${n} neurons`);
    const integral = arr('integral', Float32Array, G * n, `${G} groups × ${n} neurons`);
    const weight = arr('weight', Float32Array, m, 'one per edge');
    const lastIntegral = arr('lastIntegral', Float32Array, m, 'one per edge');
    const on = arr('plasticityOn', Uint8Array, G, 'one per plasticity group');
    const k1 = on.findIndex((x) => x > 1);
    if (k1 >= 0) throw new CinderArgumentError(`state.plasticityOn[${k1}]`, on[k1], '0 or 1');
    const flat = arr('params', Float64Array, G * K, `${G} groups × ${K} rule parameters`);
    const params = this.sites.map((site, g) => {
      const j0 = VOLTAGE_STDP_KEYS.indexOf('inhibitory');
      if (flat[g * K + j0] !== 0 && flat[g * K + j0] !== 1) throw new CinderArgumentError(`state.params[${g * K + j0}] (group ${g} inhibitory)`, flat[g * K + j0], '0 or 1');
      const p = {} as Record<string, number | boolean>;
      VOLTAGE_STDP_KEYS.forEach((k, j) => (p[k] = k === 'inhibitory' ? flat[g * K + j] === 1 : flat[g * K + j]!));
      const q = p as unknown as VoltageStdpParams;
      checkVoltageStdpParams(q, `state.params (group ${g})`);
      if (q.inhibitory !== site.params.inhibitory) throw new CinderArgumentError(`state.params (group ${g}).inhibitory`, q.inhibitory, `${site.params.inhibitory} (the group's rule variant)`);
      return q;
    });
    const count = arr('pendingCount', Int32Array, S, `${S} ring slots (max delay + 1)`);
    let total = 0;
    for (let k = 0; k < S; k++) {
      if (count[k]! < 0) throw new CinderArgumentError(`state.pendingCount[${k}]`, count[k], 'a count >= 0');
      total += count[k]!;
    }
    const pending = arr('pendingEdges', Int32Array, total, 'the sum of pendingCount');
    const bad = pending.findIndex((e) => e < 0 || e >= m);
    if (bad >= 0) throw new CinderArgumentError(`state.pendingEdges[${bad}]`, pending[bad], `an edge in [0, ${m})`);
    checkNoiseWords('state.noise', arr('noise', Int32Array, 4, 'xoshiro128** words'));
    // checked: now copy
    this.stepCount = state.stepCount;
    this.v.set(v); this.vSoma.set(vSoma); this.ge.set(ge); this.gi.set(gi);
    for (let r = 0; r < R; r++) {
      this.rise[r]!.set(rise.subarray(r * n, (r + 1) * n));
      this.decay[r]!.set(decay.subarray(r * n, (r + 1) * n));
    }
    this.refLeft.set(refLeft); this.holdLeft.set(holdLeft);
    this.sites.forEach((site, g) => {
      site.setParams(params[g]!);
      site.on = on[g] === 1;
      site.signal.set(signal.subarray(g * n, (g + 1) * n));
      site.integral.set(integral.subarray(g * n, (g + 1) * n));
    });
    for (let e = 0; e < m; e++) {
      const site = this.sites[this.edgeGroup[e]!]!;
      site.weight[this.edgeSlot[e]!] = weight[e]!;
      site.lastIntegral[this.edgeSlot[e]!] = lastIntegral[e]!;
    }
    for (let k = 0, at = 0; k < S; k++) {
      const len = count[k]!;
      if (this.ring[k]!.length < len) this.ring[k] = new Int32Array(Math.max(64, len));
      this.ring[k]!.set(pending.subarray(at, at + len));
      this.ringLen[k] = len;
      at += len;
    }
    this.noise.setState(state.noise);
  }

  /** Advances `steps` steps (an integer ≥ 0). */
  run(steps: number): void {
    checkInteger('steps', steps);
    for (let k = 0; k < steps; k++) {
      const step = this.stepCount;
      this.noiseStep();
      this.synapticCurrents();
      this.membrane(step);
      for (let g = 0; g < this.sites.length; g++) this.sites[g]!.advance(this.vSoma);
      this.deliver(step % this.ring.length);
      this.stepCount++;
    }
  }

  /** OU conductances; leaves the leak and noise current in `current`. */
  private noiseStep(): void {
    const n = this.n;
    const nz = this.spec.noise;
    const dt = this.dt;
    const aE = Math.exp(-dt / nz.tauE), aI = Math.exp(-dt / nz.tauI);
    const sE = nz.sigmaE * Math.sqrt(1 - aE * aE), sI = nz.sigmaI * Math.sqrt(1 - aI * aI);
    const ge0 = nz.ge0, gi0 = nz.gi0, eE = nz.eE, eI = nz.eI;
    const ge = this.ge, gi = this.gi, v = this.v, cur = this.current;
    const { gL, EL } = this.nm;
    const z = this.normals;
    this.noise.fill(z);
    for (let i = 0; i < n; i++) {
      const vi = v[i]!;
      const e = (ge[i] = ge0 + (ge[i]! - ge0) * aE + sE * z[2 * i]!);
      const h = (gi[i] = gi0 + (gi[i]! - gi0) * aI + sI * z[2 * i + 1]!);
      cur[i] = gL[i]! * (EL[i]! - vi) + e * (eE - vi) + h * (eI - vi);
    }
  }

  /** Adds each receptor's current `g_r·(E_r − v)` to `current` and decays its components. */
  private synapticCurrents(): void {
    if (this.rc.length === 3 && !this.rc[0]!.mg && this.rc[1]!.mg && !this.rc[2]!.mg) {
      this.synapticCurrents3();
      return;
    }
    const n = this.n;
    const v = this.v, cur = this.current;
    for (let r = 0; r < this.rc.length; r++) {
      const A = this.rise[r]!, B = this.decay[r]!;
      const { aRise, aDecay, rev } = this.rc[r]!;
      const mg = this.rc[r]!.mg;
      for (let i = 0; i < n; i++) {
        const a = A[i]!, b = B[i]!;
        if (a === 0 && b === 0) continue;
        const vi = v[i]!;
        cur[i] = cur[i]! + (b - a) * (mg ? this.block(vi) : 1) * (rev - vi);
        const na = a * aRise, nb = b * aDecay;
        A[i] = na < TINY ? 0 : na;
        B[i] = nb < TINY ? 0 : nb;
      }
    }
  }

  /** Mg block, interpolated in the table. */
  private block(vi: number): number {
    const mg = this.mgTable;
    const u = (vi - MG_LO) * MG_INV;
    if (u >= 0 && u < MG_POINTS) {
      const j = u | 0;
      return mg[j]! + (u - j) * (mg[j + 1]! - mg[j]!);
    }
    return mgBlock(vi);
  }

  /** {@link synapticCurrents} for the culture's receptor set (plain, Mg-blocked, plain) in one loop. */
  private synapticCurrents3(): void {
    const n = this.n;
    const v = this.v, cur = this.current;
    const A0 = this.rise[0]!, B0 = this.decay[0]!, A1 = this.rise[1]!, B1 = this.decay[1]!, A2 = this.rise[2]!, B2 = this.decay[2]!;
    const c0 = this.rc[0]!, c1 = this.rc[1]!, c2 = this.rc[2]!;
    const r0 = c0.aRise, d0 = c0.aDecay, e0 = c0.rev, r1 = c1.aRise, d1 = c1.aDecay, e1 = c1.rev, r2 = c2.aRise, d2 = c2.aDecay, e2 = c2.rev;
    const mg = this.mgTable;
    for (let i = 0; i < n; i++) {
      const vi = v[i]!;
      let c = cur[i]!;
      let a = A0[i]!, b = B0[i]!, x = 0;
      c += (b - a) * (e0 - vi);
      x = a * r0; A0[i] = x < TINY ? 0 : x;
      x = b * d0; B0[i] = x < TINY ? 0 : x;
      a = A1[i]!; b = B1[i]!;
      if (a !== 0 || b !== 0) {
        const u = (vi - MG_LO) * MG_INV;
        let blk: number;
        if (u >= 0 && u < MG_POINTS) {
          const j = u | 0;
          blk = mg[j]! + (u - j) * (mg[j + 1]! - mg[j]!);
        } else blk = mgBlock(vi);
        c += (b - a) * blk * (e1 - vi);
        x = a * r1; A1[i] = x < TINY ? 0 : x;
        x = b * d1; B1[i] = x < TINY ? 0 : x;
      }
      a = A2[i]!; b = B2[i]!;
      c += (b - a) * (e2 - vi);
      x = a * r2; A2[i] = x < TINY ? 0 : x;
      x = b * d2; B2[i] = x < TINY ? 0 : x;
      cur[i] = c;
    }
  }

  /** Euler step of the membrane, spikes, and the somatic voltage. */
  private membrane(step: number): void {
    const n = this.n;
    const { dtOverC, vTh, vReset, vPeak, ref, hold } = this.nm;
    const v = this.v, vs = this.vSoma, cur = this.current;
    const refLeft = this.refLeft, holdLeft = this.holdLeft;
    for (let i = 0; i < n; i++) {
      if (refLeft[i]! > 0) refLeft[i]!--;
      else {
        const nv = v[i]! + dtOverC[i]! * cur[i]!;
        if (nv > vTh[i]!) {
          v[i] = vReset[i]!;
          refLeft[i] = ref[i]!;
          holdLeft[i] = hold[i]!;
          this.spike(i, step);
        } else v[i] = nv;
      }
      if (holdLeft[i]! > 0) {
        holdLeft[i]!--;
        vs[i] = vPeak[i]!;
      } else vs[i] = v[i]!;
    }
  }

  private spike(i: number, step: number): void {
    const ringSize = this.ring.length;
    this.onSpike?.(step, i);
    const d = this.spec.edgeDelay;
    for (let j = this.outStart[i]!; j < this.outStart[i + 1]!; j++) {
      const e = this.outEdge[j]!;
      const slot = (step + d[e]!) % ringSize;
      let buf = this.ring[slot]!;
      const len = this.ringLen[slot]!;
      if (len === buf.length) {
        const bigger = new Int32Array(buf.length * 2);
        bigger.set(buf);
        this.ring[slot] = buf = bigger;
      }
      buf[len] = e;
      this.ringLen[slot] = len + 1;
    }
  }

  private deliver(slot: number): void {
    const len = this.ringLen[slot]!;
    if (len === 0) return;
    const buf = this.ring[slot]!;
    const s = this.spec;
    const sites = this.sites;
    for (let j = 0; j < len; j++) {
      const e = buf[j]!;
      const w = sites[this.edgeGroup[e]!]!.pre(this.edgeSlot[e]!);
      const r = s.edgeReceptor[e]!;
      const amount = w * s.edgeWeight[e]! * this.rc[r]!.eta;
      const post = s.edgePost[e]!;
      this.rise[r]![post]! += amount;
      this.decay[r]![post]! += amount;
    }
    this.ringLen[slot] = 0;
  }
}
