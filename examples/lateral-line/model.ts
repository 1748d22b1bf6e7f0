/**
 * The lateral-line network (LL → MON → TS with inhibition, background and plasticity) on the
 * batched event-driven engine: one lane per seed, each with its own connectivity, initial state,
 * stimulus noise and random streams, all simulated as one {@link EventNetwork}.
 *
 * Per seed s (streams keyed by s as the original keys numpy's generators):
 * - LL→MON: fixed in-degree k, round(k·topo) sources from N(p·(n_ll − 1), σ_ll) rounded and clipped,
 *   the rest uniform (topo ≤ 0: each pair with probability p_ll_to_mon); weights w_mean + jitter·U
 *   (fixed) or w_init + jitter_stdp·U (multiplicative STDP, τ 20 ms).
 * - MON→TS: fixed out-degree, the same scheme around p·(n_ts − 1) with σ_ts (uniform when
 *   σ_ts ≥ n_ts); additive STDP (τ 20 ms), delivered as gain·w mV.
 * - Background: one Poisson input per MON and TS cell (rate × jump onto g_e).
 * - MON global inhibition (MON → one LIF cell with probability p; cell → all MON g_i), TS ring
 *   lateral inhibition peak·(1 − d/R) for 0 < d ≤ R, optional TS feedback inhibition.
 * - v(0) = E_l + 2 mV·U for MON and TS, E_l for the inhibitory cells.
 * - Homeostasis every N trials (after the trial): LL→MON towards the mean initial incoming sum,
 *   MON→TS towards the current mean (see {@link homeostaticScale}).
 * @module
 */
import type { Params } from '../../src/cli/example.js';
import {
  buildProjectionLane, EventNetwork, homeostaticScale, incomingSums, LaneRng, mixSeed,
  type EventGroup, type EventProjection, type LifParams, type ProjectionLane,
} from '../../src/kernels/js/event-network.js';
import { randomSynapses, ringInhibition, topographicSynapses } from '../../src/neural/connections/sparse-topology.js';
import { STIMULUS, TrainingStream, testSweep, type RatePreprocess, type StimulusConstants, type TestSweep } from './stimulus.js';

/** The resolved model parameters (from the CLI params). */
export interface ModelParams {
  nLl: number;
  nMon: number;
  nTs: number;
  dtMs: number;
  lif: LifParams;
  p: Params;
}

/** Model parameters from resolved CLI params. */
export function modelParams(p: Params): ModelParams {
  return {
    nLl: Number(p.nLl), nMon: Number(p.nMon), nTs: Number(p.nTs), dtMs: Number(p.dtS) * 1000,
    lif: { el: Number(p.elMv), vThreshold: Number(p.vthMv), vReset: Number(p.vresetMv), tauM: Number(p.tauMMs), tauS: Number(p.tauSMs), tauRef: Number(p.tauRefMs) },
    p,
  };
}

/** Rate preprocessing from the params. */
export function preprocessOf(p: Params, c: StimulusConstants = STIMULUS): RatePreprocess {
  return { subtractHz: Math.max(0, Number(p.llBaselineSubtractHz)) + (p.llRateMode === 'modulation' ? c.r0Hz : 0), gain: Math.max(0, Number(p.llRateGain)) };
}

/** Stimulus constants with the params' body length and sphere radius. */
export function constantsOf(p: Params): StimulusConstants {
  return { ...STIMULUS, lengthCm: Number(p.llBodyLengthCm), sphereRadiusCm: Number(p.sphereRadiusCm) };
}

/** The batched lateral-line network for a list of seeds. */
export class LateralLineModel {
  readonly net: EventNetwork;
  readonly ll: EventGroup;
  readonly mon: EventGroup;
  readonly ts: EventGroup;
  readonly monInh: EventGroup;
  readonly tsInh: EventGroup;
  readonly llMon: EventProjection;
  readonly monTs: EventProjection;
  readonly streams: TrainingStream[];
  /** LL→MON homeostasis target per lane (mean initial incoming sum, mV). */
  readonly llMonTarget: Float64Array;
  readonly trialSteps: number;
  readonly totalTrainSteps: number;
  private readonly p: Params;

  constructor(readonly mp: ModelParams, readonly seeds: readonly number[]) {
    const p = mp.p;
    this.p = p;
    const B = seeds.length;
    const { nLl, nMon, nTs, dtMs } = mp;
    this.net = new EventNetwork(B, dtMs, seeds.map((s) => s + 12345));
    const net = this.net;
    this.ll = net.addRateInput('LL', nLl);
    this.mon = net.addLif('MON', nMon, mp.lif);
    this.ts = net.addLif('TS', nTs, mp.lif);
    this.monInh = net.addLif('MON inhibitory cell', 1, mp.lif);
    this.tsInh = net.addLif('TS inhibitory cell', 1, mp.lif);
    const bgMon = net.addPoisson('MON background', nMon, Number(p.bgRateMonHz));
    const bgTs = net.addPoisson('TS background', nTs, Number(p.bgRateTsHz));
    const stdpOn = !p.disableAllStdp;
    const useLlStdp = Boolean(p.useLlMonStdp);
    const llLanes: ProjectionLane[] = [];
    const mtLanes: ProjectionLane[] = [];
    const bgMonLanes: ProjectionLane[] = [];
    const bgTsLanes: ProjectionLane[] = [];
    const toInhLanes: ProjectionLane[] = [];
    const inhMonLanes: ProjectionLane[] = [];
    const latLanes: ProjectionLane[] = [];
    const tsToInhLanes: ProjectionLane[] = [];
    const inhTsLanes: ProjectionLane[] = [];
    this.llMonTarget = new Float64Array(B);
    // ring lateral inhibition (same in every lane)
    const lat = ringInhibition(nTs, Number(p.tsLateralRadius), Number(p.tsLocalInhPeakMv));
    const identity = (n: number): Int32Array => Int32Array.from({ length: n }, (_, k) => k);
    const zeros = (n: number): Int32Array => new Int32Array(n);
    for (let b = 0; b < B; b++) {
      const seed = seeds[b]!;
      // LL→MON (numpy stream seed + 31 in the original)
      const rLl = new LaneRng(mixSeed(seed + 31, 1));
      const llPairs = topographicSynapses(nLl, nMon, {
        fixed: 'in', degree: Number(p.llMonInDegree), topo: Number(p.llMonTopo), sigma: Number(p.llMonSigma), fallbackP: Number(p.pLlToMon),
      }, rLl);
      const rW = new LaneRng(mixSeed(seed + 12345, 2));
      const llW = new Float32Array(llPairs.pre.length);
      const w0 = useLlStdp ? Number(p.llMonWInitMv) : Number(p.llMonWMeanMv);
      const wj = useLlStdp ? Number(p.llMonWJitterStdpMv) : Number(p.llMonWJitterMv);
      for (let s = 0; s < llW.length; s++) llW[s] = w0 + wj * rW.uniform();
      const llLane = buildProjectionLane(llPairs.pre, llPairs.post, llW, nLl, nMon, useLlStdp);
      llLanes.push(llLane);
      if (useLlStdp) {
        const sums = incomingSums(llLane, nMon);
        let s = 0;
        let c = 0;
        for (let m = 0; m < nMon; m++) if (sums[m]! > 0) {
          s += sums[m]!;
          c++;
        }
        this.llMonTarget[b] = c > 0 ? s / c : 0;
      }
      // MON→TS (numpy stream seed in the original)
      const rMt = new LaneRng(mixSeed(seed, 3));
      const mt = topographicSynapses(nMon, nTs, { fixed: 'out', degree: Number(p.monTsOutDegree), topo: Number(p.monTsTopo), sigma: Number(p.monTsSigma), fallback: 'uniform' }, rMt);
      const mtW = new Float32Array(mt.pre.length);
      for (let s = 0; s < mtW.length; s++) mtW[s] = Number(p.monTsWInit) + Number(p.monTsWJitter) * rW.uniform();
      mtLanes.push(buildProjectionLane(mt.pre, mt.post, mtW, nMon, nTs, true, 'post'));
      // background, one-to-one
      bgMonLanes.push(buildProjectionLane(identity(nMon), identity(nMon), new Float32Array(nMon).fill(Number(p.bgWMonMv)), nMon, nMon, false));
      bgTsLanes.push(buildProjectionLane(identity(nTs), identity(nTs), new Float32Array(nTs).fill(Number(p.bgWTsMv)), nTs, nTs, false));
      // MON global inhibition
      const rInh = new LaneRng(mixSeed(seed + 12345, 4));
      const toInh = randomSynapses(nMon, 1, Number(p.monGlobalInhP), rInh);
      toInhLanes.push(buildProjectionLane(toInh.pre, toInh.post, new Float32Array(toInh.pre.length).fill(Number(p.monGlobalInhDriveMv)), nMon, 1, false));
      inhMonLanes.push(buildProjectionLane(zeros(nMon), identity(nMon), new Float32Array(nMon).fill(Number(p.monGlobalInhMv)), 1, nMon, false));
      latLanes.push(buildProjectionLane(lat.pre, lat.post, lat.weight!, nTs, nTs, false));
      if (p.useTsFeedbackInh) {
        const tsInh = randomSynapses(nTs, 1, Math.min(1, Math.max(0, Number(p.tsFeedbackP))), rInh);
        tsToInhLanes.push(buildProjectionLane(tsInh.pre, tsInh.post, new Float32Array(tsInh.pre.length).fill(Number(p.tsFeedbackDriveMv)), nTs, 1, false));
        inhTsLanes.push(buildProjectionLane(zeros(nTs), identity(nTs), new Float32Array(nTs).fill(Math.max(0, Number(p.tsFeedbackInhMv))), 1, nTs, false));
      }
      // initial potentials
      const rV = new LaneRng(mixSeed(seed + 12345, 5));
      for (let m = 0; m < nMon; m++) this.mon.v[b * nMon + m] = mp.lif.el + 2 * rV.uniform();
      for (let j = 0; j < nTs; j++) this.ts.v[b * nTs + j] = mp.lif.el + 2 * rV.uniform();
    }
    this.llMon = net.addProjection('LL→MON', this.ll, this.mon, 'ge', llLanes, useLlStdp ? {
      stdp: { dependence: 'multiplicative', tauPre: 20, tauPost: 20, aPre: stdpOn ? Number(p.llMonApre) : 0, aPost: stdpOn ? Number(p.llMonApost) : 0, wMax: Number(p.llMonWmaxMv) },
    } : {});
    this.monTs = net.addProjection('MON→TS', this.mon, this.ts, 'ge', mtLanes, {
      scale: Number(p.monTsGainMv),
      stdp: { dependence: 'additive', tauPre: 20, tauPost: 20, aPre: stdpOn ? Number(p.monTsApre) : 0, aPost: stdpOn ? Number(p.monTsApost) : 0, wMax: Number(p.monTsWmax) },
    });
    net.addProjection('MON background', bgMon, this.mon, 'ge', bgMonLanes);
    net.addProjection('TS background', bgTs, this.ts, 'ge', bgTsLanes);
    net.addProjection('MON→inhibitory cell', this.mon, this.monInh, 'ge', toInhLanes);
    net.addProjection('inhibitory cell→MON', this.monInh, this.mon, 'gi', inhMonLanes);
    net.addProjection('TS lateral', this.ts, this.ts, 'gi', latLanes);
    if (p.useTsFeedbackInh) {
      net.addProjection('TS→inhibitory cell', this.ts, this.tsInh, 'ge', tsToInhLanes);
      net.addProjection('inhibitory cell→TS', this.tsInh, this.ts, 'gi', inhTsLanes);
    }
    this.trialSteps = Math.round(Number(p.trialDurationS) / Number(p.dtS));
    this.totalTrainSteps = this.trialSteps * Number(p.nTrainingTrials);
    const c = constantsOf(p);
    this.streams = seeds.map((s) => new TrainingStream(s, {
      nLl, dtS: Number(p.dtS), holdS: Number(p.trainingPositionHoldS), speedCmS: Number(p.speedCmS),
      noiseScaleEarly: Number(p.trainingNoiseEarly), noiseScaleLate: Number(p.trainingNoiseLate), noiseSwitchFraction: Number(p.trainingNoiseSwitch),
      totalSteps: this.totalTrainSteps, orderedSweeps: Boolean(p.trainingOrderedSweeps), fixedDistance: Boolean(p.trainingFixedDistance),
      bidirectional: Boolean(p.trainingBidirectional), distanceMinCm: Number(p.trainingDistanceMinCm), distanceMaxCm: Number(p.trainingDistanceMaxCm),
      preprocess: preprocessOf(p, c), constants: c,
    }));
  }

  /**
   * Runs training trial `k` (0-based) in every lane; returns the sphere position per step (lane 0's
   * stream, and per lane).
   */
  trainTrial(k: number): Float64Array[] {
    const xs: Float64Array[] = [];
    for (let b = 0; b < this.seeds.length; b++) {
      const { rates, x } = this.streams[b]!.chunk(k * this.trialSteps, this.trialSteps);
      this.net.setRates(this.ll, b, rates);
      xs.push(x);
    }
    this.net.run(this.trialSteps);
    return xs;
  }

  /** Homeostasis after trial k (0-based), when due. */
  homeostasis(k: number): void {
    const p = this.p;
    const B = this.seeds.length;
    if (p.useLlMonStdp && Number(p.llMonHomeoEta) > 0 && (k + 1) % Number(p.llMonHomeoEveryTrials) === 0) {
      for (let b = 0; b < B; b++) homeostaticScale(this.llMon.lanes[b]!, this.mp.nMon, Number(p.llMonHomeoEta), Number(p.llMonWmaxMv), this.llMonTarget[b]!);
    }
    if (Number(p.monTsHomeoEta) > 0 && (k + 1) % Number(p.monTsHomeoEveryTrials) === 0) {
      for (let b = 0; b < B; b++) homeostaticScale(this.monTs.lanes[b]!, this.mp.nTs, Number(p.monTsHomeoEta), Number(p.monTsWmax));
    }
  }

  /** Freezes MON→TS STDP for the test (amplitudes 0) unless kept on. LL→MON is not frozen. */
  freezeForTest(): void {
    if (!this.p.keepMonTsStdpDuringTest && this.monTs.stdp) {
      this.monTs.stdp.aPre = 0;
      this.monTs.stdp.aPost = 0;
    }
  }

  /** The test sweeps of every lane. */
  testSweeps(): TestSweep[] {
    const p = this.p;
    const c = constantsOf(p);
    return this.seeds.map((s) => testSweep(s, {
      nLl: this.mp.nLl, dtS: Number(p.dtS), speedCmS: Number(p.speedCmS), pathCm: Number(p.testPathCm), distanceCm: Number(p.distanceCm),
      direction: Number(p.direction), testNoiseHz: Number(p.testLlNoiseHz), preprocess: preprocessOf(p, c), constants: c,
    }));
  }

  /** Runs the test sweep in every lane (rates from {@link testSweeps}). */
  runTest(sweeps: TestSweep[]): void {
    const n = sweeps[0]!.tS.length;
    for (let b = 0; b < this.seeds.length; b++) this.net.setRates(this.ll, b, sweeps[b]!.rates);
    this.net.run(n);
  }

  /**
   * The full mutable state as named typed arrays (for checkpoints): neuron state, weights, traces,
   * random streams, step counter.
   */
  state(): Record<string, Float32Array | Int32Array | Float64Array> {
    const out: Record<string, Float32Array | Int32Array | Float64Array> = {};
    this.net.groups.forEach((g, gi) => {
      if (g.kind === 'lif') {
        out[`g${gi}_v`] = g.v;
        out[`g${gi}_ge`] = g.ge;
        out[`g${gi}_gi`] = g.gi;
        out[`g${gi}_last`] = g.lastSpike;
      }
      if (g.kind === 'poisson') out[`g${gi}_skip`] = g.skip;
      out[`g${gi}_count`] = g.spikeCounts;
    });
    this.net.projections.forEach((pr, pi) => {
      if (!pr.stdp) return;
      pr.lanes.forEach((L, b) => {
        out[`p${pi}_${b}_w`] = L.w;
        out[`p${pi}_${b}_xpre`] = L.xPre;
        out[`p${pi}_${b}_xprelast`] = L.xPreLast;
        out[`p${pi}_${b}_ypost`] = L.yPost;
        out[`p${pi}_${b}_ypostlast`] = L.yPostLast;
      });
    });
    out.rng = Float64Array.from(this.net.rng.map((r) => r.state));
    out.step = Float64Array.of(this.net.step);
    return out;
  }

  /** Restores a state written by {@link state} (same parameters and seeds). */
  restore(s: Record<string, ArrayLike<number>>): void {
    const cur = this.state();
    for (const [k, dst] of Object.entries(cur)) {
      const src = s[k];
      if (!src || src.length !== dst.length) throw new Error(`checkpoint does not match this run: ${k} ${src ? src.length : 'missing'} vs ${dst.length}`);
      if (k === 'rng' || k === 'step') continue;
      (dst as Float32Array).set(src as ArrayLike<number>);
    }
    this.net.rng.forEach((r, b) => (r.state = s.rng![b]! >>> 0));
    this.net.step = s.step![0]!;
  }
}
