/**
 * `cinder song2000`: Song, Miller & Abbott (2000) as in Brian2's example — 1000 Poisson inputs at
 * 15 Hz onto one conductance-based LIF neuron with additive STDP (dt 0.1 ms). Competitive STDP
 * drives the initially uniform weights to a bimodal distribution (most weights near 0 or gmax)
 * while the postsynaptic rate settles.
 *
 * `--drive conductance` (default) integrates Song et al.'s `τm dv/dt = ge·(Ee − v) + El − v`;
 * `--drive current` Brian2's example form `ge·(Ee − vr)` (fixed driving force).
 *
 * `--engine event` (default) runs the event-driven engine (`song2000/event.ts`: work per step
 * proportional to the spikes, {@link EventSTDP} in Cinder's step order, Bernoulli inputs drawn as
 * geometric gaps); `--engine tfjs` the same model built from Cinder modules (`song2000/network.ts`),
 * inputs generated one chunk of steps at a time by a {@link HomogeneousPoissonEncoder} and uploaded
 * once per step. The two agree step by step on the same input spikes (see the tests).
 * `--engine brian2` runs Brian2's discretisation of the model (Brian2's step order; Euler with the
 * conductance drive, the exact linear solution with the current drive as Brian2's example's
 * `method='exact'`) on the event engine.
 *
 * `--model paper` uses the paper's Methods instead of Brian2's example ({@link songPaperParams}:
 * τm 20 ms, El −70 mV, ḡmax 0.015, A+ 0.005·ḡmax, A−/A+ 1.05, 200 fixed inhibitory inputs at
 * 10 Hz with ḡin 0.05 and Ei −70 mV, all weights starting at ḡmax), with the conductance drive, on
 * every engine (`--engine tfjs`: {@link SongPaperNetwork}, whose excitatory conductance keeps each
 * spike's weight as the paper's Methods and the event engine; inhibitory inputs from a second
 * encoder); `--mode paper` adds the paper's 10 Hz input rate (Fig. 2a) and 200 s.
 *
 * `--input correlated` (event engines) replaces the independent Poisson inputs by the paper's
 * correlated rates of Fig. 5a/b ({@link CorrelatedInput}: mean `--rate`, σ `--corr-sigma`,
 * c_a = `--corr-max`·(a − 1)/(N − 1), correlation time `--tau-c`); `--mode correlated` is
 * `--mode paper` with them at the paper's values (τc 20 ms) for 1000 s. The summary then adds the
 * mean w/gmax of the inputs in 20 equal bins of c_a (Fig. 5's histogram).
 *
 * Every run reports the CV of the postsynaptic inter-spike intervals over the last 10 % of the
 * bins ({@link IsiStats}; the paper's Fig. 2c, e).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExampleSpec, RunContext } from '../../src/cli/example.js';
import type { RngState } from '../../src/core/random.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import type { Encoder } from '../../src/neural/encoders/index.js';
import { Network } from '../../src/network/index.js';
import '../../src/network/files.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { HomogeneousPoissonEncoder } from '../../src/neural/encoders/index.js';
import { songParams, songPaperParams, type SongParams } from './params.js';
import { SongNetwork, SONG_DRIVES, type SongDrive } from './network.js';
import { SongPaperNetwork } from './paper-network.js';
import { ChunkedSpikes } from './input.js';
import { EventSong, bernoulliChunk, inhibitoryCounts, type SpikeChunk, type SongScheme } from './event.js';
import { rateOverTime, weightHistogram, weightsByIndex } from './figures.js';
import { IsiStats } from './isi.js';
import { CorrelatedInput } from './correlated.js';

/**
 * The mutable state of an event engine for checkpoints: every own typed array and finite number
 * of the object and of its object fields (one level down, e.g. the STDP kernel), as JSON-safe
 * arrays (doubles round-trip exactly through JSON).
 */
function captureArrays(root: object): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  const visit = (o: object, prefix: string, depth: number): void => {
    for (const [k, v] of Object.entries(o)) {
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) out[prefix + k] = Array.from(v as unknown as ArrayLike<number>);
      else if (typeof v === 'number' && Number.isFinite(v)) out[prefix + k] = v;
      else if (depth > 0 && v !== null && typeof v === 'object' && !Array.isArray(v)) visit(v as object, `${prefix}${k}.`, depth - 1);
    }
  };
  visit(root, '', 1);
  return out;
}

/** Puts state captured by {@link captureArrays} back into an identically built engine. */
function restoreArrays(root: object, saved: Record<string, number | number[]>): void {
  for (const [path, v] of Object.entries(saved)) {
    const keys = path.split('.');
    let o = root as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
    const last = keys[keys.length - 1]!;
    const target = o?.[last];
    if (Array.isArray(v)) {
      const arr = target as { length: number; set(a: ArrayLike<number>): void } | undefined;
      if (!arr || typeof arr.set !== 'function' || arr.length !== v.length) throw new CinderArgumentError(`checkpoint array ${path}`, v.length, `${arr?.length ?? 'no'} values as in the engine`);
      arr.set(v);
    } else if (typeof target === 'number') {
      o[last] = v;
    }
  }
}

/** The excitatory inputs of `--input`. */
export const SONG_INPUTS = ['poisson', 'correlated'] as const;

/** Number of bins of the correlation parameter in the summary (Fig. 5: "divided into 20 bins"). */
export const CORRELATION_BINS = 20;

/**
 * Mean of `w / gmax` over the inputs in each of `bins` equal bins of the input index
 * (input i in bin ⌊bins·i/N⌋; c_a grows linearly with the index, so these are equal bins of c_a).
 */
export function meanWeightByBin(w: ArrayLike<number>, gmax: number, bins = CORRELATION_BINS): number[] {
  const sum = new Float64Array(bins);
  const count = new Float64Array(bins);
  for (let i = 0; i < w.length; i++) {
    const j = Math.floor((bins * i) / w.length);
    sum[j]! += w[i]! / gmax;
    count[j]!++;
  }
  return Array.from(sum, (x, j) => (count[j]! > 0 ? x / count[j]! : NaN));
}

/** The parameter sets of `--model`. */
export const SONG_MODELS = ['brian2', 'paper'] as const;

/** The model constants of `--model` (`brian2`: Brian2's example; `paper`: the paper's Methods). */
export function songModelParams(model: string, overrides: Partial<SongParams> = {}): SongParams {
  if (model === 'brian2') return songParams(overrides);
  if (model === 'paper') return songPaperParams(overrides);
  throw new CinderArgumentError('--model', model, `one of ${SONG_MODELS.join(', ')}`);
}

/** Fraction of weights at or above 0.8·gmax (the paper's "strong synapses", Fig. 2d). */
export function strongFraction(w: ArrayLike<number>, gmax: number): number {
  let n = 0;
  for (let i = 0; i < w.length; i++) if (w[i]! >= 0.8 * gmax) n++;
  return n / w.length;
}

/** Fractions of weights below 0.1·gmax and above 0.9·gmax. */
export function weightExtremes(w: ArrayLike<number>, gmax: number): { low: number; high: number; bimodal: number } {
  let low = 0;
  let high = 0;
  for (let i = 0; i < w.length; i++) {
    if (w[i]! < 0.1 * gmax) low++;
    else if (w[i]! > 0.9 * gmax) high++;
  }
  return { low: low / w.length, high: high / w.length, bimodal: (low + high) / w.length };
}

/** Refuses a duration (s) that is not a whole number of `dt` (ms) steps, naming its flag. */
function checkWholeSteps(flag: string, seconds: number, dt: number): void {
  const steps = (seconds * 1000) / dt;
  if (Math.abs(steps - Math.round(steps)) > 1e-9 * Math.max(1, steps)) throw new CinderArgumentError(flag, seconds, `a whole number of ${dt} ms steps`);
}

/**
 * Refuses `--input correlated` with fewer than {@link CORRELATION_BINS} inputs: the summary's mean
 * w/gmax in that many bins of the correlation parameter c_a needs an input in each bin (an empty
 * one was NaN and failed the run at its first checkpoint). Called by validate and by run (a run
 * started without validate).
 */
function checkCorrelationBins(q: Record<string, unknown>): void {
  if (String(q.input) === 'correlated' && !(Number(q.inputs) >= CORRELATION_BINS)) throw new CinderArgumentError('--inputs', q.inputs, `at least ${CORRELATION_BINS} with --input correlated (the summary's mean w/gmax in ${CORRELATION_BINS} bins of the correlation parameter)`);
}

/** The `song2000` example. */
export const song2000Example: ExampleSpec = {
  name: 'song2000',
  description: 'Song, Miller & Abbott 2000: 1000 Poisson inputs → 1 conductance LIF, additive STDP → bimodal weights',
  options: [
    { name: 'seconds', type: 'float', description: 'simulated time (s)', default: 100, min: 0.001 },
    { name: 'inputs', type: 'int', description: 'number of Poisson inputs', default: 1000, min: 1 },
    { name: 'rate', type: 'float', description: 'input rate (Hz)', default: 15, min: 0.001 },
    { name: 'binSeconds', type: 'float', description: 'bin of the postsynaptic rate curve (s)', default: 1, min: 0.001 },
    { name: 'chunk', type: 'int', description: 'input steps generated per encoder call', default: 10000, min: 1 },
    { name: 'learn', type: 'bool', description: 'STDP on', default: true },
    { name: 'engine', type: 'string', description: "'event' (event-driven engine), 'tfjs' (Cinder modules, the reference; same discretisation) or 'brian2' (Brian2's discretisation — its step order; Euler, or exact with the current drive — on the event engine)", default: 'event', choices: ['event', 'tfjs', 'brian2'] },
    { name: 'drive', type: 'string', description: "membrane drive: 'conductance' ge·(Ee − v) as Song et al., or 'current' ge·(Ee − vr) as Brian2's example", default: 'conductance', choices: SONG_DRIVES },
    { name: 'input', type: 'string', description: "excitatory inputs: 'poisson' (independent, --rate each) or 'correlated' (the paper's Fig. 5 rates: mean --rate, correlation parameters 0 … --corr-max, correlation time --tau-c; event engines)", default: 'poisson', choices: SONG_INPUTS },
    { name: 'tauC', type: 'float', description: 'correlation time τc of --input correlated (ms; the paper: 20 in Fig. 5a, 200 in Fig. 5b)', default: 20, min: 0.001 },
    { name: 'corrMax', type: 'float', description: 'largest correlation parameter c_max of --input correlated (c_a = c_max·(a − 1)/(N − 1); the paper: 0.2); at most --corr-sigma', default: 0.2, min: 0 },
    { name: 'corrSigma', type: 'float', description: 'standard deviation σ of each rate of --input correlated, in units of the mean rate (the paper: 0.5)', default: 0.5, min: 0 },
    { name: 'model', type: 'string', description: "parameter set: 'brian2' (Brian2's example) or 'paper' (the paper's Methods: τm 20 ms, El −70 mV, gmax 0.015, A+ 0.005·gmax, 200 inhibitory inputs at 10 Hz, weights starting at gmax; conductance drive)", default: 'brian2', choices: SONG_MODELS },
  ],
  presets: {
    tiny: { seconds: 0.2, binSeconds: 0.05, chunk: 1000 },
    fast: { seconds: 10, binSeconds: 0.5 },
    full: {},
    paper: { model: 'paper', rate: 10, seconds: 200, binSeconds: 1 },
    correlated: { model: 'paper', rate: 10, seconds: 1000, binSeconds: 10, input: 'correlated', tauC: 20, corrMax: 0.2, corrSigma: 0.5 },
  },
  defaultMode: 'full',
  summaryKeys: [
    'bimodal_fraction', 'low_fraction', 'high_fraction', 'strong_fraction', 'post_rate_hz', 'final_post_rate_hz', 'cv_isi', 'simulated_seconds',
    'steps', 'wall_seconds', 'ms_per_simulated_second', 'ms_per_step', 'engine',
  ],
  volatileKeys: ['wall_seconds', 'ms_per_simulated_second', 'ms_per_step'],
  figures: ['weight-histogram', 'weights-by-index', 'post-rate'],
  validate(q) {
    const dt = songParams().dt;
    if (String(q.model) === 'paper') {
      if (String(q.drive) !== 'conductance') throw new CinderArgumentError('--drive', q.drive, "'conductance' with --model paper");
    }
    if (String(q.input) === 'correlated') {
      if (String(q.engine) === 'tfjs') throw new CinderArgumentError('--engine', q.engine, "'event' or 'brian2' with --input correlated (the tfjs engine has homogeneous Poisson inputs only)");
      if (!(Number(q.corrMax) <= Number(q.corrSigma))) throw new CinderArgumentError('--corr-max', q.corrMax, `at most --corr-sigma (${String(q.corrSigma)}): σ_a² = σ² − c_a² >= 0`);
      checkCorrelationBins(q);
    }
    checkWholeSteps('--seconds', Number(q.seconds), dt);
    checkWholeSteps('--bin-seconds', Number(q.binSeconds), dt);
    // at most one input spike per step: the event engines draw Bernoulli(rate·dt/1000), which needs
    // p <= 1; the tfjs engine's encoder a mean interval 1000/rate above its dead time dt
    const limit = 1000 / dt;
    const rate = Number(q.rate);
    if (String(q.engine) === 'tfjs' ? !(rate < limit) : !(rate <= limit)) {
      throw new CinderArgumentError('--rate', rate, `${String(q.engine) === 'tfjs' ? '<' : '<='} ${limit} Hz (at most one spike per ${dt} ms step${String(q.engine) === 'tfjs' ? ' with the tfjs engine' : ''})`);
    }
  },
  async run(ctx: RunContext): Promise<Record<string, unknown>> {
    const q = ctx.params;
    const modelName = String(q.model ?? 'brian2');
    const p = songModelParams(modelName, { nInputs: Number(q.inputs), rate: Number(q.rate) });
    const stepsPerSecond = Math.round(1000 / p.dt);
    const totalSteps = Math.max(1, Math.round(Number(q.seconds) * stepsPerSecond));
    const binSteps = Math.max(1, Math.min(totalSteps, Math.round(Number(q.binSeconds) * stepsPerSecond)));
    const nBins = Math.ceil(totalSteps / binSteps);
    // the CV of the post ISIs over the last 10 % of the bins (the window of final_post_rate_hz)
    const cvBins = Math.max(1, Math.floor(nBins / 10));
    const isi = new IsiStats((nBins - cvBins) * binSteps);
    const rng = new Rng(ctx.seed);
    const engine = String(q.engine);
    if (engine !== 'event' && engine !== 'tfjs' && engine !== 'brian2') throw new CinderArgumentError('engine', engine, "'event', 'tfjs' or 'brian2'");
    const scheme: SongScheme = engine === 'brian2' ? 'brian2' : 'cinder';
    // as validate (a run started without it): the inhibitory inputs need the conductance drive;
    if (p.nInhib > 0 && String(q.drive) !== 'conductance') throw new CinderArgumentError('--drive', q.drive, "'conductance' with --model paper");
    // likewise: the tfjs engine has homogeneous Poisson inputs only (it would run those silently)
    if (String(q.input) === 'correlated' && engine === 'tfjs') throw new CinderArgumentError('--engine', q.engine, "'event' or 'brian2' with --input correlated (the tfjs engine has homogeneous Poisson inputs only)");
    // likewise: the summary's bins of c_a each need an input
    checkCorrelationBins(q);
    // the initial weights' stream is forked first in every case (the input streams then unchanged)
    const weightRng = rng.fork();
    // the tfjs engine with inhibitory inputs (paper parameters): the model of paper-network.ts, from
    // the initial weights uniformInit would draw, or all at gmax (the paper's Fig. 2)
    const net = engine === 'tfjs' && p.nInhib > 0
      ? new SongPaperNetwork(p, p.initialWeights === 'gmax' ? new Float32Array(p.nInputs).fill(p.gmax) : weightRng.uniformArray(p.nInputs, 0, p.gmax), Boolean(q.learn))
      : new SongNetwork(p, weightRng, Boolean(q.learn), String(q.drive) as SongDrive);
    // the paper's Fig. 2 starts every weight at gmax
    const before = p.initialWeights === 'gmax' ? new Float32Array(p.nInputs).fill(p.gmax) : await net.weightsAsync();
    const chunkSteps = Math.min(Number(q.chunk), totalSteps);
    const ev = engine !== 'tfjs' ? new EventSong(p, before, String(q.drive) as SongDrive, Boolean(q.learn), 1, scheme) : null;
    const inputRng = rng.fork();
    // --input correlated: the rates of the first interval come from the input stream
    const corr = ev && String(q.input) === 'correlated'
      ? new CorrelatedInput(p.nInputs, { rate: p.rate, sigma: Number(q.corrSigma), cMax: Number(q.corrMax), tauC: Number(q.tauC) }, p.dt, inputRng)
      : null;
    // inhibitory inputs (paper): their own stream, forked only then (the other streams unchanged)
    const inhRng = p.nInhib > 0 ? rng.fork() : null;
    const encoder = new HomogeneousPoissonEncoder({ steps: chunkSteps, dt: p.dt, frequency: p.rate, rng: inputRng });
    const ones = tf.ones([1, p.nInputs]);
    // tfjs engine: the model as a Network (layer + STDP; SongNetwork keeps ownership) and the
    // encoder's generator position at the start of each chunk, for checkpoints
    const model = new Network();
    model.addLayer('layer', net.layer);
    model.addTrainer('stdp', net.trainer);
    let encChunkStart: RngState = inputRng.getState();
    // the intensities on the host too: chunks render with encodeArray, never reading `ones` back
    const onesHost = new Float32Array(p.nInputs).fill(1);
    const chunked: Encoder = Object.assign(Object.create(encoder) as Encoder, {
      encodeArray: (x: ArrayLike<number>) => {
        encChunkStart = inputRng.getState();
        return encoder.encodeArray(x);
      },
    });
    let input = new ChunkedSpikes(chunked, ones, onesHost);
    // tfjs engine, inhibitory inputs: their own encoder on inhRng, chunked alike (its position kept too)
    const inhEncoder = !ev && inhRng ? new HomogeneousPoissonEncoder({ steps: chunkSteps, dt: p.dt, frequency: p.inhibRate, rng: inhRng }) : null;
    const inhOnes = inhEncoder ? tf.ones([1, p.nInhib]) : null;
    const inhOnesHost = new Float32Array(p.nInhib).fill(1);
    let inhEncChunkStart: RngState | null = inhEncoder ? inhRng!.getState() : null;
    const inhChunked: Encoder | null = inhEncoder
      ? Object.assign(Object.create(inhEncoder) as Encoder, {
          encodeArray: (x: ArrayLike<number>) => {
            inhEncChunkStart = inhRng!.getState();
            return inhEncoder.encodeArray(x);
          },
        })
      : null;
    let inhInput = inhChunked ? new ChunkedSpikes(inhChunked, inhOnes!, inhOnesHost) : null;
    // one step of the tfjs engine: the post spike [1, 1] (call inside tf.tidy)
    const stepTfjs = (): tf.Tensor =>
      net instanceof SongPaperNetwork ? net.step(input.next(), inhInput!.next()) : net.step(input.next());
    // tfjs engine: the post spikes of the current bin, one [1, 1] tensor per step, read once per bin
    let posts: tf.Tensor[] = [];
    // event engine: inputs drawn one chunk ahead, consumed bin by bin; the generator's position
    // before each chunk is kept so that a resumed run re-draws the same chunk
    let chunkRng: RngState = inputRng.getState();
    // correlated inputs: their rates at the start of the current chunk (for checkpoints)
    let chunkRates: number[] | null = null;
    const drawChunk = () => {
      chunkRng = inputRng.getState();
      if (corr) {
        chunkRates = Array.from(corr.rates);
        return corr.chunk(chunkSteps, inputRng);
      }
      return bernoulliChunk(chunkSteps, p.nInputs, (p.rate * p.dt) / 1000, [inputRng], p.nInputs);
    };
    // the inhibitory spikes of the same steps, drawn alongside (inhRng's position before each chunk kept)
    let inhChunkRng: RngState | null = inhRng ? inhRng.getState() : null;
    const drawInh = (): SpikeChunk | null => {
      if (!inhRng) return null;
      inhChunkRng = inhRng.getState();
      return bernoulliChunk(chunkSteps, p.nInhib, (p.inhibRate * p.dt) / 1000, [inhRng], p.nInhib);
    };
    let chunk = ev ? drawChunk() : null;
    let inhChunk = ev ? drawInh() : null;
    const inhCounts = new Float64Array(1);
    let chunkPos = 0;
    const runEvent = (n: number): number => {
      const first = done; // the global step of k = 0
      for (let k = 0; k < n; k++) {
        if (chunkPos === chunk!.steps) {
          chunk = drawChunk();
          inhChunk = drawInh();
          chunkPos = 0;
        }
        if (inhChunk) inhibitoryCounts(inhChunk, chunkPos, p.nInhib, inhCounts);
        if (ev!.step(chunk!.ids, chunk!.start[chunkPos]!, chunk!.start[chunkPos + 1]!, inhChunk ? inhCounts : undefined) > 0) isi.record(first + k);
        chunkPos++;
      }
      return ev!.takeCounts()[0]!;
    };
    ctx.log(`${p.nInputs} inputs at ${p.rate} Hz${p.nInhib > 0 ? ` and ${p.nInhib} inhibitory at ${p.inhibRate} Hz` : ''}, ${Number(q.seconds)} s simulated (${totalSteps} steps of ${p.dt} ms), STDP ${q.learn ? 'on' : 'off'}, ${q.drive} drive, ${engine} engine, ${modelName} parameters`);
    let rates: number[] = [];
    const progress = ctx.progress(nBins, 'bins');
    let done = 0;
    let wallMs = 0;
    // checkpoints after every bin — event engines: the engine's arrays and counters, the input
    // position, the rates (checkpoint.json); tfjs: the Network and the encoder position (one save)
    interface Progress {
      done: number;
      rates: number[];
      chunkRng: RngState;
      chunkPos: number;
      engine: Record<string, number | number[]>;
      /** The inhibitory stream's position before the current chunk (paper parameters). */
      inhChunkRng?: RngState | null;
      /** Wall time of the bins so far (ms), for the timing metrics of a resumed run. */
      wallMs?: number;
      /** The ISI statistics of the CV window so far (absent in older checkpoints: counted from the resume). */
      isi?: IsiState;
      /** `--input correlated`: the input rates at the start of the current chunk. */
      chunkRates?: number[] | null;
    }
    interface TfjsProgress {
      done: number;
      rates: number[];
      encChunkStart: RngState;
      inputRngNow: RngState;
      /** Inhibitory inputs (paper parameters): their encoder's position at the chunk start, and now. */
      inhEncChunkStart?: RngState | null;
      inhRngNow?: RngState | null;
      wallMs?: number;
      isi?: IsiState;
    }
    type IsiState = Pick<IsiStats, 'last' | 'n' | 'mean' | 'm2'>;
    const restoreIsi = (m: { isi?: IsiState }) => {
      if (m.isi) ({ last: isi.last, n: isi.n, mean: isi.mean, m2: isi.m2 } = m.isi);
    };
    if (!ev && ctx.resumed && existsSync(join(ctx.checkpointDir, 'model.json'))) {
      const m = (await model.loadFrom(ctx.checkpointDir)) as unknown as TfjsProgress;
      ({ done, rates } = m);
      wallMs = m.wallMs ?? 0;
      restoreIsi(m);
      if (inhRng && (!m.inhEncChunkStart || !m.inhRngNow)) throw new CinderArgumentError('checkpoint inhEncChunkStart', m.inhEncChunkStart, 'the inhibitory stream position (a checkpoint of the same --model)');
      if (done % chunkSteps === 0) {
        inputRng.setState(m.inputRngNow);
        if (inhRng) inhRng.setState(m.inhRngNow!);
      } else {
        inputRng.setState(m.encChunkStart);
        input = new ChunkedSpikes(chunked, ones, onesHost);
        for (let k = 0; k < done % chunkSteps; k++) input.nextArray(); // re-renders the chunk and moves to the position
        if (inhRng) {
          inhRng.setState(m.inhEncChunkStart!);
          inhInput = new ChunkedSpikes(inhChunked!, inhOnes!, inhOnesHost);
          for (let k = 0; k < done % chunkSteps; k++) inhInput.nextArray();
        }
      }
      progress.tick(rates.length);
      ctx.log(`resumed after ${done} steps`);
    }
    if (ev && ctx.resumed && existsSync(join(ctx.checkpointDir, 'checkpoint.json'))) {
      const m = JSON.parse(readFileSync(join(ctx.checkpointDir, 'checkpoint.json'), 'utf8')) as Progress;
      ({ done, rates, chunkPos } = m);
      wallMs = m.wallMs ?? 0;
      restoreIsi(m);
      restoreArrays(ev, m.engine);
      inputRng.setState(m.chunkRng);
      if (corr) {
        if (!Array.isArray(m.chunkRates) || m.chunkRates.length !== p.nInputs) throw new CinderArgumentError('checkpoint chunkRates', m.chunkRates, `${p.nInputs} input rates (a checkpoint of the same --input)`);
        corr.rates.set(m.chunkRates);
      }
      chunk = drawChunk();
      if (inhRng) {
        if (!m.inhChunkRng) throw new CinderArgumentError('checkpoint inhChunkRng', m.inhChunkRng, 'the inhibitory stream position (a checkpoint of the same --model)');
        inhRng.setState(m.inhChunkRng);
        inhChunk = drawInh();
      }
      progress.tick(rates.length);
      ctx.log(`resumed after ${done} steps`);
    }
    const saveCheckpoint = async (): Promise<void> => {
      const isiState: IsiState = { last: isi.last, n: isi.n, mean: isi.mean, m2: isi.m2 };
      if (ev) {
        const m: Progress = { done, rates, chunkRng, chunkPos, engine: captureArrays(ev), wallMs, isi: isiState, ...(corr ? { chunkRates } : {}), ...(inhRng ? { inhChunkRng } : {}) };
        await writeJsonAtomic(join(ctx.checkpointDir, 'checkpoint.json'), m);
      } else {
        const m: TfjsProgress = { done, rates, encChunkStart, inputRngNow: inputRng.getState(), wallMs, isi: isiState, ...(inhRng ? { inhEncChunkStart, inhRngNow: inhRng.getState() } : {}) };
        await model.save(ctx.checkpointDir, m as unknown as Record<string, unknown>); // one atomic save: network + progress
      }
    };
    const weightsNow = () => (ev ? ev.weights() : net.weights());
    const correlationSummary = (w: Float32Array): Record<string, unknown> => {
      const bins = meanWeightByBin(w, p.gmax);
      return {
        tau_c_ms: corr!.params.tauC,
        corr_bin_mean_w: bins,
        corr_low_bin_mean_w: bins[0],
        corr_high_bin_mean_w: bins[bins.length - 1],
      };
    };
    const summary = (): Record<string, unknown> => {
      const w = weightsNow();
      const ext = weightExtremes(w, p.gmax);
      const simulated = (done * p.dt) / 1000;
      const spikes = rates.reduce((s, r, i) => s + r * binLength(i), 0);
      // the rate over the last 10 % of the bins: their spikes over their length (a shorter last bin
      // weighs by its length; an unweighted mean of the bin rates overweighted it)
      let lastSpikes = 0;
      let lastSeconds = 0;
      for (let i = rates.length - Math.min(rates.length, Math.max(1, Math.floor(rates.length / 10))); i < rates.length; i++) {
        lastSpikes += rates[i]! * binLength(i);
        lastSeconds += binLength(i);
      }
      return {
        bimodal_fraction: ext.bimodal,
        low_fraction: ext.low,
        high_fraction: ext.high,
        strong_fraction: strongFraction(w, p.gmax),
        mean_weight_over_gmax: w.reduce((s, x) => s + x, 0) / w.length / p.gmax,
        post_rate_hz: simulated > 0 ? spikes / simulated : 0,
        final_post_rate_hz: lastSeconds > 0 ? lastSpikes / lastSeconds : 0,
        cv_isi: isi.cv(),
        cv_isi_intervals: isi.n,
        cv_window_seconds: ((totalSteps - isi.fromStep) * p.dt) / 1000,
        simulated_seconds: simulated,
        steps: done,
        wall_seconds: wallMs / 1000,
        ms_per_simulated_second: simulated > 0 ? wallMs / simulated : null,
        ms_per_step: done > 0 ? wallMs / done : null,
        engine,
        model: modelName,
        input: corr ? 'correlated' : 'poisson',
        ...(corr ? correlationSummary(w) : {}),
      };
    };
    ctx.finite?.watch('layer', net.layer);
    // the event engines keep their state in host arrays: the membrane, conductances and weights
    if (ev) ctx.finite?.watchArrays('event', () => ({ v: ev.v, ge: ev.ge, gi: ev.gi, weight: ev.stdp.weight }));
    const binLength = (i: number) => (Math.min(totalSteps, (i + 1) * binSteps) - i * binSteps) * p.dt / 1000;
    try {
      for (let b = rates.length; b < nBins && !ctx.signal.aborted; b++) {
        const n = Math.min(binSteps, totalSteps - done);
        const t0 = performance.now();
        let spikes: number;
        if (ev) {
          spikes = runEvent(n);
          ctx.finite?.step(done + n - 1); // 'step' mode: a scan of the engine's arrays after each bin
        } else {
          for (let k = 0; k < n; k++) {
            posts.push(tf.tidy(() => tf.reshape(stepTfjs(), [1])));
            ctx.finite?.step(done + k);
          }
          const all = tf.concat(posts);
          for (const t of posts) t.dispose();
          posts = [];
          const post = await all.data();
          all.dispose();
          spikes = 0;
          for (let k = 0; k < n; k++) {
            if (post[k]! !== 0) {
              spikes++;
              isi.record(done + k);
            }
          }
        }
        wallMs += performance.now() - t0;
        done += n;
        rates.push(spikes / ((n * p.dt) / 1000));
        progress.tick(1, `rate ${rates[rates.length - 1]!.toFixed(1)} Hz`);
        await saveCheckpoint();
        await ctx.checkpoint(summary());
        await ctx.keepResponsive(); // let SIGINT/SIGTERM through between bins
      }
      progress.done();
      const after = weightsNow();
      const s = summary();
      ctx.log(`bimodal fraction ${(s.bimodal_fraction as number).toFixed(3)} (low ${(s.low_fraction as number).toFixed(3)}, high ${(s.high_fraction as number).toFixed(3)}), post rate ${(s.post_rate_hz as number).toFixed(2)} Hz, CV of the ISIs ${isi.cv()?.toFixed(3) ?? 'n/a'} (last ${cvBins} bins), ${s.ms_per_simulated_second === null ? 'n/a' : (s.ms_per_simulated_second as number).toFixed(0)} ms per simulated second`);
      await ctx.figure('weight-histogram', weightHistogram(before, after, p.gmax));
      await ctx.figure('weights-by-index', weightsByIndex(before, after, p.gmax, corr ? meanWeightByBin(after, p.gmax) : undefined));
      await ctx.figure('post-rate', rateOverTime(binSteps * p.dt / 1000, rates, (done * p.dt) / 1000, isi.cv()));
      await ctx.artifactNpy('weights_before', before, [before.length]);
      await ctx.artifactNpy('weights_after', after, [after.length]);
      await ctx.artifactNpy('post_rate', Float32Array.from(rates), [rates.length]);
      await ctx.checkpoint(s);
      return s;
    } finally {
      for (const t of posts) t.dispose();
      ones.dispose();
      inhOnes?.dispose();
      net.dispose();
    }
  },
};
