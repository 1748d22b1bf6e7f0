// `cinder coba`: memory bounded in the run's length. The series that grow with the run (population
// counts per 1 ms bin, raster spikes) are held only from the last checkpoint on (the files in
// checkpoint/ hold the rest); the final spikes.npz and figures are built from the files read in
// pieces of COBA_SERIES_READ.pieceRows rows, and equal, byte for byte, the npz and figure data
// reconstructed here from an independent run of the event engine (what the old code wrote from its
// whole-run arrays); a resume reads nothing back and ends with the same artifacts and figures. The
// population-rate figure's envelope is computed as the count pieces are read (populationRateLine),
// never from the whole series, and equals the envelope of the npz counts computed here.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../src/node.js'; // (file storage of Network checkpoints, as the CLI installs it)
import { backendInfo } from '../../src/core/backend.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { RunFolder } from '../../src/cli/run-folder.js';
import { NpyAppendWriter } from '../../src/io/npy-append.js';
import { readNpz, writeNpz } from '../../src/io/npy.js';
import { captureFigures } from '../helpers/cli.js';
import { COBA_FIGURE_CAPS, COBA_SERIES_READ, CobaSeriesFiles, cobaExample, populationRateLine, type CobaStats } from '../../examples/coba/index.js';
import { buildCobaEvent } from '../../examples/coba/event-engine.js';
import { expectSameFiles } from '../helpers/files.js';
import { envelopeIndices } from '../helpers/envelope.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-coba-memory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// 200 neurons (160 excitatory: all of them in the raster subset), 2995 steps of 0.1 ms = 299.5
// bins of 1 ms, chunks of 130 steps (13 bins: a bin still filling at most checkpoints)
const PARAMS = { engine: 'event', model: 'cuba', neurons: 200, inputs: 20, seconds: 0.2995, chunk: 130 };
const STEPS = 2995;
const SEED = 3;

/** Runs coba in-process (the folder `resumeIn` resumed when given); `abortAt`: aborted at that keepResponsive call. */
async function runCoba(name: string, extra: Record<string, unknown> = {}, opts: { abortAt?: number; resumeIn?: string } = {}) {
  const out = opts.resumeIn ?? join(tmp, name);
  const params: Record<string, number | string | boolean> = {};
  for (const o of cobaExample.options) params[o.name] = o.default as number | string | boolean;
  Object.assign(params, PARAMS, extra);
  const ac = new AbortController();
  let seen = 0;
  const spy = opts.abortAt === undefined ? null : vi.spyOn(RunFolder.prototype, 'keepResponsive').mockImplementation(async () => {
    if (++seen === opts.abortAt) ac.abort();
  });
  try {
    const run = startRun({
      spec: cobaExample, params, mode: 'fast', seed: SEED, seeds: 1, outDir: out, backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal: ac.signal, terminal: new Terminal({ mode: 'quiet' }), resume: opts.resumeIn !== undefined,
    });
    const r = await run.done;
    return { out, status: r.status, summary: JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8')) as Record<string, unknown> };
  } finally {
    spy?.mockRestore();
  }
}

/** The series as the old code held them for the whole run, from the event engine run here (float64 loop over its spikes). */
function reference(steps: number) {
  const net = buildCobaEvent({ model: 'cuba', neurons: 200, p: 20 / 200, dt: 0.1, refractory: 'steps' }, SEED);
  const { step, index } = net.run(steps);
  const ne = net.ne;
  const pop = new Array<number>(Math.ceil(steps / 10)).fill(0);
  const count = new Array<number>(200).fill(0);
  const rs: number[] = [];
  const rn: number[] = [];
  for (let q = 0; q < step.length; q++) {
    const t = step[q]!;
    const j = index[q]!;
    pop[Math.floor(t / 10)]!++;
    count[j]!++;
    if (j < Math.min(200, ne) || (j >= ne && j < ne + 50)) {
      rs.push(t);
      rn.push(j);
    }
  }
  return { pop, count, rs, rn, ne };
}

/**
 * The rate the figure draws per 1 ms bin (Hz, float64) from the counts — spikes / (neurons · bin
 * length), the last bin `lastMs` long — and its envelope under `cap` (computed here by the documented rule).
 */
function rateEnvelope(pop: ArrayLike<number>, neurons: number, cap: number, lastMs = 1): { x: number[]; y: number[]; buckets: number } {
  const rate = Array.from(pop, (c, b) => (c * 1000) / (neurons * (b === pop.length - 1 ? lastMs : 1)));
  const env = envelopeIndices(rate, cap);
  return { x: env.indices, y: env.indices.map((b) => rate[b]!), buckets: env.buckets };
}

/** Pseudo-random counts 0…40 (a 32-bit LCG), with runs of equal values (ties: the first index is kept). */
function lcgCounts(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (i >> 3) % 5 === 0 ? 7 : s % 41;
  }
  return out;
}

describe('coba: the population-rate line, read once through the count pieces', () => {
  it('equals the envelope of the whole series computed here (every point, x and y), for any piece sizes; below the cap every bin', () => {
    for (const [n, cap, lastMs] of [[100_003, 8000, 1], [30_000, 100, 0.3], [9, 7, 1], [11, 7, 1], [8000, 8000, 0.5], [8001, 8000, 1], [57, 60, 0.7]] as const) {
      const counts = lcgCounts(n, n + cap);
      const want = rateEnvelope(counts, 4000, cap, lastMs);
      for (const piece of [1, 7, 4096, n]) {
        const pieces = function* () {
          for (let r = 0; r < n; r += piece) yield counts.subarray(r, Math.min(n, r + piece));
        };
        const got = populationRateLine(pieces(), n, 4000, cap, lastMs);
        expect(got.buckets, `n ${n}, cap ${cap}, pieces of ${piece}`).toBe(want.buckets);
        expect(Array.from(got.x), `n ${n}, cap ${cap}, pieces of ${piece}`).toEqual(want.x);
        expect(Array.from(got.y), `n ${n}, cap ${cap}, pieces of ${piece}`).toEqual(want.y);
      }
    }
    // pieces that do not add up to the bins are refused
    expect(() => populationRateLine([Int32Array.of(1, 2)], 3, 10, 100)).toThrow(/2 counts for 3 bins/);
    expect(() => populationRateLine([Int32Array.of(1, 2, 3, 4)], 3, 10, 100)).toThrow(/more than 3 counts/);
    for (const bad of [0, 1.5, NaN]) expect(() => populationRateLine([Int32Array.of(1)], 1, 10, 100, bad)).toThrow(/invalid lastBinMs/);
  });

  it('memory flat in the series length: 2·10^6 bins read through one reused piece allocate no buffer of the series (the whole-series x and y took 32 MB)', () => {
    const n = 2_000_000;
    const piece = new Int32Array(65_536);
    let peak = 0;
    const pieces = function* () {
      for (let r = 0; r < n; r += piece.length) {
        const k = Math.min(piece.length, n - r);
        for (let q = 0; q < k; q++) piece[q] = (r + q) % 97;
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        yield piece.subarray(0, k);
      }
    };
    const base = process.memoryUsage().arrayBuffers;
    const line = populationRateLine(pieces(), n, 4000, 8000);
    expect(line.buckets).toBe(3999);
    expect(peak - base).toBeLessThan(4 * 2 ** 20);
  });
});

describe('cinder coba: memory bounded in the run length', () => {
  it('after every checkpoint the run holds only the bin still filling and no raster spike; spikes.npz and the figures, read from the files in pieces, equal the whole-run series', async () => {
    const held: { steps: number; bins: number; spikes: number; fileBins: number; fileSpikes: number }[] = [];
    const save = CobaSeriesFiles.prototype.save;
    const saveSpy = vi.spyOn(CobaSeriesFiles.prototype, 'save').mockImplementation(function (this: CobaSeriesFiles, st: CobaStats, complete: number) {
      const r = save.call(this, st, complete);
      held.push({ steps: st.steps, bins: st.popCounts.length, spikes: st.rasterStep.length + st.rasterNeuron.length, fileBins: this.popRows, fileSpikes: this.rasterRows });
      return r;
    });
    const reads: number[] = [];
    const readRows = NpyAppendWriter.prototype.readRows;
    const readSpy = vi.spyOn(NpyAppendWriter.prototype, 'readRows').mockImplementation(function (this: NpyAppendWriter, first: number, count: number) {
      reads.push(count);
      return readRows.call(this, first, count);
    });
    const cap = captureFigures();
    const savedPiece = COBA_SERIES_READ.pieceRows;
    let run: Awaited<ReturnType<typeof runCoba>>;
    try {
      COBA_SERIES_READ.pieceRows = 7;
      run = await runCoba('pieces');
    } finally {
      COBA_SERIES_READ.pieceRows = savedPiece;
      saveSpy.mockRestore();
      readSpy.mockRestore();
      cap.restore();
    }
    expect(run.status).toBe('completed');
    const ref = reference(STEPS);
    expect(ref.rs.length).toBeGreaterThan(500);
    // one save per chunk: ⌈2995/130⌉ = 24; in memory the bin still filling (1 when steps is not a
    // multiple of 10 steps, else 0) and no raster spike, while the files grow to the whole run's
    expect(held.length).toBe(Math.ceil(STEPS / 130));
    for (const h of held) {
      expect(h.bins, `bins held after step ${h.steps}`).toBe(h.steps % 10 === 0 ? 0 : 1);
      expect(h.spikes, `raster spikes held after step ${h.steps}`).toBe(0);
      expect(h.fileBins).toBe(Math.floor(h.steps / 10));
    }
    expect(held.at(-1)!.fileBins).toBe(299);
    expect(held.at(-1)!.fileSpikes).toBe(ref.rs.length);
    // every read of the series files at most 7 rows (the old code read them whole; here 299 bins and the raster)
    expect(reads.length).toBeGreaterThan(0);
    expect(Math.max(...reads)).toBeLessThanOrEqual(7);
    // spikes.npz: the bytes of the whole-run arrays written eagerly, as the old code did
    const want = join(tmp, 'reference-spikes.npz');
    await writeNpz(want, {
      raster_step: { data: Int32Array.from(ref.rs), shape: [ref.rs.length] },
      raster_neuron: { data: Int32Array.from(ref.rn), shape: [ref.rn.length] },
      count: { data: Int32Array.from(ref.count), shape: [200] },
      population_count_1ms: { data: Int32Array.from(ref.pop), shape: [ref.pop.length] },
    });
    expect(readFileSync(join(run.out, 'artifacts', 'spikes.npz')).equals(readFileSync(want))).toBe(true);
    // the figures' data: every raster spike and every bin (299 complete, the half bin at the end)
    const raster = cap.figures.get('raster')!.data as { x: number[]; y: number[] }[];
    const exc = ref.rs.map((t, q) => [t * 0.1, ref.rn[q]!] as const).filter(([, j]) => j < ref.ne);
    const inh = ref.rs.map((t, q) => [t * 0.1, ref.rn[q]! - ref.ne + Math.min(200, ref.ne)] as const).filter((_, q) => ref.rn[q]! >= ref.ne);
    expect(raster[0]!.x).toEqual(exc.map(([x]) => x));
    expect(raster[0]!.y).toEqual(exc.map(([, y]) => y));
    expect(raster[1]!.x).toEqual(inh.map(([x]) => x));
    expect(raster[1]!.y).toEqual(inh.map(([, y]) => y));
    const rate = cap.figures.get('population_rate')!.data[0] as { x: number[]; y: number[] };
    expect(Array.from(rate.x)).toEqual(ref.pop.map((_, b) => b));
    // rate = spikes / (200 neurons · bin length): 1 ms, the last bin 5 steps = 0.5 ms (its count over
    // 1 ms would halve it)
    expect(Array.from(rate.y)).toEqual(ref.pop.map((c, b) => (c * 1000) / (200 * (b === 299 ? 0.5 : 1))));
  }, 120_000);

  it('long runs: a raster above maxSpikes is a spike-count heatmap whose counts are the npz raster binned; a rate above maxPoints bins its min/max envelope, keeping every extreme', async () => {
    // the caps made small (the defaults are 200 000 spikes and 8000 points): 2995 steps, 300 bins
    const cap = captureFigures();
    const saved = { ...COBA_FIGURE_CAPS };
    let run: Awaited<ReturnType<typeof runCoba>>;
    try {
      Object.assign(COBA_FIGURE_CAPS, { maxSpikes: 200, maxPoints: 100 });
      run = await runCoba('long');
    } finally {
      Object.assign(COBA_FIGURE_CAPS, saved);
      cap.restore();
    }
    expect(run.status, String(run.summary.error)).toBe('completed');
    const a = readNpz(join(run.out, 'artifacts', 'spikes.npz'));
    const rn = a.raster_neuron as Int32Array;
    expect(rn.length).toBeGreaterThan(200);
    const raster = cap.figures.get('raster')!.data as { type: string; z: number[][] }[];
    expect(raster.map((t) => t.type)).toEqual(['heatmap', 'heatmap']);
    // each population's cells summed = its spikes in the npz (rows 0…199 excitatory, then the 50 inhibitory)
    const cellSum = (t: { z: number[][] }) => t.z.flat().reduce((x, v) => x + (v ?? 0), 0);
    let excSpikes = 0;
    for (const j of rn) if (j < 160) excSpikes++;
    expect(raster.map(cellSum)).toEqual([excSpikes, rn.length - excSpikes]);
    // and cell by cell: the npz spikes binned here by the heatmaps' own cells (x: bin middles, y: neuron rows)
    const rs = a.raster_step as Int32Array;
    for (const [i, t] of (raster as unknown as { x: ArrayLike<number>; y: ArrayLike<number>; z: number[][] }[]).entries()) {
      const width = t.x[1]! - t.x[0]!;
      const start = t.x[0]! - width / 2;
      const first = t.y[0]!; // one neuron per row here (160 and 40 neurons)
      const want = t.z.map((row) => row.map(() => 0));
      for (let q = 0; q < rs.length; q++) {
        const j = rn[q]!;
        if ((j < 160) !== (i === 0)) continue;
        const k = Math.min(t.x.length - 1, Math.floor((rs[q]! * 0.1 - start) / width));
        want[(j < 160 ? j : j - 160) - (first - (i === 0 ? 0 : 160))]![k]!++;
      }
      expect(t.z).toEqual(want);
    }
    // the rate: at most 100 points, each a bin at its own time
    const pop = a.population_count_1ms as Int32Array;
    expect(pop.length).toBe(300);
    const rate = cap.figures.get('population_rate')!.data[0] as { name: string; x: ArrayLike<number>; y: ArrayLike<number> };
    expect(rate.name).toBe('rate (min/max of 49 buckets of 300 points)');
    expect(rate.y.length).toBeLessThanOrEqual(100);
    expect(cap.figures.get('population_rate')!.title).toMatch(/1 of 1 line decimated to ≤ 100 points/);
    // every point: the envelope of the npz counts' rates, computed here
    const want = rateEnvelope(pop, 200, 100, 0.5); // (2995 steps: the last bin holds 5 steps, 0.5 ms)
    expect(Array.from(rate.x)).toEqual(want.x);
    expect(Array.from(rate.y)).toEqual(want.y);
  }, 180_000);

  for (const engine of ['event', 'tfjs'] as const) {
    it(`--engine ${engine}: interrupted and resumed (nothing read back on resume) = uninterrupted, artifacts and figures byte for byte (the rate an envelope)`, async () => {
      const extra = engine === 'tfjs' ? { engine, seconds: 0.0503, chunk: 77 } : {};
      // a rate cap below the bins (300 and 51): the envelope built from the pieces is compared too
      const maxPoints = engine === 'tfjs' ? 20 : 50;
      const savedCaps = { ...COBA_FIGURE_CAPS };
      COBA_FIGURE_CAPS.maxPoints = maxPoints;
      try {
        const full = await runCoba(`${engine}-full`, extra);
        expect(full.status, String(full.summary.error)).toBe('completed');
        const cut = await runCoba(`${engine}-cut`, extra, { abortAt: 3 });
        expect(cut.status).toBe('interrupted');
        expect(Number(cut.summary.steps_done)).toBe(3 * Number(engine === 'tfjs' ? 77 : 130));
        const reads: number[] = [];
        const readRows = NpyAppendWriter.prototype.readRows;
        const readSpy = vi.spyOn(NpyAppendWriter.prototype, 'readRows').mockImplementation(function (this: NpyAppendWriter, first: number, count: number) {
          reads.push(count);
          return readRows.call(this, first, count);
        });
        const savedPiece = COBA_SERIES_READ.pieceRows;
        const cap = captureFigures();
        let resumed: Awaited<ReturnType<typeof runCoba>>;
        try {
          COBA_SERIES_READ.pieceRows = 5;
          resumed = await runCoba('', extra, { resumeIn: cut.out });
        } finally {
          COBA_SERIES_READ.pieceRows = savedPiece;
          readSpy.mockRestore();
          cap.restore();
        }
        expect(resumed.status).toBe('completed');
        expect(resumed.summary.rate_exc_hz).toBe(full.summary.rate_exc_hz);
        expect(resumed.summary.cv_mean).toBe(full.summary.cv_mean);
        expect(Math.max(...reads)).toBeLessThanOrEqual(5);
        expectSameFiles(join(full.out, 'artifacts'), join(cut.out, 'artifacts'));
        expectSameFiles(join(full.out, 'figures'), join(cut.out, 'figures'), 'figures');
        // the resumed run's rate: every point of the envelope of its npz counts, computed here
        const pop = readNpz(join(cut.out, 'artifacts', 'spikes.npz')).population_count_1ms as Int32Array;
        // (2995 steps: the last bin 5 steps = 0.5 ms; tfjs 503 steps: 3 steps = 0.3 ms)
        const want = rateEnvelope(pop, 200, maxPoints, engine === 'tfjs' ? 0.3 : 0.5);
        expect(want.buckets).toBeGreaterThan(0);
        const rate = cap.figures.get('population_rate')!.data[0] as { name: string; x: ArrayLike<number>; y: ArrayLike<number> };
        expect(rate.name).toBe(`rate (min/max of ${want.buckets} buckets of ${pop.length} points)`);
        expect(Array.from(rate.x)).toEqual(want.x);
        expect(Array.from(rate.y)).toEqual(want.y);
      } finally {
        Object.assign(COBA_FIGURE_CAPS, savedCaps);
      }
    }, 180_000);
  }
});
