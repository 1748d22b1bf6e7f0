/**
 * Voltage-gated STDP (livn's `StdpLinExp2Syn` / `StdpLinExp2SynInh`) on float32 arrays: the
 * parameters, their presets and checks, the drive D(v), and {@link VoltageStdpSites}, the per-site
 * learning signal with the per-synapse multiplicative weights. The event-driven CPU kernel of the
 * rule; the tfjs op path is `src/learn/trainers/voltage-stdp.ts` (same formulas, same discretisation).
 *
 * The rule (continuous form, livn's Brian2 port):
 *
 * - `sig_thr(v, h) = 1/(1 + s^{−(v − h)})`, `sig_sat(x) = 2/(1 + s^{−x}) − 1` (s = `slope`);
 * - excitatory gates `ltd = [v > θ_ltd]·sig_thr(v, h_ltd)`, `ltp = [v > θ_ltp]·sig_thr(v, h_ltp)`;
 *   the inhibitory variant inverts the gates (`v < θ`);
 * - `D(v) = sig_sat((−A_ltd·ltd + 2·A_ltp·ltp)/learningScale)`;
 * - `dL/dt = −L/τ_L + on·D(v)/(125 ms)`, `dI/dt = L/(1 ms)`;
 * - on a presynaptic spike of connection c: `w_c ← clip(w_c·(1 + I − I_c), w_min, w_max)`, `I_c ← I`
 *   (only while plasticity is on; off, w_c and I_c stay); enabling plasticity sets `I_c ← I`.
 *
 * Integration (both paths): the postsynaptic voltage is held over each step (zero-order hold), and
 * L and I are advanced by the exact solution of the linear system for that constant drive:
 * with α = e^{−dt/τ_L}, `I ← I + τ_L(1 − α)·L + on·D·τ_L(dt − τ_L(1 − α))/125`,
 * `L ← α·L + on·D·τ_L(1 − α)/125` (times in ms). The step uses the voltage at the end of the
 * neuron update of that step, then the step's presynaptic spikes sample I.
 *
 * Non-finite voltages (both paths): a NaN voltage gives D = NaN while plasticity is on, so L and I
 * of its site become NaN, and so does the weight of every synapse sampling that site at its next
 * presynaptic spike (the bounds do not replace NaN): the fault reaches the weights, where the
 * finite checks see it, instead of reading as closed gates. ±∞ are voltages like any other
 * (+∞ opens the excitatory gates with both sigmoids at 1). With plasticity off the voltage is not
 * read.
 *
 * Float32 details: L, I, w and I_c are stored as float32; each update is computed in double
 * precision and rounded once when stored; the coefficients are computed in double precision.
 * |L| < 1e-30 is stored as 0 (no float32 subnormals; the kernel only).
 * `s^{−x}` is evaluated as `exp(−x·ln s)`. The sites' loop interpolates D linearly in a table at
 * 0.01 mV over [−120, 60] mV, absolute error < 2e-9 for any parameters (with livn's defaults at
 * most 1.4e-9, about 2e-7 of max|D|, a few float32 ulps of D); cells containing a gate threshold,
 * cells where the line misses D at the midpoint by more than 1.5e-9 (steeper slopes: s = 10 missed
 * by up to 7e-7, s = 100 by 6e-6), and voltages outside the table, are evaluated exactly.
 * @module
 */
import { CinderArgumentError, checkFinite, checkPositive, describe } from '../../core/errors.js';

/** Parameters of the voltage-gated STDP rule (livn's RANGE parameters, in Cinder's naming). */
export interface VoltageStdpParams {
  /** A_ltp: potentiation amplitude (livn `A_ltp`, default 1). */
  aLtp: number;
  /** A_ltd: depression amplitude (livn `A_ltd`, default 1). */
  aLtd: number;
  /** θ_ltp (mV): the LTP gate opens above (excitatory) / below (inhibitory) it. */
  thetaLtp: number;
  /** θ_ltd (mV): the LTD gate opens above (excitatory) / below (inhibitory) it. */
  thetaLtd: number;
  /** h_ltp (mV): half point of the LTP sigmoid (livn `ltp_sigmoid_half`). */
  ltpHalf: number;
  /** h_ltd (mV): half point of the LTD sigmoid (livn `ltd_sigmoid_half`). */
  ltdHalf: number;
  /** s: base of the sigmoids (> 0, ≠ 1; livn `learning_slope`). */
  slope: number;
  /** livn's `learning_tau`: dimensionless divisor of the drive before saturation (> 0). */
  learningScale: number;
  /** τ_L (ms): decay of the learning signal L (livn's `learning_w` decay, 4 ms exc, 1 ms inh). */
  tauSignal: number;
  /** Lower weight bound w_min (≥ 0). */
  wMin: number;
  /** Upper weight bound w_max (> w_min). */
  wMax: number;
  /** Initial plastic weight w_init (in [w_min, w_max]). */
  wInit: number;
  /** Inverted gates (`v < θ`): the inhibitory variant (`StdpLinExp2SynInh`). */
  inhibitory: boolean;
}

/** Excitatory defaults (`StdpLinExp2Syn`, AMPA and NMDA). */
export const EXCITATORY_VOLTAGE_STDP: Readonly<VoltageStdpParams> = Object.freeze({
  aLtp: 1, aLtd: 1, thetaLtp: -45, thetaLtd: -60, ltpHalf: -40, ltdHalf: -55, slope: 1.3, learningScale: 20,
  tauSignal: 4, wMin: 1e-4, wMax: 5, wInit: 1, inhibitory: false,
});

/** Inhibitory defaults (`StdpLinExp2SynInh`, GABA_A): gates inverted. */
export const INHIBITORY_VOLTAGE_STDP: Readonly<VoltageStdpParams> = Object.freeze({
  aLtp: 1, aLtd: 1, thetaLtp: -77, thetaLtd: -70, ltpHalf: -80, ltdHalf: -73, slope: 1.2, learningScale: 20,
  tauSignal: 1, wMin: 1e-4, wMax: 5, wInit: 1, inhibitory: true,
});

/** The parameter names, in a fixed order (for error messages and overrides). */
export const VOLTAGE_STDP_KEYS: readonly (keyof VoltageStdpParams)[] = Object.freeze(Object.keys(EXCITATORY_VOLTAGE_STDP) as (keyof VoltageStdpParams)[]);

/** The preset of a variant. */
export function voltageStdpPreset(inhibitory: boolean): Readonly<VoltageStdpParams> {
  return inhibitory ? INHIBITORY_VOLTAGE_STDP : EXCITATORY_VOLTAGE_STDP;
}

/**
 * Checks a partial override (unknown keys and bad values throw, naming `where.key`) and returns
 * `base` with it applied. Nothing is modified.
 */
export function withVoltageStdpOverrides(base: Readonly<VoltageStdpParams>, overrides: unknown, where = 'params'): VoltageStdpParams {
  if (overrides === undefined || overrides === null) return { ...base };
  if (typeof overrides !== 'object' || Array.isArray(overrides)) throw new CinderArgumentError(where, overrides, 'an object of voltage-STDP parameters');
  for (const k of Object.keys(overrides)) {
    if (!(VOLTAGE_STDP_KEYS as readonly string[]).includes(k)) throw new CinderArgumentError(`${where} key`, k, `one of ${VOLTAGE_STDP_KEYS.join(', ')}`);
  }
  const p = { ...base, ...(overrides as Partial<VoltageStdpParams>) };
  checkVoltageStdpParams(p, where);
  return p;
}

/** Throws a {@link CinderArgumentError} naming `where.key` unless `p` is a valid parameter set. */
export function checkVoltageStdpParams(p: VoltageStdpParams, where = 'params'): void {
  for (const k of VOLTAGE_STDP_KEYS) {
    if (k === 'inhibitory') {
      if (typeof p.inhibitory !== 'boolean') throw new CinderArgumentError(`${where}.inhibitory`, p.inhibitory, 'a boolean');
    } else checkFinite(`${where}.${k}`, p[k]);
  }
  checkPositive(`${where}.slope`, p.slope);
  if (p.slope === 1) throw new CinderArgumentError(`${where}.slope`, 1, 'a base > 0 other than 1');
  checkPositive(`${where}.learningScale`, p.learningScale);
  checkPositive(`${where}.tauSignal`, p.tauSignal);
  if (p.wMin < 0) throw new CinderArgumentError(`${where}.wMin`, p.wMin, 'a number >= 0');
  if (!(p.wMax > p.wMin)) throw new CinderArgumentError(`${where}.wMax`, p.wMax, `a number > wMin = ${describe(p.wMin)}`);
  if (p.wInit < p.wMin || p.wInit > p.wMax) throw new CinderArgumentError(`${where}.wInit`, p.wInit, `a number in [wMin, wMax] = [${p.wMin}, ${p.wMax}]`);
}

/**
 * The drive D(v) of the rule (before the 1/125 ms factor), in double precision. A NaN voltage
 * gives NaN (not the 0 of closed gates: the fault propagates, see the module text).
 */
export function voltageStdpDrive(v: number, p: Readonly<VoltageStdpParams>, ln = Math.log(p.slope)): number {
  if (Number.isNaN(v)) return NaN;
  const ltdOpen = p.inhibitory ? v < p.thetaLtd : v > p.thetaLtd;
  const ltpOpen = p.inhibitory ? v < p.thetaLtp : v > p.thetaLtp;
  if (!ltdOpen && !ltpOpen) return 0;
  const ltd = ltdOpen ? 1 / (1 + Math.exp(-(v - p.ltdHalf) * ln)) : 0;
  const ltp = ltpOpen ? 1 / (1 + Math.exp(-(v - p.ltpHalf) * ln)) : 0;
  const x = (-p.aLtd * ltd + 2 * p.aLtp * ltp) / p.learningScale;
  return 2 / (1 + Math.exp(-x * ln)) - 1;
}

/** The zero-order-hold coefficients of one step of length `dt` (ms), see the module text. */
export interface VoltageStdpStep {
  /** α = e^{−dt/τ_L}. */
  decay: number;
  /** τ_L(1 − α): the integral of L over the step per unit of L at its start (ms). */
  signalToIntegral: number;
  /** τ_L(1 − α)/125: L's gain per unit of drive. */
  driveToSignal: number;
  /** τ_L(dt − τ_L(1 − α))/125: I's gain per unit of drive (ms). */
  driveToIntegral: number;
}

/** The step coefficients for `dt` (ms) and τ_L (ms). */
export function voltageStdpStep(dt: number, tauSignal: number): VoltageStdpStep {
  const decay = Math.exp(-dt / tauSignal);
  const oneMinus = -Math.expm1(-dt / tauSignal);
  return {
    decay,
    signalToIntegral: tauSignal * oneMinus,
    driveToSignal: (tauSignal * oneMinus) / 125,
    driveToIntegral: (tauSignal * (dt - tauSignal * oneMinus)) / 125,
  };
}

/** |L| below this is set to 0 (a float32 subnormal otherwise; slow, and 1e-30 is far below any effect). */
const TINY_SIGNAL = 1e-30;
const DRIVE_LO = -120;
const DRIVE_STEP = 0.01;
const DRIVE_INV = 1 / DRIVE_STEP;
const DRIVE_POINTS = 18000; // [−120, 60] mV
/**
 * A table cell whose linear interpolation misses D at its midpoint by more than this is evaluated
 * exactly (below the documented bound 2e-9: a margin for the maximum lying beside the midpoint).
 * With livn's defaults no cell misses by that much (at most 1.43e-9), so only the threshold cells
 * are exact there.
 */
const DRIVE_MID_TOL = 1.5e-9;

/**
 * Learning sites (one per postsynaptic neuron and plasticity group, e.g. per neuron for EXC)
 * and the plastic synapses sampling them. Sites hold L and I; synapses hold their weight w and the
 * integral I_c they last saw. `site[c]` maps synapse c to its site.
 */
export class VoltageStdpSites {
  /** The parameters in use (replace with {@link setParams}). */
  params: VoltageStdpParams;
  /** Learning signal L per site. */
  readonly signal: Float32Array;
  /** Integral I per site. */
  readonly integral: Float32Array;
  /** Plastic weight w per synapse. */
  readonly weight: Float32Array;
  /** I_c per synapse: the integral seen at its last presynaptic spike (or at enabling). */
  readonly lastIntegral: Float32Array;
  /** Site of each synapse. */
  readonly site: Int32Array;
  /** Plasticity on. */
  on = false;
  private coef: VoltageStdpStep;
  private lnSlope: number;
  private readonly table = new Float64Array(DRIVE_POINTS + 1);
  private readonly exactCell = new Uint8Array(DRIVE_POINTS);

  /**
   * @param nSites number of sites
   * @param site site of every synapse (values in [0, nSites))
   * @param dt step (ms)
   * @param params rule parameters (checked)
   */
  constructor(nSites: number, site: Int32Array, readonly dt: number, params: VoltageStdpParams) {
    checkVoltageStdpParams(params);
    checkPositive('dt', dt);
    if (!Number.isInteger(nSites) || nSites < 0) throw new CinderArgumentError('nSites', nSites, 'an integer >= 0');
    for (let c = 0; c < site.length; c++) {
      if (!(site[c]! >= 0 && site[c]! < nSites)) throw new CinderArgumentError(`site[${c}]`, site[c], `an index in [0, ${nSites})`);
    }
    this.params = { ...params };
    this.signal = new Float32Array(nSites);
    this.integral = new Float32Array(nSites);
    this.weight = new Float32Array(site.length).fill(params.wInit);
    this.lastIntegral = new Float32Array(site.length);
    this.site = site;
    this.coef = voltageStdpStep(dt, params.tauSignal);
    this.lnSlope = Math.log(params.slope);
    this.buildTable();
  }

  /** Replaces the parameters (checked first; nothing changes when they are invalid). */
  setParams(params: VoltageStdpParams): void {
    checkVoltageStdpParams(params);
    this.params = { ...params };
    this.coef = voltageStdpStep(this.dt, params.tauSignal);
    this.lnSlope = Math.log(params.slope);
    this.buildTable();
  }

  /** Turns plasticity on and sets every I_c ← I of its site. */
  enable(): void {
    this.on = true;
    const I = this.integral;
    const last = this.lastIntegral;
    const site = this.site;
    for (let c = 0; c < last.length; c++) last[c] = I[site[c]!]!;
  }

  /** Turns plasticity off: weights freeze (L decays, I keeps integrating). */
  disable(): void {
    this.on = false;
  }

  /**
   * Advances every site by one step; site j reads `v[j]` (the voltage at the end of the neuron
   * update of this step, held over the step). `v` needs at least one entry per site (checked: a
   * missing voltage would read as a closed gate, silently).
   */
  advance(v: ArrayLike<number>): void {
    if (!(v?.length >= this.signal.length)) throw new CinderArgumentError('v', v?.length ?? v, `at least ${this.signal.length} voltages (one per site)`);
    const L = this.signal;
    const I = this.integral;
    const { decay, signalToIntegral, driveToSignal, driveToIntegral } = this.coef;
    const p = this.params;
    const on = this.on;
    const tab = this.table;
    const exact = this.exactCell;
    // at or below both thresholds (excitatory) / at or above both (inhibitory) the gates are
    // closed: D = 0. NaN is not closed (its D is NaN) and +∞ (excitatory) opens both gates.
    const inhibitory = p.inhibitory;
    const closing = inhibitory ? Math.max(p.thetaLtd, p.thetaLtp) : Math.min(p.thetaLtd, p.thetaLtp);
    for (let j = 0; j < L.length; j++) {
      const l = L[j]!;
      let d = 0;
      const vj = v[j]!;
      if (on && !(inhibitory ? vj >= closing : vj <= closing)) {
        const u = (vj - DRIVE_LO) * DRIVE_INV;
        if (u >= 0 && u < DRIVE_POINTS) {
          const k = u | 0;
          if (exact[k]) d = voltageStdpDrive(vj, p, this.lnSlope);
          else {
            const a = tab[k]!;
            d = a + (u - k) * (tab[k + 1]! - a);
          }
        } else d = voltageStdpDrive(vj, p, this.lnSlope);
      }
      if (l === 0 && d === 0) continue;
      I[j] = I[j]! + signalToIntegral * l + driveToIntegral * d;
      const nl = decay * l + driveToSignal * d;
      L[j] = nl < TINY_SIGNAL && nl > -TINY_SIGNAL ? 0 : nl;
    }
  }

  private buildTable(): void {
    const p = this.params;
    const gates = (x: number) => (p.inhibitory ? (x < p.thetaLtd ? 1 : 0) + (x < p.thetaLtp ? 2 : 0) : (x > p.thetaLtd ? 1 : 0) + (x > p.thetaLtp ? 2 : 0));
    for (let k = 0; k <= DRIVE_POINTS; k++) this.table[k] = voltageStdpDrive(DRIVE_LO + k * DRIVE_STEP, p, this.lnSlope);
    for (let k = 0; k < DRIVE_POINTS; k++) {
      const a = DRIVE_LO + k * DRIVE_STEP;
      // a cell whose ends differ in gating (or touch a threshold) is evaluated exactly
      const t = [p.thetaLtd, p.thetaLtp].some((th) => th >= a - 1e-9 && th <= a + DRIVE_STEP + 1e-9);
      // and so is one where the line misses D at the cell's midpoint by more than DRIVE_MID_TOL:
      // the error of linear interpolation, h²/8·|D''| where D is smooth, peaks there (a steeper
      // slope than livn's 1.3 bends D more: s = 10 missed by 7e-7, s = 100 by 6e-6)
      const mid = voltageStdpDrive(a + 0.5 * DRIVE_STEP, p, this.lnSlope);
      const off = Math.abs(0.5 * (this.table[k]! + this.table[k + 1]!) - mid) > DRIVE_MID_TOL;
      this.exactCell[k] = t || off || gates(a) !== gates(a + DRIVE_STEP) ? 1 : 0;
    }
  }

  /** A presynaptic spike of synapse c: while on, `w ← clip(w(1 + I − I_c))`, `I_c ← I`. Returns w. */
  pre(c: number): number {
    if (!this.on) return this.weight[c]!;
    const i = this.integral[this.site[c]!]!;
    const p = this.params;
    let w = this.weight[c]! * (1 + (i - this.lastIntegral[c]!));
    w = w < p.wMin ? p.wMin : w > p.wMax ? p.wMax : w;
    this.weight[c] = w;
    this.lastIntegral[c] = i;
    return this.weight[c]!;
  }
}
