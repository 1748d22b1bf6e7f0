import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { backendInfo } from '../../src/core/backend.js';
import { HomogeneousPoissonEncoder } from '../../src/neural/encoders/index.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { song2000Interrupted } from '../helpers/song-resume.js';
import { song2000Example, weightExtremes } from '../../examples/song2000/index.js';
import { SongNetwork } from '../../examples/song2000/network.js';
import { HandSong } from '../../examples/song2000/hand.js';
import { ChunkedSpikes } from '../../examples/song2000/input.js';
import { songParams } from '../../examples/song2000/params.js';
import { rateOverTime } from '../../examples/song2000/figures.js';
import { bernoulli, songReference } from './song-reference.js';

describe('song2000 network vs a float64 recursion of the same equations', () => {
  const p = songParams();
  const steps = 3000; // 0.3 s
  const spikes = bernoulli(steps, p.nInputs, p.rate, p.dt, 11);

  for (const drive of ['conductance', 'current'] as const) it(`matches membrane, conductance, post spikes and STDP weights step by step (${drive} drive)`, () => {
    const net = new SongNetwork(p, new Rng(5), true, drive);
    const w0 = net.weights();
    const ref = songReference(p, w0, spikes, steps, 'cinder', true, drive);
    const v = new Float64Array(steps);
    const ge = new Float64Array(steps);
    const post = new Uint8Array(steps);
    for (let t = 0; t < steps; t++) {
      const w = net.connection.weight.dataSync(); // weights before this step's update
      const s = tf.tensor2d(spikes.subarray(t * p.nInputs, (t + 1) * p.nInputs), [1, p.nInputs]);
      const o = tf.tidy(() => net.step(s));
      post[t] = o.dataSync()[0]!;
      o.dispose();
      s.dispose();
      v[t] = net.neuron.voltage.dataSync()[0]!;
      const g = net.connection.synapse.current.dataSync();
      let sum = 0;
      for (let i = 0; i < p.nInputs; i++) sum += w[i]! * g[i]!;
      ge[t] = drive === 'conductance' ? sum : sum / (p.Ee - p.vr); // the current synapse jumps by Ee − vr
    }
    const wEnd = net.weights();
    net.dispose();
    const nPost = post.reduce((a, b) => a + b, 0);
    expect(nPost).toBeGreaterThan(3); // the run exercises both STDP branches
    expect(Array.from(post)).toEqual(Array.from(ref.post));
    for (let t = 0; t < steps; t++) {
      expect(Math.abs(v[t]! - ref.v[t]!)).toBeLessThan(2e-4);
      expect(Math.abs(ge[t]! - ref.ge[t]!)).toBeLessThan(1e-5 * Math.max(1, ref.ge[t]!));
    }
    let maxDiff = 0;
    let changed = 0;
    for (let i = 0; i < p.nInputs; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(wEnd[i]! - ref.w[i]!));
      if (Math.abs(ref.w[i]! - w0[i]!) > 1e-6) changed++;
    }
    expect(changed).toBeGreaterThan(p.nInputs / 2);
    expect(maxDiff).toBeLessThan(1e-5 * p.gmax);
  });

  it('rejects an unknown drive', () => {
    expect(() => new SongNetwork(p, new Rng(1), true, 'voltage' as never)).toThrow(/drive/);
  });

  it('first steps: conductance impulse response and exact membrane relaxation', () => {
    // one input spike at step 0 with w = gmax: g(k) = e^{−kΔt/τe}; v relaxes exactly toward v∞ = El/(1 + ge)
    const q = songParams({ nInputs: 1 });
    const net = new SongNetwork(q, new Rng(0), false);
    net.connection.weight = tf.tensor2d([[q.gmax]]);
    const one = tf.tensor2d([[1]]);
    const zero = tf.tensor2d([[0]]);
    let v = q.El;
    for (let k = 0; k < 20; k++) {
      tf.tidy(() => void net.step(k === 0 ? one : zero));
      const g = q.gmax * Math.exp((-k * q.dt) / q.taue);
      const G = 1 + g;
      const vinf = (q.El + g * q.Ee) / G;
      v = vinf + (v - vinf) * Math.exp((-q.dt * G) / q.taum);
      expect(net.connection.synapse.current.dataSync()[0]!).toBeCloseTo(Math.exp((-k * q.dt) / q.taue), 6);
      expect(net.neuron.voltage.dataSync()[0]!).toBeCloseTo(v, 4);
    }
    expect(v).toBeGreaterThan(q.El); // the excitatory input depolarised the membrane
    one.dispose();
    zero.dispose();
    net.dispose();
  });

  it("Brian2's discretisation (Euler, next-step delivery, sequential clips) gives nearly the same rate and weights", () => {
    const n = 2 * 10_000; // 2 s
    const q = songParams();
    const sp = bernoulli(n, q.nInputs, q.rate, q.dt, 3);
    const w0 = new Rng(4).uniformArray(q.nInputs, 0, q.gmax);
    const a = songReference(q, w0, sp, n, 'cinder');
    const b = songReference(q, w0, sp, n, 'brian2');
    const ra = a.post.reduce((x, y) => x + y, 0) / 2;
    const rb = b.post.reduce((x, y) => x + y, 0) / 2;
    expect(ra).toBeGreaterThan(5);
    expect(Math.abs(ra - rb) / rb).toBeLessThan(0.15);
    let dw = 0;
    for (let i = 0; i < q.nInputs; i++) dw += Math.abs(a.w[i]! - b.w[i]!);
    expect(dw / q.nInputs).toBeLessThan(0.05 * q.gmax);
  });

  it('the hand-written tfjs loop computes the same weights as the Cinder modules', () => {
    const net = new SongNetwork(p, new Rng(6));
    const hand = new HandSong(p, net.weights());
    const n = 500;
    for (let t = 0; t < n; t++) {
      const s = tf.tensor2d(spikes.subarray(t * p.nInputs, (t + 1) * p.nInputs), [1, p.nInputs]);
      tf.tidy(() => {
        net.step(s);
        hand.step(s);
      });
      s.dispose();
    }
    const a = net.weights();
    const b = hand.w.dataSync();
    for (let i = 0; i < p.nInputs; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-9);
    expect(net.neuron.voltage.dataSync()[0]!).toBeCloseTo(hand.v.dataSync()[0]!, 4);
    net.dispose();
    hand.dispose();
  });

  it('memory stays flat over a long loop', () => {
    const net = new SongNetwork(p, new Rng(7));
    const enc = new HomogeneousPoissonEncoder({ steps: 200, dt: p.dt, frequency: p.rate, rng: new Rng(8) });
    const ones = tf.ones([1, p.nInputs]);
    const input = new ChunkedSpikes(enc, ones);
    for (let t = 0; t < 20; t++) tf.tidy(() => void net.step(input.next()));
    const n0 = tf.memory().numTensors;
    for (let t = 0; t < 500; t++) tf.tidy(() => void net.step(input.next()));
    expect(tf.memory().numTensors).toBe(n0);
    ones.dispose();
    net.dispose();
  });
});

describe('song2000 helpers', () => {
  it('weightExtremes counts weights below 0.1·gmax and above 0.9·gmax', () => {
    const r = weightExtremes([0, 0.05, 0.1, 0.5, 0.9, 0.95, 1], 1);
    expect(r.low).toBeCloseTo(2 / 7, 12);
    expect(r.high).toBeCloseTo(2 / 7, 12);
    expect(r.bimodal).toBeCloseTo(4 / 7, 12);
  });

  it('rateOverTime puts each bin at its end time, the last (partial) bin at the end of the run', () => {
    // 0.25 s in bins of 0.1 s: bins end at 0.1, 0.2 and 0.25 s (not 0.3)
    const f = rateOverTime(0.1, [10, 12, 14], 0.25);
    const x = Array.from(f.data[0]!.x as ArrayLike<number>);
    const expected = [0.1, 0.2, 0.25];
    expect(x).toHaveLength(3);
    x.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-12));
    expect(Array.from(f.data[0]!.y as ArrayLike<number>)).toEqual([10, 12, 14]);
    // without the total, whole bins
    const g = rateOverTime(0.5, [1, 2]);
    expect(Array.from(g.data[0]!.x as ArrayLike<number>)).toEqual([0.5, 1]);
  });

  it('validate refuses an input rate with more than one spike per step (before the run folder), naming --rate', () => {
    const base: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) base[o.name] = o.default;
    const dt = songParams().dt; // 0.1 ms: at most one spike per step means rate·dt/1000 <= 1, i.e. 10 kHz
    const limit = 1000 / dt;
    for (const engine of ['event', 'brian2', 'tfjs']) {
      expect(() => song2000Example.validate!({ ...base, engine, rate: 2 * limit }), engine).toThrow(/invalid --rate: got 20000/);
      expect(() => song2000Example.validate!({ ...base, engine, rate: 0.9 * limit }), engine).not.toThrow();
    }
    // the event engines draw Bernoulli(rate·dt) (p = 1 allowed); the tfjs encoder needs a mean interval above its dead time dt
    expect(() => song2000Example.validate!({ ...base, engine: 'event', rate: limit })).not.toThrow();
    expect(() => song2000Example.validate!({ ...base, engine: 'tfjs', rate: limit })).toThrow(/invalid --rate/);
  });

  it('ChunkedSpikes hands out each chunk in order and rejects bad inputs', () => {
    const enc = new HomogeneousPoissonEncoder({ steps: 50, dt: 1, frequency: 200, rng: new Rng(1) });
    const ones = tf.ones([2, 3]);
    const all = enc.encode(ones).dataSync();
    const again = new ChunkedSpikes(new HomogeneousPoissonEncoder({ steps: 50, dt: 1, frequency: 200, rng: new Rng(1) }), ones);
    for (let t = 0; t < 50; t++) expect(Array.from(again.nextArray())).toEqual(Array.from(all.subarray(t * 6, (t + 1) * 6)));
    const total = Array.from(all).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    expect(() => new ChunkedSpikes(enc, tf.ones([3]))).toThrow(/inputs/);
    ones.dispose();
  });

  it('the tiny preset writes the documented summary keys and figures', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cinder-song-')), 'run');
    const params: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) params[o.name] = o.default;
    Object.assign(params, song2000Example.presets.tiny, { seconds: 0.05, binSeconds: 0.01 });
    const run = startRun({
      spec: song2000Example, params, mode: 'tiny', seed: 1, seeds: 1, outDir: out, backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
    });
    const r = await run.done;
    expect(r.status).toBe('completed');
    const summary = JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8'));
    for (const k of song2000Example.summaryKeys) expect(summary).toHaveProperty(k);
    expect(summary.simulated_seconds).toBeCloseTo(0.05, 9);
    expect(summary.steps).toBe(500);
    expect(summary.bimodal_fraction).toBeGreaterThanOrEqual(0);
    expect(summary.bimodal_fraction).toBeLessThanOrEqual(1);
    // 5 rate bins of 10 ms: the overall rate is their mean
    const npy = readFileSync(join(out, 'artifacts', 'post_rate.npy'));
    const rates = Array.from(new Float32Array(Uint8Array.from(npy.subarray(npy.length - 20)).buffer));
    expect(summary.post_rate_hz).toBeCloseTo(rates.reduce((a, b) => a + b, 0) / 5, 3);
    for (const f of song2000Example.figures) expect(existsSync(join(out, 'figures', `${f}.html`))).toBe(true);
  });

  it('a run stopped before its first bin ends interrupted with 0 steps, not failed (both engines)', async () => {
    // ms_per_simulated_second is null then; the final log line called toFixed on it (TypeError: failed)
    for (const engine of ['event', 'tfjs']) {
      const out = join(mkdtempSync(join(tmpdir(), 'cinder-song-stop0-')), 'run');
      const params: Record<string, number | string | boolean> = {};
      for (const o of song2000Example.options) params[o.name] = o.default;
      Object.assign(params, song2000Example.presets.tiny, { engine });
      const stop = new AbortController();
      stop.abort();
      const r = await startRun({
        spec: song2000Example, params, mode: 'tiny', seed: 1, seeds: 1, outDir: out, backend: backendInfo()!, backendRequest: 'auto',
        quiet: true, signal: stop.signal, terminal: new Terminal({ mode: 'quiet' }),
      }).done;
      expect(r.status, engine).toBe('interrupted');
      const summary = JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8'));
      expect(summary.steps, engine).toBe(0);
      expect(summary.post_rate_hz, engine).toBe(0);
      expect(summary.ms_per_simulated_second, engine).toBeNull();
    }
  });

  it('an interrupted and resumed run reports the same summary as an uninterrupted one, timing included (clock: 1 ms per reading)', async () => {
    const params: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) params[o.name] = o.default;
    Object.assign(params, song2000Example.presets.tiny, { seconds: 0.04, binSeconds: 0.01 });
    const dir = mkdtempSync(join(tmpdir(), 'cinder-song-resume-'));
    // every bin's wall time is then exactly 1 ms: 4 bins → 4 ms
    let clock = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => ++clock);
    try {
      const { full, part, resumed } = await song2000Interrupted(params, 2, dir);
      expect(part.status).toBe('interrupted');
      expect(part.steps).toBe(300);
      expect(resumed.status).toBe('completed');
      expect(full.wall_seconds).toBe(0.004);
      for (const k of song2000Example.summaryKeys) expect(resumed[k], k).toEqual(full[k]); // before: wall_seconds 0.001 (the resumed bin only)
    } finally {
      now.mockRestore();
    }
  });
});
