/**
 * Options and presets of `cinder lateral-line`: the original's parameters (its `NetworkParams`
 * defaults, flags in the same kebab-case) and its modes `ll_thesis` and `ll_fast`, plus `baseline`
 * (ll_thesis with the published flags) and `tiny` (CI).
 * @module
 */
import type { OptionSpec, Params } from '../../src/cli/example.js';
import { CinderArgumentError } from '../../src/core/errors.js';

const f = (name: string, d: number, description: string, min?: number, max?: number): OptionSpec => ({ name, type: 'float', default: d, description, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
const i = (name: string, d: number, description: string, min?: number, max?: number): OptionSpec => ({ name, type: 'int', default: d, description, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
const b = (name: string, d: boolean, description: string): OptionSpec => ({ name, type: 'bool', default: d, description });

/** The options (defaults = the original's `NetworkParams`). */
export const LATERAL_LINE_OPTIONS: readonly OptionSpec[] = [
  i('multiSeed', 1, 'number of seeds, simulated as one batched network', 1, 1000),
  i('seedStart', -1, 'first seed (seeds seed-start … seed-start + N − 1); -1: the --seed value', -1),
  { name: 'saveTag', type: 'string', default: 'latest', description: 'artifact name tag: artifacts/<save-tag>_seed_<seed>.npz' },
  i('nLl', 100, 'LL afferents (neuromasts)', 2, 10000),
  i('nMon', 3200, 'MON neurons', 1, 1_000_000),
  i('nTs', 300, 'TS neurons', 2, 1_000_000),
  f('dtS', 0.001, 'integration step (s)', 1e-5, 0.01),
  f('trialDurationS', 1.2, 'training trial length (s)', 0.001, 1000),
  i('nTrainingTrials', 200, 'training trials', 0, 10_000_000),
  i('checkpointTrials', 10, 'record weight statistics (and TS rate) every N trials', 1),
  i('pvEvalEveryCheckpoints', 2, 'PV metrics on the recent training window every N checkpoints', 1),
  i('checkpointSaveEveryN', 10, 'write artifacts/mid_checkpoint.npz every N checkpoints', 1),
  f('trainingPositionHoldS', 0.05, 'hold time of each training snapshot (s)', 1e-5),
  f('trainingNoiseEarly', 0, 'training noise scale (× σ 10 Hz) before the switch', 0),
  f('trainingNoiseLate', 0, 'training noise scale after the switch', 0),
  f('trainingNoiseSwitch', 0.5, 'training fraction where the noise switches early → late', 0, 1),
  f('testLlNoiseHz', 0, 'extra i.i.d. Gaussian noise SD on test LL rates (Hz)', 0),
  b('trainingOrderedSweeps', true, 'training positions sweep forward then backward (false: shuffled blocks)'),
  b('trainingFixedDistance', true, 'training distance fixed at 1.5 cm (false: drawn, see --training-distance-min/max-cm)'),
  b('trainingBidirectional', false, 'alternate the sphere direction every snapshot'),
  f('trainingDistanceMinCm', 0.8, 'minimum training distance (cm)', 0.01),
  f('trainingDistanceMaxCm', 1.8, 'maximum training distance (cm)', 0.01),
  f('speedCmS', 5, 'sphere speed (cm/s)', 1e-6),
  f('distanceCm', 1.5, 'test sweep distance (cm)', 0.01),
  f('direction', 1, 'test sweep direction (>= 0: +x, < 0: −x)'),
  f('sphereRadiusCm', 0.5, 'sphere radius (cm)', 1e-6),
  { name: 'llRateMode', type: 'string', default: 'raw', choices: ['raw', 'modulation'], description: "LL rates as computed ('raw') or minus r0 = 40 Hz ('modulation')" },
  f('llBaselineSubtractHz', 0, 'baseline subtracted from LL rates (Hz)', 0),
  f('llRateGain', 1, 'gain on LL rates', 0),
  f('llBodyLengthCm', 4, 'length of the lateral line (cm)', 0.01),
  f('testPathCm', 4, 'test sweep path length (cm)', 0.001),
  f('evalXMinCm', 0, 'PV evaluation window start (cm; used when < --eval-x-max-cm)'),
  f('evalXMaxCm', 0, 'PV evaluation window end (cm)'),
  f('vthMv', -54, 'threshold (mV)'),
  f('vresetMv', -60, 'reset (mV)'),
  f('elMv', -74, 'leak potential (mV)'),
  f('tauRefMs', 2, 'refractory period (ms)', 0),
  f('tauMMs', 10, 'membrane time constant (ms)', 1e-3),
  f('tauSMs', 2, 'synaptic time constant (ms)', 1e-3),
  f('pLlToMon', 0.03, 'LL→MON connection probability when --ll-mon-topo <= 0', 0, 1),
  i('llMonInDegree', 3, 'LL inputs per MON cell (topographic mode)', 1),
  f('llMonSigma', 15, 'LL→MON topographic spread (LL indices)', 0),
  f('llMonTopo', 0.01, 'fraction of LL→MON inputs drawn topographically (<= 0: random with --p-ll-to-mon)', -1, 1),
  f('llMonWMeanMv', 7, 'fixed LL→MON weight mean (mV)', 0),
  f('llMonWJitterMv', 3, 'fixed LL→MON weight jitter U(0, j) (mV)', 0),
  b('useLlMonStdp', false, 'multiplicative STDP on LL→MON'),
  f('llMonApre', 0.01, 'LL→MON pre trace jump (LTP)'),
  f('llMonApost', -0.0105, 'LL→MON post trace jump (LTD, negative)'),
  f('llMonWmaxMv', 20, 'LL→MON w_max (mV)', 0),
  f('llMonWInitMv', 10, 'plastic LL→MON initial weight (mV)', 0),
  f('llMonWJitterStdpMv', 2, 'plastic LL→MON initial jitter U(0, j) (mV)', 0),
  f('llMonHomeoEta', 0, 'LL→MON homeostatic rate', 0),
  i('llMonHomeoEveryTrials', 10, 'LL→MON homeostasis every N trials', 1),
  i('monTsOutDegree', 16, 'TS targets per MON cell', 1),
  f('monTsSigma', 120, 'MON→TS topographic spread (TS indices; >= n_ts: random)', 0),
  f('monTsTopo', 0.05, 'fraction of MON→TS targets drawn topographically', -1, 1),
  f('monTsApre', 0.02, 'MON→TS pre trace jump (LTP)'),
  f('monTsApost', -0.021, 'MON→TS post trace jump (LTD, negative)'),
  f('monTsWmax', 0.045, 'MON→TS w_max (dimensionless)', 0),
  f('monTsWInit', 0.02, 'MON→TS initial weight', 0),
  f('monTsWJitter', 0.01, 'MON→TS initial jitter U(0, j)', 0),
  f('monTsHomeoEta', 0, 'MON→TS homeostatic rate', 0),
  i('monTsHomeoEveryTrials', 10, 'MON→TS homeostasis every N trials', 1),
  f('monTsGainMv', 30, 'EPSP jump per unit MON→TS weight (mV)', 0),
  b('keepMonTsStdpDuringTest', false, 'keep MON→TS STDP on during the test'),
  b('disableAllStdp', false, 'no-learning control: all STDP amplitudes 0'),
  f('monGlobalInhP', 0.06, 'MON → MON inhibitory cell connection probability', 0, 1),
  f('monGlobalInhDriveMv', 0.5, 'MON → inhibitory cell jump (mV)', 0),
  f('monGlobalInhMv', 1.4, 'inhibitory cell → every MON jump of g_i (mV)', 0),
  i('tsLateralRadius', 14, 'TS ring lateral inhibition radius (TS indices)', 1),
  f('tsLocalInhPeakMv', 1, 'TS lateral inhibition peak (mV)', 0),
  b('useTsFeedbackInh', false, 'TS global feedback inhibition'),
  f('tsFeedbackP', 0.12, 'TS → TS inhibitory cell connection probability', 0, 1),
  f('tsFeedbackDriveMv', 0.35, 'TS → inhibitory cell jump (mV)', 0),
  f('tsFeedbackInhMv', 0.8, 'inhibitory cell → every TS jump of g_i (mV)', 0),
  f('bgRateMonHz', 22, 'MON background Poisson rate (Hz)', 0, 1000),
  f('bgRateTsHz', 12, 'TS background Poisson rate (Hz)', 0, 1000),
  f('bgWMonMv', 1.5, 'MON background jump (mV)', 0),
  f('bgWTsMv', 0.6, 'TS background jump (mV)', 0),
  i('batchLanes', 0, 'lanes simulated per pass (0: all seeds in one batch)', 0),
];

/** `ll_thesis` (the original's `apply_model_mode`). */
const LL_THESIS: Partial<Params> = {
  nLl: 100, nMon: 3200, nTs: 300, nTrainingTrials: 1000, trialDurationS: 1.2, checkpointTrials: 5,
  monTsApre: 0.01, monTsApost: -0.006, monTsWmax: 0.028, monTsWInit: 0.02, monTsWJitter: 0.005,
  llMonWMeanMv: 11.5, llMonInDegree: 10, llMonTopo: 0.08, monTsTopo: 0.08, monTsOutDegree: 16, monTsSigma: 10,
  monTsGainMv: 72, monGlobalInhP: 0.03, monGlobalInhMv: 1.15, tsLateralRadius: 18, tsLocalInhPeakMv: 0.9,
  useTsFeedbackInh: true, tsFeedbackP: 0.08, tsFeedbackDriveMv: 0.25, tsFeedbackInhMv: 0.2,
  bgRateMonHz: 22, bgRateTsHz: 20, bgWTsMv: 0.85, trainingNoiseEarly: 0, trainingNoiseLate: 0,
  trainingBidirectional: false, trainingFixedDistance: false, trainingDistanceMinCm: 0.8, trainingDistanceMaxCm: 0.8,
  speedCmS: 5, testPathCm: 5, distanceCm: 0.8,
};

/** The published baseline's flags on top of ll_thesis (reference Part B.7). */
export const BASELINE_FLAGS: Partial<Params> = {
  useLlMonStdp: true, llMonTopo: 0.2, monTsTopo: 0.2, llMonInDegree: 10, llMonWInitMv: 10, llMonWJitterStdpMv: 8,
  llMonApre: 0.01, llMonApost: -0.0105, llMonWmaxMv: 20, llMonHomeoEta: 0.005, monTsHomeoEta: 0.001,
  monTsGainMv: 220, tsLocalInhPeakMv: 1.5, bgRateMonHz: 18, monGlobalInhMv: 1.8, nTrainingTrials: 10000,
  trainingDistanceMinCm: 0.8, trainingDistanceMaxCm: 0.8,
};

/** Presets selected with --mode. */
export const LATERAL_LINE_PRESETS: Record<string, Partial<Params>> = {
  ll_thesis: LL_THESIS,
  baseline: { ...LL_THESIS, ...BASELINE_FLAGS },
  ll_fast: { nMon: 800, nTs: 80, nTrainingTrials: 40, trialDurationS: 0.8, checkpointTrials: 10 },
  // the regression test's recipe (ll_fast + the baseline flags) on a small network, a few short trials
  tiny: {
    ...BASELINE_FLAGS, nMon: 400, nTs: 40, nTrainingTrials: 4, trialDurationS: 0.4, checkpointTrials: 2, pvEvalEveryCheckpoints: 1,
    checkpointSaveEveryN: 1, monTsSigma: 5, tsLateralRadius: 4,
  },
};

const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Checks the combinations single flags cannot (called by the CLI before anything is written).
 * @throws CinderArgumentError naming the flag
 */
export function validateLateralLine(p: Params): void {
  if (typeof p.saveTag !== 'string' || !TAG_RE.test(p.saveTag) || p.saveTag.includes('..')) throw new CinderArgumentError('--save-tag', p.saveTag, 'letters, digits, ".", "_" and "-" (no slashes)');
  if (Number(p.trainingDistanceMinCm) > Number(p.trainingDistanceMaxCm)) throw new CinderArgumentError('--training-distance-min-cm', p.trainingDistanceMinCm, `a distance <= --training-distance-max-cm (${p.trainingDistanceMaxCm})`);
  if (Number(p.evalXMinCm) > Number(p.evalXMaxCm)) throw new CinderArgumentError('--eval-x-min-cm', p.evalXMinCm, `a position <= --eval-x-max-cm (${p.evalXMaxCm}); equal values (default 0, 0) mean no window`);
  // an empty window other than the defaults' (0, 0) was taken as "no window" and the whole sweep
  // evaluated; the original refuses max <= min ("--eval-x-max must be greater than --eval-x-min")
  if (Number(p.evalXMinCm) === Number(p.evalXMaxCm) && Number(p.evalXMinCm) !== 0) throw new CinderArgumentError('--eval-x-max-cm', p.evalXMaxCm, `a position > --eval-x-min-cm (${p.evalXMinCm}) (an empty window; both 0, the defaults, mean no window)`);
  if (Number(p.vresetMv) >= Number(p.vthMv)) throw new CinderArgumentError('--vreset-mv', p.vresetMv, `a reset below --vth-mv (${p.vthMv})`);
  const trialSteps = Math.round(Number(p.trialDurationS) / Number(p.dtS));
  if (trialSteps < 1) throw new CinderArgumentError('--trial-duration-s', p.trialDurationS, `at least one step of --dt-s (${p.dtS})`);
  // a trial is a whole number of steps (Brian2 would round a fractional one up, Cinder to the nearest: refused rather than either)
  const ratio = Number(p.trialDurationS) / Number(p.dtS);
  if (Math.abs(ratio - trialSteps) > 1e-9 * trialSteps) throw new CinderArgumentError('--trial-duration-s', p.trialDurationS, `a whole number of --dt-s steps (${p.dtS} s; got ${ratio} steps)`);
  const testSteps = Number(p.testPathCm) / Number(p.speedCmS) / Number(p.dtS);
  if (testSteps < 1) throw new CinderArgumentError('--test-path-cm', p.testPathCm, `a path of at least one step at --speed-cm-s ${p.speedCmS}`);
  if (testSteps > 1e7) throw new CinderArgumentError('--test-path-cm', p.testPathCm, 'a test of at most 10^7 steps');
  const maxRate = 1000 / (Number(p.dtS) * 1000);
  for (const k of ['bgRateMonHz', 'bgRateTsHz'] as const) if (Number(p[k]) > maxRate) throw new CinderArgumentError(k === 'bgRateMonHz' ? '--bg-rate-mon-hz' : '--bg-rate-ts-hz', p[k], `a rate <= 1/dt = ${maxRate} Hz`);
  if (Number(p.monTsWInit) + Number(p.monTsWJitter) < 0) throw new CinderArgumentError('--mon-ts-w-init', p.monTsWInit, 'non-negative initial weights');
  const nSeeds = Number(p.multiSeed);
  const lanes = Number(p.batchLanes);
  if (lanes > nSeeds) throw new CinderArgumentError('--batch-lanes', lanes, `at most --multi-seed (${nSeeds}) lanes, or 0`);
  const synapses = Number(p.nMon) * (Number(p.monTsOutDegree) + Number(p.llMonInDegree)) * (lanes || nSeeds);
  if (synapses > 4e8) throw new CinderArgumentError('--multi-seed', nSeeds, `fewer seeds (or --batch-lanes): ${synapses} synapses in one batch is more than 4e8`);
}


/** Defaults < preset `mode` < `flags` (no validation; for benches and tests). */
export function lateralLineParams(mode: string, flags: Partial<Params> = {}): Params {
  const out: Params = {};
  for (const o of LATERAL_LINE_OPTIONS) out[o.name] = o.default;
  return Object.assign(out, LATERAL_LINE_PRESETS[mode] ?? {}, flags) as Params;
}
