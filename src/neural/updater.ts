/**
 * Two-phase learning: trainers add (potentiation, depression) parts to a connection's
 * {@link Updater}; nothing changes until `connection.update()` calls {@link Updater.apply}, which
 * sums the parts, binds them to the parameter (default `P + Σpos − Σneg`) and clears them.
 * @module
 */
import { share, tf } from '../core/tf.js';
import { CinderArgumentError } from '../core/errors.js';
import type { Parameter } from '../core/state.js';
import type { ParameterName } from './types.js';
import { Bounding } from './bounding.js';
import { ScalarCache } from '../core/scalars.js';
import { fusedBackend } from '../kernels/js/fused-memory.js';
import { fusedOuterUpdate, type OuterClamp, type OuterTerm } from '../kernels/js/fused-outer-update.js';
import { stepProgramsOn } from '../kernels/webgpu/step-program.js';
import { outerUpdateFits, outerUpdateWebgpu } from '../kernels/webgpu/step-update.js';

/**
 * A pending part given as an outer product, kept unevaluated until the update is applied:
 * `(Σ_b post[b]ᵀ ⊗ pre[b]) / divisor`, shaped like the (2-D, `[P, Q]`-sized) parameter. On wasm/cpu
 * {@link Updater.apply} evaluates all of a parameter's outer parts, the bounding, the add and the
 * fusable clamps in one fused kernel; otherwise (or when read through `sumPos`/`sumNeg`) each part
 * is one matrix product.
 */
export interface OuterPart {
  /** Postsynaptic factor with `B·P` elements (B = its first dimension). */
  post: tf.Tensor;
  /** Presynaptic factor with `B·Q` elements. */
  pre: tf.Tensor;
  /** Divides the batch sum (B for a batch mean, 1 for a sum). */
  divisor: number;
}

/** A clamping that {@link Updater.apply} may fold into a fused update (see {@link Updater.onUpdate}). */
export interface FusableClamp extends OuterClamp {
  /** The tensor the hook clamps (fused only when it is the updated parameter). */
  target: unknown;
  /** Whether the hook runs now (train-only gates). */
  active: () => boolean;
}

/** The pending parts of an {@link Accumulator} at one moment (see {@link Accumulator.mark}). */
export interface AccumulatorMark {
  /** Potentiation parts. */
  readonly pos: number;
  /** Depression parts. */
  readonly neg: number;
  /** Outer-product parts. */
  readonly outer: number;
}

/** Pending updates of one parameter. */
export class Accumulator {
  private readonly pos: tf.Tensor[] = [];
  private readonly neg: tf.Tensor[] = [];
  private readonly outer: { part: OuterPart; side: 'pos' | 'neg' }[] = [];
  private readonly scalars = new ScalarCache(4);
  /**
   * Weight dependence applied by {@link Updater.apply}: `P ← P + upper(P, Σpos) − lower(P, Σneg)`.
   * `null` (default) gives `P ← P + (Σpos − Σneg)`. Not owned: dispose it yourself when done.
   */
  bounding: Bounding | null = null;

  /**
   * Creates an empty accumulator.
   * @param target the parameter the pending parts update
   */
  constructor(readonly target: Parameter) {}

  /**
   * Adds a potentiation part and/or a depression part (each broadcastable to the parameter). Takes
   * ownership: the tensors are kept until apply/clear and then disposed (pass a clone to keep one).
   */
  add(pos?: tf.Tensor | null, neg?: tf.Tensor | null): void {
    if (pos) this.checkPart('pos', pos);
    if (neg) this.checkPart('neg', neg);
    if (pos) this.pos.push(tf.keep(pos));
    if (neg) this.neg.push(tf.keep(neg));
  }

  /**
   * Throws unless `t` is a live float32 tensor that broadcasts to the parameter's shape without
   * growing it (so {@link Updater.apply} cannot fail after another parameter was updated).
   */
  private checkPart(side: 'pos' | 'neg', t: tf.Tensor): void {
    const shape = this.target.shape;
    const want = `a float32 tensor broadcastable to [${shape.join(', ')}] (parameter "${this.target.name}")`;
    if (!(t instanceof tf.Tensor)) throw new CinderArgumentError(side, t, want);
    if (t.isDisposed) throw new CinderArgumentError(side, 'a disposed tensor', want);
    const off = shape.length - t.rank;
    if (t.dtype !== 'float32' || off < 0 || t.shape.some((d, i) => d !== 1 && d !== shape[off + i])) throw new CinderArgumentError(side, t, want);
  }

  /**
   * Adds a part given as an outer product (see {@link OuterPart}); needs a parameter with two
   * dimensions whose sizes are P and Q, live factor tensors and a finite divisor > 0 (checked here,
   * so {@link Updater.apply} cannot fail on them). Takes ownership of `post` and `pre` (pass clones
   * of tensors you keep using).
   */
  addOuter(side: 'pos' | 'neg', part: OuterPart): void {
    if (side !== 'pos' && side !== 'neg') throw new CinderArgumentError('side', side, '"pos" or "neg"');
    const [P, Q] = this.target.shape;
    const want = `factors [B, ${P}] and [B, ${Q}] of a 2-D parameter`;
    if (!part || typeof part !== 'object') throw new CinderArgumentError('part', part, want);
    for (const k of ['post', 'pre'] as const) {
      const t = part[k];
      if (!(t instanceof tf.Tensor)) throw new CinderArgumentError(`part.${k}`, t, 'a tensor');
      if (t.isDisposed) throw new CinderArgumentError(`part.${k}`, 'a disposed tensor', 'a live tensor');
    }
    const B = part.post.shape[0] ?? 1;
    if (this.target.shape.length !== 2 || part.post.size !== B * P! || part.pre.size !== B * Q! || part.pre.shape[0] !== B) {
      throw new CinderArgumentError('part', `post [${part.post.shape.join(', ')}], pre [${part.pre.shape.join(', ')}]`, want);
    }
    if (!(part.divisor > 0 && Number.isFinite(part.divisor))) throw new CinderArgumentError('divisor', part.divisor, 'a finite number > 0');
    this.outer.push({ part: { post: tf.keep(part.post), pre: tf.keep(part.pre), divisor: part.divisor }, side });
  }

  /** True when nothing is pending. */
  get empty(): boolean {
    return this.pos.length === 0 && this.neg.length === 0 && this.outer.length === 0;
  }

  /** The pending outer-product parts as fused-kernel terms when every pending part is one, else null. */
  outerTerms(): OuterTerm[] | null {
    if (this.pos.length || this.neg.length || !this.outer.length) return null;
    return this.outer.map(({ part, side }) => ({ ...part, side }));
  }

  /** Sum of pending potentiation parts (or null). Caller owns the result. */
  sumPos(): tf.Tensor | null {
    return sumAll([...this.pos, ...this.evaluate('pos')]);
  }

  /** Sum of pending depression parts (or null). Caller owns the result. */
  sumNeg(): tf.Tensor | null {
    return sumAll([...this.neg, ...this.evaluate('neg')]);
  }

  /** The outer parts of one side as tensors (one matrix product each; new tensors). */
  private evaluate(side: 'pos' | 'neg'): tf.Tensor[] {
    const [P, Q] = this.target.shape as [number, number];
    return this.outer
      .filter((o) => o.side === side)
      .map(({ part }) =>
        tf.tidy(() => {
          const B = part.post.shape[0] ?? 1;
          const post = part.post.shape.length === 2 ? part.post : tf.reshape(part.post, [B, P]);
          const pre = part.pre.shape.length === 2 ? part.pre : tf.reshape(part.pre, [B, Q]);
          const m = tf.matMul(post, pre, true, false);
          return part.divisor === 1 ? m : tf.div(m, this.scalars.get(part.divisor));
        }),
      );
  }

  /** The number of pending parts of each kind, for {@link rollback}. */
  mark(): AccumulatorMark {
    return { pos: this.pos.length, neg: this.neg.length, outer: this.outer.length };
  }

  /** Drops (and frees) the parts added since `mark` was taken; the earlier ones stay pending. */
  rollback(mark: AccumulatorMark): void {
    for (const t of this.pos.splice(mark.pos)) t.dispose();
    for (const t of this.neg.splice(mark.neg)) t.dispose();
    for (const { part } of this.outer.splice(mark.outer)) {
      part.post.dispose();
      part.pre.dispose();
    }
  }

  /** Drops pending parts. */
  clear(): void {
    for (const t of this.pos) t.dispose();
    for (const t of this.neg) t.dispose();
    for (const { part } of this.outer) {
      part.post.dispose();
      part.pre.dispose();
    }
    this.pos.length = 0;
    this.neg.length = 0;
    this.outer.length = 0;
  }

  /** Drops pending parts and frees cached constants. */
  dispose(): void {
    this.clear();
    this.scalars.dispose();
  }
}

function sumAll(ts: tf.Tensor[]): tf.Tensor | null {
  if (ts.length === 0) return null;
  if (ts.length === 1) return share(ts[0]!);
  return tf.addN(ts);
}

/** The accumulators of one connection, one per updatable parameter. */
export class Updater {
  private readonly accumulators = new Map<ParameterName, Accumulator>();
  private readonly hooks = new Map<() => void, FusableClamp | null>();

  /**
   * Creates one accumulator per given parameter.
   * @param targets parameters that may be updated
   * @param onApplied called with the parameter name after its value changed (masks, caches)
   * @param transformsOnApply true for a parameter whose `onApplied` changes its value (e.g. masks):
   *   clamps are then not folded into a fused update (they must run after that change)
   */
  constructor(
    targets: Partial<Record<ParameterName, Parameter>>,
    private readonly onApplied: (name: ParameterName) => void = () => {},
    private readonly transformsOnApply: (name: ParameterName) => boolean = () => false,
  ) {
    for (const [name, p] of Object.entries(targets) as [ParameterName, Parameter | undefined][]) {
      if (p) this.accumulators.set(name, new Accumulator(p));
    }
  }

  /** The accumulator of `name`. */
  accumulator(name: ParameterName): Accumulator {
    const a = this.accumulators.get(name);
    if (!a) throw new CinderArgumentError('parameter', name, `one of ${[...this.accumulators.keys()].join(', ')}`);
    return a;
  }

  /** Shorthand for `accumulator(name).add(pos, neg)`. */
  add(name: ParameterName, pos?: tf.Tensor | null, neg?: tf.Tensor | null): void {
    this.accumulator(name).add(pos, neg);
  }

  /** Names of the parameters this updater can change. */
  get names(): ParameterName[] {
    return [...this.accumulators.keys()];
  }

  /**
   * Installs (or with `null` removes) the weight dependence of parameter `name`; returns `this`.
   * The bounding is not owned by the updater.
   */
  bound(name: ParameterName, bounding: Bounding | null): this {
    const acc = this.accumulator(name);
    if (bounding !== null && !(bounding instanceof Bounding)) throw new CinderArgumentError('bounding', bounding, 'a Bounding or null');
    acc.bounding = bounding;
    return this;
  }

  /**
   * Registers `fn`, called after every {@link apply} that changed at least one parameter (after the
   * `onApplied` callback of the owner): post-update hooks such as `Clamping` (run in registration order). Returns a function
   * that unregisters it. `fusable` describes a hook that only clamps a tensor: when it is the updated
   * parameter and the hook is among the first registered, a fused update applies it in the same pass
   * (and `fn` is not called for that update).
   */
  onUpdate(fn: () => void, fusable: FusableClamp | null = null): () => void {
    if (typeof fn !== 'function') throw new CinderArgumentError('fn', fn, 'a function');
    this.hooks.set(fn, fusable);
    return () => {
      this.hooks.delete(fn);
    };
  }

  /**
   * Applies every pending update and clears the accumulators (always, also when a hook throws).
   * Without bounding `P ← P + (Σpos − Σneg)` (a missing side counts as 0); with bounding
   * `P ← P + (upper(P, Σpos) − lower(P, Σneg))`. Then the post-update hooks run. Every new value
   * is computed before any is assigned, so an apply that fails (e.g. a bounding disposed while
   * installed) changes no parameter; its pending parts are dropped and the error rethrown. A hook
   * that throws likewise leaves every parameter this apply updated at its value before the call
   * (hooks that ran before it included), with the parts dropped and the error rethrown.
   */
  apply(): void {
    const staged: { name: ParameterName; acc: Accumulator; next: tf.Tensor; fused: readonly (() => void)[] }[] = [];
    let hooks: (() => void)[] = [];
    // the values before the update, kept (zero-copy handles) only when unfused hooks will run: a
    // hook that throws puts them back
    let before: tf.Tensor[] | null = null;
    try {
      for (const [name, acc] of this.accumulators) {
        if (acc.empty) continue;
        const fused = this.fusedNext(name, acc);
        if (fused) {
          staged.push({ name, acc, ...fused });
          continue;
        }
        const next = tf.tidy(() => {
          const pos = acc.sumPos();
          const neg = acc.sumNeg();
          const p = acc.target.value;
          const u = acc.bounding ? acc.bounding.bind(p, pos, neg) : pos && neg ? tf.sub(pos, neg) : pos ? pos : tf.neg(neg!);
          return tf.add(p, u);
        });
        staged.push({ name, acc, next, fused: [] });
      }
      if (staged.length > 0) {
        const skip = new Set(staged.flatMap((s) => s.fused));
        hooks = [...this.hooks.keys()].filter((fn) => !skip.has(fn));
        if (hooks.length > 0) before = staged.map((s) => share(s.acc.target.value));
      }
      for (const { name, acc, next } of staged) {
        acc.target.assign(next);
        acc.clear();
        this.onApplied(name);
      }
    } finally {
      for (const { next } of staged) next.dispose();
      this.clear();
    }
    if (hooks.length === 0) return;
    try {
      for (const fn of hooks) fn();
    } catch (err) {
      // no half-hooked parameter: every updated parameter goes back to its value before apply
      staged.forEach(({ name, acc }, i) => {
        acc.target.assign(before![i]!);
        this.onApplied(name);
      });
      throw err;
    } finally {
      tf.dispose(before!);
    }
  }

  /**
   * The fused path of {@link apply} for one parameter (wasm/cpu, every pending part an outer
   * product, 2-D parameter): one kernel computes the bounded update, the add and the leading
   * clamping hooks on this parameter (returned in `fused`, not to be run again). Returns the new
   * value (not assigned), or null when the path does not apply.
   */
  private fusedNext(name: ParameterName, acc: Accumulator): { next: tf.Tensor; fused: (() => void)[] } | null {
    const webgpu = !fusedBackend() && stepProgramsOn(); // WGSL program on webgpu (step-update.ts)
    if (!(fusedBackend() || webgpu) || acc.target.shape.length !== 2 || acc.target.value.dtype !== 'float32') return null;
    const terms = acc.outerTerms();
    if (!terms || (webgpu && (!outerUpdateFits(terms.length) || terms.some((t) => t.post.dtype !== 'float32' || t.pre.dtype !== 'float32')))) return null;
    const clamps: OuterClamp[] = [];
    const fused: (() => void)[] = [];
    if (!this.transformsOnApply(name)) {
      for (const [fn, c] of this.hooks) {
        if (!c || c.target !== acc.target) break;
        if (c.active()) clamps.push({ min: c.min, max: c.max });
        fused.push(fn);
      }
    }
    const b = acc.bounding;
    const spec = b ? { kind: b.kind, boundsUpper: b.boundsUpper, boundsLower: b.boundsLower, max: b.max, min: b.min, powerUpper: b.powerUpper, powerLower: b.powerLower } : null;
    const next = (webgpu ? outerUpdateWebgpu : fusedOuterUpdate)(acc.target.value, terms, spec, clamps);
    return { next, fused };
  }

  /** Drops all pending updates without applying them. */
  clear(): void {
    for (const acc of this.accumulators.values()) acc.clear();
  }

  /**
   * Runs `fn` (which adds parts); when it throws, the parts it added to this updater are dropped,
   * those pending before the call stay, and the error is rethrown.
   */
  atomically<T>(fn: () => T): T {
    return atomicUpdates([this], fn);
  }

  /** Appends every accumulator with its current {@link Accumulator.mark} to `out`. */
  markAll(out: [Accumulator, AccumulatorMark][]): void {
    for (const acc of this.accumulators.values()) out.push([acc, acc.mark()]);
  }
}

/**
 * Runs `fn`; when it throws, the parts it added to any of `updaters` are dropped (those pending
 * before stay) and the error is rethrown: a step over several cells that fails adds nothing. (An
 * updater listed twice is marked twice; the second rollback finds nothing left to drop.)
 */
export function atomicUpdates<T>(updaters: Iterable<Updater>, fn: () => T): T {
  const marks: [Accumulator, AccumulatorMark][] = [];
  for (const u of updaters) u.markAll(marks);
  try {
    return fn();
  } catch (err) {
    for (const [acc, m] of marks) acc.rollback(m);
    throw err;
  }
}
