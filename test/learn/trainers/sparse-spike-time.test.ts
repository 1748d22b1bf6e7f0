// The spike-time (kernel) rules on a SparseLinear with delays whose presynaptic shape is [S] (as many
// units as synapses) and whose pre map is not the identity: presynaptic [B, S] (synapse.spike, read
// by the delay-adjusted rules) and per-synapse [B, S] (synspike) share a shape there, and each rule
// must read the form it means. Checked against a float64 loop written here.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { SparseLinear, synapseList } from '../../../src/neural/connections/index.js';
import {
  DelayAdjustedKernelSTDP,
  DelayAdjustedKernelSTDPD,
  DelayAdjustedMSTDP,
  DelayAdjustedMSTDPD,
  DelayAdjustedSTDP,
  DelayAdjustedSTDPD,
  KernelSTDP,
  expStdpPostKernel,
  expStdpPreKernel,
} from '../../../src/learn/trainers/index.js';
import { makeCell, stepCell, values } from './kernel-harness.js';

const S = 5; // synapses = presynaptic units
const O = 2;
const B = 2;
const T = 14;
const dt = 0.5; // ms: delays in ms are steps·dt
const pre = [3, 0, 4, 1, 2]; // synapse s reads unit pre[s] (not s)
const post = [0, 1, 0, 1, 1];
const delaySteps = [2, 0, 3, 1, 2];
const w0 = [0.4, 0.5, 0.6, 0.45, 0.55];

/** Seeded spike trains: pre [T][B·S], post [T][B·O]. */
function trains(seed: number): { x: number[][]; y: number[][] } {
  const rng = new Rng(seed);
  const x: number[][] = [];
  const y: number[][] = [];
  for (let t = 0; t < T; t++) {
    x.push(Array.from({ length: B * S }, () => (rng.uniform() < 0.3 ? 1 : 0)));
    y.push(Array.from({ length: B * O }, () => (rng.uniform() < 0.3 ? 1 : 0)));
  }
  return { x, y };
}

interface Hyper {
  /** rate and τ of the causal kernel (t_Δ ≥ 0) and of the acausal one (t_Δ < 0) */
  causal: [number, number];
  acausal: [number, number];
  delayAdjusted: boolean;
  reduce: 'mean' | 'sum';
  /** per-step, per-sample modulation M_b·|γ| (1 without) */
  mod: (t: number, b: number) => number;
}

/**
 * Σ_t reduce_b Σ of K(t_Δ) per synapse (float64): elapsed times as the event monitors keep them
 * (NaN until a first spike, 0 on a spike, + dt per step), t_Δ = e_pre − e_post (− d_s·dt).
 * Presynaptic: per unit pre_s as sent (delay-adjusted) or per synapse as delivered (unit pre_s
 * d_s steps earlier, nothing before the start).
 */
function reference(h: Hyper, x: number[][], y: number[][]): number[] {
  const ePre = new Array<number>(B * S).fill(NaN); // per unit or per synapse
  const ePost = new Array<number>(B * O).fill(NaN);
  const total = new Array<number>(S).fill(0);
  const kernel = (d: number): number => {
    if (Number.isNaN(d)) return 0;
    const [eta, tau] = d >= 0 ? h.causal : h.acausal;
    return eta * Math.exp(-Math.abs(d) / tau);
  };
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < S; k++) {
        // k: unit (delay-adjusted) or synapse (as delivered)
        const spike = h.delayAdjusted ? x[t]![b * S + k]! : t - delaySteps[k]! >= 0 ? x[t - delaySteps[k]!]![b * S + pre[k]!]! : 0;
        ePre[b * S + k] = spike ? 0 : ePre[b * S + k]! + dt;
      }
      for (let j = 0; j < O; j++) ePost[b * O + j] = y[t]![b * O + j] ? 0 : ePost[b * O + j]! + dt;
    }
    for (let s = 0; s < S; s++) {
      let acc = 0;
      for (let b = 0; b < B; b++) {
        const ep = h.delayAdjusted ? ePre[b * S + pre[s]!]! : ePre[b * S + s]!;
        const diff = ep - ePost[b * O + post[s]!]! - (h.delayAdjusted ? delaySteps[s]! * dt : 0);
        acc += kernel(diff) * h.mod(t, b);
      }
      total[s]! += h.reduce === 'mean' ? acc / B : acc;
    }
  }
  return total;
}

interface RuleCase {
  name: string;
  parameter: 'weight' | 'delay';
  hyper: Hyper;
  make: () => { register: (c: never) => void; step: (t: number) => void; dispose: () => void };
}

const none = () => 1;
const reward = (t: number, b: number) => (b === 0 ? Math.sin(t + 1) : -0.5 + 0.1 * t);
const cases: RuleCase[] = [
  {
    name: 'DelayAdjustedSTDP', parameter: 'weight',
    hyper: { causal: [0.2, 5], acausal: [-0.1, 8], delayAdjusted: true, reduce: 'mean', mod: none },
    make: () => { const r = new DelayAdjustedSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 }); return { register: (c) => r.register(c), step: () => r.step(), dispose: () => r.dispose() }; },
  },
  {
    // delay rules: η₋ on t_Δ ≥ 0, η₊ on t_Δ < 0
    name: 'DelayAdjustedSTDPD', parameter: 'delay',
    hyper: { causal: [-0.02, 8], acausal: [0.03, 5], delayAdjusted: true, reduce: 'mean', mod: none },
    make: () => { const r = new DelayAdjustedSTDPD({ lrPos: 0.03, lrNeg: -0.02, tauPos: 5, tauNeg: 8 }); return { register: (c) => r.register(c), step: () => r.step(), dispose: () => r.dispose() }; },
  },
  {
    name: 'DelayAdjustedMSTDP (per-sample reward, γ = −0.7)', parameter: 'weight',
    hyper: { causal: [0.2, 5], acausal: [-0.1, 8], delayAdjusted: true, reduce: 'sum', mod: (t, b) => 0.7 * reward(t, b) },
    make: () => {
      const r = new DelayAdjustedMSTDP({ lrPos: 0.2, lrNeg: -0.1, tauPos: 5, tauNeg: 8 });
      return { register: (c) => r.register(c), step: (t) => { const m = tf.tensor1d([reward(t, 0), reward(t, 1)]); r.step(m, { scale: -0.7 }); m.dispose(); }, dispose: () => r.dispose() };
    },
  },
  {
    name: 'DelayAdjustedMSTDPD (scalar reward)', parameter: 'delay',
    hyper: { causal: [-0.02, 8], acausal: [0.03, 5], delayAdjusted: true, reduce: 'sum', mod: (t) => reward(t, 0) },
    make: () => { const r = new DelayAdjustedMSTDPD({ lrPos: 0.03, lrNeg: -0.02, tauPos: 5, tauNeg: 8 }); return { register: (c) => r.register(c), step: (t) => r.step(reward(t, 0)), dispose: () => r.dispose() }; },
  },
  ...(['DelayAdjustedKernelSTDP', 'DelayAdjustedKernelSTDPD', 'KernelSTDP'] as const).map((name): RuleCase => ({
    name, parameter: name === 'DelayAdjustedKernelSTDPD' ? 'delay' : 'weight',
    hyper: { causal: [0.15, 4], acausal: [-0.12, 6], delayAdjusted: name !== 'KernelSTDP', reduce: 'mean', mod: none },
    make: () => {
      const kernelPost = expStdpPostKernel(0.15, 4);
      const kernelPre = expStdpPreKernel(-0.12, 6);
      const Rule = name === 'KernelSTDP' ? KernelSTDP : name === 'DelayAdjustedKernelSTDP' ? DelayAdjustedKernelSTDP : DelayAdjustedKernelSTDPD;
      const r = new Rule({ kernelPost, kernelPre });
      return { register: (c) => r.register(c), step: () => r.step(), dispose: () => { r.dispose(); kernelPost.dispose(); kernelPre.dispose(); } };
    },
  })),
];

describe('spike-time rules on SparseLinear with inShape [S], a non-identity pre map and delays', () => {
  for (const rc of cases) it(`${rc.name}: Σ_t reduce_b K(t_Δ) per synapse equals the float64 loop`, () => {
    const list = synapseList(S, O, pre.map((p, s) => [p, post[s]!] as [number, number]), w0, delaySteps);
    // maxDelay above the largest delay, so learnt delays stay in range; the update runs once at the end
    const conn = new SparseLinear([S], [O], dt, { synapses: list, batchSize: B, maxDelay: 4 * dt });
    const cell = makeCell(conn, [B, O]);
    const rule = rc.make();
    rule.register(cell as never);
    const { x, y } = trains(11);
    for (let t = 0; t < T; t++) {
      stepCell(cell, x[t]!, y[t]!);
      rule.step(t);
    }
    const start = rc.parameter === 'weight' ? w0 : delaySteps.map((d) => d * dt);
    conn.update();
    // learnt delays are clamped to [0, maxDelay]
    const want = reference(rc.hyper, x, y).map((d, s) => (rc.parameter === 'weight' ? start[s]! + d : Math.min(Math.max(start[s]! + d, 0), 4 * dt)));
    const got = values(rc.parameter === 'weight' ? conn.weight : conn.delay!);
    expect(want.some((v, s) => Math.abs(v - start[s]!) > 1e-3)).toBe(true); // the run moves something
    for (let s = 0; s < S; s++) expect(got[s]!, `synapse ${s}`).toBeCloseTo(want[s]!, 5);
    rule.dispose();
    conn.dispose();
    cell.neuron.dispose();
  });
});
