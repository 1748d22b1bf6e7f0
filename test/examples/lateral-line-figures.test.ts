// `cinder lateral-line`: the learning curves (one point per checkpoint, so as many as the training
// has checkpoints) are drawn through decimateLine above LATERAL_LINE_FIGURE_CAPS.maxPoints: the
// min/max envelope of each curve, every bucket's extremes kept at their own training time, named
// and titled so; below the cap the curves are drawn whole (tiny-mode figures unchanged). The test
// phase's PV-decode lines (one point per test step) are checked point by point against the decode
// artifact (artifacts/test_pv_decode_seed_<seed>.npz).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LATERAL_LINE_FIGURE_CAPS, learningCurvesFigure, type SeedFigureData } from '../../examples/lateral-line/figures.js';
import { lateralLineExample } from '../../examples/lateral-line/index.js';
import { runCli } from '../../src/cli/program.js';
import { readNpzEntries } from '../../src/io/npy.js';
import { envelopeIndices, expectEnvelope, withSettings } from '../helpers/envelope.js';
import { captureFigures } from '../helpers/cli.js';

/** Runs `fn` with LATERAL_LINE_FIGURE_CAPS.maxPoints = cap (restored after). */
const withCap = <T>(cap: number, fn: () => T | Promise<T>): Promise<T> => withSettings(LATERAL_LINE_FIGURE_CAPS, { maxPoints: cap }, fn);

describe('cinder lateral-line: learning curves of long trainings', () => {
  it('learningCurvesFigure: curves of more checkpoints than maxPoints are min/max envelopes (mean ± SD included), named and titled so', async () => {
    // 501 checkpoints of 1.2 s, PV every 2nd: closed-form wobbling series (float64)
    const ckptT = Array.from({ length: 501 }, (_, k) => k * 1.2);
    const wMean = ckptT.map((_, k) => 0.02 + 0.004 * Math.sin(k / 7) + 1e-5 * k);
    const wStd = ckptT.map((_, k) => 0.005 + 0.001 * Math.cos(k / 3));
    const tsRate = ckptT.slice(1).map((_, k) => 10 + 3 * Math.sin(k * 0.9) * Math.exp(-k / 300));
    const pvT = ckptT.filter((_, k) => k > 0 && k % 2 === 0);
    const pvSigma = pvT.map((_, k) => 1.5 * Math.exp(-k / 60) + 0.1 * Math.sin(k));
    const pvDeltaTrial = pvT.map((_, k) => 0.5 + 0.2 * Math.cos(k / 5));
    const d = { seed: 4, ckptT, wMean, wStd, tsRate, pvT, pvSigma, pvDeltaTrial } as unknown as SeedFigureData;
    const cap = 30;
    const fig = await withCap(cap, () => learningCurvesFigure(d));
    expect(fig.title).toBe(`Learning curves, seed 4 (6 of 6 lines decimated to ≤ ${cap} points: min/max per bucket)`);
    const [mean, plus, minus, rate, sigma, delta] = fig.data;
    expectEnvelope(mean!, 'mean', ckptT, wMean, cap);
    expectEnvelope(plus!, 'mean + SD', ckptT, wMean.map((m, k) => m + wStd[k]!), cap);
    expectEnvelope(minus!, 'mean − SD', ckptT, wMean.map((m, k) => m - wStd[k]!), cap);
    expectEnvelope(rate!, 'TS rate', ckptT.slice(1), tsRate, cap);
    expectEnvelope(sigma!, 'σθ', pvT, pvSigma, cap);
    expectEnvelope(delta!, 'δ trial', pvT, pvDeltaTrial, cap);
    expect([sigma!.mode, delta!.mode]).toEqual(['lines+markers', 'lines+markers']);
    // below the cap: every point, the plain names and title
    const whole = learningCurvesFigure(d);
    expect(whole.title).toBe('Learning curves, seed 4');
    expect(whole.data.map((t) => t.name)).toEqual(['mean', 'mean + SD', 'mean − SD', 'TS rate', 'σθ', 'δ trial']);
    expect(whole.data[0]).toMatchObject({ x: ckptT, y: wMean });
  });

  it('a run of more checkpoints than maxPoints: the PV curves are envelopes of run_summary.json\'s pv_vs_training_time, the others of as many checkpoints', async () => {
    const cap = 10;
    const dir = join(mkdtempSync(join(tmpdir(), 'cinder-ll-figs-')), 'run');
    const { figures, restore } = captureFigures();
    const sink = { write: () => true };
    let code: number;
    try {
      // tiny: PV at every checkpoint; 30 trials, a checkpoint after each: 31 weight points, 30 rates and PV points
      code = await withCap(cap, () => runCli(['lateral-line', '--mode', 'tiny', '--n-training-trials', '30', '--checkpoint-trials', '1', '--checkpoint-save-every-n', '100', '--out', dir, '--seed', '2', '-q'], { examples: [lateralLineExample], handleSignals: false, out: sink, err: sink }));
    } finally {
      restore();
    }
    expect(code).toBe(0);
    const sum = JSON.parse(readFileSync(join(dir, 'run_summary.json'), 'utf8'));
    const pv = sum.pv_vs_training_time as { t_s: number[]; sigma_theta_rad: number[]; delta_trial_rad: number[] };
    expect(pv.t_s).toHaveLength(30);
    const lc = figures.get('learning-curves')!;
    expect(lc.title).toBe(`Learning curves, seed 2 (6 of 6 lines decimated to ≤ ${cap} points: min/max per bucket)`);
    expectEnvelope(lc.data[4]!, 'σθ', pv.t_s, pv.sigma_theta_rad, cap);
    expectEnvelope(lc.data[5]!, 'δ trial', pv.t_s, pv.delta_trial_rad, cap);
    // the weight and rate curves: 31 and 30 checkpoints, from training time 0 (weights) and the first checkpoint (rate) to the end
    const B = Math.floor((cap - 2) / 2);
    expect(lc.data.slice(0, 4).map((t) => t.name)).toEqual([
      `mean (min/max of ${B} buckets of 31 points)`, `mean + SD (min/max of ${B} buckets of 31 points)`, `mean − SD (min/max of ${B} buckets of 31 points)`, `TS rate (min/max of ${B} buckets of 30 points)`,
    ]);
    for (const t of lc.data.slice(0, 4)) {
      const x = t.x as number[];
      expect(x.length).toBeLessThanOrEqual(cap);
      expect(x.at(-1)).toBe(pv.t_s.at(-1));
    }
    expect((lc.data[0]!.x as number[])[0]).toBe(0);
    expect((lc.data[3]!.x as number[])[0]).toBe(pv.t_s[0]);
  }, 120_000);
});

describe('cinder lateral-line: test-phase figures of long test sweeps', () => {
  it('above small caps: MON/TS rasters are spike-count heatmaps summing to the artifacts\' spikes, the decode lines envelopes, the LL rates in at most maxColumns columns', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cinder-ll-test-figs-')), 'run');
    const { figures, restore } = captureFigures();
    const saved = { ...LATERAL_LINE_FIGURE_CAPS };
    const sink = { write: () => true };
    let code: number;
    try {
      Object.assign(LATERAL_LINE_FIGURE_CAPS, { maxSpikes: 100, maxPoints: 40, maxColumns: 30 });
      code = await runCli(['lateral-line', '--mode', 'tiny', '--out', dir, '--seed', '2', '-q'], { examples: [lateralLineExample], handleSignals: false, out: sink, err: sink });
    } finally {
      Object.assign(LATERAL_LINE_FIGURE_CAPS, saved);
      restore();
    }
    expect(code).toBe(0);
    const ts = readNpzEntries(join(dir, 'artifacts', 'test_ts_spikes_seed_2.npz'));
    const mon = readNpzEntries(join(dir, 'artifacts', 'test_ll_mon_spikes_seed_2.npz'));
    const nTs = ts.step!.data.length;
    const nMon = mon.mon_step!.data.length;
    const steps = ts.test_x_cm!.data.length;
    expect(nTs).toBeGreaterThan(100);
    expect(nMon).toBeGreaterThan(100);
    const sum = (z: number[][]) => z.reduce((a, r) => a + r.reduce((b, c) => b + c, 0), 0);
    const tp = figures.get('test-phase')!;
    const [ll, monHm, tsHm] = tp.data as { type: string; x: number[]; z: number[][] }[];
    expect([ll!.type, monHm!.type, tsHm!.type]).toEqual(['heatmap', 'heatmap', 'heatmap']);
    expect(sum(monHm!.z)).toBe(nMon);
    expect(sum(tsHm!.z)).toBe(nTs);
    const per = Math.ceil(steps / 30);
    expect(ll!.z[0]!.length).toBe(Math.ceil(steps / per));
    expect(ll!.z[0]!.length).toBeLessThanOrEqual(30);
    const dt = Number(ts.dt_s!.data[0]);
    expect(ll!.x[0]).toBeCloseTo(((per - 1) / 2) * dt, 12);
    const titles = ((tp.layout.annotations ?? []) as { text: string }[]).map((a) => a.text);
    expect(titles[0]).toBe(`<b>LL rates (Hz; mean of ${per} test steps per column, of ${steps})</b>`);
    expect(titles[1]).toMatch(new RegExp(`^<b>MON spikes: ${nMon} spikes, .* \\(spike counts per time bin of .*: ${nMon} spikes, more than maxSpikes = 100\\)</b>$`));
    for (const name of ['summary', 'ts-spikes-vs-x']) {
      const hm = figures.get(name)!.data.find((t) => t.type === 'heatmap') as { z: number[][] };
      expect(sum(hm.z), name).toBe(nTs);
    }
    // the decode lines: envelopes of one value per test step, at times k·dt, every kept point
    // checked against the decode artifact (θ̂ and θ true per test step, float64): the points the
    // envelope rule keeps of it (computed here), at their own time, NaN (nothing decodes, or outside
    // the window) drawn as a gap (null)
    const sm = figures.get('summary')!;
    expect(sm.title).toMatch(/\(2 of 2 lines decimated to ≤ 40 points: min\/max per bucket\)$/);
    const pv = readNpzEntries(join(dir, 'artifacts', 'test_pv_decode_seed_2.npz'));
    for (const k of ['test_t_s', 'theta_hat_rad', 'theta_true_rad', 'theta_bins_rad', 'bias_rad']) expect(pv[k]!.data, k).toBeInstanceOf(Float64Array);
    const tS = Array.from(pv.test_t_s!.data);
    expect(tS).toEqual(Array.from(ts.test_t_s!.data));
    expect(tS.map((t, k) => t - k * dt).every((e) => e === 0)).toBe(true);
    const hat = Array.from(pv.theta_hat_rad!.data);
    const truth = Array.from(pv.theta_true_rad!.data);
    expect([hat.length, truth.length]).toEqual([steps, steps]);
    expect(hat.some((v) => Number.isNaN(v))).toBe(true); // (gaps: the 3-point buckets are exercised)
    const [hatTrace, truthTrace] = sm.data.slice(-2) as { name: string; x: number[]; y: (number | null)[] }[];
    for (const [t, full, name] of [[hatTrace!, hat, 'θ̂'], [truthTrace!, truth, 'θ true']] as const) {
      const env = envelopeIndices(full, 40);
      expect(env.buckets).toBeGreaterThan(0);
      expect(t.name).toBe(`${name} (min/max of ${env.buckets} buckets of ${steps} points)`);
      expect(Array.from(t.x)).toEqual(env.indices.map((k) => tS[k]!));
      expect(Array.from(t.y)).toEqual(env.indices.map((k) => (Number.isFinite(full[k]!) ? full[k]! : null)));
    }
    // the PV bias per position bin (ts-spikes-vs-x) is the artifact's, every bin
    const bias = figures.get('ts-spikes-vs-x')!.data.at(-1) as { x: number[]; y: (number | null)[] };
    expect(Array.from(bias.x)).toEqual(Array.from(pv.theta_bins_rad!.data));
    expect(Array.from(bias.y)).toEqual(Array.from(pv.bias_rad!.data, (v) => (Number.isFinite(v) ? v : null)));
  }, 120_000);
});
