/**
 * Two-phase learning: trainers add (potentiation, depression) parts to a connection's
 * {@link Updater}; nothing changes until `connection.update()` calls {@link Updater.apply}, which
 * sums the parts, binds them to the parameter (default `P + Σpos − Σneg`) and clears them.
 * @module
 */
import { tf } from '../core/tf.js';
import { CinderArgumentError } from '../core/errors.js';
import type { Parameter } from '../core/state.js';
import type { ParameterName } from './types.js';
import type { Bounding } from './bounding.js';

/** Pending updates of one parameter. */
export class Accumulator {
  private readonly pos: tf.Tensor[] = [];
  private readonly neg: tf.Tensor[] = [];
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
    if (pos) this.pos.push(tf.keep(pos));
    if (neg) this.neg.push(tf.keep(neg));
  }

  /** True when nothing is pending. */
  get empty(): boolean {
    return this.pos.length === 0 && this.neg.length === 0;
  }

  /** Sum of pending potentiation parts (or null). Caller owns the result. */
  sumPos(): tf.Tensor | null {
    return sumAll(this.pos);
  }

  /** Sum of pending depression parts (or null). Caller owns the result. */
  sumNeg(): tf.Tensor | null {
    return sumAll(this.neg);
  }

  /** Drops pending parts. */
  clear(): void {
    for (const t of this.pos) t.dispose();
    for (const t of this.neg) t.dispose();
    this.pos.length = 0;
    this.neg.length = 0;
  }
}

function sumAll(ts: tf.Tensor[]): tf.Tensor | null {
  if (ts.length === 0) return null;
  if (ts.length === 1) return ts[0]!.clone();
  return tf.addN(ts);
}

/** The accumulators of one connection, one per updatable parameter. */
export class Updater {
  private readonly accumulators = new Map<ParameterName, Accumulator>();
  private readonly hooks = new Set<() => void>();

  /**
   * Creates one accumulator per given parameter.
   * @param targets parameters that may be updated
   * @param onApplied called with the parameter name after its value changed (masks, caches)
   */
  constructor(
    targets: Partial<Record<ParameterName, Parameter>>,
    private readonly onApplied: (name: ParameterName) => void = () => {},
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
    this.accumulator(name).bounding = bounding;
    return this;
  }

  /**
   * Registers `fn`, called after every {@link apply} that changed at least one parameter (after the
   * `onApplied` callback of the owner): post-update hooks such as `Clamping` (run in registration order). Returns a function
   * that unregisters it.
   */
  onUpdate(fn: () => void): () => void {
    if (typeof fn !== 'function') throw new CinderArgumentError('fn', fn, 'a function');
    this.hooks.add(fn);
    return () => {
      this.hooks.delete(fn);
    };
  }

  /**
   * Applies every pending update and clears the accumulators (always, also when a hook throws).
   * Without bounding `P ← P + (Σpos − Σneg)` (a missing side counts as 0); with bounding
   * `P ← P + (upper(P, Σpos) − lower(P, Σneg))`. Then the post-update hooks run.
   */
  apply(): void {
    let changed = false;
    try {
      for (const [name, acc] of this.accumulators) {
        if (acc.empty) continue;
        tf.tidy(() => {
          const pos = acc.sumPos();
          const neg = acc.sumNeg();
          const p = acc.target.value;
          const u = acc.bounding ? acc.bounding.bind(p, pos, neg) : pos && neg ? tf.sub(pos, neg) : pos ? pos : tf.neg(neg!);
          acc.target.assign(tf.add(p, u));
        });
        acc.clear();
        changed = true;
        this.onApplied(name);
      }
    } finally {
      this.clear();
    }
    if (changed) for (const fn of this.hooks) fn();
  }

  /** Drops all pending updates without applying them. */
  clear(): void {
    for (const acc of this.accumulators.values()) acc.clear();
  }
}
