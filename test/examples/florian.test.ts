import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FLORIAN_FIGURE_CAPS, florianExample, runFlorian, type FlorianResult } from '../../examples/florian/index.js';
import type { RunContext } from '../../src/cli/example.js';
import type { Figure } from '../../src/viz/figure.js';

/** The equations of the demo (Inferno semantics §6) in float64, independent of Cinder. */
function reference() {
  const pre = new Set([10, 85, 115, 135]);
  const post = new Set([15, 75, 110, 140]);
  const as = Math.exp(-1 / 20);
  const az = Math.exp(-1 / 25);
  let xpre = 0, xpost = 0, zpost = 0, zpre = 0;
  const w = { stdp: [0.2], mstdp: [0.2], mstdpet: [0.2] };
  const tracePre = [0], tracePost = [0], elig = [0];
  for (let t = 1; t <= 200; t++) {
    const i = pre.has(t) ? 1 : 0;
    const o = post.has(t) ? 1 : 0;
    const m = t <= 100 ? 1 : -1;
    xpre = as * xpre + 0.2 * i;
    xpost = as * xpost + 0.2 * o;
    zpost = az * zpost + (xpre * o) / 25;
    zpre = az * zpre + (xpost * i) / 25;
    const stdp = o * xpre - i * xpost;
    w.stdp.push(w.stdp[t - 1]! + stdp);
    w.mstdp.push(w.mstdp[t - 1]! + m * stdp);
    w.mstdpet.push(w.mstdpet[t - 1]! + m * (zpost - zpre));
    tracePre.push(xpre);
    tracePost.push(xpost);
    elig.push(zpost - zpre);
  }
  return { ...w, tracePre, tracePost, elig };
}

const florianRun: FlorianResult = await runFlorian();

/** A RunContext of `steps` steps (in a temporary folder) that keeps the JSON artifacts and figures in maps. */
function florianContext(steps: number): { ctx: RunContext; artifacts: Map<string, unknown>; figures: Map<string, Figure> } {
  const artifacts = new Map<string, unknown>();
  const figures = new Map<string, Figure>();
  const dir = mkdtempSync(join(tmpdir(), 'cinder-florian-'));
  const ctx = {
    outDir: dir, resumed: false, checkpointDir: join(dir, 'checkpoint'), keepResponsive: async () => {}, artifactPath: (n: string) => join(dir, n), params: { steps, lrPost: 0.2, lrPre: -0.2, tauTrace: 20, tauEligibility: 25, weightInit: 0.2 },
    seed: 0, quiet: true, signal: new AbortController().signal,
    log: () => {}, progress: () => ({ tick: () => {}, done: () => {} }),
    checkpoint: async () => {},
    figure: async (name: string, f: Figure) => void figures.set(name, f),
    artifactJson: async (name: string, v: unknown) => void artifacts.set(name, v),
  } as unknown as RunContext;
  return { ctx, artifacts, figures };
}

describe('cinder florian (Florian 2007 / Inferno demo)', () => {
  const r: FlorianResult = florianRun;
  const ref = reference();

  it("final weights equal Inferno's float32 results", () => {
    expect(Math.abs(r.stdp[200]! - 0.2690364)).toBeLessThan(2e-6);
    expect(Math.abs(r.mstdp[200]! - 0.2033024)).toBeLessThan(2e-6);
    expect(Math.abs(r.mstdpet[200]! - 0.3341991)).toBeLessThan(2e-6);
    // the float32 operation order of Inferno is reproduced bit for bit (10-digit values of the reference)
    expect(r.stdp[200]).toBe(Math.fround(0.2690363824));
    expect(r.mstdp[200]).toBe(Math.fround(0.2033024281));
    expect(r.mstdpet[200]).toBe(Math.fround(0.3341991305));
  });

  it('every one of the 201 values of each trainer follows the float64 recursion', () => {
    for (const k of ['stdp', 'mstdp', 'mstdpet'] as const) {
      expect(r[k]).toHaveLength(201);
      for (let t = 0; t <= 200; t++) expect(Math.abs(r[k][t]! - ref[k][t]!), `${k} at t=${t}`).toBeLessThan(1e-6);
    }
    for (let t = 0; t <= 200; t++) {
      expect(Math.abs(r.trace_pre[t]! - ref.tracePre[t]!)).toBeLessThan(1e-6);
      expect(Math.abs(r.trace_post[t]! - ref.tracePost[t]!)).toBeLessThan(1e-6);
      expect(Math.abs(r.eligibility[t]! - ref.elig[t]!)).toBeLessThan(1e-8);
    }
  });

  it('matches the table of selected points', () => {
    const ts = [0, 14, 15, 16, 75, 85, 100, 110, 115, 135, 139, 140, 200];
    const table = {
      stdp: [0.2, 0.2, 0.3558, 0.3558, 0.3635, 0.2362, 0.2362, 0.2948, 0.1106, 0.0429, 0.0429, 0.269, 0.269],
      mstdp: [0.2, 0.2, 0.3558, 0.3558, 0.3635, 0.2362, 0.2362, 0.1775, 0.3617, 0.4294, 0.4294, 0.2033, 0.2033],
      mstdpet: [0.2, 0.2, 0.2062, 0.2122, 0.3454, 0.3473, 0.2975, 0.3151, 0.3195, 0.414, 0.4349, 0.4305, 0.3342],
    };
    for (const k of ['stdp', 'mstdp', 'mstdpet'] as const) ts.forEach((t, i) => expect(Math.abs(r[k][t]! - table[k][i]!), `${k} t=${t}`).toBeLessThanOrEqual(5e-5));
    expect(Math.max(...r.trace_pre)).toBeCloseTo(0.2904, 4);
    expect(Math.max(...r.trace_post)).toBeCloseTo(0.2528, 4);
    expect(Math.max(...r.eligibility)).toBeCloseTo(0.00623, 5);
    expect(Math.min(...r.eligibility)).toBeCloseTo(-0.0068, 5);
    expect(r.eligibility.indexOf(Math.max(...r.eligibility))).toBe(15);
    expect(r.eligibility.indexOf(Math.min(...r.eligibility))).toBe(115);
  });

  it('run() writes trajectories.json (7 series of 201 values) and an 8-panel figure', async () => {
    const { ctx, artifacts, figures } = florianContext(200);
    const summary = await florianExample.run(ctx);
    const traj = artifacts.get('trajectories.json') as Record<string, number[]>;
    expect(Object.keys(traj).sort()).toEqual(['eligibility', 'mstdp', 'mstdpet', 'reward', 'stdp', 'trace_post', 'trace_pre']);
    for (const v of Object.values(traj)) expect(v).toHaveLength(201);
    expect(traj.reward![100]).toBe(1);
    expect(traj.reward![101]).toBe(-1);
    expect(figures.get('florian')!.panels).toBe(8);
    expect(summary.final_weight_mstdpet).toBe(r.mstdpet[200]);
    expect(Object.keys(summary).sort()).toEqual([...florianExample.summaryKeys].sort());
    expect(florianExample.presets.tiny).toBeDefined();
    expect(florianExample.presets.full).toBeDefined();
  });
});

describe('cinder florian: figure of long runs', () => {
  it('lines of more than maxPoints values are min/max envelopes of trajectories.json: every bucket keeps its extremes at their own step, named and titled so', async () => {
    const steps = 2000;
    const cap = 50;
    const { ctx, artifacts, figures } = florianContext(steps);
    const saved = { ...FLORIAN_FIGURE_CAPS };
    try {
      FLORIAN_FIGURE_CAPS.maxPoints = cap;
      await florianExample.run(ctx);
    } finally {
      Object.assign(FLORIAN_FIGURE_CAPS, saved);
    }
    const traj = artifacts.get('trajectories.json') as Record<string, number[]>;
    const fig = figures.get('florian')!;
    expect(fig.title).toBe(`Florian (2007): STDP, MSTDP and MSTDPET on one synapse (7 of 7 lines decimated to ≤ ${cap} points: min/max per bucket)`);
    const n = steps + 1;
    const B = Math.floor((cap - 2) / 2); // no gaps in these series
    const lines = fig.data.filter((t) => t.mode === 'lines') as { name: string; x: ArrayLike<number>; y: ArrayLike<number> }[];
    const keys: Record<string, string> = { x_pre: 'trace_pre', x_post: 'trace_post', M: 'reward', z: 'eligibility', STDP: 'stdp', MSTDP: 'mstdp', MSTDPET: 'mstdpet' };
    expect(lines.map((t) => t.name)).toEqual(Object.keys(keys).map((k) => `${k} (min/max of ${B} buckets of ${n} points)`));
    lines.forEach((t, i) => {
      const v = traj[Object.values(keys)[i]!]!;
      expect(v).toHaveLength(n);
      const x = Array.from(t.x);
      expect(x.length).toBeLessThanOrEqual(cap);
      expect(x[0]).toBe(0);
      expect(x[x.length - 1]).toBe(steps);
      for (let q = 1; q < x.length; q++) expect(x[q]!).toBeGreaterThan(x[q - 1]!);
      // each kept point is the artifact's value at its step (x = step = ms)
      for (let q = 0; q < x.length; q++) expect(t.y[q], `${t.name} at ${x[q]}`).toBe(v[x[q]!]);
      // every bucket of consecutive steps holds a kept point with its largest and one with its smallest value
      for (let b = 0; b < B; b++) {
        const lo = Math.floor((b * n) / B);
        const hi = Math.floor(((b + 1) * n) / B);
        const slice = v.slice(lo, hi);
        const kept = x.filter((s) => s >= lo && s < hi).map((s) => v[s]!);
        expect(kept).toContain(Math.max(...slice));
        expect(kept).toContain(Math.min(...slice));
      }
    });
    // the spike panels: the demo's trains, whatever the cap
    const marks = fig.data.filter((t) => t.mode === 'markers').map((t) => Array.from(t.x as ArrayLike<number>));
    expect(marks).toEqual([[10, 85, 115, 135], [15, 75, 110, 140]]);
  });
});

describe('runFlorian on a failing step', () => {
  it('frees the model and the recorded steps (tf.memory().numTensors back where it was) and rethrows', async () => {
    const { tf } = await import('../../src/core/tf.js');
    const { MSTDPET } = await import('../../src/learn/trainers/index.js');
    const before = tf.memory().numTensors;
    const real = MSTDPET.prototype.step;
    let calls = 0;
    const spy = vi.spyOn(MSTDPET.prototype, 'step').mockImplementation(function (this: InstanceType<typeof MSTDPET>, ...args: Parameters<typeof real>) {
      if (++calls === 50) throw new Error('step 50 failed');
      return real.apply(this, args);
    });
    try {
      await expect(runFlorian()).rejects.toThrow('step 50 failed');
    } finally {
      spy.mockRestore();
    }
    expect(calls).toBe(50);
    expect(tf.memory().numTensors).toBe(before);
  });
});
