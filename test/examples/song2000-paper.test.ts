// `cinder song2000 --model paper`: the parameters of Song, Miller & Abbott (2000)'s Methods (with
// 200 fixed inhibitory inputs) on the event engine, against a float64 loop written here from the
// paper's equations, and the option's validation and resume.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { song2000Interrupted } from '../helpers/song-resume.js';
import { song2000Example, songModelParams } from '../../examples/song2000/index.js';
import { EventSong, chunkFromDense } from '../../examples/song2000/event.js';
import { songPaperParams, songParams } from '../../examples/song2000/params.js';
import { bernoulli, paperLoop } from './song-reference.js';

describe('song2000 --model paper', () => {
  it("songPaperParams holds the paper's Methods values; songParams (Brian2's example) is unchanged", () => {
    const p = songPaperParams({ rate: 10 });
    expect([p.taum, p.El, p.Ee, p.Ei, p.vt, p.vr, p.taue, p.taui]).toEqual([20, -70, 0, -70, -54, -60, 5, 5]);
    expect([p.nInputs, p.nInhib, p.inhibRate, p.gin, p.gmax, p.taupre, p.taupost]).toEqual([1000, 200, 10, 0.05, 0.015, 20, 20]);
    expect(p.dApre).toBeCloseTo(0.005 * 0.015, 15); // A+ = 0.005 in units of ḡmax
    expect(p.dApost).toBeCloseTo(-1.05 * 0.005 * 0.015, 15); // A−/A+ = 1.05
    expect(p.initialWeights).toBe('gmax');
    expect(p.frozenJumps).toBe(true);
    const b = songParams();
    expect([b.taum, b.El, b.gmax, b.nInhib, b.gin, b.initialWeights, b.frozenJumps]).toEqual([10, -74, 0.01, 0, 0, 'uniform', false]);
    expect(b.dApre).toBeCloseTo(1e-4, 15);
    expect(songModelParams('brian2')).toEqual(songParams());
    expect(() => songModelParams('nature')).toThrow(/invalid --model: got "?nature"?, expected one of brian2, paper/);
  });

  for (const scheme of ['cinder', 'brian2'] as const) it(`the event engine (scheme ${scheme}) matches the float64 loop of the paper's equations over 2 s: post spikes exactly, weights to float32 precision`, () => {
    const p = songPaperParams({ rate: 10 });
    const steps = 20_000;
    const exc = bernoulli(steps, p.nInputs, p.rate, p.dt, 31);
    const inh = bernoulli(steps, p.nInhib, p.inhibRate, p.dt, 32);
    const ref = paperLoop(p, exc, inh, steps, scheme);
    const ev = new EventSong(p, new Float32Array(p.nInputs).fill(p.gmax), 'conductance', true, 1, scheme);
    const ce = chunkFromDense(exc, steps, p.nInputs);
    const ci = chunkFromDense(inh, steps, p.nInhib);
    const post = new Uint8Array(steps);
    let maxV = 0;
    for (let t = 0; t < steps; t++) {
      post[t] = ev.step(ce.ids, ce.start[t]!, ce.start[t + 1]!, [ci.start[t + 1]! - ci.start[t]!]);
      maxV = Math.max(maxV, Math.abs(ev.v[0]! - ref.v[t]!));
    }
    const nPost = post.reduce((x, y) => x + y, 0);
    expect(nPost).toBeGreaterThan(50); // all weights at ḡmax: the neuron fires fast at first
    expect(Array.from(post)).toEqual(Array.from(ref.post));
    expect(maxV).toBeLessThan(1e-3); // mV; the engine's weights are float32
    let maxW = 0;
    let moved = 0;
    const w = ev.weights();
    for (let i = 0; i < p.nInputs; i++) {
      maxW = Math.max(maxW, Math.abs(w[i]! - ref.w[i]!));
      if (ref.w[i]! < p.gmax) moved++;
    }
    expect(moved).toBeGreaterThan(p.nInputs / 2); // STDP acted
    expect(maxW).toBeLessThan(1e-5 * p.gmax);
  });

  it('inhibition: one inhibitory spike moves the membrane as the closed form (no excitatory input, learning off)', () => {
    // gin(t) = ḡin·e^{−t/τin} from the jump; with V = Ein = Vrest = −70 mV the inhibitory driving
    // force is zero, so start above rest: V0 = −60 mV. Exact per-step solution with gin held: compare
    // against the analytic solution of τm dV/dt = −(1 + gin(t))(V − (−70)) to O(Δt) accuracy.
    const p = songPaperParams({ nInputs: 1, nInhib: 1 });
    const ev = new EventSong(p, [0], 'conductance', false);
    ev.v[0] = -60;
    const none = new Int32Array(0);
    let v = -60; // analytic: V − Vr = (V0 − Vr)·exp(−t/τm − (ḡin τin/τm)(1 − e^{−t/τin}))
    for (let k = 0; k < 300; k++) {
      ev.step(none, 0, 0, [k === 0 ? 1 : 0]);
      const t = (k + 1) * p.dt;
      v = -70 + 10 * Math.exp(-t / 20 - ((0.05 * 5) / 20) * (1 - Math.exp(-t / 5)));
      expect(Math.abs(ev.gi[0]! - 0.05 * Math.exp((-k * p.dt) / 5))).toBeLessThan(1e-15);
    }
    // held-conductance steps differ from the continuous solution by O(Δt·ḡin/τm) only
    expect(Math.abs(ev.v[0]! - v)).toBeLessThan(2e-3);
    // and inhibition hyperpolarised relative to no inhibition
    expect(ev.v[0]!).toBeLessThan(-70 + 10 * Math.exp(-(300 * p.dt) / 20));
  });

  it('validation: --model paper refuses the current drive before running (the tfjs engine: song2000-paper-tfjs.test.ts)', () => {
    const base: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) base[o.name] = o.default;
    expect(() => song2000Example.validate!({ ...base, model: 'paper', drive: 'current' })).toThrow(/invalid --drive: got "?current"?, expected 'conductance' with --model paper/);
    expect(() => song2000Example.validate!({ ...base, model: 'paper' })).not.toThrow();
    expect(() => new EventSong(songPaperParams(), [0], 'current')).toThrow(/invalid drive/);
  });

  it('a --model paper run interrupted mid-chunk and resumed ends with the same weights, rates and summary as an uninterrupted one', async () => {
    const params: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) params[o.name] = o.default;
    // chunks of 250 steps, bins of 100: the interruption after bin 3 falls inside the second chunk
    Object.assign(params, { seconds: 0.06, binSeconds: 0.01, chunk: 250, model: 'paper', rate: 10 });
    const dir = mkdtempSync(join(tmpdir(), 'cinder-song-paper-'));
    const weights = (out: string) => {
      const npy = readFileSync(join(dir, out, 'artifacts', 'weights_after.npy'));
      return Array.from(new Float32Array(Uint8Array.from(npy.subarray(npy.length - 4 * 1000)).buffer));
    };
    const { full, part, resumed } = await song2000Interrupted(params, 4, dir);
    expect(part.status).toBe('interrupted');
    expect(part.steps).toBe(300);
    expect(resumed.status).toBe('completed');
    expect(full.model).toBe('paper');
    expect(full.post_rate_hz as number).toBeGreaterThan(0);
    for (const k of ['bimodal_fraction', 'strong_fraction', 'post_rate_hz', 'final_post_rate_hz', 'steps']) expect(resumed[k], k).toEqual(full[k]);
    expect(weights('part')).toEqual(weights('full'));
    expect(weights('full').some((x) => x < Math.fround(0.015))).toBe(true); // STDP moved weights down from ḡmax
  });
});
