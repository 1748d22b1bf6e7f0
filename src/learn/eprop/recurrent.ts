/**
 * The recurrent population of an e-prop network (NEST `eprop_iaf_bsshslm_2020` and
 * `eprop_iaf_adapt_bsshslm_2020`): `nLif` leaky integrate-and-fire neurons followed by `nAlif`
 * adaptive ones, with the input→recurrent weights `wIn` [n, nIn] and the recurrent weights `wRec`
 * [n, n] (rows = postsynaptic neuron; no autapses: the diagonal is kept at 0).
 *
 * Per step (voltages relative to rest, dt = 1 step): a ← ρ·a + z; A = V_th + β·a (β = 0 for LIF);
 * v ← α·v + ζ·(W_in·x + W_rec·z) − V_th·z (reset by subtracting the base threshold); the refractory
 * counter counts down; ψ = surrogate(v − A), 0 while refractory; z = [v ≥ A and not refractory].
 * The scan kernels live in `forward-js.ts` and `forward-tf.ts`.
 *
 * Why e-prop does not reuse `src/neural`'s LIF and ALIF: e-prop needs the whole forward scan of a
 * batch of sequences at once (the eligibility traces and the learning signal are computed over the
 * full sequence after it), in NEST's exact discretisation of these models — voltages relative to
 * rest, α = e^{−dt/τ_m} and ζ = 1 − α as propagators, reset by subtracting V_th, threshold
 * adaptation a ← ρ·a + z with A = V_th + β·a, and a surrogate pseudo-derivative ψ — which the
 * step-by-step `NeuronGroup` (Inferno's Euler form, reset to a voltage) does not match. The
 * parity test against NEST's losses depends on these exact propagators, so the equations live
 * here, in one place per kernel, and are documented above.
 * @module
 */
import { tf } from '../../core/tf.js';
import { Module } from '../../core/module.js';
import type { Parameter } from '../../core/state.js';
import { CinderArgumentError, checkElements, checkInteger, checkNonNegative, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { Rng } from '../../core/random.js';
import { checkSurrogate, SURROGATE_NAMES, type Surrogate, type SurrogateName } from './surrogate.js';
import type { EPropCell } from './cell.js';
import type { EPropScanConstants } from '../../kernels/eprop-scan.js';

/** NEST's adapt_beta of the evidence-accumulation task: 1.7·(1 − e^{−1/2000})/(1 − e^{−1/20}). */
export const EVIDENCE_ADAPT_BETA = (1.7 * (1 - Math.exp(-1 / 2000))) / (1 - Math.exp(-1 / 20));

/** Options of {@link EPropRecurrent}. Defaults are the evidence-accumulation task's. */
export interface EPropRecurrentOptions {
  /** Number of inputs. */
  nIn: number;
  /** Number of LIF neurons (rows 0 … nLif−1). */
  nLif: number;
  /** Number of ALIF neurons (rows nLif …). Default 0. */
  nAlif?: number;
  /** Time step in ms (default 1). */
  dt?: number;
  /** Membrane time constant τ_m in ms (default 20). */
  tauM?: number;
  /** Spike threshold V_th relative to rest (default 0.6). */
  vTh?: number;
  /** Refractory period in ms (default 5); n_ref = round(tRef/dt). */
  tRef?: number;
  /** Adaptation time constant in ms (default 2000). */
  tauA?: number;
  /** Adaptation strength β of ALIF neurons (default {@link EVIDENCE_ADAPT_BETA}). */
  adaptBeta?: number;
  /** Surrogate function (default `piecewise_linear`). */
  surrogate?: SurrogateName;
  /** Surrogate height h (default 0.3/V_th). */
  surrogateHeight?: number;
  /** Surrogate width w (default V_th). */
  surrogateWidth?: number;
  /** NEST's `regular_spike_arrival`: true (default) → ζ = 1, false → ζ = 1 − α. */
  regularSpikeArrival?: boolean;
  /** Initial W_in [n·nIn] row-major (post × pre); default randn/√nIn from `rng`. */
  wIn?: ArrayLike<number>;
  /** Initial W_rec [n·n] row-major (post × pre); default randn/√n from `rng`; diagonal is zeroed. */
  wRec?: ArrayLike<number>;
  /** Random source for default initial weights (default `new Rng(0)`). */
  rng?: Rng;
}

/** The keys of {@link EPropRecurrentOptions}. */
export const EPROP_RECURRENT_OPTION_KEYS = optionKeys<EPropRecurrentOptions>()([
  'nIn',
  'nLif',
  'nAlif',
  'dt',
  'tauM',
  'vTh',
  'tRef',
  'tauA',
  'adaptBeta',
  'surrogate',
  'surrogateHeight',
  'surrogateWidth',
  'regularSpikeArrival',
  'wIn',
  'wRec',
  'rng',
]);

/** Per-step constants of the recurrent scan, in float64 (the kernels' `EPropScanConstants`, with float64 β and a typed surrogate). */
export interface RecurrentConstants extends EPropScanConstants {
  /** Adaptation strength per neuron (0 for LIF rows). */
  beta: Float64Array;
  /** Surrogate gradient. */
  surrogate: Surrogate;
}

/** e-prop recurrent population of LIF and ALIF neurons with its input and recurrent weights. */
export class EPropRecurrent extends Module {
  /** Number of inputs. */
  readonly nIn: number;
  /** Number of LIF neurons. */
  readonly nLif: number;
  /** Number of ALIF neurons. */
  readonly nAlif: number;
  /** Total number of neurons. */
  readonly n: number;
  /** Time step (ms). */
  readonly dt: number;
  /** Membrane time constant (ms). */
  readonly tauM: number;
  /** Base threshold. */
  readonly vTh: number;
  /** Refractory period (ms). */
  readonly tRef: number;
  /** Adaptation time constant (ms). */
  readonly tauA: number;
  /** ALIF adaptation strength. */
  readonly adaptBeta: number;
  /** Surrogate gradient. */
  readonly surrogate: Surrogate;
  /** ζ = 1 (true) or 1 − α (false). */
  readonly regularSpikeArrival: boolean;
  private readonly pIn: Parameter;
  private readonly pRec: Parameter;

  constructor(options: EPropRecurrentOptions) {
    if (new.target === EPropRecurrent) checkOptionKeys('options', options, EPROP_RECURRENT_OPTION_KEYS);
    super();
    this.nIn = checkInteger('nIn', options.nIn, 1);
    this.nLif = checkInteger('nLif', options.nLif, 0);
    this.nAlif = checkInteger('nAlif', options.nAlif ?? 0, 0);
    this.n = this.nLif + this.nAlif;
    if (this.n < 1) throw new CinderArgumentError('nLif + nAlif', this.n, 'at least 1 neuron');
    this.dt = checkPositive('dt', options.dt ?? 1);
    this.tauM = checkPositive('tauM', options.tauM ?? 20);
    this.vTh = checkPositive('vTh', options.vTh ?? 0.6);
    this.tRef = checkNonNegative('tRef', options.tRef ?? 5);
    if (Math.round(this.tRef / this.dt) > 2 ** 24) {
      // the tf kernel counts the refractory steps down in float32 (exact to 2^24) and the webgpu
      // kernel writes n_ref into its program as an i32 literal
      throw new CinderArgumentError('tRef', this.tRef, `at most 2^24 = 16777216 steps of dt = ${this.dt} ms (round(tRef/dt) = ${Math.round(this.tRef / this.dt)})`);
    }
    this.tauA = checkPositive('tauA', options.tauA ?? 2000);
    this.adaptBeta = checkNonNegative('adaptBeta', options.adaptBeta ?? EVIDENCE_ADAPT_BETA);
    const sName = options.surrogate ?? 'piecewise_linear';
    if (!(SURROGATE_NAMES as readonly string[]).includes(sName)) throw new CinderArgumentError('surrogate', sName, `one of ${SURROGATE_NAMES.join(', ')}`);
    this.surrogate = checkSurrogate({ name: sName, height: options.surrogateHeight ?? 0.3 / this.vTh, width: options.surrogateWidth ?? this.vTh });
    this.regularSpikeArrival = options.regularSpikeArrival ?? true;
    if (typeof this.regularSpikeArrival !== 'boolean') throw new CinderArgumentError('regularSpikeArrival', this.regularSpikeArrival, 'true or false');
    const rng = options.rng ?? new Rng(0);
    const n = this.n;
    checkElements('nLif + nAlif', n * n, `the recurrent weights [${n}, ${n}]`);
    checkElements('nIn', n * this.nIn, `the input weights [${n}, ${this.nIn}]`);
    const wIn = initWeights('wIn', options.wIn, n * this.nIn, () => rng.normal() / Math.sqrt(this.nIn));
    const wRec = initWeights('wRec', options.wRec, n * n, () => rng.normal() / Math.sqrt(n));
    for (let j = 0; j < n; j++) wRec[j * n + j] = 0;
    this.pIn = this.addParameter('w_in', tf.tensor2d(wIn, [n, this.nIn]));
    this.pRec = this.addParameter('w_rec', tf.tensor2d(wRec, [n, n]));
  }

  /** Input→recurrent weights [n, nIn]. */
  get wIn(): Parameter {
    return this.pIn;
  }

  /** Recurrent weights [n, n] (zero diagonal). */
  get wRec(): Parameter {
    return this.pRec;
  }

  /** The input→recurrent and recurrent→recurrent cells, for {@link EProp}. */
  cells(): [EPropCell, EPropCell] {
    return [
      { kind: 'input', weight: this.pIn, nPre: this.nIn, nPost: this.n },
      { kind: 'recurrent', weight: this.pRec, nPre: this.n, nPost: this.n },
    ];
  }

  /** Float64 constants of the scan. */
  constants(): RecurrentConstants {
    const alpha = Math.exp(-this.dt / this.tauM);
    const beta = new Float64Array(this.n);
    for (let j = this.nLif; j < this.n; j++) beta[j] = this.adaptBeta;
    return {
      n: this.n,
      nIn: this.nIn,
      alpha,
      zeta: this.regularSpikeArrival ? 1 : 1 - alpha,
      rho: Math.exp(-this.dt / this.tauA),
      vTh: this.vTh,
      nRef: Math.round(this.tRef / this.dt),
      beta,
      surrogate: this.surrogate,
    };
  }

  /** Settings saved with the module. */
  override extras(): Record<string, unknown> {
    return {
      nIn: this.nIn, nLif: this.nLif, nAlif: this.nAlif, dt: this.dt, tauM: this.tauM, vTh: this.vTh, tRef: this.tRef,
      tauA: this.tauA, adaptBeta: this.adaptBeta, surrogate: this.surrogate, regularSpikeArrival: this.regularSpikeArrival,
    };
  }
}

/**
 * Copies user-given initial weights (checking length and finiteness) or draws them. The weights are
 * stored as float32, so a value is refused unless its float32 rounding is finite (|x| beyond
 * FLOAT32_MAX would be stored as ±∞).
 */
export function initWeights(param: string, given: ArrayLike<number> | undefined, size: number, draw: () => number): Float32Array {
  const out = new Float32Array(size);
  if (given === undefined) {
    for (let i = 0; i < size; i++) out[i] = draw();
    return out;
  }
  if (given.length !== size) throw new CinderArgumentError(param, `array of length ${given.length}`, `length ${size}`);
  for (let i = 0; i < size; i++) {
    const x = given[i]!;
    if (typeof x !== 'number' || !Number.isFinite(Math.fround(x))) throw new CinderArgumentError(`${param}[${i}]`, x, 'a number that is finite in float32 (|x| <= 3.4028234663852886e+38)');
    out[i] = x;
  }
  return out;
}
