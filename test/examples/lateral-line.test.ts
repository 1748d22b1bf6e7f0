import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProjectionLane, EventNetwork, homeostaticScale, LaneRng, type LifParams } from '../../src/kernels/js/event-network.js';
import { dipoleVelocity, neuromastPositions, testSweep, TrainingStream } from '../../examples/lateral-line/stimulus.js';
import { pvMapQuality, wrapToPi } from '../../examples/lateral-line/pv.js';
import { tuningFwhmCm } from '../../examples/lateral-line/tuning.js';
import { LateralLineModel, modelParams } from '../../examples/lateral-line/model.js';
import { topographicSynapses } from '../../src/neural/connections/sparse-topology.js';
import { lateralLineParams } from '../../examples/lateral-line/params.js';
import { networkParams } from '../../examples/lateral-line/batch.js';
import { readNpz } from '../../src/io/npy.js';
import { lateralLineExample } from '../../examples/lateral-line/index.js';
import { runCli } from '../../src/cli/program.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { backendInfo, initBackend } from '../../src/core/backend.js';

const LIF: LifParams = { el: -74, vThreshold: -54, vReset: -60, tauM: 10, tauS: 2, tauRef: 2 };
const BIG = 1e7; // rate (Hz) with rate·dt ≫ 1: the input spikes every step it is on

describe('dipole flow (closed forms)', () => {
  const U = 5;
  const R = 0.5;
  const D = 0.8;
  it('central lobe U·R³/(2D³), zero crossings at |dx| = D/√2, sign flip with direction', () => {
    const X = 2;
    const xi = [X, X + D / Math.SQRT2, X - D / Math.SQRT2, X + 1.24 * D];
    const v = dipoleVelocity(xi, X, D, U, R, 1);
    expect(v[0]).toBeCloseTo((U * R ** 3) / (2 * D ** 3), 12);
    expect(Math.abs(v[1]!)).toBeLessThan(1e-12);
    expect(Math.abs(v[2]!)).toBeLessThan(1e-12);
    expect(v[3]!).toBeLessThan(0); // negative side lobe
    const back = dipoleVelocity(xi, X, D, U, R, -1);
    for (let i = 0; i < xi.length; i++) expect(back[i]).toBeCloseTo(-v[i]!, 14);
    // 0.61 cm/s peak at D = 0.8 cm (reference B.5)
    expect(v[0]).toBeCloseTo(0.61, 2);
  });
});

const py3 = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0);

describe.skipIf(!py3)('neuromast positions = numpy linspace(0, L, n) (the training positions and the flow)', () => {
  it('every position bit-equal to numpy\'s for n = 100, 37, 2 and L = 4, 3.3', () => {
    const cases = [[100, 4], [37, 3.3], [2, 4]] as const;
    const code = `import json, numpy as np; print(json.dumps([np.linspace(0.0, L, n).tolist() for n, L in ${JSON.stringify(cases)}]))`;
    const res = spawnSync(py3!, ['-c', code], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const want = JSON.parse(res.stdout) as number[][];
    cases.forEach(([n, L], k) => expect(Array.from(neuromastPositions(n, L))).toEqual(want[k]));
  });
});

describe('training stream (the original\'s make_training_rates)', () => {
  it('each snapshot is held max(1, round(hold/dt)) steps with numpy\'s round, half to even (2.5 → 2, 4.5 → 4)', () => {
    const base = {
      nLl: 10, dtS: 0.001, speedCmS: 5, noiseScaleEarly: 0, noiseScaleLate: 0, noiseSwitchFraction: 0.5, totalSteps: 100,
      orderedSweeps: true, fixedDistance: true, bidirectional: false, distanceMinCm: 0.8, distanceMaxCm: 1.8, preprocess: { subtractHz: 0, gain: 1 },
    };
    for (const [holdS, steps] of [[0.0025, 2], [0.0045, 4], [0.0035, 4], [0.0002, 1]] as const) {
      const st = new TrainingStream(1, { ...base, holdS });
      expect(st.holdSteps).toBe(steps);
      // positions x_0, x_1, … of the forward sweep, each for `steps` steps
      const { x } = st.chunk(0, 3 * steps);
      expect(Array.from(x)).toEqual([0, 1, 2].flatMap((k) => new Array(steps).fill(st.xi[k])));
      expect(st.xi[1]).toBeCloseTo(4 / 9, 15);
    }
  });
});

describe('test sweep (the original\'s simulate_lateral_line)', () => {
  const opts = (speedCmS: number, pathCm: number) => ({
    nLl: 20, dtS: 0.01, speedCmS, pathCm, distanceCm: 0.8, direction: 1, testNoiseHz: 0, preprocess: { subtractHz: 0, gain: 1 },
  });
  it('the sphere moves at max(0.1, U) cm/s (the original clamps the speed, not the duration path/U)', () => {
    // U = 0.05 over 0.02 cm: duration 0.4 s = 40 steps, X = −0.5 + 0.1·t (not 0.05·t)
    const slow = testSweep(4, opts(0.05, 0.02));
    expect(slow.xCm.length).toBe(40);
    for (let k = 0; k < 40; k++) expect(slow.xCm[k]).toBeCloseTo(-0.5 + 0.1 * k * 0.01, 12);
    // the same duration at U = 0.1: the same positions, flow (∝ U) and noise draws
    const ref = testSweep(4, opts(0.1, 0.04));
    expect(Array.from(slow.rawRates)).toEqual(Array.from(ref.rawRates));
    // above 0.1 nothing changes: X = −0.5 + 5t
    const fast = testSweep(4, opts(5, 0.5));
    expect(fast.xCm[7]).toBeCloseTo(-0.5 + 5 * 0.07, 12);
  });
});

/** Spike times (s) and indices of a neuron ring where neuron k(t) fires at every bin. */
function mapSpikes(nT: number, n: number, shift: number, dt: number): { t: Float64Array; i: Int32Array; x: Float64Array } {
  const x = Float64Array.from({ length: nT }, (_, k) => (4 * k) / (nT - 1));
  const t = new Float64Array(nT);
  const i = new Int32Array(nT);
  for (let k = 0; k < nT; k++) {
    const theta = (2 * Math.PI * x[k]!) / (4 + 1e-12);
    t[k] = (k + 0.5) * dt;
    i[k] = (((Math.round((theta / (2 * Math.PI)) * n) + shift) % n) + n) % n;
  }
  return { t, i, x };
}

describe('PV map-quality metrics on synthetic spike trains', () => {
  const dt = 0.001;
  const nT = 2000;
  const n = 100;
  it('a perfect map: σθ ≈ 0, valid fraction 1', () => {
    const s = mapSpikes(nT, n, 0, dt);
    const q = pvMapQuality({ spikeT: s.t, spikeI: s.i, n, nT, xCm: s.x, startS: 0, dtS: dt });
    expect(q.validFraction).toBe(1);
    expect(q.sigmaThetaRad).toBeLessThan(0.02);
  });
  it('no spikes: σθ = π, valid fraction 0', () => {
    const s = mapSpikes(nT, n, 0, dt);
    const q = pvMapQuality({ spikeT: [], spikeI: [], n, nT, xCm: s.x, startS: 0, dtS: dt });
    expect(q.sigmaThetaRad).toBe(Math.PI);
    expect(q.deltaTrialRad).toBe(Math.PI);
    expect(q.validFraction).toBe(0);
  });
  it('a constant shift: σθ ≈ 0 and every bias equals the shift', () => {
    const shift = 17;
    const s = mapSpikes(nT, n, shift, dt);
    const q = pvMapQuality({ spikeT: s.t, spikeI: s.i, n, nT, xCm: s.x, startS: 0, dtS: dt });
    expect(q.sigmaThetaRad).toBeLessThan(0.02);
    const want = wrapToPi((2 * Math.PI * shift) / n);
    let worst = 0;
    for (let b = 2; b < q.bias.length - 2; b++) worst = Math.max(worst, Math.abs(wrapToPi(q.bias[b]! - want)));
    expect(worst).toBeLessThan(0.02);
  });
  it('spikeStep bins each spike at its step exactly; float times t0 + k·dt under ⌊⌋ land in k − 1 for some k', () => {
    // one spike per bin, cell k at bin k, no smoothing (dt 50 ms → boxcar of 1 bin): θ̂_k = 2πk/n
    const nB = 40;
    const dtS = 0.05;
    const t0 = 3 * 1.2;
    const x = Float64Array.from({ length: nB }, (_, k) => k);
    const step = Int32Array.from({ length: nB }, (_, k) => k);
    const q = pvMapQuality({ spikeStep: step, spikeI: step, n: nB, nT: nB, xCm: x, dtS });
    for (let k = 0; k < nB; k++) expect(q.thetaHat[k]).toBeCloseTo((2 * Math.PI * k) / nB, 12);
    // the same spikes as float times: some fall one bin early (the reason for spikeStep)
    const early = Array.from(step, (k) => Math.floor((t0 + k * dtS - t0) / dtS)).filter((b, k) => b !== k).length;
    expect(early).toBeGreaterThan(0);
    expect(() => pvMapQuality({ spikeI: [], n: 2, nT: 2, xCm: [0, 1], dtS })).toThrow(/invalid spikeT: got undefined, expected spike times/);
    expect(() => pvMapQuality({ spikeStep: [0, 1], spikeI: [0], n: 2, nT: 2, xCm: [0, 1], dtS })).toThrow(/invalid spikeI: got "1 entries", expected one per spike \(2\)/);
  });
  it('inputs that would decode to NaN (σθ = π) or drop the window silently are refused, naming them', () => {
    const s = mapSpikes(nT, n, 0, dt);
    const base = { spikeT: s.t, spikeI: s.i, n, nT, xCm: s.x, startS: 0, dtS: dt };
    // sanity: the well-formed call decodes (σθ ≈ 0), so π below would be the inputs' doing
    expect(pvMapQuality(base).sigmaThetaRad).toBeLessThan(0.02);
    // fewer positions than bins: θ_true was NaN everywhere (min/max over undefined) → σθ = π, valid 0
    expect(() => pvMapQuality({ ...base, xCm: s.x.subarray(0, nT - 1) })).toThrow(/invalid xCm: got "1999 positions", expected one per time bin \(2000\)/);
    expect(() => pvMapQuality({ ...base, xCm: Float64Array.from(s.x, (x, k) => (k === 7 ? NaN : x)) })).toThrow(/invalid xCm\[7\]: got NaN/);
    // one bound of the window: was evaluated over the whole sweep without it
    expect(() => pvMapQuality({ ...base, evalXMaxCm: 3 })).toThrow(/invalid evalXMinCm: .*expected both bounds of the evaluation window or neither/);
    expect(() => pvMapQuality({ ...base, evalXMinCm: 3, evalXMaxCm: 3 })).toThrow(/expected a finite window evalXMinCm < evalXMaxCm/);
    // n = 0 / nPosBins = 0: a TypeError (bin −1) instead of a named error
    expect(() => pvMapQuality({ ...base, nPosBins: 0 })).toThrow(/invalid nPosBins: got 0, expected a positive integer/);
    expect(() => pvMapQuality({ ...base, n: 0 })).toThrow(/invalid n: got 0, expected a positive integer/);
    expect(() => pvMapQuality({ ...base, dtS: 0 })).toThrow(/invalid dtS: got 0, expected a bin width > 0/);
    expect(() => pvMapQuality({ ...base, nT: 2.5 })).toThrow(/invalid nT: got 2.5/);
  });
  it('an evaluation window zeroes bins outside it and maps the window onto [0, 2π)', () => {
    const s = mapSpikes(nT, n, 0, dt);
    const q = pvMapQuality({ spikeT: s.t, spikeI: s.i, n, nT, xCm: s.x, startS: 0, dtS: dt, evalXMinCm: 1, evalXMaxCm: 3 });
    let inside = 0;
    for (let k = 0; k < nT; k++) if (s.x[k]! >= 1 && s.x[k]! <= 3) inside++;
    expect(q.validFraction).toBeCloseTo(inside / nT, 12);
    expect(q.thetaTrue[nT / 2]).toBeCloseTo((2 * Math.PI * (s.x[nT / 2]! - 1)) / 2, 12);
  });
});

/** A network whose inputs spike exactly on the given steps (rate inputs with rate·dt ≫ 1 or 0). */
function drivenNetwork(nIn: number, steps: number, spikeAt: (t: number, i: number) => boolean): { net: EventNetwork; input: ReturnType<EventNetwork['addRateInput']>; rates: Float32Array } {
  const net = new EventNetwork(1, 1, [3]);
  const input = net.addRateInput('in', nIn);
  const rates = new Float32Array(steps * nIn);
  for (let t = 0; t < steps; t++) for (let i = 0; i < nIn; i++) rates[t * nIn + i] = spikeAt(t, i) ? BIG : 0;
  return { net, input, rates };
}

describe('event-network LIF (forward Euler at 1 ms, Brian2 schedule) vs a float64 recursion', () => {
  it('matches v, g_e, g_i and spike steps over 400 steps with excitation, inhibition and refractoriness', () => {
    const steps = 400;
    const nIn = 3;
    const spikeAt = (t: number, i: number) => (i === 0 ? t % 7 === 0 : i === 1 ? t % 11 === 3 : t % 13 === 5);
    const { net, input, rates } = drivenNetwork(nIn, steps, spikeAt);
    const pop = net.addLif('pop', 2, LIF);
    const wE = [[120, 80], [100, 160]]; // input i → neuron j, onto g_e (inputs 0, 1)
    const wI = [3, 5]; // input 2 → g_i
    net.addProjection('exc', input, pop, 'ge', [buildProjectionLane([0, 0, 1, 1], [0, 1, 0, 1], [wE[0]![0]!, wE[0]![1]!, wE[1]![0]!, wE[1]![1]!], nIn, 2, false)]);
    net.addProjection('inh', input, pop, 'gi', [buildProjectionLane([2, 2], [0, 1], wI, nIn, 2, false)]);
    pop.v[0] = -70;
    pop.v[1] = -73;
    net.setRates(input, 0, rates);
    // float64 reference
    const v = [-70, -73];
    const ge = [0, 0];
    const gi = [0, 0];
    const last = [-1e9, -1e9];
    let spikes = 0;
    const eng: number[] = [];
    const ref: number[] = [];
    pop.recording = true;
    for (let t = 0; t < steps; t++) {
      net.setRates(input, 0, rates.subarray(t * nIn, (t + 1) * nIn));
      net.run(1);
      // reference step t
      const fired: number[] = [];
      for (let j = 0; j < 2; j++) {
        const free = t - last[j]! >= 2;
        const dv = free ? (1 / 10) * (-74 - v[j]! + ge[j]! - gi[j]!) : 0;
        v[j] = v[j]! + dv;
        ge[j] = ge[j]! - ge[j]! / 2;
        gi[j] = gi[j]! - gi[j]! / 2;
        if (v[j]! > -54 && free) fired.push(j);
      }
      for (let i = 0; i < nIn; i++) if (spikeAt(t, i)) for (let j = 0; j < 2; j++) {
        if (i < 2) ge[j] = ge[j]! + wE[i]![j]!;
        else gi[j] = gi[j]! + wI[j]!;
      }
      for (const j of fired) {
        v[j] = -60;
        last[j] = t;
        ref.push(t * 10 + j);
      }
      spikes += fired.length;
      for (let j = 0; j < 2; j++) {
        expect(Math.abs(pop.v[j]! - v[j]!)).toBeLessThan(1e-4);
        expect(Math.abs(pop.ge[j]! - ge[j]!)).toBeLessThan(1e-4);
        expect(Math.abs(pop.gi[j]! - gi[j]!)).toBeLessThan(1e-4);
      }
    }
    const rec = pop.takeRecording(0);
    for (let k = 0; k < rec.step.length; k++) eng.push(rec.step[k]! * 10 + rec.index[k]!);
    expect(spikes).toBeGreaterThan(10);
    expect(eng).toEqual(ref);
  });
});

describe('event-driven pair STDP vs a per-synapse float64 recursion (Brian2 semantics)', () => {
  for (const rule of ['additive', 'multiplicative'] as const) it(`${rule}: weights of 6 synapses match to 1e-6`, () => {
    const steps = 600;
    const nPre = 3;
    const preAt = (t: number, i: number) => (t + 5 * i) % (13 + 4 * i) === 0;
    const { net, input, rates } = drivenNetwork(nPre + 1, steps, (t, i) => (i < nPre ? preAt(t, i) : t % 23 === 9 || t % 31 === 4));
    const post = net.addLif('post', 2, LIF);
    const pre = [0, 1, 2, 0, 1, 2];
    const postIdx = [0, 0, 0, 1, 1, 1];
    const wMax = rule === 'additive' ? 0.05 : 20;
    const w0 = rule === 'additive' ? [0.01, 0.02, 0.03, 0.04, 0.025, 0.001] : [5, 10, 15, 19, 2, 12];
    const aPre = rule === 'additive' ? 0.01 : 0.05;
    const aPost = rule === 'additive' ? -0.012 : -0.06;
    const proj = net.addProjection('plastic', input, post, 'ge', [buildProjectionLane(pre, postIdx, w0, nPre + 1, 2, true)], {
      scale: rule === 'additive' ? 100 : 1, stdp: { dependence: rule, tauPre: 20, tauPost: 20, aPre, aPost, wMax },
    });
    // a driver input (index nPre) that makes both posts fire
    net.addProjection('drive', input, post, 'ge', [buildProjectionLane([nPre, nPre], [0, 1], [400, 400], nPre + 1, 2, false)]);
    net.setRates(input, 0, rates);
    post.recording = true;
    net.run(steps);
    const rec = post.takeRecording(0);
    const postSpikes = new Set<number>();
    for (let k = 0; k < rec.step.length; k++) postSpikes.add(rec.step[k]! * 10 + rec.index[k]!);
    expect(rec.step.length).toBeGreaterThan(20);
    // per-synapse Brian2 recursion: on_pre of all synapses, then on_post
    const w = w0.slice();
    const apre = new Float64Array(6);
    const apost = new Float64Array(6);
    const lastUp = new Float64Array(6);
    const decay = (s: number, t: number) => {
      const f = Math.exp(-(t - lastUp[s]!) / 20);
      apre[s] = apre[s]! * f;
      apost[s] = apost[s]! * f;
      lastUp[s] = t;
    };
    const clip = (x: number) => Math.min(wMax, Math.max(0, x));
    for (let t = 0; t < steps; t++) {
      for (let s = 0; s < 6; s++) if (preAt(t, pre[s]!)) {
        decay(s, t);
        apre[s] = apre[s]! + aPre;
        w[s] = clip(rule === 'additive' ? w[s]! + apost[s]! : w[s]! + apost[s]! * w[s]!);
      }
      for (let s = 0; s < 6; s++) if (postSpikes.has(t * 10 + postIdx[s]!)) {
        decay(s, t);
        apost[s] = apost[s]! + aPost;
        w[s] = clip(rule === 'additive' ? w[s]! + apre[s]! : w[s]! + apre[s]! * (wMax - w[s]!));
      }
    }
    const L = proj.lanes[0]!;
    // synapses are stored sorted by pre: map back
    for (let s = 0; s < 6; s++) {
      let k = -1;
      for (let q = 0; q < 6; q++) if (L.pre[q] === pre[s] && L.post[q] === postIdx[s]) k = q;
      expect(Math.abs(L.w[k]! - w[s]!)).toBeLessThan(1e-6 * (rule === 'additive' ? 1 : wMax));
      expect(Math.abs(L.w[k]! - w0[s]!)).toBeGreaterThan(0); // the weights did move
    }
  });
});

describe('homeostatic scaling and topography', () => {
  it('scales each post cell by clip(1 + η(target/S − 1), 0.9, 1.1), clipped to [0, w_max]', () => {
    const lane = buildProjectionLane([0, 1, 2, 0, 1], [0, 0, 0, 1, 1], [1, 2, 3, 0.5, 0.5], 3, 3, false);
    const t = homeostaticScale(lane, 3, 0.5, 2.5);
    expect(t).toBeCloseTo((6 + 1) / 2, 12); // mean over cells with S > 0 (post 2 has none)
    const s0 = Math.max(0.9, 1 + 0.5 * (3.5 / 6 - 1));
    const s1 = Math.min(1.1, 1 + 0.5 * (3.5 / 1 - 1));
    const want = [1 * s0, 2 * s0, Math.min(2.5, 3 * s0), 0.5 * s1, 0.5 * s1];
    const got = [0, 1, 2, 3, 4].map((k) => {
      const pre = [0, 1, 2, 0, 1][k]!;
      const post = [0, 0, 0, 1, 1][k]!;
      for (let q = 0; q < 5; q++) if (lane.pre[q] === pre && lane.post[q] === post) return lane.w[q]!;
      return NaN;
    });
    for (let k = 0; k < 5; k++) expect(got[k]).toBeCloseTo(want[k]!, 6);
  });
  it('topographic sources on the model\'s LaneRng streams: degree exact; offsets ~ N(0, σ) within 3 SE over 10^5 draws', () => {
    const nCells = 10_000;
    const nOther = 1000;
    const sigma = 15;
    const deg = 10;
    const j = topographicSynapses(nOther, nCells, { fixed: 'in', degree: deg, topo: 1, sigma }, new LaneRng(9)).pre;
    expect(j.length).toBe(nCells * deg);
    let s = 0;
    let s2 = 0;
    let c = 0;
    for (let m = 0; m < nCells; m++) {
      const center = (m / (nCells - 1)) * (nOther - 1);
      if (center < 6 * sigma || center > nOther - 1 - 6 * sigma) continue; // no clipping there
      for (let k = 0; k < deg; k++) {
        const d = j[m * deg + k]! - center;
        s += d;
        s2 += d * d;
        c++;
      }
    }
    expect(c).toBeGreaterThan(80_000);
    const mean = s / c;
    const varr = s2 / c - mean * mean;
    // rounding to integers adds about 1/12 to the variance (Sheppard)
    expect(Math.abs(mean)).toBeLessThan((3 * sigma) / Math.sqrt(c));
    const sdVar = (sigma * sigma) * Math.sqrt(2 / c);
    expect(Math.abs(varr - (sigma * sigma + 1 / 12))).toBeLessThan(3 * sdVar + 0.1);
  });
});

describe('batched seeds', () => {
  it('a seed gives the same weights and spikes alone or batched with others', () => {
    const p = lateralLineParams('tiny', { nTrainingTrials: 2 });
    const a = new LateralLineModel(modelParams(p), [5, 6]);
    const b = new LateralLineModel(modelParams(p), [6]);
    for (let k = 0; k < 2; k++) {
      a.trainTrial(k);
      a.homeostasis(k);
      b.trainTrial(k);
      b.homeostasis(k);
    }
    expect(Array.from(a.monTs.lanes[1]!.w)).toEqual(Array.from(b.monTs.lanes[0]!.w));
    expect(a.ts.spikeCounts[1]).toBe(b.ts.spikeCounts[0]);
    expect(a.ts.spikeCounts[1]).toBeGreaterThan(0);
    expect(a.monTs.lanes[0]!.w).not.toEqual(a.monTs.lanes[1]!.w);
  });
});

describe('params.json network_params: the original\'s NetworkParams as a dict', () => {
  // the fields of the original's params.py NetworkParams dataclass, in its order
  const FIELDS = [
    'n_ll', 'n_mon', 'n_ts', 'dt_s', 'trial_duration_s', 'n_training_trials', 'checkpoint_trials',
    'pv_eval_every_checkpoints', 'checkpoint_save_every_n_checkpoints', 'training_position_hold_s',
    'training_noise_scale_early', 'training_noise_scale_late', 'test_ll_noise_hz', 'training_noise_switch_fraction',
    'training_ordered_sweeps', 'training_fixed_distance', 'training_bidirectional', 'training_distance_min_cm',
    'training_distance_max_cm', 'speed_cm_s', 'distance_cm', 'direction', 'sphere_radius_cm', 'll_rate_mode',
    'll_rate_baseline_subtract_hz', 'll_rate_gain', 'll_body_length_cm', 'test_path_cm', 'eval_x_min_cm',
    'eval_x_max_cm', 'seed', 'vth_mV', 'vreset_mV', 'el_mV', 'tau_ref_ms', 'tau_m_ms', 'tau_s_ms', 'p_ll_to_mon',
    'll_to_mon_in_degree', 'll_to_mon_sigma', 'll_to_mon_topography_strength', 'll_mon_w_mean_mV',
    'll_mon_w_jitter_mV', 'll_mon_use_stdp', 'll_mon_apre', 'll_mon_apost', 'll_mon_wmax_mV', 'll_mon_w_init_mV',
    'll_mon_w_jitter_stdp_mV', 'll_mon_homeo_eta', 'll_mon_homeo_every_trials', 'mon_to_ts_out_degree',
    'mon_to_ts_sigma', 'mon_to_ts_topography_strength', 'mon_ts_apre', 'mon_ts_apost', 'mon_ts_wmax',
    'mon_ts_w_init', 'mon_ts_w_jitter', 'mon_ts_homeo_eta', 'mon_ts_homeo_every_trials', 'mon_ts_gain_mV',
    'keep_mon_ts_stdp_during_test', 'test_using_held_snapshots', 'mon_to_global_inh_p', 'mon_to_global_inh_drive_mV',
    'global_inh_to_mon_mV', 'ts_lateral_radius', 'ts_local_inh_peak_mV', 'use_ts_feedback_inh', 'ts_to_global_inh_p',
    'ts_to_global_inh_drive_mV', 'global_inh_to_ts_mV', 'bg_rate_mon_hz', 'bg_rate_ts_hz', 'bg_w_mon_mV',
    'bg_w_ts_mV',
  ];
  it('has exactly the original\'s field names in its order, with the resolved values', () => {
    const np = networkParams(lateralLineParams('baseline'), 123);
    expect(Object.keys(np)).toEqual(FIELDS);
    // the published baseline (reference B.7) under the original's names
    expect(np).toMatchObject({
      seed: 123, n_mon: 3200, ll_mon_use_stdp: true, ll_to_mon_topography_strength: 0.2, mon_to_ts_topography_strength: 0.2,
      ll_to_mon_in_degree: 10, ll_mon_w_init_mV: 10, ll_mon_w_jitter_stdp_mV: 8, ll_mon_wmax_mV: 20, mon_ts_gain_mV: 220,
      ts_local_inh_peak_mV: 1.5, bg_rate_mon_hz: 18, global_inh_to_mon_mV: 1.8, mon_to_ts_sigma: 10, ts_lateral_radius: 18,
      mon_to_global_inh_p: 0.03, ts_to_global_inh_p: 0.08, ts_to_global_inh_drive_mV: 0.25, global_inh_to_ts_mV: 0.2, bg_w_ts_mV: 0.85,
      training_noise_scale_early: 0, training_noise_switch_fraction: 0.5, checkpoint_save_every_n_checkpoints: 10,
      eval_x_min_cm: null, eval_x_max_cm: null, test_using_held_snapshots: false, mon_ts_apre: 0.01, mon_ts_apost: -0.006,
    });
  });
  it('--disable-all-stdp is the four amplitudes at 0; an evaluation window its two bounds', () => {
    const np = networkParams(lateralLineParams('baseline', { disableAllStdp: true, evalXMinCm: 0.5, evalXMaxCm: 3.5 }), 7);
    expect([np.ll_mon_apre, np.ll_mon_apost, np.mon_ts_apre, np.mon_ts_apost]).toEqual([0, 0, 0, 0]);
    expect([np.eval_x_min_cm, np.eval_x_max_cm]).toEqual([0.5, 3.5]);
    expect(Object.keys(np)).toEqual(FIELDS);
  });
});

describe('cinder lateral-line', () => {
  const sink = () => {
    let text = '';
    return { write: (s: string) => ((text += s), true), get text() { return text; } };
  };
  const expectRunFolder = (dir: string, seeds: number[]) => {
    for (const f of ['params.json', 'run_summary.json', 'log.txt']) expect(existsSync(join(dir, f))).toBe(true);
    for (const f of lateralLineExample.figures) expect(existsSync(join(dir, 'figures', `${f}.html`))).toBe(true);
    const params = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8'));
    expect(params.seed_start).toBe(seeds[0]);
    expect(params.multi_seed).toBe(seeds.length);
    expect(params.run_folder).toBe(dir);
    expect(params.network_params.n_mon).toBe(params.params.nMon);
    const sum = JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8'));
    expect(sum.status).toBe('completed');
    for (const k of ['ll_mon_topo', 'mon_ts_topo', 'mon_ts_sigma', 'mon_ts_gain_mV']) expect(typeof sum[k]).toBe('number');
    const per = seeds.length === 1 ? [sum] : sum.runs;
    expect(per.map((r: { seed: number }) => r.seed)).toEqual(seeds);
    for (const [k, seed] of seeds.entries()) {
      const r = per[k];
      expect(Number.isInteger(r.ts_spikes_during_test_window)).toBe(true);
      for (const q of ['sigma_theta_rad', 'delta_trial_rad', 'valid_fraction']) expect(typeof r.pv_map_quality[q]).toBe('number');
      const w = readNpz(join(dir, 'artifacts', `latest_seed_${seed}.npz`));
      for (const n of ['mon_ts_w', 'mon_ts_i', 'mon_ts_j', 'll_mon_i', 'll_mon_j', 'll_mon_w_mV']) expect(w[n]).toBeDefined();
      expect(w.mon_ts_w!.length).toBe(params.params.nMon * params.params.monTsOutDegree);
      expect(existsSync(join(dir, 'artifacts', `latest_seed_${seed}_params.json`))).toBe(true);
      const sp = readNpz(join(dir, 'artifacts', `test_ts_spikes_seed_${seed}.npz`));
      expect(sp.t_s).toBeInstanceOf(Float64Array);
      expect(sp.i).toBeInstanceOf(Int32Array);
      expect(sp.i!.length).toBe(r.ts_spikes_during_test_window);
      // anyone can recompute the PV metrics from the file: a spike of test step k belongs to bin k;
      // its time t_s = t_test + k·dt, read back with round(), then placed mid-bin so that
      // ⌊(t − t_test)/dt⌋ = k exactly (⌊⌋ of t_s itself gives k − 1 for about half of the spikes)
      const t0 = sp.test_start_s![0]!;
      const dt = sp.dt_s![0]!;
      const stepOf = Array.from(sp.t_s!, (t) => Math.round((t - t0) / dt));
      expect(Array.from(sp.step!)).toEqual(stepOf);
      const q = pvMapQuality({ spikeT: stepOf.map((k) => t0 + (k + 0.5) * dt), spikeI: sp.i!, n: sp.n_ts![0]!, nT: sp.test_t_s!.length, xCm: sp.test_x_cm!, startS: t0, dtS: dt });
      expect(q.sigmaThetaRad).toBe(r.pv_map_quality.sigma_theta_rad);
      expect(q.deltaTrialRad).toBe(r.pv_map_quality.delta_trial_rad);
      expect(q.validFraction).toBe(r.pv_map_quality.valid_fraction);
      // the decode the figures draw: θ̂ and θ true per test step, bias per position bin, as recomputed from the spikes
      const dec = readNpz(join(dir, 'artifacts', `test_pv_decode_seed_${seed}.npz`));
      expect(dec.theta_hat_rad).toEqual(q.thetaHat);
      expect(dec.theta_true_rad).toEqual(q.thetaTrue);
      expect(dec.bias_rad).toEqual(q.bias);
      expect(dec.theta_bins_rad).toEqual(q.thetaBins);
      expect(dec.test_t_s).toEqual(sp.test_t_s);
      expect(dec.dt_s![0]).toBe(dt);
      // the LL layer's PV metrics (the original's pv_ll_*), in [0, π] / [0, 1]
      const ll = r.pv_ll_map_quality;
      expect(ll.sigma_theta_rad).toBeGreaterThanOrEqual(0);
      expect(ll.sigma_theta_rad).toBeLessThanOrEqual(Math.PI);
      expect(ll.delta_trial_rad).toBeGreaterThanOrEqual(0);
      expect(ll.valid_fraction).toBeGreaterThan(0); // the LL layer fires through the whole sweep
      expect(ll.valid_fraction).toBeLessThanOrEqual(1);
      // FWHM tuning widths of LL, MON, TS: counts ≤ n; mean and SD finite with ≥ 2 valid cells (null
      // otherwise), the mean within one bin (0.1 cm) … the sweep (5 cm)
      const sizes = { ll: params.params.nLl, mon: params.params.nMon, ts: params.params.nTs };
      for (const [layer, n] of Object.entries(sizes)) {
        const nv = r[`tuning_fwhm_${layer}_n_valid`];
        expect(Number.isInteger(nv) && nv >= 0 && nv <= n).toBe(true);
        const m = r[`tuning_fwhm_${layer}_cm_mean`];
        if (nv >= 2) {
          expect(m).toBeGreaterThanOrEqual(0.1 - 1e-9);
          expect(m).toBeLessThanOrEqual(5 + 1e-9);
          expect(r[`tuning_fwhm_${layer}_cm_sd`]).toBeGreaterThanOrEqual(0);
        } else expect(m).toBeNull();
      }
      expect(r.tuning_fwhm_ll_n_valid).toBeGreaterThan(1);
      // TS widths recomputed from the spike file (step = round((t − t_test)/dt))
      const tw = tuningFwhmCm({ spikeStep: Array.from(sp.t_s!, (t) => Math.round((t - sp.test_start_s![0]!) / sp.dt_s![0]!)), spikeI: sp.i!, n: sp.n_ts![0]!, xCm: sp.test_x_cm!, dtS: sp.dt_s![0]! });
      expect(tw.nValid).toBe(r.tuning_fwhm_ts_n_valid);
      if (tw.nValid >= 2) expect(tw.meanCm).toBe(r.tuning_fwhm_ts_cm_mean);
      // LL and MON: PV and widths recomputed from their test-spike file
      const lm = readNpz(join(dir, 'artifacts', `test_ll_mon_spikes_seed_${seed}.npz`));
      const dtS = lm.dt_s![0]!;
      const llT = Float64Array.from(lm.ll_step!, (st) => lm.test_start_s![0]! + (st + 0.5) * dtS); // mid-bin: bin = step
      const qll = pvMapQuality({ spikeT: llT, spikeI: lm.ll_i!, n: lm.n_ll![0]!, nT: lm.test_x_cm!.length, xCm: lm.test_x_cm!, startS: lm.test_start_s![0]!, dtS });
      expect([qll.sigmaThetaRad, qll.deltaTrialRad, qll.validFraction]).toEqual([ll.sigma_theta_rad, ll.delta_trial_rad, ll.valid_fraction]);
      for (const layer of ['ll', 'mon'] as const) {
        const w2 = tuningFwhmCm({ spikeStep: lm[`${layer}_step`]!, spikeI: lm[`${layer}_i`]!, n: lm[`n_${layer}`]![0]!, xCm: lm.test_x_cm!, dtS });
        expect(w2.nValid).toBe(r[`tuning_fwhm_${layer}_n_valid`]);
        expect(w2.nValid >= 2 ? w2.meanCm : null).toBe(r[`tuning_fwhm_${layer}_cm_mean`]);
      }
      // the original's per-seed results file, its schema
      const sr = JSON.parse(readFileSync(join(dir, 'artifacts', `seed_${seed}_results.json`), 'utf8'));
      expect(Object.keys(sr)).toEqual(['seed', 'distance_cm', 'test_ll_noise_hz', 'sigma_theta_rad', 'valid_fraction', 'delta_trial_rad',
        'sigma_theta_ll_rad', 'delta_trial_ll_rad', 'sigma_w_ll_cm', 'sigma_w_mon_cm', 'sigma_w_ts_cm']);
      expect(sr).toMatchObject({
        seed, distance_cm: params.params.distanceCm, test_ll_noise_hz: params.params.testLlNoiseHz,
        sigma_theta_rad: r.pv_map_quality.sigma_theta_rad, valid_fraction: r.pv_map_quality.valid_fraction, delta_trial_rad: r.pv_map_quality.delta_trial_rad,
        sigma_theta_ll_rad: ll.sigma_theta_rad, delta_trial_ll_rad: ll.delta_trial_rad,
        sigma_w_ll_cm: r.tuning_fwhm_ll_cm_mean, sigma_w_mon_cm: r.tuning_fwhm_mon_cm_mean, sigma_w_ts_cm: r.tuning_fwhm_ts_cm_mean,
      });
    }
  };

  it('--mode ll_fast writes every file of the original layout', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cinder-ll-')), 'run');
    const code = await runCli(['lateral-line', '--mode', 'll_fast', '--out', dir, '--seed', '3', '-q'], { examples: [lateralLineExample], handleSignals: false, out: sink(), err: sink() });
    expect(code).toBe(0);
    expectRunFolder(dir, [3]);
  }, 60_000);

  it('--mode tiny --multi-seed 2 runs both seeds in one batch; TS fires; PV finite', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cinder-ll-')), 'run');
    const code = await runCli(['lateral-line', '--mode', 'tiny', '--out', dir, '--multi-seed', '2', '--seed-start', '11', '-q'], { examples: [lateralLineExample], handleSignals: false, out: sink(), err: sink() });
    expect(code).toBe(0);
    expectRunFolder(dir, [11, 12]);
    const sum = JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8'));
    for (const r of sum.runs) {
      expect(r.ts_spikes_during_test_window).toBeGreaterThan(0);
      expect(r.pv_map_quality.valid_fraction).toBeGreaterThan(0);
      expect(r.pv_map_quality.sigma_theta_rad).toBeLessThan(Math.PI);
    }
  }, 60_000);

  it('--workers 2 splits the seeds over two threads and gives the same results as one batch', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cinder-ll-'));
    const flags = ['lateral-line', '--mode', 'tiny', '--n-training-trials', '2', '--multi-seed', '3', '--seed-start', '31', '-q'];
    expect(await runCli([...flags, '--out', join(root, 'one')], { examples: [lateralLineExample], handleSignals: false, out: sink(), err: sink() })).toBe(0);
    expect(await runCli([...flags, '--workers', '2', '--out', join(root, 'two')], { examples: [lateralLineExample], handleSignals: false, out: sink(), err: sink() })).toBe(0);
    const a = JSON.parse(readFileSync(join(root, 'one', 'run_summary.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(root, 'two', 'run_summary.json'), 'utf8'));
    expect(b.runs).toEqual(a.runs);
    for (const f of lateralLineExample.figures) expect(existsSync(join(root, 'two', 'figures', `${f}.html`))).toBe(true);
  }, 60_000);

  it('bad flags exit 2 naming the flag and write nothing; an existing run folder is never overwritten', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cinder-ll-'));
    const cases: [string[], string][] = [
      [['--n-training-trials', '-1'], '--n-training-trials'],
      [['--ll-mon-topo', '2'], '--ll-mon-topo'],
      [['--training-distance-min-cm', '1.5', '--training-distance-max-cm', '0.9'], '--training-distance-min-cm'],
      [['--multi-seed', '0'], '--multi-seed'],
      [['--save-tag', '../x'], '--save-tag'],
      [['--ll-rate-mode', 'log'], '--ll-rate-mode'],
      [['--resume-from', join(root, 'nothing-here')], '--resume-from'],
      [['--workers', '3', '--multi-seed', '2'], '--workers'],
      // an empty evaluation window (not the defaults' 0, 0) was run as no window at all
      [['--eval-x-min-cm', '2', '--eval-x-max-cm', '2'], '--eval-x-max-cm'],
    ];
    for (const [flags, name] of cases) {
      const dir = join(root, `bad-${name.slice(2)}`);
      const err = sink();
      const code = await runCli(['lateral-line', '--mode', 'tiny', '--out', dir, ...flags], { examples: [lateralLineExample], handleSignals: false, out: sink(), err });
      expect(code).toBe(2);
      expect(err.text).toContain(name);
      expect(existsSync(dir)).toBe(false);
    }
    const taken = join(root, 'taken');
    mkdirSync(taken);
    writeFileSync(join(taken, 'keep.txt'), 'mine');
    const err = sink();
    expect(await runCli(['lateral-line', '--mode', 'tiny', '--out', taken], { examples: [lateralLineExample], handleSignals: false, out: sink(), err })).toBe(2);
    expect(err.text).toContain('--out');
    expect(readdirSync(taken)).toEqual(['keep.txt']);
  });

  it('extract mode (--extract-from): a fresh network with the loaded weights, test only', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cinder-ll-'));
    const run = async (name: string, flags: string[]): Promise<number> => runCli(['lateral-line', '--mode', 'tiny', '--seed-start', '41', '--multi-seed', '2', '-q', '--out', join(root, name), ...flags], { examples: [lateralLineExample], handleSignals: false, out: sink(), err: sink() });
    expect(await run('trained', ['--n-training-trials', '4'])).toBe(0);
    expect(await run('untrained', ['--n-training-trials', '0'])).toBe(0);
    expect(await run('ex-initial', ['--extract-from', join(root, 'trained')])).toBe(0);
    expect(await run('ex-trained', ['--extract-from', join(root, 'trained'), '--extract-ll-mon-weights', 'trained'])).toBe(0);
    expect(await run('ex-untrained', ['--extract-from', join(root, 'untrained')])).toBe(0);
    expectRunFolder(join(root, 'ex-initial'), [41, 42]);
    const sum = (name: string) => JSON.parse(readFileSync(join(root, name, 'run_summary.json'), 'utf8'));
    const w = (name: string, seed: number) => readNpz(join(root, name, 'artifacts', `latest_seed_${seed}.npz`));
    expect(sum('ex-initial').extract).toEqual({ from: join(root, 'trained'), ll_mon_weights: 'initial' });
    // the untrained run's weights, tested afresh, give the untrained run's test exactly
    const strip = (r: Record<string, unknown>) => ({ ...r, pv_vs_training_time: null });
    expect(sum('ex-untrained').runs.map(strip)).toEqual(sum('untrained').runs.map(strip));
    for (const seed of [41, 42]) {
      const trained = w('trained', seed);
      // MON→TS is frozen in the test: the trained weights, unchanged
      expect(Array.from(w('ex-initial', seed).mon_ts_w!)).toEqual(Array.from(trained.mon_ts_w!));
      expect(Array.from(w('ex-trained', seed).mon_ts_w!)).toEqual(Array.from(trained.mon_ts_w!));
      // LL→MON 'initial': the weights the network is built with. MON does not see TS, so its test
      // spikes (and LL→MON plasticity in the test) are those of the untrained run: equal weights after the test
      expect(Array.from(w('ex-initial', seed).ll_mon_w_mV!)).toEqual(Array.from(w('untrained', seed).ll_mon_w_mV!));
      expect(Array.from(w('ex-trained', seed).ll_mon_w_mV!)).not.toEqual(Array.from(w('untrained', seed).ll_mon_w_mV!));
      // the test starts at t = 0 (no training before it)
      expect(readNpz(join(root, 'ex-initial', 'artifacts', `test_ts_spikes_seed_${seed}.npz`)).test_start_s![0]).toBe(0);
    }
    // the trained MON→TS weights change the test against the untrained run
    expect(sum('ex-initial').runs.map((r: { ts_spikes_during_test_window: number }) => r.ts_spikes_during_test_window))
      .not.toEqual(sum('untrained').runs.map((r: { ts_spikes_during_test_window: number }) => r.ts_spikes_during_test_window));
    // bad input: named flag, exit 2, nothing written
    const cases: [string[], string, string][] = [
      [['--extract-from', join(root, 'nothing-here')], '--extract-from', 'params.json'],
      [['--extract-from', join(root, 'trained'), '--n-ts', '44'], '--extract-from', '--n-ts is 40 there, 44 here'],
      [['--extract-from', join(root, 'trained'), '--seed-start', '40'], '--extract-from', 'seed 40'],
      [['--extract-from', join(root, 'trained'), '--workers', '2'], '--workers', 'with --extract-from'],
      [['--extract-from', join(root, 'trained'), '--extract-ll-mon-weights', 'final'], '--extract-ll-mon-weights', 'initial'],
    ];
    for (const [flags, name, says] of cases) {
      const dir = join(root, `bad-${cases.findIndex((c) => c[0] === flags)}`);
      const err = sink();
      // a flag may be given once (the CLI refuses repeats): the case's own --seed-start replaces 41
      const base = flags.includes('--seed-start') ? ['--multi-seed', '2'] : ['--seed-start', '41', '--multi-seed', '2'];
      expect(await runCli(['lateral-line', '--mode', 'tiny', ...base, '--out', dir, ...flags], { examples: [lateralLineExample], handleSignals: false, out: sink(), err })).toBe(2);
      expect(err.text).toContain(name);
      expect(err.text).toContain(says);
      expect(existsSync(dir)).toBe(false);
    }
  }, 60_000);

  it('an interrupted run resumes (--resume-from) to the same result', async () => {
    if (!backendInfo()) await initBackend({});
    const root = mkdtempSync(join(tmpdir(), 'cinder-ll-'));
    const flags = ['--mode', 'tiny', '--n-training-trials', '6', '--seed-start', '21', '--multi-seed', '2', '-q'];
    expect(await runCli(['lateral-line', ...flags, '--out', join(root, 'full')], { examples: [lateralLineExample], handleSignals: false, out: sink(), err: sink() })).toBe(0);
    // the interrupted run: abort right after the checkpoint at trial 4
    const controller = new AbortController();
    const out = { write: (s: string) => { if (s.includes('checkpoint saved at trial 4')) controller.abort('SIGINT'); return true; } };
    const { resolveParams } = await import('../../src/cli/options.js');
    const params = resolveParams(lateralLineExample, { mode: 'tiny', flags: { nTrainingTrials: 6, seedStart: 21, multiSeed: 2 } });
    const run = startRun({
      spec: lateralLineExample, params, mode: 'tiny', seed: 0, seeds: 1, outDir: join(root, 'cut'), backend: backendInfo()!, backendRequest: 'auto',
      quiet: false, signal: controller.signal, terminal: new Terminal({ mode: 'plain', out, err: out }),
    });
    const outcome = await run.done;
    expect(outcome.status).toBe('interrupted');
    const ck = readNpz(join(root, 'cut', 'artifacts', 'mid_checkpoint.npz'));
    expect(ck.trial![0]).toBe(3);
    expect(await runCli(['lateral-line', ...flags, '--out', join(root, 'resumed'), '--resume-from', join(root, 'cut')], { examples: [lateralLineExample], handleSignals: false, out: sink(), err: sink() })).toBe(0);
    const a = JSON.parse(readFileSync(join(root, 'full', 'run_summary.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(root, 'resumed', 'run_summary.json'), 'utf8'));
    expect(b.runs).toEqual(a.runs);
    for (const seed of [21, 22]) {
      const wa = readNpz(join(root, 'full', 'artifacts', `latest_seed_${seed}.npz`));
      const wb = readNpz(join(root, 'resumed', 'artifacts', `latest_seed_${seed}.npz`));
      expect(Array.from(wb.mon_ts_w!)).toEqual(Array.from(wa.mon_ts_w!));
      expect(Array.from(wb.ll_mon_w_mV!)).toEqual(Array.from(wa.ll_mon_w_mV!));
    }
  }, 60_000);
});

describe('evaluation window flags', () => {
  it('an empty window other than the defaults (0, 0) is refused (was evaluated as no window); a proper one and the defaults pass', async () => {
    const { validateLateralLine } = await import('../../examples/lateral-line/params.js');
    expect(() => validateLateralLine(lateralLineParams('tiny'))).not.toThrow();
    expect(() => validateLateralLine(lateralLineParams('tiny', { evalXMinCm: 0, evalXMaxCm: 3 }))).not.toThrow();
    expect(() => validateLateralLine(lateralLineParams('tiny', { evalXMinCm: 2, evalXMaxCm: 2 }))).toThrow(/^invalid --eval-x-max-cm: got 2, expected a position > --eval-x-min-cm \(2\)/);
    expect(() => validateLateralLine(lateralLineParams('tiny', { evalXMinCm: -1, evalXMaxCm: -1 }))).toThrow(/invalid --eval-x-max-cm: got -1/);
  });
});

describe('trial length in steps', () => {
  it('a trial that is not a whole number of --dt-s steps is refused (was run as round(T/dt) steps); the defaults and exact multiples pass', async () => {
    const { validateLateralLine } = await import('../../examples/lateral-line/params.js');
    expect(() => validateLateralLine(lateralLineParams('tiny'))).not.toThrow();
    expect(() => validateLateralLine(lateralLineParams('tiny', { trialDurationS: 1.2, dtS: 0.001 }))).not.toThrow(); // 1.2/0.001 = 1199.9999999999998
    expect(() => validateLateralLine(lateralLineParams('tiny', { trialDurationS: 0.1, dtS: 0.0004 }))).not.toThrow(); // 250 steps
    expect(() => validateLateralLine(lateralLineParams('tiny', { trialDurationS: 0.1005, dtS: 0.001 }))).toThrow(
      'invalid --trial-duration-s: got 0.1005, expected a whole number of --dt-s steps (0.001 s; got 100.5 steps)',
    );
  });
});
