/**
 * The constants of Inferno's quickstart network (Diehl & Cook-style competitive STDP on MNIST).
 * Times in ms, voltages in mV, dt = 1 ms.
 * @module
 */

/** All constants of the quickstart network. */
export const QUICKSTART = {
  /** Step (ms). */
  dt: 1,
  /** Input pixels. */
  nInputs: 784,
  /** Excitatory (and inhibitory) group shape. */
  shape: [10, 10] as const,
  /** Excitatory ALIF group. */
  exc: { restV: -65, resetV: -60, threshInfV: -52, refracT: 5, tauM: 100, tauAdapt: 1e7, adaptIncrement: 0.05, resistance: 1 },
  /** Inhibitory LIF group. */
  inh: { restV: -60, resetV: -45, threshV: -40, refracT: 2, tauM: 75, resistance: 1 },
  /** Charge per spike of the input → exc and inh → exc delta synapses. */
  excCharge: 100,
  /** Charge per spike of the exc → inh delta synapse. */
  inhCharge: 75,
  /** Upper end of the uniform initial input weights. */
  inputWeightMax: 0.3,
  /** exc → inh one-to-one weight. */
  excToInh: 22.5,
  /** inh → exc lateral weight (all but self). */
  inhToExc: -180,
  /** STDP learning rates and trace time constants. */
  stdp: { lrPost: 5e-4, lrPre: -5e-6, tauPost: 30, tauPre: 30 },
  /** L1 norm of each excitatory neuron's input weights after normalization (784 · 0.1). */
  normScale: 78.4,
  /** Upper weight bound of the multiplicative bounding. */
  weightMax: 1,
  /** Max-rate classifier decay. */
  classifierDecay: 1e-6,
  /**
   * Max-rate classifier weighting: Inferno's quickstart calls its classifier with the default
   * `proportional=True` (each neuron's rate weighted by its proportion for its assigned class).
   */
  classifierProportional: true,
  /** Poisson frequency of a white pixel (Hz). */
  frequency: 128,
  /**
   * How the encoder's spike trains start: `'event'`, as Inferno's HomogeneousPoissonEncoder (the
   * intervals are counted from a virtual spike at time 0, so no pixel spikes at step 0), rather
   * than Cinder's default stationary start.
   */
  encoderStart: 'event',
  /** Steps a digit is shown. */
  steps: 250,
} as const;
