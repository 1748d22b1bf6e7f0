/**
 * Detection of NaN and ±Inf in a module tree's parameters and states.
 *
 * Three modes ({@link FiniteCheckMode}):
 * - `'off'`: nothing is checked.
 * - `'checkpoint'` (the CLI default): {@link FiniteChecker.checkpoint} checks every watched tensor
 *   once; costs one reduction per tensor and one asynchronous read per checkpoint.
 * - `'step'`: {@link FiniteChecker.step} also queues the same on-device reduction after every step
 *   and reads its result asynchronously (`await data()`), never synchronously, so it also works on
 *   backends without synchronous reads (webgpu in Node). Cost per step: one sum per watched tensor
 *   whose data changed since the previous step (NaN/Inf exactly when an element is, or when the
 *   float32 sum overflows; weights between updates are skipped), four kernels per spike history,
 *   one `stack`, and one asynchronous read per `readEvery` steps (default 16; `npm run bench
 *   finite-check` measures the cost).
 *   The read of step k completes when the caller next yields to the event loop; the error is raised
 *   by the next `step()`, `flush()` or `checkpoint()` call and names the step at which the value
 *   was first seen.
 *
 * The error is a {@link NonFiniteError} naming the tensor by its module path and state name
 * (`layer.neuron.voltage`) and the step. Synapse spike histories (states `spike_<k>`) are also
 * checked to hold only 0 and 1: spike values handed to a connection or layer cannot be checked at
 * the call without a synchronous read, so they are caught here.
 * @module
 */
import { tf } from './tf.js';
import { CinderArgumentError, checkInteger, checkOneOf } from './errors.js';
import { Module } from './module.js';

/** When finite checks run. */
export type FiniteCheckMode = 'off' | 'checkpoint' | 'step';

/** The accepted {@link FiniteCheckMode} values (also the CLI's `--check-finite` choices). */
export const FINITE_CHECK_MODES: readonly FiniteCheckMode[] = ['off', 'checkpoint', 'step'];

/** Validates a {@link FiniteCheckMode}. */
export function checkFiniteMode(param: string, value: unknown): FiniteCheckMode {
  if (typeof value !== 'string') throw new CinderArgumentError(param, value, `one of ${FINITE_CHECK_MODES.map((m) => JSON.stringify(m)).join(', ')}`);
  return checkOneOf(param, value, FINITE_CHECK_MODES);
}

/**
 * A NaN or ±Inf was found in a tensor (or a reported metric), or a spike state held a value other
 * than 0 and 1 (`kind` `'not 0/1'`).
 */
export class NonFiniteError extends Error {
  /**
   * @param tensor the tensor's path (`layer.neuron.voltage`) or the metric's name
   * @param step the step (or checkpoint) at which it was first seen; undefined when unknown
   * @param kind `'NaN'`, `'Inf'`, `'NaN or Inf'` or `'not 0/1'`
   * @param unit what `step` counts: `'step'` (default), `'checkpoint'`, `'batch'`
   */
  constructor(
    readonly tensor: string,
    readonly step: number | undefined,
    readonly kind = 'NaN or Inf',
    readonly unit = 'step',
  ) {
    const what = kind === 'not 0/1' ? 'a spike value other than 0 and 1' : `non-finite value (${kind})`;
    super(`${what} in ${tensor}${step === undefined ? '' : ` at ${unit} ${step}`}`);
    this.name = 'NonFiniteError';
  }
}

/**
 * Spike histories handed in from outside (`spike_0`, `spike_3`, … of synapses) must hold only 0 and
 * 1; a model's own `spike` state is a cast of a comparison and needs no such check.
 */
function isSpikeName(path: string): boolean {
  return /^spike_\d+$/.test(path.slice(path.lastIndexOf('.') + 1));
}

/** The first problem in a read-back flag vector, or null. */
function firstProblem(names: readonly string[], v: ArrayLike<number>, step: number | undefined, unit = 'step'): NonFiniteError | null {
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isFinite(x)) return new NonFiniteError(names[i]!, step, 'NaN or Inf', unit);
    if (x !== 0 && isSpikeName(names[i]!)) return new NonFiniteError(names[i]!, step, 'not 0/1', unit);
  }
  return null;
}

/** Every parameter and state of `module` under `prefix.`, as [path, tensor]. */
function tensorsOf(prefix: string, module: Module): [string, tf.Tensor][] {
  const out: [string, tf.Tensor][] = [];
  const p = prefix === '' ? '' : `${prefix}.`;
  for (const [n, par] of module.namedParameters(p)) out.push([n, par.value]);
  for (const [n, s] of module.namedStates(p)) out.push([n, s.value]);
  return out;
}

/**
 * One float per tensor (kept; the caller disposes). For most tensors Σx: NaN or ±Inf exactly when
 * some element is NaN or ±Inf, or when the float32 sum overflows (|Σx| > 3.4e38, i.e. values within
 * a factor n of float32's limit — reported as a fault too). For spike histories Σ|x·(x − 1)|: 0 when
 * every value is 0 or 1, positive for other finite values, NaN/Inf for non-finite ones. Cost: one
 * kernel per tensor (four per spike history) and one `stack`.
 */
function flagsOf(named: readonly [string, tf.Tensor][]): tf.Tensor1D {
  // Kept, so that a call inside a caller's tf.tidy survives until its asynchronous read is done.
  return tf.keep(
    tf.tidy(() =>
      tf.stack(
        named.map(([name, t]) => {
          const x = t.dtype === 'float32' ? t : tf.cast(t, 'float32');
          return isSpikeName(name) ? tf.sum(tf.abs(tf.mul(x, tf.sub(x, 1)))) : tf.sum(x);
        }),
      ) as tf.Tensor1D,
    ),
  );
}

/**
 * Checks every parameter and state of the given modules once and throws a {@link NonFiniteError}
 * naming the first non-finite tensor. Reads one small vector asynchronously.
 * @param modules modules by name (the name prefixes the tensor paths); a single module is named ''
 * @param step reported in the error
 * @param unit what `step` counts (`'step'`, `'checkpoint'`, …)
 */
export async function assertFiniteModules(modules: Module | Record<string, Module>, step?: number, unit = 'step'): Promise<void> {
  const entries = modules instanceof Module ? [['', modules] as [string, Module]] : Object.entries(modules);
  const named = entries.flatMap(([n, m]) => tensorsOf(n, m)).filter(([, t]) => t.size > 0 && t.dtype !== 'string');
  if (named.length === 0) return;
  const flags = flagsOf(named);
  try {
    const problem = firstProblem(named.map(([n]) => n), await flags.data(), step, unit);
    if (problem) throw problem;
  } finally {
    flags.dispose();
  }
}

/**
 * Throws a {@link NonFiniteError} naming the first non-finite number in a (nested) summary object
 * of metrics; `null` and non-numbers are ignored.
 */
export function assertFiniteMetrics(metrics: unknown, step?: number, unit = 'checkpoint', path = ''): void {
  if (typeof metrics === 'number') {
    if (!Number.isFinite(metrics)) throw new NonFiniteError(`metric ${path || '(value)'}`, step, Number.isNaN(metrics) ? 'NaN' : 'Inf', unit);
    return;
  }
  if (Array.isArray(metrics)) {
    metrics.forEach((x, i) => assertFiniteMetrics(x, step, unit, `${path}[${i}]`));
    return;
  }
  if (metrics !== null && typeof metrics === 'object' && !ArrayBuffer.isView(metrics)) {
    for (const [k, v] of Object.entries(metrics as Record<string, unknown>)) assertFiniteMetrics(v, step, unit, path ? `${path}.${k}` : k);
  }
}

/**
 * Watches module trees (and the host arrays of event-driven engines, {@link FiniteChecker.watchArrays})
 * for NaN/Inf in the chosen {@link FiniteCheckMode}. Use `watch(name, module)` once, `step(i)` after every simulation step (only does work in `'step'` mode, never reads
 * synchronously) and `await checkpoint(i)` at checkpoints (does work unless `'off'`).
 */
export class FiniteChecker {
  /** The mode. */
  readonly mode: FiniteCheckMode;
  private readonly modules = new Map<string, Module>();
  /** Host arrays of engines that keep their state in typed arrays (see {@link watchArrays}). */
  private readonly hosts = new Map<string, () => Record<string, ArrayLike<number>>>();
  private pending: Promise<void>[] = [];
  private failure: NonFiniteError | null = null;
  private readonly seen = new Map<string, object>();

  /** Per-step results held on the device until they are read together. */
  private queued: { flags: tf.Tensor1D; names: string[]; step: number }[] = [];
  /** Steps whose results are read with one asynchronous read (`'step'` mode). */
  readonly readEvery: number;

  /**
   * @param mode when to check (default `'checkpoint'`)
   * @param options `readEvery`: in `'step'` mode the per-step results of this many steps are read
   *   back together (default 16; each keeps its own step index, so the error still names the first
   *   bad step; 1 reads after every step)
   */
  constructor(mode: FiniteCheckMode = 'checkpoint', options: { readEvery?: number } = {}) {
    this.mode = checkFiniteMode('checkFinite', mode);
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, 'an object {readEvery?}');
    this.readEvery = checkInteger('readEvery', options.readEvery ?? 16, 1);
  }

  /** Adds a module tree; its tensors are reported as `<name>.<path>`. Returns `this`. */
  watch(name: string, module: Module): this {
    if (typeof name !== 'string' || name === '') throw new CinderArgumentError('name', name, 'a non-empty string');
    if (!(module instanceof Module)) throw new CinderArgumentError('module', module, 'a Module');
    if (this.modules.has(name) || this.hosts.has(name)) throw new CinderArgumentError('name', name, 'a name not already watched');
    this.modules.set(name, module);
    return this;
  }

  /**
   * Adds an engine that keeps its state in host arrays (an event-driven engine: no tensors): `arrays`
   * returns its named arrays now (e.g. `{ v, ge, gi }`), reported as `<name>.<key>`. They are
   * checked where tensors are — every step in `'step'` mode (a JavaScript scan, no read; the error
   * is thrown by that `step()`), at every checkpoint unless `'off'`. Returns `this`.
   */
  watchArrays(name: string, arrays: () => Record<string, ArrayLike<number>>): this {
    if (typeof name !== 'string' || name === '') throw new CinderArgumentError('name', name, 'a non-empty string');
    if (typeof arrays !== 'function') throw new CinderArgumentError('arrays', arrays, 'a function returning { key: array }');
    if (this.modules.has(name) || this.hosts.has(name)) throw new CinderArgumentError('name', name, 'a name not already watched');
    this.hosts.set(name, arrays);
    return this;
  }

  /** The first non-finite value of the watched host arrays, as an error at `index`, or null. */
  private hostProblem(index: number | undefined, unit: string): NonFiniteError | null {
    for (const [name, get] of this.hosts) {
      for (const [key, a] of Object.entries(get())) {
        for (let i = 0; i < a.length; i++) {
          const x = a[i]!;
          if (!(x - x === 0)) return new NonFiniteError(`${name}.${key}[${i}]`, index, Number.isNaN(x) ? 'NaN' : 'Inf', unit);
        }
      }
    }
    return null;
  }

  /** The first failure found by a per-step check whose read has completed, or null. */
  get error(): NonFiniteError | null {
    return this.failure;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * After step `index`: in `'step'` mode queues the on-device reduction (read asynchronously with
   * those of the next steps, every `readEvery` steps); throws the error of an earlier step whose
   * read has completed. May be called inside `tf.tidy` (the queued tensors are kept until read).
   */
  step(index: number): void {
    this.throwIfFailed();
    if (this.mode !== 'step') return;
    if (this.hosts.size > 0) {
      const problem = this.hostProblem(index, 'step');
      if (problem) throw (this.failure = problem);
    }
    if (this.modules.size === 0) return;
    // Only tensors whose data changed since the last step are reduced again: a variable gets new
    // data on every assign, so unchanged parameters (weights between updates) cost nothing.
    const named = [...this.modules]
      .flatMap(([n, m]) => tensorsOf(n, m))
      .filter(([n, t]) => {
        const id = (t as unknown as { dataId: object }).dataId;
        if (t.size === 0 || this.seen.get(n) === id) return false;
        this.seen.set(n, id);
        return true;
      });
    if (named.length === 0) return;
    this.queued.push({ flags: flagsOf(named), names: named.map(([n]) => n), step: index });
    if (this.queued.length >= this.readEvery) this.read();
  }

  /** Starts one asynchronous read of every queued per-step result. */
  private read(): void {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    const all = batch.length === 1 ? batch[0]!.flags : tf.keep(tf.concat(batch.map((b) => b.flags)));
    if (batch.length > 1) for (const b of batch) b.flags.dispose();
    this.pending.push(
      all.data().then(
        (v) => {
          all.dispose();
          let offset = 0;
          for (const b of batch) {
            const problem = firstProblem(b.names, v.subarray(offset, offset + b.names.length), b.step);
            offset += b.names.length;
            if (problem && (this.failure === null || (this.failure.step ?? Infinity) > b.step)) this.failure = problem;
            if (problem) break;
          }
        },
        (e: unknown) => {
          all.dispose();
          throw e;
        },
      ),
    );
  }

  /** Reads every queued per-step result, waits for the reads and throws the first failure (earliest step). */
  async flush(): Promise<void> {
    this.read();
    const p = this.pending;
    this.pending = [];
    await Promise.all(p);
    this.throwIfFailed();
  }

  /**
   * At a checkpoint: waits for queued reads, then (unless `'off'`) checks every watched tensor.
   * @param index reported in the error
   * @param unit what `index` counts (default `'checkpoint'`)
   */
  async checkpoint(index?: number, unit = 'checkpoint'): Promise<void> {
    await this.flush();
    if (this.mode === 'off') return;
    const problem = this.hostProblem(index, unit);
    if (problem) throw problem;
    if (this.modules.size === 0) return;
    await assertFiniteModules(Object.fromEntries(this.modules), index, unit);
  }
}
