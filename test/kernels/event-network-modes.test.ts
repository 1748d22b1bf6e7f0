// EventNetwork's LIF options beyond the default (current drive, forward Euler, one τs, v > V_th,
// Brian2's refractory count): drive 'conductance' with reversal potentials, method 'exact', separate
// τe and τi, spikeAtThreshold (v ≥ V_th) and refractorySteps. Reference: a float64 loop written here
// from the formulas of LifParams (float32 state: every stored value rounded; synaptic jumps added in
// the engine's documented order: projections in creation order, spikes by index, synapses by pre).
import { describe, expect, it } from 'vitest';
import { below, buildProjectionLane, EventNetwork, type LifParams } from '../../src/kernels/js/event-network.js';
import { CinderArgumentError } from '../../src/core/errors.js';

const f = Math.fround;
const N = 30;
const NIN = 20;

/** A deterministic pseudo-random list of synapses (no repeated pair). */
function synapses(nPre: number, nPost: number, p: number, salt: number): { pre: number[]; post: number[] } {
  const pre: number[] = [];
  const post: number[] = [];
  for (let i = 0; i < nPre; i++) for (let j = 0; j < nPost; j++) if (((i * 7919 + j * 104729 + salt * 31) % 97) / 97 < p) { pre.push(i); post.push(j); }
  return { pre, post };
}

type Mode = { drive: 'current' | 'conductance'; method: 'euler' | 'exact' };

function simulate(mode: Mode, steps: number) {
  const dt = 0.1;
  const cond = mode.drive === 'conductance';
  const lif: LifParams = {
    el: cond ? -60 : -52, vThreshold: -50, vReset: -60, tauM: 20, tauE: 5, tauI: 10, tauRef: 2,
    drive: mode.drive, method: mode.method, spikeAtThreshold: true, refractorySteps: 17,
    ...(cond ? { ee: 0, ei: -80 } : {}),
  };
  const we = cond ? 0.3 : 1.5;
  const wi = cond ? 2 : 3;
  const wIn = cond ? 0.4 : 2.5;
  const net = new EventNetwork(1, dt, [11]);
  const input = net.addPoisson('in', NIN, 400);
  const pop = net.addLif('pop', N, lif);
  const sIn = synapses(NIN, N, 0.3, 1);
  const sE = synapses(N, N, 0.2, 2);
  const sI = synapses(N, N, 0.15, 3);
  net.addProjection('in', input, pop, 'ge', [buildProjectionLane(sIn.pre, sIn.post, sIn.pre.map(() => wIn), NIN, N, false)]);
  net.addProjection('exc', pop, pop, 'ge', [buildProjectionLane(sE.pre, sE.post, sE.pre.map(() => we), N, N, false)]);
  net.addProjection('inh', pop, pop, 'gi', [buildProjectionLane(sI.pre, sI.post, sI.pre.map(() => wi), N, N, false)]);
  for (let j = 0; j < N; j++) {
    pop.v[j] = -60 + (10 * j) / N;
    pop.ge[j] = cond ? 0.5 * (j % 3) : 0.7 * (j % 4);
    pop.gi[j] = cond ? 1.5 * (j % 2) : 0.9 * (j % 3);
  }
  const v0 = Float64Array.from(pop.v);
  const ge0 = Float64Array.from(pop.ge);
  const gi0 = Float64Array.from(pop.gi);
  input.recording = true;
  pop.recording = true;
  const vs: Float32Array[] = [];
  for (let t = 0; t < steps; t++) {
    net.run(1);
    vs.push(pop.v.slice());
  }
  const inRec = input.takeRecording(0);
  const popRec = pop.takeRecording(0);
  // reference
  const exact = mode.method === 'exact';
  const de = exact ? Math.exp(-dt / 5) : 1 - dt / 5;
  const di = exact ? Math.exp(-dt / 10) : 1 - dt / 10;
  const v = Float64Array.from(v0);
  const ge = Float64Array.from(ge0);
  const gi = Float64Array.from(gi0);
  const last = new Array<number>(N).fill(-1e9);
  const refSpikes: number[][] = [];
  const refV: Float64Array[] = [];
  const inAt: number[][] = Array.from({ length: steps }, () => []);
  for (let k = 0; k < inRec.step.length; k++) inAt[inRec.step[k]!]!.push(inRec.index[k]!);
  const fw = (x: number) => f(x);
  for (let t = 0; t < steps; t++) {
    const now: number[] = [];
    for (let j = 0; j < N; j++) {
      const e = ge[j]!;
      const h = gi[j]!;
      ge[j] = f(e * de);
      gi[j] = f(h * di);
      if (t - last[j]! < 17) continue;
      const x = v[j]!;
      let nv: number;
      if (cond && exact) {
        const G = 1 + e + h;
        const vinf = (lif.el + e * 0 + h * -80) / G;
        nv = vinf + (x - vinf) * Math.exp((-dt * G) / 20);
      } else if (cond) {
        nv = x + (dt / 20) * (lif.el - x + e * (0 - x) + h * (-80 - x));
      } else if (exact) {
        const d = Math.exp(-dt / 20);
        nv = x * d + lif.el * (1 - d) + (1 - d) * (e - h);
      } else {
        nv = x + (dt / 20) * (lif.el - x + e - h);
      }
      v[j] = f(nv);
      if (v[j]! >= -50) now.push(j);
    }
    for (const i of inAt[t]!) for (let s = 0; s < sIn.pre.length; s++) if (sIn.pre[s] === i) ge[sIn.post[s]!] = f(ge[sIn.post[s]!]! + fw(wIn));
    for (const i of now) for (let s = 0; s < sE.pre.length; s++) if (sE.pre[s] === i) ge[sE.post[s]!] = f(ge[sE.post[s]!]! + fw(we));
    for (const i of now) for (let s = 0; s < sI.pre.length; s++) if (sI.pre[s] === i) gi[sI.post[s]!] = f(gi[sI.post[s]!]! + fw(wi));
    for (const j of now) {
      v[j] = -60;
      last[j] = t;
    }
    refSpikes.push(now);
    refV.push(Float64Array.from(v));
  }
  const spikes: number[][] = Array.from({ length: steps }, () => []);
  for (let k = 0; k < popRec.step.length; k++) spikes[popRec.step[k]!]!.push(popRec.index[k]!);
  return { spikes, refSpikes, vs, refV };
}

describe('event-network: drive, method, τe/τi, v ≥ V_th and refractorySteps', () => {
  for (const drive of ['current', 'conductance'] as const) {
    for (const method of ['euler', 'exact'] as const) {
      it(`${drive} drive, ${method}: spikes and v as the float64 loop of the formulas`, () => {
        const steps = 1500;
        const r = simulate({ drive, method }, steps);
        const total = r.refSpikes.reduce((a, s) => a + s.length, 0);
        expect(total).toBeGreaterThan(100); // active, and with refractory holds and recurrent jumps
        for (let t = 0; t < steps; t++) expect(r.spikes[t], `step ${t}`).toEqual(r.refSpikes[t]);
        let worst = 0;
        for (let t = 0; t < steps; t++) for (let j = 0; j < N; j++) worst = Math.max(worst, Math.abs(r.vs[t]![j]! - r.refV[t]![j]!));
        expect(worst).toBeLessThan(1e-4);
      });
    }
  }

  it('below(x): the largest double under x, so v ≥ x ⇔ v > below(x)', () => {
    for (const x of [-50, 50, 0.1, -0.1, 1e-300, -1e300, 3]) {
      const b = below(x);
      expect(b).toBeLessThan(x);
      expect((x + b) / 2 === x || (x + b) / 2 === b).toBe(true); // no double strictly between
    }
    expect(below(0)).toBe(-Number.MIN_VALUE);
  });

  it('invalid options: CinderArgumentError, no group added', () => {
    const net = new EventNetwork(1, 0.1, [1]);
    const base: LifParams = { el: -60, vThreshold: -50, vReset: -60, tauM: 20, tauS: 5, tauRef: 2 };
    const bad: [Partial<LifParams>, RegExp][] = [
      [{ drive: 'conductance' }, /invalid ee/],
      [{ drive: 'conductance', ee: 0, ei: Number.NaN }, /invalid ei/],
      [{ drive: 'voltage' as never }, /invalid drive/],
      [{ method: 'rk4' as never }, /invalid method/],
      [{ refractorySteps: 1.5 }, /invalid refractorySteps/],
      [{ refractorySteps: -1 }, /invalid refractorySteps/],
      [{ tauE: 0 }, /invalid tauE/],
      [{ tauS: undefined, tauE: 5 }, /invalid tauS/],
      // v ≥ −∞ has no double below it to compare with: the group never spiked (every v is ≥ −∞)
      [{ vThreshold: -Infinity, spikeAtThreshold: true }, /invalid vThreshold: got -Infinity/],
      [{ vThreshold: Number.NaN }, /invalid vThreshold: got NaN/],
      [{ el: Number.NaN }, /invalid el: got NaN/],
      [{ vReset: Infinity }, /invalid vReset: got Infinity/],
      [{ spikeAtThreshold: 'yes' as never }, /invalid spikeAtThreshold/],
      // longer than 2^28 steps: the never-spiked marker (−10⁹) would count as a recent spike
      [{ refractorySteps: 2 ** 28 + 1 }, /invalid refractorySteps: got 268435457, expected at most 268435456 steps/],
      [{ tauRef: 1e8 }, /invalid tauRef: got 100000000, expected at most 268435456 steps \(2\^28\) of refractory period \(got 1000000000\)/],
    ];
    for (const [p, msg] of bad) {
      expect(() => net.addLif('x', 3, { ...base, ...p })).toThrow(CinderArgumentError);
      expect(() => net.addLif('x', 3, { ...base, ...p })).toThrow(msg);
    }
    expect(net.groups.length).toBe(0);
    // an infinite threshold stays allowed: +∞ silences a population, v > −∞ fires every free step
    for (const [vThreshold, spikes] of [[Infinity, 0], [-Infinity, 15]] as const) {
      const n2 = new EventNetwork(1, 0.1, [1]);
      const g = n2.addLif('p', 5, { ...base, vThreshold, tauRef: 0 });
      n2.run(3);
      expect(g.spikeCounts[0]).toBe(spikes);
    }
    // the longest period allowed: a cell that never spiked is free at step 1 (fires at once above threshold)
    const n3 = new EventNetwork(1, 0.1, [1]);
    const g3 = n3.addLif('p', 4, { ...base, vThreshold: -Infinity, refractorySteps: 2 ** 28 });
    n3.run(3);
    expect(g3.spikeCounts[0]).toBe(4); // each fires once, then is held
    // tauS may be left out when both τe and τi are given
    expect(() => net.addLif('ok', 3, { el: -60, vThreshold: -50, vReset: -60, tauM: 20, tauE: 5, tauI: 10, tauRef: 2 })).not.toThrow();
  });
});
