/**
 * `cinder coba`: the COBA / CUBA benchmark network (Vogels & Abbott 2005; Brette et al. 2007,
 * benchmarks 1 and 2), 4000 LIF neurons (3200 excitatory, 800 inhibitory), each ordered pair
 * connected with probability p, dt 0.1 ms (equations and step scheme: `./network.ts`).
 *
 * `--engine event` (default) runs the network on the event-driven engine (`./event-engine.ts`:
 * plain typed arrays, work per spike for the synapses); `--engine tfjs` builds it from Cinder modules
 * (`./network.ts`: LIF, SparseLinear, LinearDirect in a Biclique). Same draws, equations and step
 * scheme: the spikes agree up to float32 near-ties at the threshold (test/examples/coba-event.test.ts).
 *
 * `--refractory steps` (default) holds a neuron exactly ⌊5/dt + 10⁻³⌋ = 50 steps after a spike, as Brian2 and
 * NEST (the benchmark's reference implementations) do; `--refractory time` counts the 5 ms down in
 * float32 as Inferno and Cinder's LIF by default (`refracCount: 'time'`): 51 steps at dt = 0.1
 * (0.1 is not a float32 number). Both engines follow the flag.
 *
 * `--neurons N` scales the network keeping the 4:1 ratio and the expected number of inputs per
 * neuron, K = `--inputs` (default 80 = 0.02·4000): p = K/N (p = 0.02 at N = 4000).
 *
 * Summary: mean excitatory and inhibitory rates, the per-neuron coefficients of variation of the
 * inter-spike intervals (neurons with ≥ 3 spikes; CV = population sd / mean of the ISIs, as
 * numpy's `std`), ms per simulated second. Figures: raster of a subset, population rate (1 ms
 * bins), histogram of the neurons' rates. Artifacts: `spikes.npz` (step, neuron of every spike of
 * the raster subset; per-neuron counts; population counts per 1 ms). The run advances in chunks of
 * `chunk` steps; after each it saves the network (voltages, refractory times, synaptic variables)
 * and the statistics gathered so far in `checkpoint/` (tfjs: `model.json` and its weights; event:
 * `checkpoint.npz`, older runs' `checkpoint.json`), so `--resume` continues with the same spikes.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ExampleSpec, RunContext } from '../../src/cli/example.js';
import { writeNpzArtifact } from '../../src/cli/artifacts.js';
import { tf } from '../../src/core/tf.js';
import type { Figure } from '../../src/viz/figure.js';
import { DEFAULT_MAX_POINTS, EnvelopeStream, checkMaxPoints, decimatedName, decimatedTitle, type DecimatedLine } from '../../src/viz/decimate.js';
import { densityNote, placeColorbars, spikeCountPanel, spikeRaster } from '../../src/viz/raster.js';
import { DEFAULT_MAX_SPIKES, SpikeCountGrid, gridTimeBins, neuronRows } from '../../src/viz/density.js';
import { panelFigure } from '../../src/viz/panels.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { checkWriteGuards } from '../../src/io/atomic.js';
import { openCheckpointSeries, type NpyAppendWriter } from '../../src/io/npy-append.js';
import { readNpz, writeNpz } from '../../src/io/npy.js';
import { buildCoba, COBA_DRAWS, type CobaParams } from './network.js';
import { buildCobaEvent, cobaRefractorySteps } from './event-engine.js';

/** Neurons of each population shown in the raster (at most). */
const RASTER_EXC = 200;
const RASTER_INH = 50;

/** Per-neuron spike statistics gathered online (float64), checkpointed as plain arrays. */
export interface CobaStats {
  /** Steps done. */
  steps: number;
  /** Spikes per neuron. */
  count: number[];
  /** Step of each neuron's last spike (−1: none). */
  last: number[];
  /** Sum of each neuron's ISIs (steps). */
  isiSum: number[];
  /** Sum of squared ISIs (steps²). */
  isiSq: number[];
  /**
   * Spikes of the whole group per 1 ms bin, from the first bin not yet in the series file
   * `checkpoint/population_count_1ms.npy` on ({@link CobaSeriesFiles}: the files hold the bins
   * before it; all bins where there is no file, e.g. a checkpoint of older code).
   */
  popCounts: number[];
  /** Raster subset: step of each recorded spike not yet in `checkpoint/raster.npy` (as {@link CobaStats.popCounts}). */
  rasterStep: number[];
  /** Raster subset: neuron of each recorded spike not yet in `checkpoint/raster.npy`. */
  rasterNeuron: number[];
}

/**
 * How the final artifacts and figures read the series back from the checkpoint folder's `.npy`
 * files: at most `pieceRows` rows per read (2^20: 4 MiB of population counts, 8 MiB of raster
 * rows), so writing `spikes.npz` holds one piece in memory, never the whole series. A setting so
 * that tests can use small pieces.
 */
export const COBA_SERIES_READ = { pieceRows: 2 ** 20 };

/**
 * Caps of the figures of long runs (the viz defaults): a raster of more than `maxSpikes` spikes is
 * drawn as spike counts per (time bin, neuron row), a rate of more than `maxPoints` bins as its
 * min/max envelope; both say so in their titles. A setting so that tests can use small caps.
 */
export const COBA_FIGURE_CAPS = { maxSpikes: DEFAULT_MAX_SPIKES, maxPoints: DEFAULT_MAX_POINTS };

/** Empty statistics for N neurons. */
export function emptyStats(n: number): CobaStats {
  return { steps: 0, count: new Array(n).fill(0), last: new Array(n).fill(-1), isiSum: new Array(n).fill(0), isiSq: new Array(n).fill(0), popCounts: [], rasterStep: [], rasterNeuron: [] };
}

/**
 * Per-neuron CV of the ISIs: √(mean(ISI²) − mean(ISI)²)/mean(ISI) over the n − 1 intervals of each
 * neuron with n ≥ 3 spikes (population sd, as numpy's `std`).
 */
export function isiCvs(st: CobaStats): number[] {
  const out: number[] = [];
  for (let j = 0; j < st.count.length; j++) {
    const k = st.count[j]! - 1;
    if (k < 2) continue;
    const m = st.isiSum[j]! / k;
    const v = Math.max(0, st.isiSq[j]! / k - m * m);
    out.push(Math.sqrt(v) / m);
  }
  return out;
}

/** Whether neuron j (of N, Ne excitatory) is in the raster subset. */
function inRaster(j: number, ne: number): boolean {
  return j < Math.min(RASTER_EXC, ne) || (j >= ne && j < ne + RASTER_INH);
}

/** The `coba` example. */
export const cobaExample: ExampleSpec = {
  name: 'coba',
  description: 'COBA / CUBA benchmark network (Vogels & Abbott 2005, Brette et al. 2007): 4000 LIF neurons, sparse random recurrence',
  options: [
    { name: 'engine', type: 'string', description: "event (event-driven engine in typed arrays, the default) or tfjs (the network built from Cinder modules); same equations and step scheme", default: 'event', choices: ['event', 'tfjs'] },
    { name: 'model', type: 'string', description: 'coba (conductance synapses, benchmark 1) or cuba (current synapses, benchmark 2)', default: 'coba', choices: ['coba', 'cuba'] },
    { name: 'refractory', type: 'string', description: "steps (hold exactly ceil(5 ms/dt) = 50 steps, as Brian2 and NEST; the default) or time (the 5 ms counted down in float32 as Inferno: 51 steps at dt 0.1)", default: 'steps', choices: ['steps', 'time'] },
    { name: 'seconds', type: 'float', description: 'simulated time (s)', default: 1, min: 0.0001 },
    { name: 'neurons', type: 'int', description: 'neurons N (round(0.8·N) excitatory)', default: 4000, min: 5 },
    { name: 'inputs', type: 'float', description: 'expected inputs per neuron K (p = K/N; 80 gives p = 0.02 at N = 4000)', default: 80, min: 0.0001 },
    { name: 'chunk', type: 'int', description: 'steps between checkpoints', default: 1000, min: 1 },
  ],
  presets: {
    tiny: { neurons: 200, inputs: 20, seconds: 0.1, chunk: 250 },
    fast: {},
    full: { seconds: 10, chunk: 5000 },
  },
  defaultMode: 'fast',
  summaryKeys: ['model', 'engine', 'refractory', 'neurons', 'synapses', 'p', 'steps_done', 'simulated_s', 'rate_exc_hz', 'rate_inh_hz', 'cv_mean', 'cv_median', 'cv_neurons', 'ms_per_sim_second', 'seconds'],
  volatileKeys: ['ms_per_sim_second', 'seconds'],
  labelKeys: ['model', 'engine', 'refractory'],
  figures: ['raster', 'population_rate', 'rate_histogram'],
  validate(p) {
    if (Number(p.inputs) > Number(p.neurons)) throw new CinderArgumentError('--inputs', p.inputs, `at most --neurons (${p.neurons}): p = K/N ≤ 1`);
  },
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const p = ctx.params;
    const N = Number(p.neurons);
    const dt = 0.1;
    const engine = String(p.engine ?? 'event');
    if (engine !== 'event' && engine !== 'tfjs') throw new CinderArgumentError('--engine', engine, "'event' or 'tfjs'");
    const refractory = String(p.refractory ?? 'steps');
    if (refractory !== 'steps' && refractory !== 'time') throw new CinderArgumentError('--refractory', refractory, "'steps' or 'time'");
    const cp: CobaParams = { model: p.model === 'cuba' ? 'cuba' : 'coba', neurons: N, p: Number(p.inputs) / N, dt, refractory };
    const steps = Math.round((Number(p.seconds) * 1000) / dt);
    const chunk = Number(p.chunk);
    const binSteps = Math.round(1 / dt);
    const run = engine === 'event' ? eventRunner(cp, ctx) : tfjsRunner(cp, ctx);
    const { ne, synapses } = run;
    let st = emptyStats(N);
    let elapsed = 0; // ms of wall time spent stepping (this and earlier sessions)
    let series: CobaSeriesFiles | null = null;
    try {
      const meta = await run.load();
      series = CobaSeriesFiles.open(ctx.checkpointDir, meta);
      const files = series;
      if (meta) {
        st = meta.stats; // (its series hold what is not in the files: nothing is read back)
        elapsed = meta.elapsed;
        ctx.log(`resumed after step ${st.steps}`);
      }
      ctx.log(`${cp.model.toUpperCase()}: ${N} neurons (${ne} excitatory), ${synapses} synapses (p = ${cp.p.toPrecision(4)}), ${steps} steps of ${dt} ms, refractory counted in ${refractory}, ${engine} engine`);
      const summary = () => {
        const cvs = isiCvs(st).sort((a, b) => a - b);
        const sec = (st.steps * dt) / 1000;
        const sum = (a: number, b: number) => a + b;
        return {
          model: cp.model, engine, refractory, neurons: N, synapses, p: cp.p, steps_done: st.steps, simulated_s: sec,
          rate_exc_hz: sec > 0 ? st.count.slice(0, ne).reduce(sum, 0) / ne / sec : 0,
          rate_inh_hz: sec > 0 ? st.count.slice(ne).reduce(sum, 0) / (N - ne) / sec : 0,
          cv_mean: cvs.length ? cvs.reduce(sum, 0) / cvs.length : null,
          cv_median: cvs.length ? cvs[Math.floor((cvs.length - 1) / 2)]! / 2 + cvs[Math.ceil((cvs.length - 1) / 2)]! / 2 : null,
          cv_neurons: cvs.length,
          ms_per_sim_second: sec > 0 ? elapsed / sec : null,
          seconds: elapsed / 1000,
        };
      };
      const progress = ctx.progress(steps, `coba (${cp.model})`);
      progress.tick(st.steps);
      while (st.steps < steps && !ctx.signal.aborted) {
        const n = Math.min(chunk, steps - st.steps);
        const t0 = performance.now();
        const { k, step, index } = await run.advance(st.steps, n);
        elapsed += performance.now() - t0;
        // the chunk's spikes, ordered by step then neuron
        let r = 0;
        for (let q = 0; q < k; q++) {
          const t = st.steps + q;
          const bin = Math.floor(t / binSteps) - files.popRows; // (the bins before it are in the file)
          while (st.popCounts.length <= bin) st.popCounts.push(0);
          for (; r < step.length && step[r] === q; r++) {
            const j = index[r]!;
            st.popCounts[bin]!++;
            st.count[j]!++;
            const l = st.last[j]!;
            if (l >= 0) {
              st.isiSum[j]! += t - l;
              st.isiSq[j]! += (t - l) * (t - l);
            }
            st.last[j] = t;
            if (inRaster(j, ne)) {
              st.rasterStep.push(t);
              st.rasterNeuron.push(j);
            }
          }
        }
        st.steps += k;
        progress.tick(k);
        // the complete bins and the raster spikes go to the files (and out of st)
        const saved = files.save(st, Math.floor(st.steps / binSteps));
        await run.save({ stats: st, ...saved, elapsed });
        await ctx.checkpoint(summary());
        await ctx.keepResponsive();
      }
      progress.done();
      const final = summary();
      ctx.log(`rates: excitatory ${final.rate_exc_hz.toFixed(2)} Hz, inhibitory ${final.rate_inh_hz.toFixed(2)} Hz; mean CV ${final.cv_mean?.toFixed(3) ?? 'n/a'}; ${final.ms_per_sim_second?.toFixed(0) ?? 'n/a'} ms per simulated second`);
      await writeFigures(ctx, st, files, N, ne, dt, cp.model);
      // the series read from the files in pieces (then what st holds after them), when written
      const spikes = files.rasterRows + st.rasterStep.length;
      await writeNpzArtifact(ctx, 'spikes', {
        raster_step: { dtype: 'int32', shape: [spikes], pieces: () => files.rasterPieces(st, 0) },
        raster_neuron: { dtype: 'int32', shape: [spikes], pieces: () => files.rasterPieces(st, 1) },
        count: { data: Int32Array.from(st.count), shape: [N] },
        population_count_1ms: { dtype: 'int32', shape: [files.popRows + st.popCounts.length], pieces: () => files.popPieces(st) },
      });
      return final;
    } finally {
      series?.close();
      run.dispose();
    }
  },
};

/**
 * What a checkpoint holds besides the network: the statistics and the stepping time so far. The
 * series that grow with the run (population counts per 1 ms bin, raster spikes) are not in it but
 * in append-only files next to it ({@link CobaSeriesFiles}): `stats.popCounts` holds the bins from
 * `popSaved` on (the bin still filling, if any), `stats.rasterStep`/`rasterNeuron` nothing, and
 * `popSaved`/`rasterSaved` say how many entries of the files belong to this checkpoint.
 */
interface CobaProgress {
  stats: CobaStats;
  elapsed: number;
  /** Population-count bins in `checkpoint/population_count_1ms.npy` (absent: 0, all in `stats`). */
  popSaved?: number;
  /** Raster spikes (step, neuron) in `checkpoint/raster.npy` (absent: 0, all in `stats`). */
  rasterSaved?: number;
}

/**
 * The growing series of a run in two append-only `.npy` files of the checkpoint folder
 * (`NpyAppendWriter`): `population_count_1ms.npy` (int32, one entry per complete 1 ms bin) and
 * `raster.npy` (int32 rows (step, neuron)). Each checkpoint appends what was added since the last
 * one and records the files' lengths in the checkpoint, so a checkpoint costs O(N + new entries),
 * not O(steps so far) — rewriting the whole series at every chunk made a run of T steps cost
 * O(T²) (30 s of N = 4000 in chunks of 1000 steps: 8 s of checkpoints for 7 s of stepping, and
 * 4.6 MB rewritten per chunk). The files are appended (and flushed) before the checkpoint is
 * written; entries beyond the lengths a checkpoint records (a run killed in between) are cut off on resume.
 *
 * The run's statistics ({@link CobaStats}) hold only what is not in the files yet: {@link save}
 * moves the complete bins and the raster spikes out of them, so the memory a run holds does not
 * grow with its length (one checkpoint interval of the series, not the whole run's as JS arrays
 * of 8 bytes per entry or more). A resume reads nothing back; the final
 * artifacts and figures read the files in pieces of {@link COBA_SERIES_READ}`.pieceRows` rows,
 * followed by what the statistics hold.
 */
export class CobaSeriesFiles {
  private constructor(private readonly pop: NpyAppendWriter, private readonly raster: NpyAppendWriter) {}

  /** Opens the files: anew for a fresh run, kept (cut to the checkpoint's lengths) when resuming. */
  static open(dir: string, meta: { popSaved?: number; rasterSaved?: number } | null): CobaSeriesFiles {
    const [pop, raster] = openCheckpointSeries(
      dir,
      [
        { file: 'population_count_1ms.npy', dtype: 'int32', rowShape: [] },
        { file: 'raster.npy', dtype: 'int32', rowShape: [2] },
      ],
      meta === null ? null : { 'population_count_1ms.npy': meta.popSaved ?? 0, 'raster.npy': meta.rasterSaved ?? 0 },
    );
    return new CobaSeriesFiles(pop!, raster!);
  }

  /** Population-count bins in the file (`st.popCounts[i]` is bin `popRows + i`). */
  get popRows(): number {
    return this.pop.rows;
  }

  /** Raster spikes in the file (those of `st.rasterStep`/`rasterNeuron` come after them). */
  get rasterRows(): number {
    return this.raster.rows;
  }

  /**
   * Appends the bins of `st.popCounts` below bin `complete` (absolute: bins 0 … complete − 1 are
   * then in the file) and all of `st.rasterStep`/`rasterNeuron`, flushes the files, and drops what
   * was appended from `st` (the bins from `complete` on stay; the raster arrays are emptied): `st`
   * is then the checkpoint's statistics. Returns the files' lengths.
   */
  save(st: CobaStats, complete: number): { popSaved: number; rasterSaved: number } {
    const p0 = this.pop.rows;
    const moved = Math.max(0, Math.min(complete - p0, st.popCounts.length));
    if (moved > 0) this.pop.append(Int32Array.from(st.popCounts.slice(0, moved)));
    const n = st.rasterStep.length;
    if (n > 0) {
      const pairs = new Int32Array(2 * n);
      for (let q = 0; q < n; q++) {
        pairs[2 * q] = st.rasterStep[q]!;
        pairs[2 * q + 1] = st.rasterNeuron[q]!;
      }
      this.raster.append(pairs);
    }
    this.pop.flush();
    this.raster.flush();
    st.popCounts = st.popCounts.slice(moved);
    st.rasterStep = [];
    st.rasterNeuron = [];
    return { popSaved: this.pop.rows, rasterSaved: this.raster.rows };
  }

  /** Rows per read of the series files: {@link COBA_SERIES_READ}`.pieceRows` (at least 1). */
  private block(): number {
    return Math.max(1, Math.floor(COBA_SERIES_READ.pieceRows));
  }

  /**
   * The whole population-count series: the file's bins in pieces of at most
   * {@link COBA_SERIES_READ}`.pieceRows` (each read when asked for), then `st.popCounts`. Each call
   * reads the file anew (writeNpz iterates twice).
   */
  *popPieces(st: CobaStats): Generator<Int32Array> {
    yield* this.pop.readPieces(this.block()) as Generator<Int32Array>;
    if (st.popCounts.length) yield Int32Array.from(st.popCounts);
  }

  /**
   * One column of the whole raster (0: steps, 1: neurons): the file's rows in pieces of at most
   * {@link COBA_SERIES_READ}`.pieceRows`, then `st.rasterStep` (or `rasterNeuron`), as {@link popPieces}.
   */
  *rasterPieces(st: CobaStats, column: 0 | 1): Generator<Int32Array> {
    yield* this.raster.readPieces(this.block(), { column }) as Generator<Int32Array>;
    const tail = column === 0 ? st.rasterStep : st.rasterNeuron;
    if (tail.length) yield Int32Array.from(tail);
  }

  /** Closes the files. */
  close(): void {
    this.pop.close();
    this.raster.close();
  }
}

/**
 * The JSON entry `meta` of the event engine's `checkpoint/checkpoint.npz`: the progress without the
 * per-neuron statistics, and the engine's step and refractory period. The O(N) arrays are binary
 * entries of the same file (one atomic write): `v`, `ge`, `gi` (float32, as the engine holds them),
 * `lastSpike` (int32) and the statistics `count`, `last`, `isiSum`, `isiSq` (float64: any JS
 * number, bit for bit) — all of it restored bit-identically. As JSON arrays in `checkpoint.json`
 * they cost ~12 ms per chunk at N = 4000 (0.56 MB; 44 % on top of 27 ms of stepping per 1000
 * steps) and ~70 ms at N = 40 000 (5.3 MB).
 */
interface EventCheckpointMeta extends Omit<CobaProgress, 'stats'> {
  stats: Omit<CobaStats, 'count' | 'last' | 'isiSum' | 'isiSq'>;
  /** The engine's next step. */
  step: number;
  /** The refractory period in steps the state was run with. */
  refractorySteps: number;
  /** How the network's pairs were drawn ({@link COBA_DRAWS}): the state belongs to that network. */
  draws: string;
}

/** One engine as the run loop drives it. */
interface CobaRunner {
  /** Number of excitatory neurons. */
  ne: number;
  /** Number of synapses (excitatory and inhibitory). */
  synapses: number;
  /**
   * Steps from step `from` on, at most `n` steps (fewer when the run is interrupted); returns the
   * steps done and their spikes as (step − from, neuron) pairs ordered by step then neuron.
   */
  advance(from: number, n: number): Promise<{ k: number; step: Int32Array; index: Int32Array }>;
  /** Saves the network with the progress in the checkpoint folder (atomic). */
  save(progress: CobaProgress): Promise<void>;
  /** The progress of a checkpoint when resuming (the network restored), else null. */
  load(): Promise<CobaProgress | null>;
  /** Frees the engine. */
  dispose(): void;
}

/** The module engine (`./network.ts`), reading the spikes once per chunk. */
function tfjsRunner(cp: CobaParams, ctx: RunContext): CobaRunner {
  const m = buildCoba(cp, ctx.seed);
  const N = cp.neurons;
  // the whole layer: the neuron group, the connections, their delta synapses (0/1 spikes) and post filters
  ctx.finite?.watch('network', m.layer);
  return {
    ne: m.draws.ne,
    synapses: m.draws.exc.pre.length + m.draws.inh.pre.length,
    async advance(from, n) {
      const held: tf.Tensor[] = [];
      let k = 0;
      for (; k < n; k++) {
        if (k % 1000 === 999) {
          await ctx.keepResponsive();
          if (ctx.signal.aborted) break;
        }
        held.push(m.step(from + k === 0));
        ctx.finite?.step(from + k);
      }
      const stacked = held.length ? tf.concat(held, 0) : null;
      const data = stacked ? await stacked.data() : new Float32Array(0);
      stacked?.dispose();
      for (const t of held) t.dispose();
      const step: number[] = [];
      const index: number[] = [];
      for (let q = 0; q < k; q++) for (let j = 0; j < N; j++) if (data[q * N + j] !== 0) { step.push(q); index.push(j); }
      return { k, step: Int32Array.from(step), index: Int32Array.from(index) };
    },
    save: (progress) => m.net.save(ctx.checkpointDir, progress as unknown as Record<string, unknown>),
    async load() {
      if (!ctx.resumed || !existsSync(join(ctx.checkpointDir, 'model.json'))) return null;
      return (await m.net.loadFrom(ctx.checkpointDir)) as unknown as CobaProgress;
    },
    dispose: () => m.dispose(),
  };
}

/** The event engine (`./event-engine.ts`), run in pieces of at most 1000 steps between responsiveness checks. */
function eventRunner(cp: CobaParams, ctx: RunContext): CobaRunner {
  const m = buildCobaEvent(cp, ctx.seed);
  ctx.finite?.watchArrays('network', () => ({ v: m.group.v, ge: m.group.ge, gi: m.group.gi }));
  const npzFile = join(ctx.checkpointDir, 'checkpoint.npz');
  const jsonFile = join(ctx.checkpointDir, 'checkpoint.json'); // checkpoints written before checkpoint.npz
  const N = cp.neurons;
  return {
    ne: m.ne,
    synapses: m.synapses.exc + m.synapses.inh,
    async advance(from, n) {
      const step: Int32Array[] = [];
      const index: Int32Array[] = [];
      let k = 0;
      while (k < n) {
        if (k > 0) {
          await ctx.keepResponsive();
          if (ctx.signal.aborted) break;
        }
        const s = Math.min(1000, n - k);
        const r = m.run(s);
        step.push(r.step.map((t) => t - from));
        index.push(r.index);
        k += s;
        ctx.finite?.step(from + k - 1); // 'step' mode: a scan of v, g_e, g_i after each piece
      }
      const cat = (parts: Int32Array[]) => {
        const out = new Int32Array(parts.reduce((a, x) => a + x.length, 0));
        let o = 0;
        for (const x of parts) {
          out.set(x, o);
          o += x.length;
        }
        return out;
      };
      return { k, step: cat(step), index: cat(index) };
    },
    async save(progress) {
      const { stats, ...rest } = progress;
      const { count, last, isiSum, isiSq, ...small } = stats;
      const meta: EventCheckpointMeta = { ...rest, stats: small, step: m.net.step, refractorySteps: cobaRefractorySteps(cp), draws: COBA_DRAWS };
      const json = new TextEncoder().encode(JSON.stringify(meta));
      const f64 = (a: number[]) => ({ data: Float64Array.from(a), shape: [a.length] });
      const g = m.group;
      await writeNpz(npzFile, {
        meta: { data: json, shape: [json.length] },
        v: { data: g.v.slice(), shape: [N] },
        ge: { data: g.ge.slice(), shape: [N] },
        gi: { data: g.gi.slice(), shape: [N] },
        lastSpike: { data: g.lastSpike.slice(), shape: [N] },
        count: f64(count), last: f64(last), isiSum: f64(isiSum), isiSq: f64(isiSq),
      });
      // the older checkpoint this one supersedes (removed only while the folder is still this run's)
      if (existsSync(jsonFile)) {
        checkWriteGuards(jsonFile);
        rmSync(jsonFile);
      }
    },
    async load() {
      if (!ctx.resumed) return null;
      if (existsSync(npzFile)) {
        const a = readNpz(npzFile);
        const want = { meta: Uint8Array, v: Float32Array, ge: Float32Array, gi: Float32Array, lastSpike: Int32Array, count: Float64Array, last: Float64Array, isiSum: Float64Array, isiSq: Float64Array };
        for (const [k, T] of Object.entries(want)) {
          if (!(a[k] instanceof T)) throw new CinderArgumentError(`checkpoint ${npzFile} entry ${k}`, a[k] ? a[k].constructor.name : 'none', `a ${T.name}`);
        }
        for (const k of ['count', 'last', 'isiSum', 'isiSq'] as const) {
          if (a[k]!.length !== N) throw new CinderArgumentError(`checkpoint ${k}`, a[k]!.length, `${N} values (this network)`);
        }
        const meta = JSON.parse(new TextDecoder().decode(a.meta)) as EventCheckpointMeta;
        if (meta.draws !== COBA_DRAWS) throw new CinderArgumentError(`checkpoint ${npzFile} draws`, meta.draws ?? 'none', `"${COBA_DRAWS}" (the state of a network drawn otherwise would continue on another network: start a new run)`);
        const { step, refractorySteps, stats, draws: _draws, ...rest } = meta;
        m.restore({ step, refractorySteps, v: a.v!, ge: a.ge!, gi: a.gi!, lastSpike: a.lastSpike! });
        const arr = (k: string) => Array.from(a[k]!);
        return { ...rest, stats: { ...stats, count: arr('count'), last: arr('last'), isiSum: arr('isiSum'), isiSq: arr('isiSq') } };
      }
      if (!existsSync(jsonFile)) return null;
      // checkpoint.json was written before the binary checkpoint, by code that drew the network
      // pair by pair: this seed's network is another one now, so its state cannot continue here
      throw new CinderArgumentError(`checkpoint ${jsonFile}`, 'a checkpoint of a network drawn pair by pair (before 2026-11-29)', `a checkpoint of this network (drawn by "${COBA_DRAWS}"): start a new run`);
    },
    dispose: () => {},
  };
}

/**
 * The population-rate line of the `population_rate` figure, read once through `counts` (the spike
 * counts per 1 ms bin in pieces, `bins` of them in all; {@link CobaSeriesFiles.popPieces}), without
 * ever holding the whole series: rate_b = (c_b · 1000) / (`neurons` · w_b) Hz (float64) at x = b
 * (ms), w_b = 1 ms for every bin but the last, which holds `lastBinMs` (a run that ends inside a
 * bin, e.g. 2995 steps of 0.1 ms: 0.5 ms; its count over 1 ms would halve its rate).
 *
 * Decimated as `decimateLine` would the whole series (at most `maxPoints` bins: every bin), by an
 * {@link EnvelopeStream} as the pieces go by: memory O(maxPoints), whatever `bins`; the whole series
 * as float64 x and y arrays took 16 bytes per bin (16 MB per 10^6 bins).
 * @throws Error when the pieces hold other than `bins` counts
 */
export function populationRateLine(counts: Iterable<ArrayLike<number>>, bins: number, neurons: number, maxPoints: number, lastBinMs = 1): DecimatedLine {
  checkMaxPoints(maxPoints, 'COBA_FIGURE_CAPS.maxPoints');
  if (!(lastBinMs > 0 && lastBinMs <= 1)) throw new CinderArgumentError('lastBinMs', lastBinMs, 'the length of the last bin in ms, in (0, 1]');
  const line = new EnvelopeStream(bins, maxPoints);
  let i = 0;
  for (const piece of counts) {
    for (let q = 0; q < piece.length; q++, i++) {
      if (i >= bins) throw new Error(`populationRateLine: more than ${bins} counts`);
      line.push(i, (piece[q]! * 1000) / (i === bins - 1 ? neurons * lastBinMs : neurons));
    }
  }
  if (i !== bins) throw new Error(`populationRateLine: ${i} counts for ${bins} bins`);
  return line.finish();
}

/** A one-panel figure. */
function fig(title: string, data: Figure['data'], layout: Record<string, unknown>): Figure {
  return { title, data, layout, panels: 1 };
}

/** The three figures. */
async function writeFigures(ctx: RunContext, st: CobaStats, files: CobaSeriesFiles, N: number, ne: number, dt: number, model: string): Promise<void> {
  const tag = `${model.toUpperCase()}, seed ${ctx.seed}`;
  const shownExc = Math.min(RASTER_EXC, ne);
  const shownInh = Math.min(RASTER_INH, N - ne);
  const title = `coba: spikes of ${shownExc} excitatory and ${shownInh} inhibitory neurons (${tag})`;
  const total = files.rasterRows + st.rasterStep.length;
  // the raster spikes read from the files piece by piece: below the cap as dots (spikeRaster); above
  // it counted into grids as they are read (memory holds the counts, never the spikes), the panels
  // spikeRaster would draw from all of them at once
  const neurons = files.rasterPieces(st, 1);
  if (total > COBA_FIGURE_CAPS.maxSpikes) {
    const bins = gridTimeBins(0, (st.steps - 1) * dt, dt);
    const grids = [new SpikeCountGrid(bins, neuronRows(0, shownExc - 1)), ...(shownInh > 0 ? [new SpikeCountGrid(bins, neuronRows(shownExc, shownExc + shownInh - 1))] : [])];
    for (const steps of files.rasterPieces(st, 0)) {
      const js = neurons.next().value as Int32Array;
      const t = Float64Array.from(steps, (s) => s * dt);
      const row = Int32Array.from(js, (j) => (j < ne ? j : shownExc + (j - ne)));
      for (const g of grids) g.add(t, row); // (each grid counts only its own rows)
    }
    const panels = grids.map((g, i) => spikeCountPanel(g.counts, bins, g.rows, { name: i === 0 ? 'excitatory' : 'inhibitory' }));
    await ctx.figure('raster', placeColorbars(panelFigure(`${title} (${densityNote(bins, total, COBA_FIGURE_CAPS.maxSpikes)})`, panels, { showLegend: false })));
  } else {
    const exc = { x: [] as number[], y: [] as number[] };
    const inh = { x: [] as number[], y: [] as number[] };
    for (const steps of files.rasterPieces(st, 0)) {
      const js = neurons.next().value as Int32Array;
      for (let q = 0; q < steps.length; q++) {
        const j = js[q]!;
        const into = j < ne ? exc : inh;
        into.x.push(steps[q]! * dt);
        into.y.push(j < ne ? j : shownExc + (j - ne));
      }
    }
    await ctx.figure('raster', spikeRaster(title, [
      { name: 'excitatory', times: exc.x, neurons: exc.y },
      { name: 'inhibitory', times: inh.x, neurons: inh.y },
    ], { separatePanels: false, markerSize: 2, maxSpikes: COBA_FIGURE_CAPS.maxSpikes }));
  }
  // the population rate per 1 ms bin, read from the files in pieces and drawn as its min/max
  // envelope above the cap (memory: the kept points, never the whole series)
  const nBins = files.popRows + st.popCounts.length;
  const binSteps = Math.round(1 / dt);
  const lastSteps = st.steps - (nBins - 1) * binSteps; // (1 … binSteps: the last bin may be partial)
  const rate = populationRateLine(files.popPieces(st), nBins, N, COBA_FIGURE_CAPS.maxPoints, nBins > 0 ? lastSteps / binSteps : 1);
  const rateName = rate.buckets > 0 ? decimatedName('rate', rate.buckets, nBins) : 'rate';
  await ctx.figure('population_rate', fig(decimatedTitle(`coba: population rate, 1 ms bins (${tag})`, rate.buckets > 0 ? 1 : 0, 1, COBA_FIGURE_CAPS.maxPoints), [
    { type: 'scatter', mode: 'lines', name: rateName, x: rate.x, y: rate.y },
  ], { xaxis: { title: { text: 'time (ms)' } }, yaxis: { title: { text: 'rate (Hz)' } } }));
  const sec = (st.steps * dt) / 1000;
  await ctx.figure('rate_histogram', fig(`coba: neurons' rates (${tag})`, [
    { type: 'histogram', name: 'excitatory', x: st.count.slice(0, ne).map((c) => c / sec), opacity: 0.6 },
    { type: 'histogram', name: 'inhibitory', x: st.count.slice(ne).map((c) => c / sec), opacity: 0.6 },
  ], { xaxis: { title: { text: 'rate (Hz)' } }, yaxis: { title: { text: 'neurons' } }, barmode: 'overlay' }));
}

export default cobaExample;
