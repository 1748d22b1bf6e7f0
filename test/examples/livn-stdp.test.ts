import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendInfo } from '../../src/core/backend.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { LIVN_SERIES_READ, livnStdpExample, maxPostMeanError } from '../../examples/livn-stdp/index.js';
import { LIVN_FIGURE_CAPS, LIVN_RASTER, livnStdpFigure } from '../../examples/livn-stdp/figures.js';
import type { Figure } from '../../src/viz/figure.js';
import { readNpz } from '../network/npz-read.js';
import { createHash } from 'node:crypto';
import { NpyAppendWriter } from '../../src/io/npy-append.js';
import { readNpy, readNpzEntries, writeNpz } from '../../src/io/npy.js';
import { gridTimeBins, neuronRows, SpikeCountGrid } from '../../src/viz/density.js';
import { expectEnvelope } from '../helpers/envelope.js';

function hasNumpy(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function runTiny(extra: Record<string, number | string | boolean> = {}, signal = new AbortController().signal, resumeIn?: string) {
  const out = resumeIn ?? join(mkdtempSync(join(tmpdir(), 'cinder-livn-')), 'run');
  const params: Record<string, number | string | boolean> = {};
  for (const o of livnStdpExample.options) params[o.name] = o.default;
  Object.assign(params, livnStdpExample.presets.tiny, extra);
  const run = startRun({
    spec: livnStdpExample, params, mode: 'tiny', seed: 2, seeds: 1, outDir: out, backend: backendInfo()!, backendRequest: 'auto',
    quiet: true, signal, terminal: new Terminal({ mode: 'quiet' }), resume: resumeIn !== undefined,
  });
  const r = await run.done;
  return { out, status: r.status, summary: JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8')) };
}

/** Resumes the run in `out`, counting the 1 ms chunks it simulates (calls of keepResponsive). */
async function resumeCounting(out: string) {
  let calls = 0;
  const spy = vi.spyOn(RunFolder.prototype, 'keepResponsive').mockImplementation(async () => {
    calls++;
  });
  try {
    return { ...(await runTiny({}, new AbortController().signal, out)), calls };
  } finally {
    spy.mockRestore();
  }
}

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Same artifacts and figure (bytes) and summary (all but the volatile and bookkeeping keys). */
function expectSameRun(a: { out: string; summary: Record<string, unknown> }, b: { out: string; summary: Record<string, unknown> }): void {
  const skip = new Set([...livnStdpExample.volatileKeys!, 'started_at', 'updated_at', 'finished_at', 'elapsed_s', 'checkpoints', 'resumed']);
  for (const k of Object.keys(a.summary)) if (!skip.has(k)) expect([k, b.summary[k]]).toEqual([k, a.summary[k]]);
  for (const f of ['artifacts/weights.npz', 'artifacts/spikes.npz', 'artifacts/weights_legend.json', 'figures/livn-stdp.html']) {
    expect([f, sha(join(b.out, f))]).toEqual([f, sha(join(a.out, f))]);
  }
  // and the contents (a readable failure if the bytes differ)
  for (const f of ['weights.npz', 'spikes.npz']) {
    const x = readNpz(readFileSync(join(a.out, 'artifacts', f)));
    const y = readNpz(readFileSync(join(b.out, 'artifacts', f)));
    for (const k of Object.keys(x)) expect([k, y[k]!.shape]).toEqual([k, x[k]!.shape]);
  }
}

/** A tiny run interrupted at the `calls`-th `keepResponsive` (as SIGINT would be seen there). */
async function interruptedAt(calls: number, extra: Record<string, number | string | boolean> = {}): Promise<Awaited<ReturnType<typeof runTiny>>> {
  const ac = new AbortController();
  let seen = 0;
  const spy = vi.spyOn(RunFolder.prototype, 'keepResponsive').mockImplementation(async () => {
    if (++seen === calls) ac.abort();
  });
  try {
    return await runTiny(extra, ac.signal);
  } finally {
    spy.mockRestore();
  }
}

describe('cinder livn-stdp --mode tiny', () => {
  it('trains, freezes exactly in evaluation, normalises to mean 1, and writes readable artifacts', async () => {
    const { out, summary, status } = await runTiny();
    expect(status).toBe('completed');
    for (const k of livnStdpExample.summaryKeys) expect(summary).toHaveProperty(k);
    expect(summary.system).toBe('EI1');
    expect(summary.simulated_ms).toBeCloseTo(1400, 6);
    expect(summary.normalizations).toBe(10);
    expect(summary.synapses_drifted_evaluation).toBe(0);
    expect(summary.max_abs_drift_evaluation).toBe(0);
    expect(summary.max_post_mean_error_after_normalize).toBeLessThanOrEqual(1e-6);
    expect(summary.peak_deviation_from_1_training).toBeGreaterThan(0);

    const w = readNpz(readFileSync(join(out, 'artifacts', 'weights.npz')));
    const s = readNpz(readFileSync(join(out, 'artifacts', 'spikes.npz')));
    const m = summary.plastic_synapses as number;
    for (const k of ['key_gid', 'key_syn', 'key_mech', 'w_before', 'w_after_training', 'w_final']) expect(w[k]!.shape).toEqual([m]);
    expect(w.w_rec!.shape).toEqual([1401, m]);
    expect(w.w_rec_t_ms!.shape).toEqual([1401]);
    expect(Array.from(w.w_before!.data)).toEqual(new Array(m).fill(1));
    expect(Array.from(w.w_final!.data)).toEqual(Array.from(w.w_after_training!.data));
    // the summary's max_post_mean_error_after_normalize (asserted above) is measured after each of
    // the 10 normalisations; the last one is also checked on the artifact:
    const gid = w.key_gid!.data as Int32Array;
    expect(maxPostMeanError(gid, w.w_after_training!.data as Float32Array)).toBeLessThanOrEqual(1e-6);
    // the last weight row (1400 ms, evaluation) equals w_final
    const last = (w.w_rec!.data as Float32Array).subarray(1400 * m, 1401 * m);
    expect(Array.from(last)).toEqual(Array.from(w.w_final!.data));
    // keys sorted by (gid, mech, syn)
    for (let k = 1; k < m; k++) {
      const a = [gid[k - 1]!, w.key_mech!.data[k - 1]!, w.key_syn!.data[k - 1]!];
      const b = [gid[k]!, w.key_mech!.data[k]!, w.key_syn!.data[k]!];
      expect(a[0]! < b[0]! || (a[0] === b[0] && (a[1]! < b[1]! || (a[1] === b[1] && a[2]! < b[2]!)))).toBe(true);
    }
    const phase = s.phase!.data;
    const t = s.t_ms!.data;
    for (let k = 0; k < phase.length; k++) expect(phase[k]).toBe(t[k]! <= 200 ? 0 : t[k]! <= 1200 ? 1 : 2);
    const legend = JSON.parse(readFileSync(join(out, 'artifacts', 'weights_legend.json'), 'utf8'));
    expect(legend.key_mech).toEqual({ 0: 'AMPA', 1: 'NMDA', 2: 'GABA_A' });
    expect(existsSync(join(out, 'figures', 'livn-stdp.html'))).toBe(true);

    if (hasNumpy()) {
      const py = `
import numpy as np, sys
w = np.load(sys.argv[1]); s = np.load(sys.argv[2])
assert w['w_rec'].shape == (1401, ${m}), w['w_rec'].shape
assert w['key_gid'].dtype == np.int32 and w['w_final'].dtype == np.float32
assert np.array_equal(w['w_final'], w['w_after_training'])
assert s['t_ms'].shape == s['gid'].shape == s['phase'].shape
print(float(w['w_after_training'].sum()))
`;
      const outText = execFileSync('/usr/bin/python3', ['-c', py, join(out, 'artifacts', 'weights.npz'), join(out, 'artifacts', 'spikes.npz')], { encoding: 'utf8' });
      const sum = (w.w_after_training!.data as Float32Array).reduce((a, b) => a + b, 0);
      expect(Number(outText.trim())).toBeCloseTo(sum, 3);
    }
  }, 60_000);

  it('weights.npz reads w_rec back from its .npy in pieces of at most LIVN_SERIES_READ.pieceBytes (never the whole recording), with the same bytes', async () => {
    const whole = await runTiny(); // (tiny: the whole recording fits one 64 MiB piece)
    const m = whole.summary.plastic_synapses as number;
    const saved = LIVN_SERIES_READ.pieceBytes;
    const reads: number[] = []; // rows per read of w_rec.npy
    const readRows = NpyAppendWriter.prototype.readRows;
    const spy = vi.spyOn(NpyAppendWriter.prototype, 'readRows').mockImplementation(function (this: NpyAppendWriter, first: number, count: number) {
      if (this.path.endsWith('w_rec.npy')) reads.push(count);
      return readRows.call(this, first, count);
    });
    let small: Awaited<ReturnType<typeof runTiny>>;
    try {
      LIVN_SERIES_READ.pieceBytes = 10 * 4 * m + 3; // 10 whole rows of m float32
      small = await runTiny();
    } finally {
      LIVN_SERIES_READ.pieceBytes = saved;
      spy.mockRestore();
    }
    expect(small.status).toBe('completed');
    // the artifact: 1401 rows read twice (CRC-32 pass, writing pass) in pieces of 10 rows, the
    // last of 1; besides those, the figure's first columns (blocks of rows, their own bound)
    const pieces = [...new Array(140).fill(10), 1];
    expect(reads.slice(0, 2 * pieces.length)).toEqual([...pieces, ...pieces]);
    for (const n of reads.slice(2 * pieces.length)) expect(n * m).toBeLessThanOrEqual(2 ** 22); // firstColumns: 16 MiB blocks
    // same bytes as the run whose recording was one piece
    expect(sha(join(small.out, 'artifacts', 'weights.npz'))).toBe(sha(join(whole.out, 'artifacts', 'weights.npz')));
    // and w_rec is the recording in the checkpoint folder, row for row
    const rec = readNpy(join(small.out, 'checkpoint', 'w_rec.npy'));
    const art = readNpzEntries(join(small.out, 'artifacts', 'weights.npz')).w_rec!;
    expect(art.shape).toEqual([1401, m]);
    expect(rec.shape).toEqual([1401, m]);
    expect(Buffer.compare(Buffer.from(art.data.buffer, art.data.byteOffset, art.data.byteLength), Buffer.from(rec.data.buffer, rec.data.byteOffset, rec.data.byteLength))).toBe(0);
  }, 60_000);

  it('spikes.npz and the figure\'s raster read the spikes from their .npy files in pieces of ⌊pieceBytes / 8⌋ spikes (never all at once), with the bytes of the whole arrays', async () => {
    const whole = await runTiny();
    const savedBytes = LIVN_SERIES_READ.pieceBytes;
    const savedPoints = LIVN_RASTER.rasterPoints;
    const reads: number[] = []; // spikes per read of the two spike files
    const readRows = NpyAppendWriter.prototype.readRows;
    const spy = vi.spyOn(NpyAppendWriter.prototype, 'readRows').mockImplementation(function (this: NpyAppendWriter, first: number, count: number) {
      if (/spikes_(t_ms|gid_phase)\.npy$/.test(this.path)) reads.push(count);
      return readRows.call(this, first, count);
    });
    const figures: Figure[] = [];
    const figure = RunFolder.prototype.figure;
    const figSpy = vi.spyOn(RunFolder.prototype, 'figure').mockImplementation(function (this: RunFolder, name: string, f: Figure) {
      figures.push(f);
      return figure.call(this, name, f);
    });
    let small: Awaited<ReturnType<typeof runTiny>>;
    let rebuilt: Figure;
    try {
      LIVN_SERIES_READ.pieceBytes = 5 * 8 + 3; // 5 spikes per read
      LIVN_RASTER.rasterPoints = 7; // more spikes: the raster is their counts, accumulated across the pieces
      small = await runTiny();
      // the figure as the old code built it: every spike, read whole from the files (the weights from the artifact)
      const cp = join(small.out, 'checkpoint');
      const t = readNpy(join(cp, 'spikes_t_ms.npy')).data as Float64Array;
      const gp = readNpy(join(cp, 'spikes_gid_phase.npy')).data as Int32Array;
      const w = readNpzEntries(join(small.out, 'artifacts', 'weights.npz'));
      const [rows, cols] = w.w_rec!.shape as [number, number];
      const shown = Math.min(20, cols);
      const wRec = new Float32Array(rows * shown);
      for (let r = 0; r < rows; r++) for (let c = 0; c < shown; c++) wRec[r * shown + c] = w.w_rec!.data[r * cols + c]!;
      rebuilt = livnStdpFigure(`livn STDP on ${String(small.summary.system)}`, {
        tMs: w.w_rec_t_ms!.data, wRec, columns: shown, phaseEnds: [200, 1200, 1400],
        before: w.w_before!.data as Float32Array, after: w.w_after_training!.data as Float32Array,
        spikeT: [], spikeGid: [], spikePhase: [],
        // the counts of every spike at once: the grid the run uses (dt 0.1 ms … 1400 ms; gids 0 … 9 of EI1)
        spikeDensity: (() => { const g = new SpikeCountGrid(gridTimeBins(0.1, 1400, 0.1), neuronRows(0, 9)); g.add(t, gp.filter((_, k) => k % 2 === 0)); return g; })(),
      });
      // spikes.npz as the old code wrote it: the whole arrays, eager
      await writeNpz(join(small.out, 'reference-spikes.npz'), {
        t_ms: { data: t, shape: [t.length] },
        gid: { data: gp.filter((_, k) => k % 2 === 0), shape: [t.length] },
        phase: { data: gp.filter((_, k) => k % 2 === 1), shape: [t.length] },
      });
    } finally {
      LIVN_SERIES_READ.pieceBytes = savedBytes;
      LIVN_RASTER.rasterPoints = savedPoints;
      spy.mockRestore();
      figSpy.mockRestore();
    }
    expect(small.status).toBe('completed');
    const n = readNpy(join(small.out, 'checkpoint', 'spikes_t_ms.npy')).shape[0]!;
    expect(n).toBeGreaterThan(20); // several pieces
    // every read at most 5 spikes (the old code read both files whole, n spikes at once)
    expect(reads.length).toBeGreaterThan(0);
    expect(Math.max(...reads)).toBeLessThanOrEqual(5);
    // the artifact: the bytes of the whole arrays, and of the run read in one piece
    expect(sha(join(small.out, 'artifacts', 'spikes.npz'))).toBe(sha(join(small.out, 'reference-spikes.npz')));
    expect(sha(join(small.out, 'artifacts', 'spikes.npz'))).toBe(sha(join(whole.out, 'artifacts', 'spikes.npz')));
    // the figure: the one built from every spike at once; its raster the counts of spikes.npz's spikes per (gid, time bin)
    expect(figures.length).toBe(1);
    expect(JSON.stringify(figures[0])).toBe(JSON.stringify(rebuilt));
    const hm = figures[0]!.data.find((tr) => tr.type === 'heatmap') as { x: Float64Array; y: Float64Array; z: number[][] };
    const sp = readNpzEntries(join(small.out, 'artifacts', 'spikes.npz'));
    const want = hm.z.map((r) => r.map(() => 0));
    const w0 = hm.x[1]! - hm.x[0]!;
    for (let k = 0; k < n; k++) {
      const row = Array.from(hm.y).indexOf(sp.gid!.data[k]!);
      const col = Math.min(hm.x.length - 1, Math.floor((sp.t_ms!.data[k]! - (hm.x[0]! - w0 / 2)) / w0));
      want[row]![col]!++;
    }
    expect(hm.z).toEqual(want);
  }, 60_000);

  it('long runs: weight traces of more than maxPoints rows are min/max envelopes of weights.npz w_rec: every bucket keeps its extremes at their own time, named and titled so', async () => {
    const cap = 100;
    const figures: Figure[] = [];
    const figure = RunFolder.prototype.figure;
    const figSpy = vi.spyOn(RunFolder.prototype, 'figure').mockImplementation(function (this: RunFolder, name: string, f: Figure) {
      figures.push(f);
      return figure.call(this, name, f);
    });
    const saved = { ...LIVN_FIGURE_CAPS };
    let run: Awaited<ReturnType<typeof runTiny>>;
    try {
      LIVN_FIGURE_CAPS.maxPoints = cap;
      run = await runTiny();
    } finally {
      Object.assign(LIVN_FIGURE_CAPS, saved);
      figSpy.mockRestore();
    }
    expect(run.status).toBe('completed');
    const w = readNpz(readFileSync(join(run.out, 'artifacts', 'weights.npz')));
    const [rows, cols] = w.w_rec!.shape as [number, number];
    expect(rows).toBe(1401);
    const tMs = w.w_rec_t_ms!.data;
    const wRec = w.w_rec!.data;
    const shown = Math.min(20, cols);
    expect(shown).toBe(20);
    const B = Math.floor((cap - 2) / 2); // finite weights: no gaps
    const fig = figures[0]!;
    expect(fig.title).toBe(`livn STDP on EI1 (${shown} of ${shown} lines decimated to ≤ ${cap} points: min/max per bucket)`);
    const traces = (fig.data as { name: string; x: number[]; y: number[] }[]).filter((t) => t.name.startsWith('synapse '));
    expect(traces.map((t) => t.name)).toEqual(Array.from({ length: shown }, (_, c) => `synapse ${c} (min/max of ${B} buckets of ${rows} points)`));
    // each kept point is a row of w_rec at its own time (rows found by time: the grid of w_rec_t_ms)
    const times = Array.from(tMs);
    traces.forEach((t, c) => expectEnvelope(t, `synapse ${c}`, times, Array.from({ length: rows }, (_, r) => wRec[r * cols + c]!), cap));
    // the phase lines still span every weight drawn or not (the envelope keeps the extremes)
    let lo = Infinity, hi = -Infinity;
    for (let r = 0; r < rows; r++) for (let c = 0; c < shown; c++) (lo = Math.min(lo, wRec[r * cols + c]!)), (hi = Math.max(hi, wRec[r * cols + c]!));
    const phaseLines = (fig.data as { name: string; y: number[] }[]).filter((t) => t.name.startsWith('plasticity'));
    expect(phaseLines.map((t) => t.y)).toEqual([[lo, hi], [lo, hi]]);
  }, 60_000);

  it('livnStdpFigure: more than LIVN_RASTER.rasterPoints spikes are drawn as spike counts (all of them, no sample), titled so; at most, dots by phase', () => {
    const n = 45_001;
    const spikeT = Float64Array.from({ length: n }, (_, k) => (k + 1) * 0.025);
    const spikeGid = Int32Array.from({ length: n }, (_, k) => (k * 7919) % 1000);
    const spikePhase = Int32Array.from({ length: n }, (_, k) => (k < 15_000 ? 0 : k < 40_000 ? 1 : 2));
    const base = { tMs: [0, 1], wRec: Float32Array.of(1, 1.5), columns: 1, phaseEnds: [1, 2, 3] as [number, number, number], before: Float32Array.of(1, 1), after: Float32Array.of(0.5, 1.5) };
    const all = livnStdpFigure('t', { ...base, spikeT, spikeGid, spikePhase });
    const hm = all.data.find((tr) => tr.type === 'heatmap') as { z: number[][] };
    expect(hm.z.reduce((a, r) => a + r.reduce((b, c) => b + c, 0), 0)).toBe(n);
    expect(all.data.some((tr) => ['baseline', 'training', 'evaluation'].includes(String(tr.name)))).toBe(false);
    const panelTitles = (f: Figure) => ((f.layout.annotations ?? []) as { text: string }[]).map((a) => a.text);
    expect(panelTitles(all).some((t) => t.startsWith(`<b>spike counts, all phases (${n} of ${n} spikes, more than 20000;`))).toBe(true);
    const few = livnStdpFigure('t', { ...base, spikeT: spikeT.subarray(0, 20_000), spikeGid: spikeGid.subarray(0, 20_000), spikePhase: spikePhase.subarray(0, 20_000) });
    expect(panelTitles(few)).toContain('<b>spikes by phase</b>');
    expect((few.data as { name?: string; x: number[] }[]).filter((tr) => ['baseline', 'training', 'evaluation'].includes(tr.name ?? '')).reduce((a, tr) => a + tr.x.length, 0)).toBe(20_000);
  });

  it('livnStdpFigure: the dashed phase lines of the spike counts span the gids the rows hold, first − ½ to last + ½ (were drawn to the top of a full last row, past the last gid)', () => {
    const base = { tMs: [0, 1], wRec: Float32Array.of(1, 1.5), columns: 1, phaseEnds: [3, 7, 9] as [number, number, number], before: Float32Array.of(1, 1), after: Float32Array.of(0.5, 1.5) };
    const phaseLines = (f: Figure) => (f.data as { x: number[]; y: number[]; line?: { color?: string } }[]).filter((tr) => tr.line?.color === '#d62728').map((tr) => [tr.x, tr.y]);
    // the reference: lines at the end of baseline and of training, from ½ below the lowest gid to ½ above the highest
    const want = (lo: number, hi: number) => [[[3, 3], [lo - 0.5, hi + 0.5]], [[7, 7], [lo - 0.5, hi + 0.5]]];
    // grids given by the run (neuronRows(lo, hi, 4)): gids 0 … 9 in rows of 3, the last holding 9 only (old top 11.5);
    // 5 … 23 in rows of 5, the last holding 20 … 23 (old top 24.5); 0 … 11, a full last row (top 11.5 either way)
    for (const [lo, hi] of [[0, 9], [5, 23], [0, 11]] as const) {
      const g = new SpikeCountGrid(gridTimeBins(0.5, 10, 0.5), neuronRows(lo, hi, 4));
      g.add([1, 8], [lo, hi]);
      const f = livnStdpFigure('t', { ...base, spikeT: [], spikeGid: [], spikePhase: [], spikeDensity: g });
      expect(phaseLines(f), `gids ${lo} … ${hi}`).toEqual(want(lo, hi));
    }
    // counted from the spikes (above rasterPoints): gids 2 … 998 by a plain loop, rows of ⌈997/200⌉ = 5, the last holding 997 and 998 (old top 2 + 200·5 − ½ = 1001.5)
    const n = 20_001;
    const spikeT = Float64Array.from({ length: n }, (_, k) => (k + 1) * 0.0005);
    const spikeGid = Int32Array.from({ length: n }, (_, k) => 2 + ((k * 7919) % 997));
    let lo = Infinity, hi = -Infinity;
    for (const g of spikeGid) (lo = Math.min(lo, g)), (hi = Math.max(hi, g));
    expect([lo, hi]).toEqual([2, 998]);
    const f = livnStdpFigure('t', { ...base, spikeT, spikeGid, spikePhase: new Int32Array(n) });
    expect(phaseLines(f)).toEqual(want(lo, hi));
  });

  it('--batch 2 simulates two cultures (twice the synapses of each, rates per population)', async () => {
    const { summary, status } = await runTiny({ batch: 2, trainMs: 200, evalMs: 50, baselineMs: 50 });
    expect(status).toBe('completed');
    expect(summary.neurons).toBe(20);
    expect(summary.synapses_drifted_evaluation).toBe(0);
    expect(summary.max_post_mean_error_after_normalize).toBeLessThanOrEqual(1e-6);
  }, 60_000);

  it('a phase of many recording intervals runs to its end (chunks counted in whole steps, not by repeated subtraction)', async () => {
    // 1000 ms of training in one normalisation chunk, weights recorded every 0.1 ms: 10,000 chunks of one step.
    // Subtracting 0.1 ten thousand times from 1000 leaves a last chunk of 0.09999999984 ms, which run() refused.
    const { out, status, summary } = await runTiny({ baselineMs: 0, trainMs: 1000, evalMs: 0.3, normalizeEveryMs: 1000, recordEveryMs: 0.1 });
    expect(status).toBe('completed');
    expect(summary.simulated_ms).toBeCloseTo(1000.3, 9);
    expect(summary.normalizations).toBe(1);
    const w = readNpz(readFileSync(join(out, 'artifacts', 'weights.npz')));
    const t = w.w_rec_t_ms!.data;
    expect(t.length).toBe(10004);
    for (let k = 0; k < t.length; k += 997) expect(Math.abs(t[k]! - k * 0.1)).toBeLessThanOrEqual(1e-9 * Math.max(1, k));
  }, 60_000);

  it('a duration that is not a whole number of steps fails before simulating, naming it', async () => {
    const { out, status } = await runTiny({ baselineMs: 0.05 });
    expect(status).toBe('failed');
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toMatch(/invalid --baseline-ms: got 0\.05, expected a whole number of 0\.1 ms steps/);
    expect(existsSync(join(out, 'artifacts', 'weights.npz'))).toBe(false);
  });

  it('an interrupted run resumed with --resume continues from its checkpoint (not from the start) and ends byte-identical to the uninterrupted run', async () => {
    const full = await runTiny();
    const cut = await interruptedAt(700); // mid-training: before the 700th 1 ms chunk, the 100th of the 5th normalisation chunk
    expect(cut.status).toBe('interrupted');
    expect(cut.summary.normalizations).toBe(4);
    expect(cut.summary.simulated_ms).toBeCloseTo(699, 9); // 200 ms baseline + 4 × 100 ms + 99 ms
    const resumed = await resumeCounting(cut.out);
    expect(resumed.status).toBe('completed');
    expect(resumed.summary.resumed).toBe(1);
    // it continued where the interrupted run stopped: 1400 − 699 chunks of 1 ms were left (the
    // old code reran all 1400), and says so in the log
    expect(resumed.calls).toBe(1400 - 699);
    expect(readFileSync(join(cut.out, 'log.txt'), 'utf8')).toMatch(/resumed at training segment 6 \(of 14\), chunk 99: 699(\.\d+)? ms simulated, 4 normalisations/);
    expectSameRun(full, resumed);
  }, 60_000);

  it('rows appended after the last checkpoint by a run that died before writing it are cut off on resume', async () => {
    const full = await runTiny();
    // the 5th commit of the series (before the checkpoint after the 3rd normalisation chunk)
    // appends its rows to the four files, then the process "dies" at the first flush: the
    // checkpoint on disk is the one before (400 ms), the files hold 100 ms more
    let flushes = 0;
    const spy = vi.spyOn(NpyAppendWriter.prototype, 'flush').mockImplementation(function (this: NpyAppendWriter) {
      if (++flushes === 4 * 4 + 1) throw new Error('killed');
    });
    let dead: Awaited<ReturnType<typeof runTiny>>;
    try {
      dead = await runTiny();
    } finally {
      spy.mockRestore();
    }
    expect(dead.status).toBe('failed');
    const cpDir = join(dead.out, 'checkpoint');
    const rows = (f: string) => readNpy(join(cpDir, f)).shape[0]!;
    // w_rec_t_ms.npy: row 0 at 0 ms and one per 1 ms up to 500 ms (the dead commit included)
    expect(rows('w_rec_t_ms.npy')).toBe(501);
    expect(rows('w_rec.npy')).toBe(501);
    const resumed = await resumeCounting(dead.out);
    expect(resumed.status).toBe('completed');
    expect(resumed.calls).toBe(1400 - 400); // from the last checkpoint, 400 ms
    expect(readFileSync(join(dead.out, 'log.txt'), 'utf8')).toMatch(/resumed at training segment 4 \(of 14\), chunk 0: 400(\.\d+)? ms simulated, 2 normalisations/);
    expectSameRun(full, resumed);
  }, 60_000);

  it('a checkpoint whose engine state does not fit the culture is refused on resume, before the series files are touched', async () => {
    const cut = await interruptedAt(350);
    expect(cut.status).toBe('interrupted');
    const cpDir = join(cut.out, 'checkpoint');
    const cp = readNpzEntries(join(cpDir, 'checkpoint.npz'));
    const v = cp.engine_v!.data as Float32Array;
    await writeNpz(join(cpDir, 'checkpoint.npz'), { ...cp, engine_v: { data: v.subarray(1), shape: [v.length - 1] } });
    // rows a dead run appended after the checkpoint: a refused resume must not cut them off either
    const extra = NpyAppendWriter.reopen(join(cpDir, 'w_rec_t_ms.npy'), { dtype: 'float64', rowShape: [] });
    extra.append(Float64Array.of(-1, -2));
    extra.close();
    const files = ['spikes_t_ms.npy', 'spikes_gid_phase.npy', 'w_rec.npy', 'w_rec_t_ms.npy'];
    const before = files.map((f) => sha(join(cpDir, f)));
    const resumed = await runTiny({}, new AbortController().signal, cut.out);
    expect(resumed.status).toBe('failed');
    expect(readFileSync(join(cut.out, 'log.txt'), 'utf8')).toMatch(new RegExp(`invalid state\\.v\\.length: got ${v.length - 1}, expected ${v.length} \\(one per neuron\\)`));
    expect(files.map((f) => sha(join(cpDir, f)))).toEqual(before);
  }, 60_000);

  it('a checkpoint of another configuration (a library resume with other durations) is refused before anything is cut or simulated; the right one then resumes', async () => {
    const full = await runTiny();
    const cut = await interruptedAt(350);
    expect(cut.status).toBe('interrupted');
    const cpDir = join(cut.out, 'checkpoint');
    // rows a dead run appended after the checkpoint: the refused resume must not cut them off
    const extra = NpyAppendWriter.reopen(join(cpDir, 'w_rec_t_ms.npy'), { dtype: 'float64', rowShape: [] });
    extra.append(Float64Array.of(-1, -2));
    extra.close();
    const files = ['checkpoint.npz', 'spikes_t_ms.npy', 'spikes_gid_phase.npy', 'w_rec.npy', 'w_rec_t_ms.npy'];
    const before = files.map((f) => sha(join(cpDir, f)));
    const artifacts = ['artifacts/weights.npz', 'artifacts/spikes.npz'].map((f) => sha(join(cut.out, f))); // (the interrupted run's)
    // same culture and engine shape, other evaluation length: the engine state would import, the
    // segments would not be this checkpoint's
    let simulated = 0;
    const count = vi.spyOn(RunFolder.prototype, 'keepResponsive').mockImplementation(async () => {
      simulated++;
    });
    let wrong: Awaited<ReturnType<typeof runTiny>>;
    try {
      wrong = await runTiny({ evalMs: 150 }, new AbortController().signal, cut.out);
    } finally {
      count.mockRestore();
    }
    expect(wrong.status).toBe('failed');
    expect(simulated).toBe(0);
    const message = String(wrong.summary.error);
    expect(message).toMatch(/^invalid checkpoint .*checkpoint\.npz: got .*durations\\":\[200,1000,200\].*, expected a checkpoint of this run's configuration \{.*"durations":\[200,1000,150\]/);
    expect(files.map((f) => sha(join(cpDir, f)))).toEqual(before);
    expect(['artifacts/weights.npz', 'artifacts/spikes.npz'].map((f) => sha(join(cut.out, f)))).toEqual(artifacts);
    // the checkpoint is still good for the run it belongs to
    const resumed = await resumeCounting(cut.out);
    expect(resumed.status).toBe('completed');
    expect(resumed.calls).toBe(1400 - 349);
    expectSameRun(full, resumed);
  }, 60_000);

  it('a damaged checkpoint (no meta entry; no w_before once training started) is refused with a named error', async () => {
    const cut = await interruptedAt(350);
    const cp = join(cut.out, 'checkpoint', 'checkpoint.npz');
    const entries = readNpzEntries(cp);
    const without = (name: string) => Object.fromEntries(Object.entries(entries).filter(([k]) => k !== name));
    await writeNpz(cp, without('meta'));
    const noMeta = await runTiny({}, new AbortController().signal, cut.out);
    expect(noMeta.status).toBe('failed');
    expect(String(noMeta.summary.error)).toMatch(/^invalid checkpoint .*checkpoint\.npz meta: got "none", expected the JSON entry "meta" written by cinder livn-stdp$/);
    await writeNpz(cp, without('w_before'));
    const noBefore = await runTiny({}, new AbortController().signal, cut.out);
    expect(noBefore.status).toBe('failed');
    expect(String(noBefore.summary.error)).toMatch(/^invalid checkpoint .*checkpoint\.npz w_before: got "none", expected float32 weights \(the checkpoint says started\)$/);
  }, 60_000);

  it('a series file shorter than its checkpoint records is refused on resume, before any file is cut', async () => {
    const cut = await interruptedAt(350);
    expect(cut.status).toBe('interrupted');
    const cpDir = join(cut.out, 'checkpoint');
    const meta = JSON.parse(new TextDecoder().decode(readNpzEntries(join(cpDir, 'checkpoint.npz')).meta!.data as Uint8Array)) as { spikesSaved: number; rowsSaved: number };
    expect(meta.rowsSaved).toBe(350); // row 0 at 0 ms, one per 1 ms up to 349 ms
    // rows a dead run appended to the first files after the checkpoint (a resume would cut them)...
    for (const [f, spec, row] of [
      ['spikes_t_ms.npy', { dtype: 'float64', rowShape: [] }, Float64Array.of(-1)],
      ['spikes_gid_phase.npy', { dtype: 'int32', rowShape: [2] }, Int32Array.of(-1, -1)],
      ['w_rec.npy', { dtype: 'float32', rowShape: [48] }, new Float32Array(48).fill(-1)],
    ] as const) {
      const w = NpyAppendWriter.reopen(join(cpDir, f), spec);
      w.append(row);
      w.close();
    }
    // ...and the last file lost its last row: it no longer holds what the checkpoint records
    const t = NpyAppendWriter.reopen(join(cpDir, 'w_rec_t_ms.npy'), { dtype: 'float64', rowShape: [] });
    t.truncate(meta.rowsSaved - 1);
    t.close();
    const files = ['checkpoint.npz', 'spikes_t_ms.npy', 'spikes_gid_phase.npy', 'w_rec.npy', 'w_rec_t_ms.npy'];
    const before = files.map((f) => sha(join(cpDir, f)));
    const resumed = await runTiny({}, new AbortController().signal, cut.out);
    expect(resumed.status).toBe('failed');
    expect(String(resumed.summary.error)).toBe(`invalid checkpoint file ${join(cpDir, 'w_rec_t_ms.npy')}: got "349 rows", expected at least the 350 rows the checkpoint records`);
    // nothing cut: the other files keep the rows beyond the checkpoint
    expect(files.map((f) => sha(join(cpDir, f)))).toEqual(before);
  }, 60_000);

  it('chunks that do not line up with the recording interval: rows on its grid, spikes in their phase, and a resumed run byte-identical', async () => {
    // baseline 50.3 ms = 503 steps, rows every 1.1 ms = 11 steps: training starts between two rows,
    // so its 1.1 ms chunks (and the 33.3 ms normalisation chunks) straddle the grid
    const odd = { baselineMs: 50.3, normalizeEveryMs: 33.3, recordEveryMs: 1.1, trainMs: 200, evalMs: 20.7 };
    const full = await runTiny(odd);
    expect(full.status).toBe('completed');
    const w = readNpz(readFileSync(join(full.out, 'artifacts', 'weights.npz')));
    const t = w.w_rec_t_ms!.data;
    const totalSteps = 503 + 2000 + 207;
    expect(t.length).toBe(Math.floor(totalSteps / 11) + 1);
    for (let k = 0; k < t.length; k++) expect(Math.abs(t[k]! - k * 11 * 0.1)).toBeLessThanOrEqual(1e-9 * Math.max(1, k));
    const s = readNpz(readFileSync(join(full.out, 'artifacts', 'spikes.npz')));
    for (let k = 0; k < s.t_ms!.data.length; k++) {
      const tk = s.t_ms!.data[k]!;
      expect(s.phase!.data[k]).toBe(tk <= 50.3 + 1e-9 ? 0 : tk <= 250.3 + 1e-9 ? 1 : 2);
    }
    expect(full.summary.normalizations).toBe(7); // 6 × 33.3 ms + 0.2 ms
    const cut = await interruptedAt(120, odd); // 46 baseline chunks, then the 74th training chunk (in the 3rd normalisation chunk)
    expect(cut.status).toBe('interrupted');
    let resumedCalls = 0;
    const spy2 = vi.spyOn(RunFolder.prototype, 'keepResponsive').mockImplementation(async () => {
      resumedCalls++;
    });
    let resumed: Awaited<ReturnType<typeof runTiny>>;
    try {
      resumed = await runTiny(odd, new AbortController().signal, cut.out);
    } finally {
      spy2.mockRestore();
    }
    expect(resumed.status).toBe('completed');
    // chunks of at most 1.1 ms: baseline 45 + 1, training 6 × (30 + 1) + 1, evaluation 18 + 1; the cut run ran 119
    expect(resumedCalls).toBe(46 + (6 * 31 + 1) + 19 - 119);
    expectSameRun(full, resumed);
  }, 60_000);

  it('yields to signal handlers while simulating and stops when interrupted; rates use the time each phase ran', async () => {
    // SIGINT reaches the example only when it yields (ctx.keepResponsive); abort at its 451st call, mid-training
    const ac = new AbortController();
    let calls = 0;
    const spy = vi.spyOn(RunFolder.prototype, 'keepResponsive').mockImplementation(async () => {
      if (++calls === 451) ac.abort();
    });
    try {
      const { out, status, summary } = await runTiny({}, ac.signal);
      expect(calls).toBeGreaterThanOrEqual(451); // before: never called, the run ignored SIGINT to its end
      expect(status).toBe('interrupted');
      const ms = summary.simulated_ms as number;
      expect(ms).toBeGreaterThan(200);
      expect(ms).toBeLessThan(1200);
      expect(summary.normalizations).toBe(Math.floor((ms - 200 + 1e-6) / 100));
      // rates per phase from the written spikes over the time each phase actually ran (200 ms, ms − 200, 0)
      const s = readNpz(readFileSync(join(out, 'artifacts', 'spikes.npz')));
      const legend = JSON.parse(readFileSync(join(out, 'artifacts', 'weights_legend.json'), 'utf8'));
      const nExc = legend.excitatory_per_culture as number;
      const nInh = (legend.culture_size as number) - nExc;
      const count = (phase: number, exc: boolean) => Array.from(s.phase!.data).filter((p, k) => p === phase && (s.gid!.data[k]! % legend.culture_size < nExc) === exc).length;
      expect(summary.rate_baseline_exc_hz).toBeCloseTo(count(0, true) / nExc / 0.2, 9);
      expect(summary.rate_training_exc_hz).toBeCloseTo(count(1, true) / nExc / ((ms - 200) / 1000), 9);
      expect(summary.rate_training_inh_hz).toBeCloseTo(count(1, false) / nInh / ((ms - 200) / 1000), 9);
      expect(count(1, true) + count(1, false)).toBeGreaterThan(0);
      expect(count(2, true) + count(2, false)).toBe(0);
      expect(summary.rate_evaluation_exc_hz).toBe(0);
    } finally {
      spy.mockRestore();
    }
  }, 60_000);
});
