// `cinder song2000 --model paper --engine tfjs`: the paper's model built from Cinder modules
// (examples/song2000/paper-network.ts) against the event engine on the same input spikes, its
// frozen-jump conductance against the closed form, and the CLI run, validation and resume.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { HomogeneousPoissonEncoder } from '../../src/neural/encoders/index.js';
import { ChunkedSpikes } from '../../examples/song2000/input.js';
import { song2000Interrupted } from '../helpers/song-resume.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { backendInfo } from '../../src/core/backend.js';
import { song2000Example } from '../../examples/song2000/index.js';
import { EventSong, chunkFromDense } from '../../examples/song2000/event.js';
import { FrozenConductanceDense, SongPaperNetwork } from '../../examples/song2000/paper-network.js';
import { songPaperParams } from '../../examples/song2000/params.js';
import { bernoulli } from './song-reference.js';

/** Distance from x (a positive float32) to the next float32. */
function ulp32(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0]!++;
  return f[0]! - Math.fround(x);
}

/**
 * Runs the module network and the event engine side by side on the same excitatory `[steps, N]`
 * and inhibitory `[steps, Ni]` spikes from all weights at ḡmax. Post spikes and voltages are
 * collected as tensors and read once at the end.
 */
function sideBySide(frozenJumps: boolean, steps: number, seed: number) {
  const p = { ...songPaperParams({ rate: 10 }), frozenJumps };
  const exc = bernoulli(steps, p.nInputs, p.rate, p.dt, seed);
  const inh = bernoulli(steps, p.nInhib, p.inhibRate, p.dt, seed + 1);
  const w0 = new Float32Array(p.nInputs).fill(p.gmax);
  const net = new SongPaperNetwork(p, w0);
  const ev = new EventSong(p, w0);
  const ce = chunkFromDense(exc, steps, p.nInputs);
  const ci = chunkFromDense(inh, steps, p.nInhib);
  const postsT: tf.Tensor[] = [];
  const vT: tf.Tensor[] = [];
  const geT: tf.Tensor[] = [];
  const evPost = new Uint8Array(steps);
  const evV = new Float64Array(steps);
  const evGe = new Float64Array(steps);
  const preCount = new Float64Array(p.nInputs);
  for (let t = 0; t < steps; t++) {
    const s = tf.tensor2d(exc.subarray(t * p.nInputs, (t + 1) * p.nInputs), [1, p.nInputs]);
    const r = tf.tensor2d(inh.subarray(t * p.nInhib, (t + 1) * p.nInhib), [1, p.nInhib]);
    postsT.push(tf.tidy(() => tf.reshape(net.step(s, r), [1])));
    vT.push(tf.tidy(() => tf.reshape(net.neuron.voltage, [1])));
    geT.push(tf.tidy(() => tf.reshape(net.excitatoryConductance(), [1])));
    s.dispose();
    r.dispose();
    evPost[t] = ev.step(ce.ids, ce.start[t]!, ce.start[t + 1]!, [ci.start[t + 1]! - ci.start[t]!]);
    evV[t] = ev.v[0]!;
    evGe[t] = ev.geSeen[0]!;
    for (let e = ce.start[t]!; e < ce.start[t + 1]!; e++) preCount[ce.ids[e]!]!++;
  }
  const read = (ts: tf.Tensor[]) => {
    const all = tf.concat(ts);
    const out = all.dataSync().slice();
    all.dispose();
    for (const x of ts) x.dispose();
    return out;
  };
  const tfPost = read(postsT);
  const tfV = read(vT);
  const tfGe = read(geT);
  const tfW = net.weights();
  net.dispose();
  return { p, tfPost, tfV, tfGe, tfW, evPost, evV, evGe, evW: ev.weights(), preCount };
}

/**
 * Reruns SongPaperNetwork on the encoder streams of a `--engine tfjs --model paper --rate 10` run
 * with `seed` and `chunk` (Rng(seed) forked: initial weights, excitatory inputs, inhibitory inputs):
 * the steps of its post spikes and its final weights.
 */
function rerunTfjsPaper(seed: number, chunk: number, steps: number): { post: number[]; w: Float32Array } {
  const p = songPaperParams({ rate: 10 });
  const rng = new Rng(seed);
  rng.fork();
  const ones = [tf.ones([1, p.nInputs]), tf.ones([1, p.nInhib])] as const;
  const exc = new ChunkedSpikes(new HomogeneousPoissonEncoder({ steps: chunk, dt: p.dt, frequency: p.rate, rng: rng.fork() }), ones[0], new Float32Array(p.nInputs).fill(1));
  const inh = new ChunkedSpikes(new HomogeneousPoissonEncoder({ steps: chunk, dt: p.dt, frequency: p.inhibRate, rng: rng.fork() }), ones[1], new Float32Array(p.nInhib).fill(1));
  const net = new SongPaperNetwork(p, new Float32Array(p.nInputs).fill(p.gmax));
  const post: number[] = [];
  for (let t = 0; t < steps; t++) if (tf.tidy(() => net.step(exc.next(), inh.next()).dataSync()[0]!) !== 0) post.push(t);
  const w = net.weights();
  net.dispose();
  for (const t of ones) t.dispose();
  return { post, w };
}

/** Two-pass CV (population sd / mean) of the intervals between consecutive spike steps. */
function cvTwoPass(steps: readonly number[]): number {
  const isi = steps.slice(1).map((t, i) => t - steps[i]!);
  const mean = isi.reduce((a, b) => a + b, 0) / isi.length;
  const v = isi.reduce((a, b) => a + (b - mean) ** 2, 0) / isi.length;
  return Math.sqrt(v) / mean;
}

describe('song2000 --model paper on the Cinder modules (SongPaperNetwork)', () => {
  it('agrees with the event engine step by step over 2 s (1000 + 200 inputs, all weights at ḡmax): post spikes identical, weights within the float32 rounding bound', () => {
    const steps = 20_000;
    const r = sideBySide(true, steps, 31);
    const { p } = r;
    const nPost = r.evPost.reduce((a, b) => a + b, 0);
    expect(nPost).toBeGreaterThan(50); // all weights at ḡmax: the neuron fires fast at first
    expect(Array.from(r.tfPost, (x) => (x !== 0 ? 1 : 0))).toEqual(Array.from(r.evPost));
    // membrane and conductance: float32 (module) against float64 (event engine); both contract
    let maxV = 0;
    let maxGe = 0;
    for (let t = 0; t < steps; t++) {
      maxV = Math.max(maxV, Math.abs(r.tfV[t]! - r.evV[t]!));
      maxGe = Math.max(maxGe, Math.abs(r.tfGe[t]! - r.evGe[t]!) / Math.max(p.gmax, r.evGe[t]!));
    }
    expect(maxV).toBeLessThan(2e-4); // mV: ≈ 50 ulp of float32 at −60 mV
    expect(maxGe).toBeLessThan(1e-5);
    // Weights: both engines store them in float32 and add the same additive increments (traces:
    // float32 here, float64 in the event engine, a relative difference ~1e-7 of an increment of
    // ≈ A+·ḡmax). Each update of a weight can round the two results to neighbouring float32
    // values, so the difference grows by at most one ulp(ḡmax) per update (clipping only shrinks
    // it): weight a is updated at its presynaptic spikes and at every post spike, so
    // |Δw_a| ≤ (pre_a + posts)·ulp(ḡmax). Measured: well inside.
    let maxW = 0;
    let maxRatio = 0;
    let moved = 0;
    const ulp = ulp32(p.gmax);
    for (let i = 0; i < p.nInputs; i++) {
      const d = Math.abs(r.tfW[i]! - r.evW[i]!);
      maxW = Math.max(maxW, d);
      maxRatio = Math.max(maxRatio, d / ((r.preCount[i]! + nPost) * ulp));
      if (r.evW[i]! < Math.fround(p.gmax)) moved++;
    }
    expect(moved).toBeGreaterThan(p.nInputs / 2); // STDP acted
    expect(maxRatio).toBeLessThanOrEqual(1);
    expect(maxW).toBeLessThan(1e-5 * p.gmax);
  }, 120_000);

  it('without frozen jumps (per-input conductances rescaled by weight changes) it agrees with the event engine run so', () => {
    const steps = 3000;
    const r = sideBySide(false, steps, 41);
    expect(r.evPost.reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
    expect(Array.from(r.tfPost, (x) => (x !== 0 ? 1 : 0))).toEqual(Array.from(r.evPost));
    let maxW = 0;
    for (let i = 0; i < r.p.nInputs; i++) maxW = Math.max(maxW, Math.abs(r.tfW[i]! - r.evW[i]!));
    expect(maxW).toBeLessThan(1e-5 * r.p.gmax);
  }, 60_000);

  it('FrozenConductanceDense: a jump keeps the weight it arrived with (closed form g_k = w·e^{−kΔt/τ}, weight set to 0 after the spike)', () => {
    const dt = 0.1;
    const tau = 5;
    const w = 0.015;
    const c = new FrozenConductanceDense([2], [1], dt, { tau, weightInit: () => tf.tensor2d([[w, 2 * w]]) });
    const spike = tf.tensor2d([[1, 0]]);
    const none = tf.tensor2d([[0, 0]]);
    let maxErr = 0;
    for (let k = 0; k < 50; k++) {
      tf.tidy(() => void c.forward(k === 0 ? spike : none));
      if (k === 0) c.weight = tf.zeros([1, 2]); // a later weight change leaves the conductance in flight alone
      const g = c.conductance.dataSync()[0]!;
      maxErr = Math.max(maxErr, Math.abs(g - Math.fround(w) * Math.exp((-k * dt) / tau)) / w);
    }
    expect(maxErr).toBeLessThan(1e-5); // float32 decay factor, 50 products
    expect(c.conductance.dataSync()[0]!).toBeGreaterThan(0.3 * w);
    c.clear();
    expect(c.conductance.dataSync()[0]).toBe(0);
    c.batchSize = 3;
    expect(c.conductance.shape).toEqual([3, 1]);
    expect(() => new FrozenConductanceDense([2], [1], dt, { tau: 0 })).toThrow(/invalid tau/);
    expect(() => new FrozenConductanceDense([2], [1], dt, { tau, maxDelay: 1 })).toThrow(/invalid maxDelay/);
    spike.dispose();
    none.dispose();
    c.dispose();
  });

  it('SongPaperNetwork refuses parameters without inhibitory inputs and initial weights of the wrong length', () => {
    const p = songPaperParams();
    expect(() => new SongPaperNetwork({ ...p, nInhib: 0 }, new Float32Array(p.nInputs))).toThrow(/invalid p.nInhib/);
    expect(() => new SongPaperNetwork(p, new Float32Array(3))).toThrow(/invalid w0/);
  });

  it('memory stays flat over a loop', () => {
    const p = songPaperParams({ rate: 10 });
    const net = new SongPaperNetwork(p, new Float32Array(p.nInputs).fill(p.gmax));
    const s = tf.tensor2d(bernoulli(1, p.nInputs, 200, p.dt, 3), [1, p.nInputs]);
    const r = tf.tensor2d(bernoulli(1, p.nInhib, 200, p.dt, 4), [1, p.nInhib]);
    for (let t = 0; t < 10; t++) tf.tidy(() => void net.step(s, r));
    const n0 = tf.memory().numTensors;
    for (let t = 0; t < 200; t++) tf.tidy(() => void net.step(s, r));
    expect(tf.memory().numTensors).toBe(n0);
    s.dispose();
    r.dispose();
    net.dispose();
  });

  it('validation: --model paper takes the tfjs engine, still refuses the current drive', () => {
    const base: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) base[o.name] = o.default;
    expect(() => song2000Example.validate!({ ...base, model: 'paper', engine: 'tfjs' })).not.toThrow();
    expect(() => song2000Example.validate!({ ...base, model: 'paper', engine: 'tfjs', drive: 'current' })).toThrow(/invalid --drive: got "?current"?, expected 'conductance' with --model paper/);
  });

  it('a run started without validate refuses --drive current with --model paper on the tfjs engine (SongPaperNetwork has no current drive)', async () => {
    const params: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) params[o.name] = o.default;
    Object.assign(params, { seconds: 0.01, binSeconds: 0.01, model: 'paper', rate: 10, engine: 'tfjs', drive: 'current' });
    const r = await startRun({
      spec: song2000Example, params, mode: 'tiny', seed: 1, seeds: 1, outDir: join(mkdtempSync(join(tmpdir(), 'cinder-song-paper-current-')), 'run'), backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
    }).done;
    expect(r.status).toBe('failed');
    expect(String(r.summary.error)).toMatch(/invalid --drive: got "?current"?, expected 'conductance' with --model paper/);
  });

  it('a tfjs --model paper run interrupted mid-chunk and resumed ends with the same weights, rates and summary as an uninterrupted one', async () => {
    const params: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) params[o.name] = o.default;
    // chunks of 250 steps, bins of 100: the interruption after bin 3 falls inside the second chunk
    Object.assign(params, { seconds: 0.06, binSeconds: 0.01, chunk: 250, model: 'paper', rate: 10, engine: 'tfjs' });
    const dir = mkdtempSync(join(tmpdir(), 'cinder-song-paper-tfjs-'));
    const npy = (out: string, name: string, n: number) => {
      const b = readFileSync(join(dir, out, 'artifacts', `${name}.npy`));
      return Array.from(new Float32Array(Uint8Array.from(b.subarray(b.length - 4 * n)).buffer));
    };
    const { full, part, resumed } = await song2000Interrupted(params, 4, dir);
    expect(part.status).toBe('interrupted');
    expect(part.steps).toBe(300);
    expect(resumed.status).toBe('completed');
    expect(full.engine).toBe('tfjs');
    expect(full.model).toBe('paper');
    expect(full.post_rate_hz as number).toBeGreaterThan(0);
    for (const k of ['bimodal_fraction', 'strong_fraction', 'post_rate_hz', 'final_post_rate_hz', 'cv_isi', 'cv_isi_intervals', 'steps']) expect(resumed[k], k).toEqual(full[k]);
    expect(npy('part', 'post_rate', 6)).toEqual(npy('full', 'post_rate', 6));
    expect(npy('part', 'weights_after', 1000)).toEqual(npy('full', 'weights_after', 1000));
    expect(npy('full', 'weights_before', 1000).every((x) => x === Math.fround(0.015))).toBe(true); // Fig. 2: all at ḡmax
    expect(npy('full', 'weights_after', 1000).some((x) => x < Math.fround(0.015))).toBe(true); // STDP moved weights down
    // the run is SongPaperNetwork on the run's encoder streams, rerun here step by step: same weights and post spikes
    const re = rerunTfjsPaper(4, 250, 600);
    expect(npy('full', 'post_rate', 6)).toEqual([0, 1, 2, 3, 4, 5].map((b) => re.post.filter((t) => t >= 100 * b && t < 100 * (b + 1)).length / 0.01));
    expect(npy('full', 'weights_after', 1000)).toEqual(Array.from(re.w));
  }, 120_000);

  it('cv_isi of a tfjs --model paper run is the CV of the post spikes in the last 10 % of the bins, as a rerun of the network gives (the same meaning as the event engine)', async () => {
    // 0.3 s in 30 bins: the window is the last 3 bins (steps 2700..2999)
    const params: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) params[o.name] = o.default;
    Object.assign(params, { seconds: 0.3, binSeconds: 0.01, chunk: 1000, model: 'paper', rate: 10, engine: 'tfjs' });
    const dir = join(mkdtempSync(join(tmpdir(), 'cinder-song-paper-tfjs-cv-')), 'run');
    const run = await startRun({
      spec: song2000Example, params, mode: 'tiny', seed: 3, seeds: 1, outDir: dir, backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
    }).done;
    expect(run.status).toBe('completed');
    const summary = JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8')) as Record<string, unknown>;
    const window = rerunTfjsPaper(3, 1000, 3000).post.filter((t) => t >= 2700);
    expect(window.length).toBeGreaterThan(5);
    expect(summary.cv_isi_intervals).toBe(window.length - 1);
    expect(summary.cv_window_seconds).toBeCloseTo(0.03, 12);
    expect(Math.abs((summary.cv_isi as number) - cvTwoPass(window))).toBeLessThan(1e-12);
    expect(summary.final_post_rate_hz as number).toBeCloseTo(window.length / 0.03, 6);
  }, 120_000);
});
