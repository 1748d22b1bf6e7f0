// `cinder song2000`: the CV of the postsynaptic inter-spike intervals (run_summary.json `cv_isi`,
// over the last 10 % of the bins), against closed forms and an independent two-pass computation.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/random.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { backendInfo } from '../../src/core/backend.js';
import { song2000Interrupted } from '../helpers/song-resume.js';
import { song2000Example } from '../../examples/song2000/index.js';
import { IsiStats } from '../../examples/song2000/isi.js';
import { EventSong, bernoulliChunk } from '../../examples/song2000/event.js';
import { songPaperParams } from '../../examples/song2000/params.js';

/** Two-pass CV (population sd / mean) of the intervals between consecutive spike steps. */
function cvTwoPass(steps: readonly number[]): number {
  const isi = steps.slice(1).map((t, i) => t - steps[i]!);
  const mean = isi.reduce((a, b) => a + b, 0) / isi.length;
  const v = isi.reduce((a, b) => a + (b - mean) ** 2, 0) / isi.length;
  return Math.sqrt(v) / mean;
}

const defaults = (): Record<string, number | string | boolean> => Object.fromEntries(song2000Example.options.map((o) => [o.name, o.default]));

async function runSong(params: Record<string, number | string | boolean>, seed: number): Promise<{ summary: Record<string, unknown>; dir: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'cinder-song-cv-')), 'run');
  const r = await startRun({
    spec: song2000Example, params, mode: 'tiny', seed, seeds: 1, outDir: dir, backend: backendInfo()!, backendRequest: 'auto',
    quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
  }).done;
  expect(r.status).toBe('completed');
  return { summary: JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8')) as Record<string, unknown>, dir };
}

describe('song2000 CV of the post ISIs', () => {
  it('a regular train has CV 0; fewer than 2 intervals give null; spikes before the window are ignored', () => {
    const s = new IsiStats(100);
    for (let t = 3; t < 10_000; t += 7) s.record(t);
    expect(s.cv()).toBe(0);
    expect(s.mean).toBe(7);
    expect(s.n).toBe(Math.floor((9_999 - 101) / 7)); // intervals between spikes at steps ≥ 100 (the first is 101)
    const few = new IsiStats(0);
    few.record(5);
    few.record(9);
    expect(few.cv()).toBeNull();
    expect(() => new IsiStats(-1)).toThrow(/invalid fromStep/);
  });

  it('a Bernoulli(p) train has the geometric ISI CV √(1 − p), and equals a two-pass computation', () => {
    for (const p of [0.5, 0.1, 0.01]) {
      const rng = new Rng(7);
      const s = new IsiStats(0);
      const steps: number[] = [];
      for (let t = 0; t < 2_000_000; t++) {
        if (rng.uniform() < p) {
          s.record(t);
          steps.push(t);
        }
      }
      // ISIs geometric on {1, 2, …}: mean 1/p, variance (1 − p)/p², CV √(1 − p); n ≈ 2e6·p intervals
      const n = steps.length - 1;
      expect(s.n).toBe(n);
      expect(Math.abs(s.cv()! - Math.sqrt(1 - p))).toBeLessThan(5 / Math.sqrt(n));
      expect(Math.abs(s.cv()! - cvTwoPass(steps))).toBeLessThan(1e-10); // summation order only
      expect(Math.abs(s.mean - 1 / p) * p).toBeLessThan(5 / Math.sqrt(n));
    }
  });

  it('--model paper on the event engine: cv_isi is the CV of the post spikes in the last 10 % of the bins, as an independent rerun of the engine gives', async () => {
    // 0.5 s in 50 bins: the window is the last 5 bins (steps 4500..4999)
    const params = Object.assign(defaults(), { model: 'paper', rate: 10, seconds: 0.5, binSeconds: 0.01, chunk: 1000 });
    const seed = 3;
    const { summary } = await runSong(params, seed);
    const post = rerunPostSpikes(seed, 5000);
    const window = post.filter((t) => t >= 4500);
    expect(window.length).toBeGreaterThan(5);
    expect(summary.cv_isi_intervals).toBe(window.length - 1);
    expect(summary.cv_window_seconds).toBeCloseTo(0.05, 12);
    expect(Math.abs((summary.cv_isi as number) - cvTwoPass(window))).toBeLessThan(1e-12);
    // the window's spikes are also the rate of its bins
    expect(summary.final_post_rate_hz as number).toBeCloseTo(window.length / 0.05, 6);
  });

  it('final_post_rate_hz with a shorter last bin is the window\'s spikes over its length, as an independent rerun gives', async () => {
    // 0.495 s in bins of 25 ms: 20 bins, the last 20 ms long; the window is the last 2 bins (steps 4500..4949, 45 ms)
    const params = Object.assign(defaults(), { model: 'paper', rate: 10, seconds: 0.495, binSeconds: 0.025, chunk: 1000 });
    const seed = 3;
    const { summary } = await runSong(params, seed);
    const post = rerunPostSpikes(seed, 4950);
    const inBin18 = post.filter((t) => t >= 4500 && t < 4750).length;
    const inBin19 = post.filter((t) => t >= 4750).length;
    expect(inBin18 + inBin19).toBeGreaterThan(3);
    expect(summary.post_rate_hz as number).toBeCloseTo(post.length / 0.495, 6);
    expect(summary.cv_window_seconds).toBeCloseTo(0.045, 12);
    expect(summary.final_post_rate_hz as number).toBeCloseTo((inBin18 + inBin19) / 0.045, 6);
  });

  it('the tfjs engine counts the intervals of the window as its rate bins give', async () => {
    const params = Object.assign(defaults(), song2000Example.presets.tiny, { engine: 'tfjs', rate: 60, seconds: 0.2, binSeconds: 0.01 });
    const { summary } = await runSong(params, 1);
    const spikes = Math.round((summary.final_post_rate_hz as number) * 0.02); // the last 2 bins (10 % of 20)
    expect(spikes).toBeGreaterThan(2);
    expect(summary.cv_isi_intervals).toBe(spikes - 1);
    expect(summary.cv_isi as number).toBeGreaterThan(0);
  });

  it('an interruption inside the CV window resumes with the same CV', async () => {
    // 40 bins of 10 ms, window the last 4; stopped after bin 38
    const params = Object.assign(defaults(), { model: 'paper', rate: 10, seconds: 0.4, binSeconds: 0.01, chunk: 250 });
    const dir = mkdtempSync(join(tmpdir(), 'cinder-song-cv-resume-'));
    const { full, part, resumed } = await song2000Interrupted(params, 5, dir, 38);
    expect(part.status).toBe('interrupted');
    expect(part.steps).toBe(3800);
    expect(part.cv_isi_intervals as number).toBeGreaterThan(0); // the window had begun
    expect(full.cv_isi_intervals as number).toBeGreaterThan(part.cv_isi_intervals as number);
    expect(resumed.cv_isi_intervals).toBe(full.cv_isi_intervals);
    expect(resumed.cv_isi).toBe(full.cv_isi);
  });
});

/**
 * The post spike steps of `--model paper` on the event engine at 10 Hz, rerun independently of the
 * example for `steps` steps: the example's streams (a fork for the unused module network, then the
 * excitatory and the inhibitory inputs), drawn in chunks of 1000 steps as `chunk: 1000` does.
 */
function rerunPostSpikes(seed: number, steps: number): number[] {
  const p = songPaperParams({ rate: 10 });
  const rng = new Rng(seed);
  rng.fork();
  const exc = rng.fork();
  const inh = rng.fork();
  const ev = new EventSong(p, new Float32Array(p.nInputs).fill(p.gmax), 'conductance', true);
  const post: number[] = [];
  for (let c = 0; c * 1000 < steps; c++) {
    const e = bernoulliChunk(1000, p.nInputs, (p.rate * p.dt) / 1000, [exc], p.nInputs);
    const i = bernoulliChunk(1000, p.nInhib, (p.inhibRate * p.dt) / 1000, [inh], p.nInhib);
    for (let k = 0; k < 1000 && c * 1000 + k < steps; k++) {
      if (ev.step(e.ids, e.start[k]!, e.start[k + 1]!, [i.start[k + 1]! - i.start[k]!]) > 0) post.push(c * 1000 + k);
    }
  }
  return post;
}
