/**
 * Parameters of Song, Miller & Abbott (2000): {@link songParams} as in Brian2's example (1000
 * Poisson inputs at 15 Hz onto one conductance-based LIF neuron with additive STDP), and
 * {@link songPaperParams} as in the paper's Methods (adds 200 fixed inhibitory inputs; see
 * docs/examples.md, "song2000 — paper parameters", for each number's source). Times in ms,
 * voltages in mV; conductances are dimensionless (in units of the leak conductance), so
 * `τm dv/dt = El − v + ge·(Ee − v) + gi·(Ei − v)` (gi = 0 without inhibitory inputs).
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
  /** Number of fixed inhibitory Poisson inputs (0 in Brian2's example, 200 in the paper). */
  readonly nInhib: number;
  /** Inhibitory input rate (Hz). */
  readonly inhibRate: number;
  /** Peak conductance of one inhibitory input, ḡin (added to gi per inhibitory spike). */
  readonly gin: number;
  /** Inhibitory reversal potential Ei (mV). */
  readonly Ei: number;
  /** Inhibitory conductance time constant τi (ms). */
  readonly taui: number;
  /** Initial excitatory weights: `uniform` in [0, gmax) (Brian2's example) or all `gmax` (the paper's Fig. 2). */
  readonly initialWeights: 'uniform' | 'gmax';
  /**
   * True: a spike adds its weight to one conductance ge, which then only decays (the paper's
   * Methods and Brian2's `ge += w`: a later weight change does not alter conductance already in
   * flight). False: Cinder's module form `ge = Σ_i w_i·g_i` with per-input g_i, where a weight
   * change rescales input i's conductance in flight (the `tfjs` engine's discretisation).
   */
  readonly frozenJumps: boolean;
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
    nInhib: 0,
    inhibRate: 10,
    gin: 0,
    Ei: -70,
    taui: 5,
    initialWeights: 'uniform',
    frozenJumps: false,
    ...overrides,
    gmax,
    taupre,
    taupost,
    dApre,
    dApost: overrides.dApost ?? ((-dApre * taupre) / taupost) * 1.05,
  };
}

/**
 * The paper's Methods (Song, Miller & Abbott 2000, Nat. Neurosci. 3:919): τm 20 ms, Vrest = El
 * −70 mV, Eex 0 mV, Ein −70 mV, threshold −54 mV, reset −60 mV; τex = τin 5 ms; ḡin 0.05;
 * ḡmax 0.015; τ+ = τ− 20 ms; A+ = 0.005 and A−/A+ = 1.05, both in units of ḡmax (so
 * dApre = 0.005·ḡmax = 7.5e−5 and dApost = −1.05·dApre); 1000 excitatory and 200 inhibitory
 * synapses, inhibitory Poisson inputs at 10 Hz; all excitatory peak conductances start at ḡmax
 * (Fig. 2). Not given by the paper and kept from {@link songParams}: the excitatory rate (the
 * paper varies it, 10 Hz in Figs 2a, 2e and 5; pass `rate`), the step dt 0.1 ms and the
 * integration scheme.
 */
export function songPaperParams(overrides: Partial<SongParams> = {}): SongParams {
  const gmax = overrides.gmax ?? 0.015;
  const dApre = overrides.dApre ?? 0.005 * gmax;
  return songParams({
    taum: 20,
    El: -70,
    Ee: 0,
    vt: -54,
    vr: -60,
    taue: 5,
    taupre: 20,
    taupost: 20,
    nInhib: 200,
    inhibRate: 10,
    gin: 0.05,
    Ei: -70,
    taui: 5,
    initialWeights: 'gmax',
    frozenJumps: true,
    ...overrides,
    gmax,
    dApre,
    dApost: overrides.dApost ?? -1.05 * dApre,
  });
}
