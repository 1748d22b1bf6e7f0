// `cinder song2000 --input correlated`: the correlated input rates of Song, Miller & Abbott (2000)
// (Methods p. 925, Fig. 5a/b) against the closed forms of their recipe, the spike trains' rate and
// pairwise count correlation against theirs, the option checks, and a short run's weights against
// the float64 loop of the paper's equations on the same inputs.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/random.js';
import { runCli } from '../../src/cli/program.js';
import { EXAMPLES } from '../../examples/index.js';
import { Sink } from '../cli/fixtures/sink.js';
import { song2000Interrupted } from '../helpers/song-resume.js';
import { song2000Example, meanWeightByBin } from '../../examples/song2000/index.js';
import { CorrelatedInput, correlationParameters } from '../../examples/song2000/correlated.js';
import { bernoulliChunk, type SpikeChunk } from '../../examples/song2000/event.js';
import { songPaperParams } from '../../examples/song2000/params.js';
import { paperLoop } from './song-reference.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { backendInfo } from '../../src/core/backend.js';

/** Standard normal cdf by Simpson's rule on the density (float64, 20 000 panels from 0). */
function normalCdf(x: number): number {
  const n = 20_000;
  const h = x / n;
  const f = (t: number) => Math.exp((-t * t) / 2) / Math.sqrt(2 * Math.PI);
  let s = f(0) + f(x);
  for (let k = 1; k < n; k++) s += (k % 2 ? 4 : 2) * f(k * h);
  return 0.5 + (s * h) / 3;
}

/** Spike counts of each input in consecutive windows of `T` steps. */
function windowCounts(chunks: SpikeChunk[], n: number, T: number): Float64Array[] {
  const total = chunks.reduce((s, c) => s + c.steps, 0);
  const out = Array.from({ length: n }, () => new Float64Array(Math.floor(total / T)));
  let base = 0;
  for (const c of chunks) {
    for (let k = 0; k < c.steps; k++) {
      const wdw = Math.floor((base + k) / T);
      for (let e = c.start[k]!; e < c.start[k + 1]!; e++) if (wdw < out[0]!.length) out[c.ids[e]!]![wdw]!++;
    }
    base += c.steps;
  }
  return out;
}

const mean = (x: ArrayLike<number>) => Array.from(x).reduce((a, b) => a + b, 0) / x.length;
const cov = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  const mx = mean(x);
  const my = mean(y);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - mx) * (y[i]! - my);
  return s / x.length;
};

describe('song2000 correlated inputs (Fig. 5a/b)', () => {
  it('correlation parameters c_a = c_max·(a − 1)/(N − 1); 20 index bins are 20 equal bins of c_a', () => {
    const c = correlationParameters(1000, 0.2);
    expect(c[0]).toBe(0);
    expect(c[999]).toBeCloseTo(0.2, 15);
    expect(c[500]).toBeCloseTo((0.2 * 500) / 999, 15);
    expect(Array.from(correlationParameters(1, 0.2))).toEqual([0]);
    const bins = meanWeightByBin(Float64Array.from({ length: 1000 }, (_, i) => i), 1000); // w/gmax = i/1000
    expect(bins).toHaveLength(20);
    for (let j = 0; j < 20; j++) expect(bins[j]).toBeCloseTo((50 * j + 24.5) / 1000, 12); // 50 inputs a bin
  });

  it('rates r_a = r̄(1 + x_a + c_a·y) per interval: mean r̄, variance r̄²σ², covariance r̄²c_a·c_b (σ = 0.5)', () => {
    const rbar = 10;
    const sigma = 0.5;
    const g = new CorrelatedInput(3, { rate: rbar, sigma, cMax: 0.5, tauC: 20 }, 0.1, new Rng(1)); // c = 0, 0.25, 0.5
    const K = 200_000;
    const r = Array.from({ length: 3 }, () => new Float64Array(K));
    const rng = new Rng(2);
    for (let k = 0; k < K; k++) {
      g.redraw(rng);
      for (let a = 0; a < 3; a++) r[a]![k] = g.rates[a]!;
    }
    const se = (rbar * rbar * sigma * sigma) / Math.sqrt(K); // ≈ standard error of a (co)variance
    for (let a = 0; a < 3; a++) {
      expect(Math.abs(mean(r[a]!) - rbar)).toBeLessThan((5 * rbar * sigma) / Math.sqrt(K));
      expect(Math.abs(cov(r[a]!, r[a]!) - rbar * rbar * sigma * sigma)).toBeLessThan(6 * se);
    }
    const c = [0, 0.25, 0.5];
    for (const [a, b] of [[0, 1], [0, 2], [1, 2]] as const) expect(Math.abs(cov(r[a]!, r[b]!) - rbar * rbar * c[a]! * c[b]!)).toBeLessThan(6 * se);
  });

  it('new intervals start with probability 1 − e^{−Δt/τc} per step (mean interval τc)', () => {
    for (const tauC of [20, 200]) {
      const g = new CorrelatedInput(2, { rate: 10, sigma: 0.5, cMax: 0.2, tauC }, 0.1, new Rng(3));
      const q = 1 - Math.exp(-0.1 / tauC);
      expect(g.q).toBeCloseTo(q, 15);
      const rng = new Rng(4);
      const steps = 2_000_000;
      let n = 0;
      let prev = -1;
      for (let k = 0; k < steps / 10_000; k++) {
        g.chunk(10_000, rng, (s) => {
          expect(s).toBeGreaterThan(prev); // increasing within a chunk
          prev = s;
          n++;
        });
        prev = -1;
      }
      expect(Math.abs(n - steps * q)).toBeLessThan(5 * Math.sqrt(steps * q * (1 - q)));
    }
  });

  it('spike counts: mean rate r̄ and pairwise count correlation as the closed form (negligible rectification, σ = 0.2)', () => {
    // per step Bernoulli with p = r·Δt: Var n_a = T·p̄(1 − p̄) + (Δt r̄)²σ²(S − T), Cov(n_a, n_b) =
    // (Δt r̄)²·c_a c_b·S, S = Σ_{i,j < T} ρ^{|i−j|}, ρ = e^{−Δt/τc}, counts over windows of T steps
    const rbar = 200;
    const sigma = 0.2;
    const dt = 0.1;
    const tauC = 20;
    const g = new CorrelatedInput(4, { rate: rbar, sigma, cMax: 0.2, tauC }, dt, new Rng(5)); // c = 0, 0.0667, 0.133, 0.2
    const rng = new Rng(6);
    const chunks: SpikeChunk[] = [];
    for (let k = 0; k < 80; k++) chunks.push(g.chunk(100_000, rng));
    const T = 1000;
    const counts = windowCounts(chunks, 4, T);
    const W = counts[0]!.length; // 8000 windows
    const pbar = (rbar * dt) / 1000;
    const rho = Math.exp(-dt / tauC);
    let S = T;
    for (let k = 1; k < T; k++) S += 2 * (T - k) * rho ** k;
    const x = pbar * pbar;
    const variance = T * pbar * (1 - pbar) + x * sigma * sigma * (S - T);
    const c = correlationParameters(4, 0.2);
    for (let a = 0; a < 4; a++) {
      expect(Math.abs(mean(counts[a]!) - T * pbar)).toBeLessThan(5 * Math.sqrt(variance / W) * 3); // windows share intervals at the edges only
      expect(Math.abs(cov(counts[a]!, counts[a]!) / variance - 1)).toBeLessThan(0.12);
    }
    for (const [a, b] of [[0, 3], [2, 3], [3, 1]] as const) {
      const r = cov(counts[a]!, counts[b]!) / Math.sqrt(cov(counts[a]!, counts[a]!) * cov(counts[b]!, counts[b]!));
      const expected = (x * c[a]! * c[b]! * S) / variance;
      expect(Math.abs(r - expected)).toBeLessThan(5 / Math.sqrt(W));
    }
    expect((x * c[2]! * c[3]! * S) / variance).toBeGreaterThan(0.1); // a correlation the test can see
  });

  it('σ = 0.5 (the paper): negative rates give no spikes, so the mean rate is r̄(Φ(1/σ) + σφ(1/σ)) = 1.0042·r̄', () => {
    const rbar = 200;
    const sigma = 0.5;
    const n = 50;
    const g = new CorrelatedInput(n, { rate: rbar, sigma, cMax: 0, tauC: 20 }, 0.1, new Rng(7)); // independent inputs
    const rng = new Rng(8);
    let spikes = 0;
    const steps = 2_000_000;
    for (let k = 0; k < steps / 100_000; k++) spikes += g.chunk(100_000, rng).ids.length;
    const z = 1 / sigma;
    const expected = rbar * (normalCdf(z) + (sigma * Math.exp((-z * z) / 2)) / Math.sqrt(2 * Math.PI));
    expect(expected / rbar).toBeCloseTo(1.00425, 4);
    const measured = spikes / (n * steps * 1e-4);
    // sd of the estimate: rate fluctuations (≈ steps/200 intervals per input) and Bernoulli noise
    const sd = Math.sqrt((rbar * sigma) ** 2 / ((n * steps) / 200) + rbar / (n * steps * 1e-4));
    expect(Math.abs(measured - expected)).toBeLessThan(3 * sd);
    expect(Math.abs(measured - rbar)).toBeGreaterThan(Math.abs(measured - expected));
  });

  it('the generator refuses parameters it cannot honour', () => {
    const base = { rate: 10, sigma: 0.5, cMax: 0.2, tauC: 20 };
    expect(() => new CorrelatedInput(10, { ...base, cMax: 0.6 }, 0.1, new Rng(1))).toThrow(/invalid cMax: got 0\.6, expected a number in \[0, sigma = 0\.5\]/);
    expect(() => new CorrelatedInput(10, { ...base, tauC: 0 }, 0.1, new Rng(1))).toThrow(/invalid tauC: got 0/);
    expect(() => new CorrelatedInput(10, { ...base, sigma: NaN }, 0.1, new Rng(1))).toThrow(/invalid sigma/);
    expect(() => new CorrelatedInput(0, base, 0.1, new Rng(1))).toThrow(/invalid n/);
  });

  const cli = async (args: string[]) => {
    const out = new Sink();
    const err = new Sink();
    const code = await runCli(args, { examples: EXAMPLES, out, err, isTTY: false, env: { CINDER_BACKEND: 'cpu' }, handleSignals: false });
    return { code, err: err.text };
  };
  const refused: [string[], RegExp][] = [
    [['--input', 'clustered'], /invalid --input: got "?clustered"?, expected one of "?poisson"?, "?correlated"?/],
    [['--input', 'correlated', '--engine', 'tfjs'], /invalid --engine: got "?tfjs"?, expected 'event' or 'brian2' with --input correlated/],
    [['--input', 'correlated', '--corr-max', '0.6'], /invalid --corr-max: got 0\.6, expected at most --corr-sigma \(0\.5\)/],
    [['--input', 'correlated', '--tau-c', '0'], /invalid --tau-c: got "?0"?, expected a finite number >= 0\.001/],
  ];
  for (const [args, message] of refused) it(`refuses ${args.join(' ')} before writing anything`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cinder-song-corr-opt-'));
    const r = await cli(['song2000', '--mode', 'tiny', ...args, '--quiet', '--out', join(dir, 'run')]);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a run started without validate (startRun) refuses --input correlated with --engine tfjs before writing any result', async () => {
    // the tfjs engine has homogeneous Poisson inputs only: the run used to complete with input 'poisson'
    for (const model of ['brian2', 'paper']) {
      const params: Record<string, number | string | boolean> = Object.fromEntries(song2000Example.options.map((o) => [o.name, o.default]));
      Object.assign(params, { model, rate: 10, input: 'correlated', engine: 'tfjs', seconds: 0.01, binSeconds: 0.01 });
      const dir = join(mkdtempSync(join(tmpdir(), 'cinder-song-corr-tfjs-')), 'run');
      const r = await startRun({
        spec: song2000Example, params, mode: 'tiny', seed: 1, seeds: 1, outDir: dir, backend: backendInfo()!, backendRequest: 'auto',
        quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
      }).done;
      expect(r.status, model).toBe('failed');
      expect(String(r.summary.error)).toMatch(/invalid --engine: got "?tfjs"?, expected 'event' or 'brian2' with --input correlated/);
      expect(r.summary.input).toBeUndefined();
      // only what the runner writes around any run: no weights, figures or checkpoint of the experiment
      expect(readdirSync(join(dir, 'artifacts'))).toEqual([]);
      expect(readdirSync(join(dir, 'figures'))).toEqual([]);
      expect(existsSync(join(dir, 'checkpoint'))).toBe(false);
    }
  });

  it('a short --input correlated run (paper model) ends with the weights of the float64 loop of the paper on the same inputs, and resumes exactly', async () => {
    const params: Record<string, number | string | boolean> = Object.fromEntries(song2000Example.options.map((o) => [o.name, o.default]));
    Object.assign(params, { model: 'paper', rate: 10, input: 'correlated', tauC: 20, seconds: 0.3, binSeconds: 0.05, chunk: 1000 });
    const seed = 9;
    const dir = mkdtempSync(join(tmpdir(), 'cinder-song-corr-'));
    const { full, part, resumed } = await song2000Interrupted(params, seed, dir, 3); // stopped after 1500 steps, inside the second chunk
    expect(part.status).toBe('interrupted');
    expect(resumed.status).toBe('completed');
    for (const k of ['strong_fraction', 'post_rate_hz', 'cv_isi', 'corr_bin_mean_w', 'steps']) expect(resumed[k], k).toEqual(full[k]);
    expect(full.input).toBe('correlated');
    // the example's streams: a fork for the (unused) module network, the excitatory (correlated) and inhibitory inputs
    const p = songPaperParams({ rate: 10 });
    const rng = new Rng(seed);
    rng.fork();
    const exc = rng.fork();
    const inh = rng.fork();
    const g = new CorrelatedInput(p.nInputs, { rate: 10, sigma: 0.5, cMax: 0.2, tauC: 20 }, p.dt, exc);
    const steps = 3000;
    const e = new Float32Array(steps * p.nInputs);
    const i = new Float32Array(steps * p.nInhib);
    for (let c = 0; c < 3; c++) {
      const ce = g.chunk(1000, exc);
      const ci = bernoulliChunk(1000, p.nInhib, (p.inhibRate * p.dt) / 1000, [inh], p.nInhib);
      for (let k = 0; k < 1000; k++) {
        for (let q = ce.start[k]!; q < ce.start[k + 1]!; q++) e[(c * 1000 + k) * p.nInputs + ce.ids[q]!] = 1;
        for (let q = ci.start[k]!; q < ci.start[k + 1]!; q++) i[(c * 1000 + k) * p.nInhib + ci.ids[q]!] = 1;
      }
    }
    const ref = paperLoop(p, e, i, steps, 'cinder');
    const nPost = ref.post.reduce((a, b) => a + b, 0);
    expect(nPost).toBeGreaterThan(20);
    expect(full.post_rate_hz as number).toBeCloseTo(nPost / 0.3, 6);
    const npy = readFileSync(join(dir, 'full', 'artifacts', 'weights_after.npy'));
    const w = new Float32Array(Uint8Array.from(npy.subarray(npy.length - 4 * p.nInputs)).buffer);
    let maxW = 0;
    for (let a = 0; a < p.nInputs; a++) maxW = Math.max(maxW, Math.abs(w[a]! - ref.w[a]!));
    expect(maxW).toBeLessThan(1e-5 * p.gmax);
    expect(existsSync(join(dir, 'part', 'run_summary.json'))).toBe(true);
  });
});
