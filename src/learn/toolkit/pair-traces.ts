/**
 * The trace-monitor builder shared by every pair-based rule: for one cell, a trace and a spike
 * monitor on each side (postsynaptic: `neuron.spike`; presynaptic: `connection.synspike`), attached
 * to the cell's layer so they fold after the neurons step.
 * @module
 */
import { share, tf } from '../../core/tf.js';
import { configFields } from '../../core/snapshot.js';
import { CinderArgumentError, checkFinite, checkOneOf, checkPositive, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { Observer } from '../../neural/types.js';
import { StateMonitor } from '../../observe/monitors/state-monitor.js';
import { CumulativeTraceReducer, NearestTraceReducer, type TraceMode } from '../../observe/reducers/trace.js';
import { PassthroughReducer } from '../../observe/reducers/passthrough.js';
import type { Reducer } from '../../observe/reducers/reducer.js';
import type { TrainableCell } from './trainable-cell.js';
import type { CellResources } from './trainer.js';
import { ReceptiveContraction } from './contraction.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';
import { fusedTrace } from '../../kernels/js/fused-trace.js';
import { stepProgramsOn } from '../../kernels/webgpu/step-program.js';
import { tracePairWebgpu, traceStepWebgpu } from '../../kernels/webgpu/step-trace.js';
import { multiOutputAvailable } from '../../kernels/webgpu/step-dispatch.js';
import { traceDecay } from '../../observe/reducers/trace-options.js';


export type { TraceMode };

/** Settings of {@link PairTraces}. */
export interface PairTraceOptions {
  /** Presynaptic trace time constant (ms). */
  tauPre: number;
  /** Postsynaptic trace time constant (ms). */
  tauPost: number;
  /** Presynaptic trace amplitude (for the classic rules |lr_post|). */
  amplitudePre: number;
  /** Postsynaptic trace amplitude (for the classic rules |lr_pre|). */
  amplitudePost: number;
  /** Trace mode (default `cumulative`). */
  mode?: TraceMode;
  /**
   * Delay-aware presynaptic side: trace the synapse's raw spikes (keeping `delaySteps + 1` values)
   * and select each edge's value at its delay when read (spikes at the connection's realised step,
   * traces decayed from there to the exact delay, see {@link PairTraces.preTrace}), instead of tracing
   * the delay-selected `synspike` per edge (same values for whole-step delays; less state for dense
   * connections). Default false.
   */
  delayed?: boolean;
  /** Values kept by each monitor (default 1; e.g. 2 to read `reducer.ago(1)`, the value one step back). */
  history?: number;
}

/** The keys of {@link PairTraceOptions}. */
export const PAIR_TRACE_OPTION_KEYS = optionKeys<PairTraceOptions>()(['tauPre', 'tauPost', 'amplitudePre', 'amplitudePost', 'mode', 'delayed', 'history']);

/** Makes a trace reducer of the given mode (its steps fused into one kernel on wasm/cpu). */
export function traceReducer(mode: TraceMode, dt: number, tau: number, amplitude: number, history = 1): Reducer<[tf.Tensor]> {
  checkOneOf('traceMode', mode, ['cumulative', 'nearest'] as const);
  return mode === 'cumulative' ? new FusedCumulativeTrace({ dt, tau, amplitude, history }) : new FusedNearestTrace({ dt, tau, amplitude, history });
}

/**
 * The spike trace's step as one fused kernel on wasm/cpu (`fusedTrace`: same float32 operations as
 * the op path, and a trace under the smallest normal float32 flushed to 0, so a silent unit's trace
 * does not stall at a subnormal value — see `fused-trace.ts`) or one WGSL program on webgpu
 * (`traceStepWebgpu`; GPUs may flush subnormals themselves); the op path on other backends, on the
 * first step and for non-float32 spikes.
 */
function fusedStep(r: CumulativeTraceReducer | NearestTraceReducer, h: tf.Tensor, prev: tf.Tensor | null): tf.Tensor | null {
  if (prev === null || !(fusedBackend() || stepProgramsOn()) || h.dtype !== 'float32' || prev.dtype !== 'float32') return null;
  if (h.shape.length !== prev.shape.length || h.shape.some((d, i) => d !== prev.shape[i])) return null; // the op path reports it
  if (!fusedBackend()) return takeStash(r, prev, h) ?? pairStep(r, h, prev) ?? traceStepWebgpu(prev, h, traceDecay(r.dt, r.tau), r.amplitude, r.mode === 'nearest');
  return fusedTrace(prev, h, traceDecay(r.dt, r.tau), r.amplitude, r.mode === 'nearest');
}

type TraceReducer = CumulativeTraceReducer | NearestTraceReducer;

/**
 * webgpu: a pair rule's two traces step in one dispatch (`tracePairWebgpu`). The trace that folds
 * first also computes its partner's next value from the partner's source and latest value and
 * leaves it here, keyed by the inputs' data and the partner's fold count; the partner takes it only
 * when it folds with exactly those inputs (tensor data is immutable, so equal data ids mean equal
 * values), else drops it and steps itself. So the result never depends on the monitors' order.
 */
const partners = new WeakMap<TraceReducer, { reducer: TraceReducer; source: () => tf.Tensor }>();
const stashes = new WeakMap<TraceReducer, { prev: object; h: object; count: number; value: tf.Tensor }>();

function dropStash(r: TraceReducer): void {
  stashes.get(r)?.value.dispose();
  stashes.delete(r);
}

function takeStash(r: TraceReducer, prev: tf.Tensor, h: tf.Tensor): tf.Tensor | null {
  const s = stashes.get(r);
  if (!s) return null;
  stashes.delete(r);
  // a new handle made in the fold's own scope (the fold owns what it made; the stash's handle goes)
  const mine = s.count === r.count && s.prev === prev.dataId && s.h === h.dataId ? share(s.value) : null;
  s.value.dispose();
  return mine;
}

function pairStep(r: TraceReducer, h: tf.Tensor, prev: tf.Tensor): tf.Tensor | null {
  const link = partners.get(r);
  if (!link || link.reducer.size === 0 || !multiOutputAvailable()) return null;
  const q = link.reducer;
  const h2 = link.source();
  const prev2 = q.latest;
  if (h2.dtype !== 'float32' || prev2.dtype !== 'float32' || h2.size !== prev2.size) return null;
  const step = (x: TraceReducer, p: tf.Tensor, s: tf.Tensor) => ({ prev: p, h: s, decay: traceDecay(x.dt, x.tau), amplitude: x.amplitude, nearest: x.mode === 'nearest' });
  const [mine, theirs] = tracePairWebgpu(step(r, prev, h), step(q, prev2, h2));
  dropStash(q);
  stashes.set(q, { prev: prev2.dataId, h: h2.dataId, count: q.count, value: tf.keep(theirs) });
  return mine;
}

class FusedCumulativeTrace extends CumulativeTraceReducer {
  protected override compute(inputs: [tf.Tensor], prev: tf.Tensor | null): tf.Tensor {
    return fusedStep(this, inputs[0], prev) ?? super.compute(inputs, prev);
  }
}

class FusedNearestTrace extends NearestTraceReducer {
  protected override compute(inputs: [tf.Tensor], prev: tf.Tensor | null): tf.Tensor {
    return fusedStep(this, inputs[0], prev) ?? super.compute(inputs, prev);
  }
}

/**
 * The four monitors of a pair-based rule for one cell. Values are those of the layer's last training
 * step, spikes of the current step included (the monitors fold before the trainer reads).
 */
export class PairTraces implements CellResources {
  /** Presynaptic trace x_pre(t) of `connection.synspike`, amplitude `amplitudePre`. */
  readonly tracePre: StateMonitor;
  /** Postsynaptic trace x_post(t) of `neuron.spike`, amplitude `amplitudePost`. */
  readonly tracePost: StateMonitor;
  /** Presynaptic spikes of the last step. */
  readonly spikePre: StateMonitor;
  /** Postsynaptic spikes of the last step. */
  readonly spikePost: StateMonitor;
  /** The cell's receptive contraction `Σ_R post·pre`. */
  readonly contraction: ReceptiveContraction;
  /** True when the presynaptic side is traced raw and delay-selected on reading. */
  readonly delayed: boolean;
  private readonly tauPre: number;
  private readonly connection: TrainableCell['connection'];

  /**
   * Creates the monitors (not attached: the trainer attaches {@link observers} to the cell's layer).
   * @param cell the cell observed
   * @param options time constants, amplitudes, mode
   */
  constructor(cell: TrainableCell, options: PairTraceOptions) {
    if (new.target === PairTraces) checkOptionKeys('options', options, PAIR_TRACE_OPTION_KEYS);
    const dt = cell.connection.dt;
    const mode = options.mode ?? 'cumulative';
    checkPositive('tauPre', options.tauPre);
    checkPositive('tauPost', options.tauPost);
    checkFinite('amplitudePre', options.amplitudePre);
    checkFinite('amplitudePost', options.amplitudePost);
    const conn = cell.connection;
    const neuron = cell.neuron;
    const steps = conn.delaySteps ?? 0;
    this.delayed = options.delayed === true && steps > 0;
    if (this.delayed && (typeof conn.selectByDelay !== 'function' || !conn.synapse)) {
      throw new CinderArgumentError('delayed', true, 'a connection with selectByDelay() and synapse (or delayed: false)');
    }
    const kept = options.history ?? 1;
    const history = this.delayed ? Math.max(steps + 1, kept) : kept;
    const preSource = this.delayed ? () => conn.synapse!.spike : () => conn.synspike;
    this.tracePre = new StateMonitor(preSource, traceReducer(mode, dt, options.tauPre, options.amplitudePre, history));
    this.tracePost = new StateMonitor(() => neuron.spike, traceReducer(mode, dt, options.tauPost, options.amplitudePost, kept));
    this.spikePre = new StateMonitor(preSource, new PassthroughReducer({ history }));
    this.spikePost = new StateMonitor(() => neuron.spike, new PassthroughReducer({ history: kept }));
    this.contraction = new ReceptiveContraction(conn);
    this.connection = conn;
    this.tauPre = options.tauPre;
    // a setting (its reducer decays with it): a trainer's snapshot compares it, never assigns it
    configFields(this, 'tauPre');
    const [a, b] = [this.tracePre.reducer, this.tracePost.reducer];
    const fused = (x: unknown): x is TraceReducer => x instanceof FusedCumulativeTrace || x instanceof FusedNearestTrace;
    if (!this.delayed && fused(a) && fused(b)) partners.set(a, { reducer: b, source: () => neuron.spike });
  }

  /**
   * x_pre(t) as the weights see it: the trace's latest value, or (delayed) each edge's trace value
   * at its delay d, as Inferno reads its trace history at `connection.selector`: the value k steps
   * back (k the connection's realised delay in steps, ⌈d/Δt⌉ by default) decayed over the rest
   *   x_pre(t − d) = x_pre(t − kΔt)·exp(−(kΔt − d)/τ_pre)        (float32; kΔt − d from the per-edge
   * k and d, taken as 0 within the connection's `delayTolerance` and when kΔt < d, i.e. a delay
   * read from the newer step with `delayInterp: 'nearest'`). Whole-step delays read x_pre(t − kΔt)
   * exactly. Call inside `tf.tidy` (the delayed value is a new tensor).
   */
  preTrace(): tf.Tensor {
    if (!this.delayed) return this.tracePre.latest;
    const x = this.select(this.tracePre.reducer);
    const d = this.connection.delay;
    if (!d) return x;
    const latest = this.tracePre.reducer.latest;
    const dt = this.connection.dt;
    // kΔt per edge, in the form of the selection ([B, ...weightShape]; the delays broadcast over B)
    const kdt = this.connection.selectByDelay!((k) => tf.fill(latest.shape, k * dt));
    const rest = tf.sub(kdt, d);
    const tol = tf.scalar(this.connection.delayTolerance ?? 0);
    const zero = tf.scalar(0);
    const gap = tf.where(tf.lessEqual(tf.abs(rest), tol), tf.zerosLike(rest), tf.maximum(rest, zero));
    return tf.mul(x, tf.exp(tf.div(tf.neg(gap), tf.scalar(this.tauPre))));
  }

  /**
   * A monitor's value `k` steps back (0 = latest), or zeros when fewer steps were folded (traces
   * start from 0). Not delay-selected. Call inside `tf.tidy`; needs `history > k`.
   */
  ago(monitor: StateMonitor, k: number): tf.Tensor {
    const r = monitor.reducer;
    if (!Number.isInteger(k) || k < 0 || k >= r.capacity) throw new CinderArgumentError('k', k, `an integer in [0, ${r.capacity - 1}] (the monitor's history)`);
    return k < r.size ? r.ago(k) : tf.zerosLike(r.latest);
  }

  /** Presynaptic spikes as the weights see them (delay-selected when delayed); inside `tf.tidy`. */
  preSpike(): tf.Tensor {
    return this.delayed ? this.select(this.spikePre.reducer) : this.spikePre.latest;
  }

  private select(r: Reducer<[tf.Tensor]>): tf.Tensor {
    const latest = r.latest;
    let zeros: tf.Tensor | null = null;
    // before the history is full, older values are 0 (nothing had been recorded)
    return this.connection.selectByDelay!((k) => (k < r.size ? r.ago(k) : (zeros ??= tf.zerosLike(latest))));
  }

  /** The monitors, for attaching to the layer. */
  get observers(): Observer[] {
    return [this.tracePre, this.tracePost, this.spikePre, this.spikePost];
  }

  /** True once the monitors have folded at least one step. */
  get ready(): boolean {
    return this.tracePre.reducer.size > 0 && this.tracePost.reducer.size > 0;
  }

  /** Resets the traces (the next step starts from 0). */
  clear(): void {
    for (const m of this.observers as StateMonitor[]) m.clear();
    dropStash(this.tracePost.reducer as TraceReducer);
  }

  /** Frees the monitors. */
  dispose(): void {
    dropStash(this.tracePost.reducer as TraceReducer);
    for (const m of this.observers as StateMonitor[]) m.dispose();
    this.contraction.dispose();
  }

  /** Number of steps folded since construction or the last {@link clear}. */
  get count(): number {
    return this.tracePre.reducer.count;
  }
}
