/**
 * Parameters of Song, Miller & Abbott (2000) as in Brian2's example: 1000 Poisson inputs at 15 Hz
 * onto one conductance-based LIF neuron with additive STDP. Times in ms, voltages in mV; the
 * conductance is dimensionless (relative to the leak), so `τm dv/dt = ge·(Ee − v) + El − v`.
 * @module
 */

/** The model constants. */
export interface SongParams {
  /** Number of Poisson inputs. */
  readonly nInputs: number;
  /** Input rate (Hz). */
  readonly rate: number;
  /** Membrane time constant τm (ms). */
  readonly taum: number;
  /** Excitatory reversal potential Ee (mV). */
  readonly Ee: number;
  /** Threshold vt (mV). */
  readonly vt: number;
  /** Reset vr (mV). */
  readonly vr: number;
  /** Leak reversal El (mV). */
  readonly El: number;
  /** Conductance time constant τe (ms). */
  readonly taue: number;
  /** Maximum weight gmax. */
  readonly gmax: number;
  /** Presynaptic trace time constant (ms). */
  readonly taupre: number;
  /** Postsynaptic trace time constant (ms). */
  readonly taupost: number;
  /** Potentiation per pair, dApre = 0.01·gmax. */
  readonly dApre: number;
  /** Depression per pair, dApost = −1.05·dApre·τpre/τpost. */
  readonly dApost: number;
  /** Step (ms). */
  readonly dt: number;
}

/** Brian2's values. */
export function songParams(overrides: Partial<SongParams> = {}): SongParams {
  const gmax = overrides.gmax ?? 0.01;
  const taupre = overrides.taupre ?? 20;
  const taupost = overrides.taupost ?? 20;
  const dApre = overrides.dApre ?? 0.01 * gmax;
  return {
    nInputs: 1000,
    rate: 15,
    taum: 10,
    Ee: 0,
    vt: -54,
    vr: -60,
    El: -74,
    taue: 5,
    dt: 0.1,
    ...overrides,
    gmax,
    taupre,
    taupost,
    dApre,
    dApost: overrides.dApost ?? ((-dApre * taupre) / taupost) * 1.05,
  };
}
