/**
 * `cinder livn-stdp`: livn's STDP training example on an EI culture (see `systems.ts`): a 200 ms
 * baseline without learning, 1,000 ms with voltage-gated STDP and `normalizeWeights()` every
 * 100 ms, then a 200 ms evaluation with plasticity off; weights recorded every 1 ms.
 *
 * Summary: plastic synapse count, the peak deviation of any weight from 1 during training, the
 * largest per-neuron |mean weight − 1| right after each normalisation, synapses that drifted during
 * the evaluation (must be 0), Δw statistics, and rates per phase and population.
 *
 * Artifacts: `weights.npz` — `key_gid`, `key_syn`, `key_mech` (codes, legend in
 * `weights_legend.json`), `key_culture`, `w_before`, `w_after_training`, `w_final`, `w_rec`
 * [T, columns] (the first `--record-synapses` synapses in key order, all when 0), `w_rec_index`,
 * `w_rec_t_ms`; `spikes.npz` — `t_ms`, `gid`, `phase` (0 baseline, 1 training, 2 evaluation).
 *
 * Checkpoints (`checkpoint/`): after every normalisation chunk, every `--normalize-every-ms` of the
 * baseline and the evaluation, and when interrupted, `checkpoint.npz` (written atomically) holds
 * the engine's state (`engine_*`, `CultureEngine.exportState`), `w_before`/`w_after` once taken
 * and `meta` (the position and bookkeeping as UTF-8 JSON, {@link LivnProgress}); the spikes and
 * weight rows go to append-only `.npy` files next to it ({@link SeriesFiles}), so memory holds
 * one checkpoint interval of them. `--resume` continues from the checkpoint (files cut back to
 * the lengths it records) and ends with the same artifacts, byte for byte, as an uninterrupted run.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExampleSpec, Params, RunContext } from '../../src/cli/example.js';
import { openCheckpointSeries, type NpyAppendWriter } from '../../src/io/npy-append.js';
import { readNpz, writeNpz, type NpyArray, type NpyEntry } from '../../src/io/npy.js';
import type { CultureEngineState } from '../../src/kernels/js/culture.js';
import { kebabCase } from '../../src/cli/options.js';
import { writeNpzArtifact } from '../../src/cli/artifacts.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { DT, EI_SYSTEMS, buildCultures, type EiSystem } from './systems.js';
import { LIVN_RASTER, livnStdpFigure, PHASES } from './figures.js';
import { gridTimeBins, neuronRows, SpikeCountGrid } from '../../src/viz/density.js';

/** Largest |mean − 1| of the plastic weights onto each postsynaptic neuron (gids sorted). */
export function maxPostMeanError(gid: Int32Array, w: Float32Array, target = 1): number {
  let worst = 0;
  let start = 0;
  while (start < gid.length) {
    let end = start;
    let sum = 0;
    while (end < gid.length && gid[end] === gid[start]) sum += w[end++]!;
    worst = Math.max(worst, Math.abs(sum / (end - start) - target));
    start = end;
  }
  return worst;
}

/** Refuses a duration option that is not a whole number of {@link DT} steps, naming its flag. */
function checkDurations(q: Params): void {
  for (const name of ['baselineMs', 'trainMs', 'evalMs', 'normalizeEveryMs', 'recordEveryMs']) {
    const ms = Number(q[name]);
    const steps = ms / DT;
    if (Math.abs(steps - Math.round(steps)) > 1e-9 * Math.max(1, steps)) throw new CinderArgumentError(`--${kebabCase(name)}`, ms, `a whole number of ${DT} ms steps`);
  }
}

/** One checkpointed piece of the run: chunks of at most the recording interval ("subs", ms) of one phase. */
interface Segment {
  /** Phase (0 baseline, 1 training, 2 evaluation). */
  phase: number;
  /** Chunk lengths (ms). */
  subs: number[];
  /** A normalisation chunk of the training (normalised when complete). */
  train: boolean;
}

/** Name of the checkpoint archive in the checkpoint folder. */
const CHECKPOINT_FILE = 'checkpoint.npz';

/**
 * The example's bookkeeping, stored as the `meta` entry (UTF-8 JSON) of `checkpoint/checkpoint.npz`
 * next to the engine's state (`engine_*`, {@link CultureEngineState}) and the weights before and
 * after training (`w_before`, `w_after`, once taken). The position is the next chunk to run
 * (`segment`, `sub`); the growing series are in the checkpoint folder's `.npy` files
 * ({@link SeriesFiles}), of which the first `spikesSaved` / `rowsSaved` rows belong to it.
 */
interface LivnProgress {
  /** Format version (1). */
  version: number;
  /** The run's configuration; a checkpoint of another one is refused. */
  config: Record<string, unknown>;
  /** Next segment. */
  segment: number;
  /** Next chunk in it. */
  sub: number;
  /** Training started (`w_before` taken, plasticity on). */
  started: boolean;
  /** Training finished (`w_after` taken, plasticity off). */
  finished: boolean;
  /** Peak |w − 1| during training. */
  peak: number;
  /** Largest per-neuron |mean w − 1| after a normalisation. */
  postMeanError: number;
  /** Normalisations done. */
  normalizations: number;
  /** Spikes per phase, [exc, inh]. */
  counts: number[][];
  /** Time each phase ran (ms). */
  phaseMs: number[];
  /** Wall time of the sessions so far (ms). */
  wallMs: number;
  /** Spikes in the spike files. */
  spikesSaved: number;
  /** Weight rows in the recording files. */
  rowsSaved: number;
  /** The engine's step count. */
  stepCount?: number;
}

/**
 * How the final artifacts read the series back from the checkpoint folder: the weight recording
 * `checkpoint/w_rec.npy` in pieces of at most `pieceBytes` bytes (whole rows; 64 MiB), so writing
 * `weights.npz` holds one piece in memory, not the whole recording; the spikes
 * (`spikes_t_ms.npy`, `spikes_gid_phase.npy`: 8 bytes per spike each) in pieces of
 * ⌊pieceBytes / 8⌋ spikes, for `spikes.npz` and the figure's raster. A setting so that
 * tests can use small pieces.
 */
export const LIVN_SERIES_READ = { pieceBytes: 64 * 2 ** 20 };

/**
 * The series that grow with the run, in append-only `.npy` files of the checkpoint folder
 * (NpyAppendWriter): `spikes_t_ms.npy` (float64), `spikes_gid_phase.npy` (int32 rows (gid, phase)),
 * `w_rec.npy` (float32 rows of the recorded synapses; not written when there are none) and
 * `w_rec_t_ms.npy` (float64). What the run adds is held until the next checkpoint
 * ({@link SeriesFiles.commit}: appended and flushed before the checkpoint is written), so memory
 * holds one checkpoint interval of them; a resume cuts the files back to the lengths its
 * checkpoint records (rows a killed run appended after it). The artifacts are built from the files.
 */
class SeriesFiles {
  private spikeT: number[] = [];
  private spikeGP: number[] = [];
  private rowBuf: Float32Array[] = [];
  private rowT: number[] = [];

  private constructor(
    private readonly t: NpyAppendWriter,
    private readonly gp: NpyAppendWriter,
    private readonly w: NpyAppendWriter | null,
    private readonly wt: NpyAppendWriter,
    private readonly cols: number,
  ) {}

  /** Opens the files: anew for a fresh run, reopened and cut to the checkpoint's lengths when resuming. */
  static open(dir: string, cols: number, meta: LivnProgress | null): SeriesFiles {
    const specs = [
      { file: 'spikes_t_ms.npy', dtype: 'float64' as const, rowShape: [] },
      { file: 'spikes_gid_phase.npy', dtype: 'int32' as const, rowShape: [2] },
      ...(cols > 0 ? [{ file: 'w_rec.npy', dtype: 'float32' as const, rowShape: [cols] }] : []),
      { file: 'w_rec_t_ms.npy', dtype: 'float64' as const, rowShape: [] },
    ];
    const keep = meta === null ? null : { 'spikes_t_ms.npy': meta.spikesSaved, 'spikes_gid_phase.npy': meta.spikesSaved, 'w_rec.npy': meta.rowsSaved, 'w_rec_t_ms.npy': meta.rowsSaved };
    const w = openCheckpointSeries(dir, specs, keep);
    return new SeriesFiles(w[0]!, w[1]!, cols > 0 ? w[2]! : null, w[w.length - 1]!, cols);
  }

  /** Records a spike. */
  spike(t: number, gid: number, phase: number): void {
    this.spikeT.push(t);
    this.spikeGP.push(gid, phase);
  }

  /** Records a weight row at `t` ms. */
  row(w: Float32Array, t: number): void {
    this.rowBuf.push(w);
    this.rowT.push(t);
  }

  /** Weight rows recorded (in the files and pending). */
  get rows(): number {
    return this.wt.rows + this.rowT.length;
  }

  /** Appends what was recorded since the last commit and flushes the files; returns their lengths. */
  commit(): { spikes: number; rows: number } {
    if (this.spikeT.length) {
      this.t.append(Float64Array.from(this.spikeT));
      this.gp.append(Int32Array.from(this.spikeGP));
    }
    if (this.rowT.length) {
      if (this.w) {
        const block = new Float32Array(this.rowBuf.length * this.cols);
        this.rowBuf.forEach((r, i) => block.set(r, i * this.cols));
        this.w.append(block);
      }
      this.wt.append(Float64Array.from(this.rowT));
    }
    this.spikeT = []; this.spikeGP = []; this.rowBuf = []; this.rowT = [];
    for (const w of [this.t, this.gp, this.w, this.wt]) w?.flush();
    return { spikes: this.t.rows, rows: this.wt.rows };
  }

  /** Committed weight rows `first … first + count − 1` [count, cols]. */
  readRows(first: number, count: number): Float32Array {
    return this.w ? (this.w.readRows(first, count) as Float32Array) : new Float32Array(0);
  }

  /**
   * Committed weight rows `0 … rows − 1` in pieces of whole rows, at most
   * {@link LIVN_SERIES_READ}`.pieceBytes` each (one row where a row is larger), each read from the
   * file when asked for: the final `w_rec` entry is written from these, so the recording (GBs in a
   * long run) is never in memory at once. Each call reads the file anew (writeNpz iterates twice).
   */
  *rowPieces(rows: number): Generator<Float32Array> {
    if (!this.w || this.cols === 0) return; // (no columns: [rows, 0], no data)
    const block = Math.max(1, Math.floor(LIVN_SERIES_READ.pieceBytes / (4 * this.cols)));
    yield* this.w.readPieces(block, { rows }) as Generator<Float32Array>;
  }

  /** The committed rows' times (ms). */
  rowTimes(): Float64Array {
    return this.wt.readRows(0, this.wt.rows) as Float64Array;
  }

  /** The first `k` columns of every committed row [rows, k], read a block of rows at a time. */
  firstColumns(k: number): Float32Array {
    const rows = this.wt.rows;
    const out = new Float32Array(rows * k);
    const block = Math.max(1, Math.floor((1 << 22) / Math.max(1, this.cols)));
    for (let r0 = 0; r0 < rows && k > 0; r0 += block) {
      const n = Math.min(block, rows - r0);
      const w = this.readRows(r0, n);
      for (let i = 0; i < n; i++) out.set(w.subarray(i * this.cols, i * this.cols + k), (r0 + i) * k);
    }
    return out;
  }

  /** Committed spikes. */
  get spikeRows(): number {
    return this.t.rows;
  }

  /** Spikes per read of the spike files: ⌊{@link LIVN_SERIES_READ}`.pieceBytes` / 8⌋ (at least 1). */
  private spikeBlock(): number {
    return Math.max(1, Math.floor(LIVN_SERIES_READ.pieceBytes / 8));
  }

  /** The committed spikes' times (ms), in pieces of {@link spikeBlock} spikes, each read when asked for (each call reads anew). */
  *spikeTimePieces(): Generator<Float64Array> {
    yield* this.t.readPieces(this.spikeBlock()) as Generator<Float64Array>;
  }

  /** One column of the committed spikes' (gid, phase) rows (0: gid, 1: phase), in pieces as {@link spikeTimePieces}. */
  *spikeColumnPieces(column: 0 | 1): Generator<Int32Array> {
    yield* this.gp.readPieces(this.spikeBlock(), { column }) as Generator<Int32Array>;
  }

  /**
   * Every committed spike, read from the files in pieces as {@link spikeTimePieces} (for a raster of
   * dots: at most {@link LIVN_RASTER}`.rasterPoints` of them).
   */
  allSpikes(): { t: number[]; gid: number[]; phase: number[] } {
    const out = { t: [] as number[], gid: [] as number[], phase: [] as number[] };
    const gids = this.spikeColumnPieces(0);
    const phases = this.spikeColumnPieces(1);
    for (const t of this.spikeTimePieces()) {
      const gid = gids.next().value as Int32Array;
      const phase = phases.next().value as Int32Array;
      for (let k = 0; k < t.length; k++) {
        out.t.push(t[k]!);
        out.gid.push(gid[k]!);
        out.phase.push(phase[k]!);
      }
    }
    return out;
  }

  /** Adds every committed spike (time, gid) to `grid`, read from the files in pieces as {@link spikeTimePieces}: memory holds one piece. */
  countSpikes(grid: SpikeCountGrid): SpikeCountGrid {
    const gids = this.spikeColumnPieces(0);
    for (const t of this.spikeTimePieces()) grid.add(t, gids.next().value as Int32Array);
    return grid;
  }

  /** Closes the files. */
  close(): void {
    for (const w of [this.t, this.gp, this.w, this.wt]) if (w && !w.closed) w.close();
  }
}

/** The `livn-stdp` example. */
export const livnStdpExample: ExampleSpec = {
  name: 'livn-stdp',
  description: "livn's STDP training loop on an EI culture: baseline, voltage-gated STDP with weight normalisation, frozen evaluation",
  options: [
    { name: 'system', type: 'string', description: 'EI culture (10 / 100 / 1,000 / 10,000 neurons)', default: 'EI3', choices: Object.keys(EI_SYSTEMS) },
    { name: 'batch', type: 'int', description: 'independent cultures simulated at once (different seeds)', default: 1, min: 1 },
    { name: 'baselineMs', type: 'float', description: 'baseline without plasticity (ms)', default: 200, min: 0 },
    { name: 'trainMs', type: 'float', description: 'training with plasticity (ms)', default: 1000, min: 0 },
    { name: 'normalizeEveryMs', type: 'float', description: 'normalizeWeights() after every chunk of this length (ms)', default: 100, min: 0.1 },
    { name: 'evalMs', type: 'float', description: 'evaluation with plasticity off (ms)', default: 200, min: 0 },
    { name: 'recordEveryMs', type: 'float', description: 'weight recording interval (ms)', default: 1, min: 0.1 },
    { name: 'recordSynapses', type: 'int', description: 'columns of w_rec: the first N synapses in key order (0: all)', default: 2000, min: 0 },
  ],
  presets: {
    tiny: { system: 'EI1', recordSynapses: 0 },
    fast: { system: 'EI2', recordSynapses: 0 },
    full: {},
  },
  defaultMode: 'full',
  summaryKeys: [
    'system', 'batch', 'neurons', 'plastic_synapses', 'peak_deviation_from_1_training', 'max_post_mean_error_after_normalize', 'normalizations',
    'synapses_drifted_evaluation', 'max_abs_drift_evaluation', 'dw_mean', 'dw_std', 'dw_min', 'dw_max', 'dw_fraction_potentiated', 'dw_fraction_depressed',
    'rate_baseline_exc_hz', 'rate_baseline_inh_hz', 'rate_training_exc_hz', 'rate_training_inh_hz', 'rate_evaluation_exc_hz', 'rate_evaluation_inh_hz',
    'simulated_ms', 'wall_seconds', 'ms_per_simulated_second',
  ],
  volatileKeys: ['wall_seconds', 'ms_per_simulated_second'],
  figures: ['livn-stdp'],
  validate: checkDurations,
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const q = ctx.params;
    const system = String(q.system) as EiSystem;
    const batch = Number(q.batch);
    const every = Number(q.normalizeEveryMs);
    const recEvery = Number(q.recordEveryMs);
    const durations = [Number(q.baselineMs), Number(q.trainMs), Number(q.evalMs)];
    checkDurations(q); // validate() did it for the CLI; again for a run started as a library call
    const built = buildCultures(system, batch, ctx.seed);
    const net = built.network;
    const engine = net.engine;
    const m = net.synapseCount;
    const cols = Number(q.recordSynapses) === 0 ? m : Math.min(m, Number(q.recordSynapses));
    ctx.log(`${system} × ${batch}: ${net.size} neurons, ${m} plastic synapses; phases ${durations.join(' / ')} ms`);
    net.recordSpikes();
    const recSteps = Math.round(recEvery / DT);
    const config = { system, batch, seed: ctx.seed, durations, every, recEvery, cols, synapses: m, neurons: net.size };
    const isExc = (g: number) => g % built.size < built.nExc;
    /**
     * `total` ms cut into chunks of `size` ms (the last one shorter), in ms. Counted in whole steps
     * (both are whole numbers of DT steps, checked above): subtracting `size` repeatedly in double
     * drifted (10,000 × 0.1 ms from 1000 ms left a last chunk of 0.09999999984 ms, refused by run()).
     */
    const chunksOf = (total: number, size: number) => {
      const out: number[] = [];
      const per = Math.round(size / DT);
      for (let left = Math.round(total / DT); left > 0; left -= per) out.push(Math.min(per, left) * DT);
      return out;
    };
    // The run as checkpointed segments of recording-interval chunks ("subs"): the baseline and the
    // evaluation in groups of about --normalize-every-ms, training one segment per normalisation chunk.
    const segments: Segment[] = [];
    const perGroup = Math.max(1, Math.round(every / recEvery));
    const grouped = (phase: number) => {
      const subs = chunksOf(durations[phase]!, recEvery);
      for (let k = 0; k < subs.length; k += perGroup) segments.push({ phase, subs: subs.slice(k, k + perGroup), train: false });
    };
    grouped(0);
    const trainChunks = chunksOf(durations[1]!, every);
    for (const chunk of trainChunks) segments.push({ phase: 1, subs: chunksOf(chunk, recEvery), train: true });
    grouped(2);

    // bookkeeping (restored from the checkpoint when resuming)
    let st: LivnProgress = {
      version: 1, config, segment: 0, sub: 0, started: false, finished: false, peak: 0, postMeanError: 0, normalizations: 0,
      counts: PHASES.map(() => [0, 0]), phaseMs: PHASES.map(() => 0), wallMs: 0, spikesSaved: 0, rowsSaved: 0,
    };
    let before: Float32Array = new Float32Array(0);
    let after: Float32Array = new Float32Array(0);
    const cpFile = join(ctx.checkpointDir, CHECKPOINT_FILE);
    let series: SeriesFiles | null = null;
    let resumedFrom = false;
    try {
      if (ctx.resumed && existsSync(cpFile)) {
        const saved = readNpz(cpFile);
        let meta: LivnProgress;
        try {
          meta = JSON.parse(new TextDecoder().decode(saved.meta as Uint8Array)) as LivnProgress;
        } catch {
          throw new CinderArgumentError(`checkpoint ${cpFile} meta`, saved.meta === undefined ? 'none' : 'not JSON', 'the JSON entry "meta" written by cinder livn-stdp');
        }
        if (meta === null || typeof meta !== 'object') throw new CinderArgumentError(`checkpoint ${cpFile} meta`, meta, 'an object written by cinder livn-stdp');
        for (const [flag, key] of [['started', 'w_before'], ['finished', 'w_after']] as const) {
          if (meta[flag] && !(saved[key] instanceof Float32Array)) throw new CinderArgumentError(`checkpoint ${cpFile} ${key}`, saved[key] === undefined ? 'none' : typeof saved[key], `float32 weights (the checkpoint says ${flag})`);
        }
        if (JSON.stringify(meta.config) !== JSON.stringify(config)) throw new CinderArgumentError(`checkpoint ${cpFile}`, JSON.stringify(meta.config), `a checkpoint of this run's configuration ${JSON.stringify(config)}`);
        const state = { stepCount: meta.stepCount } as Record<string, unknown>;
        for (const [k, a] of Object.entries(saved)) if (k.startsWith('engine_')) state[k.slice(7)] = a;
        engine.importState(state as unknown as CultureEngineState); // (checked: refuses a state of another shape)
        series = SeriesFiles.open(ctx.checkpointDir, cols, meta); // (refuses files shorter than the checkpoint records)
        st = meta;
        resumedFrom = true;
        if (st.started) before = Float32Array.from(saved.w_before as Float32Array);
        if (st.finished) after = Float32Array.from(saved.w_after as Float32Array);
        const seg = segments[st.segment];
        ctx.log(`resumed at ${seg ? `${PHASES[seg.phase]} segment ${st.segment} (of ${segments.length}), chunk ${st.sub}` : 'the end'}: ${net.timeMs} ms simulated, ${st.normalizations} normalisations`);
      } else series = SeriesFiles.open(ctx.checkpointDir, cols, null);
      const files = series;
      const progress = ctx.progress(2 + trainChunks.length, 'phases');
      if (st.started || st.normalizations > 0) progress.tick((st.started ? 1 : 0) + st.normalizations, 'resumed');
      const wall0 = performance.now() - st.wallMs;
      const pushRow = () => {
        const row = new Float32Array(cols);
        for (let k = 0; k < cols; k++) row[k] = engine.plasticWeight(k);
        files.row(row, net.timeMs);
      };
      if (!resumedFrom) pushRow(); // the recording's first row: the weights at 0 ms
      // the step of every spike, in the order of the chunk's spikeGids (the network's own handler runs too)
      const spikeSteps: number[] = [];
      const recordSpike = engine.onSpike!;
      engine.onSpike = (step, i) => {
        spikeSteps.push(step);
        recordSpike(step, i);
      };
      /**
       * Runs one chunk of `ms` of `phase`. Spike times are `t0 + float32((step − start + 1)·dt)` for
       * the chunk's start step and time (as `PlasticityNetwork.run` gives them for the whole chunk),
       * and a weight row is recorded at every whole multiple of the recording interval (as
       * `recordWeights` did, without holding the rows): the chunk is split there — the baseline or
       * a normalisation chunk need not be a multiple of it — and each spike's time is taken from its
       * step, relative to the chunk's start.
       */
      const runSub = (ms: number, phase: number) => {
        const start = engine.stepCount;
        const t0 = net.timeMs;
        const steps = Math.round(ms / DT);
        const dt = engine.dt;
        for (let done = 0; done < steps;) {
          const piece = Math.min(steps - done, recSteps - (engine.stepCount % recSteps));
          spikeSteps.length = 0;
          const r = net.run(piece * dt);
          for (let k = 0; k < r.spikeGids.length; k++) {
            const g = r.spikeGids[k]!;
            files.spike(t0 + Math.fround((spikeSteps[k]! - start + 1) * dt), g, phase);
            st.counts[phase]![isExc(g) ? 0 : 1]!++;
          }
          done += piece;
          if (engine.stepCount % recSteps === 0) pushRow();
        }
        st.phaseMs[phase]! += ms;
      };
      const startTraining = () => {
        before = net.getWeights().w;
        net.enablePlasticity();
        st.started = true;
        progress.tick(1, 'baseline');
      };
      const finishTraining = () => {
        after = net.getWeights().w;
        net.disablePlasticity();
        st.finished = true;
      };
      /** Appends the new series to their files (flushed), then writes checkpoint.npz atomically. */
      const save = async () => {
        const saved = files.commit();
        st.spikesSaved = saved.spikes;
        st.rowsSaved = saved.rows;
        st.wallMs = performance.now() - wall0;
        st.stepCount = engine.stepCount;
        const state = engine.exportState();
        const arrays: Record<string, NpyEntry> = {};
        for (const [k, a] of Object.entries(state)) if (k !== 'stepCount') arrays[`engine_${k}`] = { data: a as NpyArray, shape: [(a as NpyArray).length] };
        if (st.started) arrays.w_before = { data: before, shape: [before.length] };
        if (st.finished) arrays.w_after = { data: after, shape: [after.length] };
        const bytes = new TextEncoder().encode(JSON.stringify(st));
        arrays.meta = { data: bytes, shape: [bytes.length] };
        await writeNpz(cpFile, arrays);
      };
      let interrupted = false;
      run: for (; st.segment < segments.length; st.segment++, st.sub = 0) {
        const seg = segments[st.segment]!;
        if (seg.phase >= 1 && !st.started) startTraining();
        if (seg.phase === 2 && !st.finished) finishTraining();
        for (; st.sub < seg.subs.length; st.sub++) {
          await ctx.keepResponsive();
          if (ctx.signal.aborted) {
            interrupted = true;
            break run;
          }
          runSub(seg.subs[st.sub]!, seg.phase);
          if (seg.train) st.peak = Math.max(st.peak, net.weightDeviation(1));
        }
        if (seg.train) {
          net.normalizeWeights();
          st.normalizations++;
          st.postMeanError = Math.max(st.postMeanError, maxPostMeanError(engine.culture.edgePost, net.getWeights().w));
          progress.tick(1, `peak |w − 1| ${st.peak.toExponential(2)}`);
        }
        if (st.segment + 1 < segments.length) {
          st.segment++;
          st.sub = 0;
          await save();
          st.segment--; // (the loop's increment)
        }
      }
      // the state as it stands (an interrupted run's position, or the end), before the phases are closed
      await save();
      if (!st.started) startTraining();
      if (!st.finished) finishTraining();
      if (!interrupted) progress.tick(1, 'evaluation');
      progress.done();
      const wallMs = performance.now() - wall0;
      const { counts, phaseMs, peak, postMeanError, normalizations } = st;
      const keys = net.getWeights();
      const final = net.getWeights().w;
      let drifted = 0, maxDrift = 0;
      for (let k = 0; k < m; k++) {
        const d = Math.abs(final[k]! - after[k]!);
        if (d !== 0) drifted++;
        maxDrift = Math.max(maxDrift, d);
      }
      let s1 = 0, s2 = 0, lo = Infinity, hi = -Infinity, up = 0, down = 0;
      for (let k = 0; k < m; k++) {
        const d = after[k]! - before[k]!;
        s1 += d; s2 += d * d; lo = Math.min(lo, d); hi = Math.max(hi, d);
        if (d > 0) up++; else if (d < 0) down++;
      }
      const mean = m ? s1 / m : 0;
      const nExc = built.nExc * batch, nInh = (built.size - built.nExc) * batch;
      const rates: Record<string, number> = {};
      PHASES.forEach((name, p) => {
        const sec = phaseMs[p]! / 1000;
        rates[`rate_${name}_exc_hz`] = sec > 0 ? counts[p]![0]! / nExc / sec : 0;
        rates[`rate_${name}_inh_hz`] = sec > 0 && nInh > 0 ? counts[p]![1]! / nInh / sec : 0;
      });
      const simulated = net.timeMs;
      const summary: Record<string, unknown> = {
        system, batch, neurons: net.size, plastic_synapses: m,
        peak_deviation_from_1_training: peak,
        max_post_mean_error_after_normalize: postMeanError,
        normalizations,
        synapses_drifted_evaluation: drifted,
        max_abs_drift_evaluation: maxDrift,
        dw_mean: mean, dw_std: m ? Math.sqrt(Math.max(0, s2 / m - mean * mean)) : 0,
        dw_min: m ? lo : 0, dw_max: m ? hi : 0,
        dw_fraction_potentiated: m ? up / m : 0, dw_fraction_depressed: m ? down / m : 0,
        ...rates,
        simulated_ms: simulated,
        wall_seconds: wallMs / 1000,
        ms_per_simulated_second: simulated > 0 ? wallMs / (simulated / 1000) : null,
      };
      ctx.log(`Δw mean ${mean.toExponential(3)} (min ${summary.dw_min as number}, max ${summary.dw_max as number}); rates exc/inh: ${PHASES.map((p) => `${p} ${rates[`rate_${p}_exc_hz`]!.toFixed(2)}/${rates[`rate_${p}_inh_hz`]!.toFixed(2)} Hz`).join(', ')}; drifted in evaluation: ${drifted}`);
      const rows = files.rows;
      const shown = Math.min(20, cols); // the figure draws the first 20 columns
      const culture = Int32Array.from(keys.gid, (g) => net.culture[g]!);
      await writeNpzArtifact(ctx, 'weights', {
        key_gid: { data: keys.gid, shape: [m] },
        key_syn: { data: keys.syn, shape: [m] },
        key_mech: { data: keys.mech, shape: [m] },
        key_culture: { data: culture, shape: [m] },
        w_before: { data: before, shape: [m] },
        w_after_training: { data: after, shape: [m] },
        w_final: { data: final, shape: [m] },
        w_rec: { dtype: 'float32', shape: [rows, cols], pieces: () => files.rowPieces(rows) }, // read in pieces when written
        w_rec_index: { data: Int32Array.from({ length: cols }, (_, k) => k), shape: [cols] },
        w_rec_t_ms: { data: files.rowTimes(), shape: [rows] },
      });
      await ctx.artifactJson('weights_legend.json', {
        key_mech: Object.fromEntries(keys.mechanisms.map((n, i) => [i, n])),
        key_order: 'post gid, then mechanism code, then synapse id (the presynaptic gid); gids are global: culture·size + local gid',
        groups: { EXC: ['AMPA', 'NMDA'], INH: ['GABA_A'] },
        culture_size: built.size,
        excitatory_per_culture: built.nExc,
      });
      const nSpikes = files.spikeRows;
      await writeNpzArtifact(ctx, 'spikes', { // read from the files in pieces when written
        t_ms: { dtype: 'float64', shape: [nSpikes], pieces: () => files.spikeTimePieces() },
        gid: { dtype: 'int32', shape: [nSpikes], pieces: () => files.spikeColumnPieces(0) },
        phase: { dtype: 'int32', shape: [nSpikes], pieces: () => files.spikeColumnPieces(1) },
      });
      const ends: [number, number, number] = [durations[0]!, durations[0]! + durations[1]!, durations[0]! + durations[1]! + durations[2]!];
      // the raster: every spike as a dot, or above LIVN_RASTER.rasterPoints their counts per (gid row, time bin),
      // counted while reading the files in pieces; spike times are t0 + float32(k·dt), k >= 1: the grid dt … end
      const dense = nSpikes > LIVN_RASTER.rasterPoints;
      const sample = dense ? { t: [], gid: [], phase: [] } : files.allSpikes();
      const spikeDensity = dense ? files.countSpikes(new SpikeCountGrid(gridTimeBins(engine.dt, Math.max(engine.dt, ends[2]), engine.dt), neuronRows(0, built.size * batch - 1))) : undefined;
      await ctx.figure('livn-stdp', livnStdpFigure(`livn STDP on ${system}${batch > 1 ? ` × ${batch}` : ''}`, {
        tMs: files.rowTimes(), wRec: files.firstColumns(shown), columns: shown, phaseEnds: ends, before, after, spikeT: sample.t, spikeGid: sample.gid, spikePhase: sample.phase, spikeDensity,
      }));
      await ctx.checkpoint(summary);
      return summary;
    } finally {
      series?.close();
    }
  },
};
