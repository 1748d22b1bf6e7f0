/**
 * Seeded random numbers. Every stochastic part of Cinder (encoders, initialisers, tasks) draws from
 * a {@link Rng}, so the same seed gives the same numbers on every backend (numbers are generated in
 * JavaScript, then uploaded as tensors).
 * @module
 */
import seedrandom from 'seedrandom';
import { tf } from './tf.js';
import { CinderArgumentError } from './errors.js';

/**
 * The draws a generator of connectivity needs: uniform in [0, 1), standard normal, integer uniform
 * in [0, n). {@link Rng} is one; so is the counter-based `LaneRng` of the event-driven network
 * kernels (`src/kernels/js/event-network.ts`), whose streams the lateral-line model keeps.
 */
export interface RandomSource {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  /** Integer uniform in [0, n). */
  int(n: number): number;
}

/** True when `x` has the three draws of a {@link RandomSource}. */
export function isRandomSource(x: unknown): x is RandomSource {
  const r = x as Partial<RandomSource> | null;
  return typeof r === 'object' && r !== null && typeof r.uniform === 'function' && typeof r.normal === 'function' && typeof r.int === 'function';
}

/** A seeded generator (Alea) with the distributions Cinder needs. */
export class Rng implements RandomSource {
  private prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  private spareNormal: number | null = null;
  /** The seed, as a string. */
  readonly seed: string;

  /** @param seed any number or string; equal seeds give equal streams */
  constructor(seed: number | string = 0) {
    if (!((typeof seed === 'number' && Number.isFinite(seed)) || typeof seed === 'string')) {
      throw new CinderArgumentError('seed', seed, 'a finite number or a string');
    }
    this.seed = String(seed);
    this.prng = seedrandom.alea(this.seed, { state: true });
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.prng();
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    let u = 0;
    while (u === 0) u = this.prng();
    return -Math.log(u) * mean;
  }

  /**
   * Poisson-distributed integer with mean `lambda` (Knuth for small, normal-rejection-free PTRS-lite for large);
   * 0 for `lambda` ≤ 0, +Infinity for +Infinity.
   * @throws CinderArgumentError for a NaN `lambda` (the rejection loop would never accept)
   */
  poisson(lambda: number): number {
    if (Number.isNaN(lambda)) throw new CinderArgumentError('lambda', lambda, 'a number (the mean; <= 0 gives 0)');
    if (lambda <= 0) return 0;
    if (lambda === Infinity) return Infinity;
    if (lambda < 30) {
      const l = Math.exp(-lambda);
      let k = 0;
      let p = 1;
      do {
        k++;
        p *= this.prng();
      } while (p > l);
      return k - 1;
    }
    // Transformed rejection (Hörmann 1993, PTRS).
    const slam = Math.sqrt(lambda);
    const loglam = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.prng() - 0.5;
      const v = this.prng();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
    }
  }

  /** Integer uniform in [0, n) for an integer 1 ≤ n ≤ 2³²: ⌊u·n⌋ with u on a 2⁻³² grid (relative bias below n·2⁻³²; larger n would skip values). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new CinderArgumentError('n', n, 'an integer in [1, 2^32] (a draw from [0, n))');
    return Math.floor(this.prng() * n);
  }

  /**
   * Fills a new Float32Array with uniform values in [lo, hi) (lo < hi): `f(lo + (hi − lo)·u)`, where
   * `f` rounds to float32. A draw that rounds up to hi or beyond (u > 1 − 2⁻²⁵ for [0, 1): about one
   * in 3·10⁷) is stored as the largest float32 below hi instead.
   */
  uniformArray(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    const w = hi - lo;
    let below = NaN; // the largest float32 < hi, computed when first needed
    for (let i = 0; i < n; i++) {
      out[i] = lo + w * this.prng();
      if (out[i]! >= hi) out[i] = Number.isNaN(below) ? (below = float32Below(hi)) : below;
    }
    return out;
  }

  /** Fills a new Float32Array with normal values. */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Uniform tensor of the given shape. */
  uniformTensor(shape: number[], lo = 0, hi = 1): tf.Tensor {
    return tf.tensor(this.uniformArray(shape.reduce((a, b) => a * b, 1), lo, hi), shape, 'float32');
  }

  /** Normal tensor of the given shape. */
  normalTensor(shape: number[], mean = 0, std = 1): tf.Tensor {
    return tf.tensor(this.normalArray(shape.reduce((a, b) => a * b, 1), mean, std), shape, 'float32');
  }

  /**
   * The generator's position (Alea's internal state and the cached second normal), JSON-safe: a
   * generator given it by {@link setState} continues with exactly the same numbers.
   */
  getState(): RngState {
    const a = this.prng.state();
    return { seed: this.seed, alea: { c: a.c, s0: a.s0, s1: a.s1, s2: a.s2 }, spareNormal: this.spareNormal };
  }

  /**
   * Moves the generator to a position captured by {@link getState} (of a generator with the same seed).
   * @throws CinderArgumentError when `state` is not such a position
   */
  setState(state: RngState): void {
    const a = state?.alea;
    const ok = a && ['c', 's0', 's1', 's2'].every((k) => typeof (a as unknown as Record<string, unknown>)[k] === 'number' && Number.isFinite((a as unknown as Record<string, number>)[k]));
    if (!ok || (state.spareNormal !== null && !Number.isFinite(state.spareNormal))) {
      throw new CinderArgumentError('rng state', state, '{ seed, alea: { c, s0, s1, s2 }, spareNormal } from Rng.getState()');
    }
    if (state.seed !== this.seed) throw new CinderArgumentError('rng state seed', state.seed, JSON.stringify(this.seed));
    this.prng = seedrandom.alea('', { state: { c: a.c, s0: a.s0, s1: a.s1, s2: a.s2 } });
    this.spareNormal = state.spareNormal;
  }

  /** A new generator seeded from this one (for independent streams). */
  fork(): Rng {
    return new Rng(`${this.seed}/${Math.floor(this.prng() * 2 ** 32)}`);
  }
}

/** Alea's internal state (seedrandom's `state()`). */
export interface AleaState {
  /** Carry. */
  c: number;
  /** First lag value. */
  s0: number;
  /** Second lag value. */
  s1: number;
  /** Third lag value. */
  s2: number;
}

/** A generator's position, see {@link Rng.getState}. */
export interface RngState {
  /** The seed of the generator. */
  seed: string;
  /** Alea's internal state. */
  alea: AleaState;
  /** The cached second value of the last Box–Muller pair, or null. */
  spareNormal: number | null;
}

/** The largest float32 strictly below `x` (a finite number). */
function float32Below(x: number): number {
  const f = new Float32Array([x]);
  if (f[0]! < x) return f[0]!;
  const i = new Int32Array(f.buffer);
  if (f[0] === 0) i[0] = -2147483647; // −(smallest subnormal)
  else i[0]! += f[0]! > 0 ? -1 : 1;
  return f[0]!;
}

/** ln k! for k = 0 … 29, summed as ln 2 + … + ln k. */
const LOG_FACTORIAL_TABLE = ((): Float64Array => {
  const t = new Float64Array(30);
  for (let k = 2; k < 30; k++) t[k] = t[k - 1]! + Math.log(k);
  return t;
})();

/**
 * ln k! in constant time (the sum ln 2 + … + ln k took k logarithms: seconds per draw for means
 * around 1e9): the table below 30, else Stirling's series of ln Γ(n) at n = k + 1,
 * (n − ½)·ln n − n + ½·ln 2π + 1/(12n) − 1/(360n³) + 1/(1260n⁵) − 1/(1680n⁷), whose first omitted
 * term (1/(1188n⁹) < 4e−17 at n = 31) is below float64 rounding of the result (≥ 74).
 */
function logFactorial(k: number): number {
  if (k < 30) return LOG_FACTORIAL_TABLE[k]!;
  const n = k + 1;
  const r = 1 / n;
  const r2 = r * r;
  return (n - 0.5) * Math.log(n) - n + 0.9189385332046728 + r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 / 1680)));
}
