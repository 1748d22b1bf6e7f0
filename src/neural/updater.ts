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

/** Pending updates of one parameter. */
export class Accumulator {
  private readonly pos: tf.Tensor[] = [];
  private readonly neg: tf.Tensor[] = [];

  constructor(readonly target: Parameter) {}

  /** Adds a potentiation part and/or a depression part (each broadcastable to the parameter; kept until apply/clear). */
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

  /**
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

  /** Applies every pending update (P ← P + Σpos − Σneg) and clears the accumulators. */
  apply(): void {
    for (const [name, acc] of this.accumulators) {
      if (acc.empty) continue;
      tf.tidy(() => {
        const pos = acc.sumPos();
        const neg = acc.sumNeg();
        const p = acc.target.value;
        const u = pos && neg ? tf.sub(pos, neg) : pos ? pos : tf.neg(neg!);
        acc.target.assign(tf.add(p, u));
      });
      acc.clear();
      this.onApplied(name);
    }
  }

  /** Drops all pending updates without applying them. */
  clear(): void {
    for (const acc of this.accumulators.values()) acc.clear();
  }
}
