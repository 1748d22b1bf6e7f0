/**
 * Adam in the TensorFlow-1/Keras form that NEST's e-prop synapses use: the bias correction is folded
 * into the step size and ε is added to √v (not to √v̂):
 *
 *     m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
 *     α_k = η·√(1 − β2^k)/(1 − β1^k)
 *     w ← clip(w − α_k·m/(√v + ε), wMin, wMax)
 *
 * (tfjs's built-in `tf.train.adam` adds ε to √v̂, which differs.)
 * @module
 */
import { tf } from '../../core/tf.js';
import type { Snapshot } from '../../core/snapshot.js';
import { CinderArgumentError, FLOAT32_MAX, FLOAT32_MIN_NORMAL, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { BoundedOptimizer, WEIGHT_BOUNDS_KEYS, checkLearningRate, checkUpdates, type Optimizer, type VariableGradient, type WeightBounds } from './optimizer.js';

/** Options of {@link Adam}. */
export interface AdamOptions extends WeightBounds {
  /** Learning rate η (default 1e-3). */
  learningRate?: number;
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /**
   * ε added to √v (default 1e-7, NEST's default; its e-prop example uses 1e-8), a float32 normal
   * number: in [2^−126, FLOAT32_MAX]. A smaller ε rounds to 0 (or a subnormal that GPUs flush to
   * 0) in the float32 update, where m/(√v + ε) is then 0/0 = NaN for every weight whose gradient
   * has been 0 so far.
   */
  epsilon?: number;
}

/** The keys of {@link AdamOptions}: other keys make {@link Adam}'s constructor throw. */
export const ADAM_OPTION_KEYS = optionKeys<AdamOptions>()([...WEIGHT_BOUNDS_KEYS, 'learningRate', 'beta1', 'beta2', 'epsilon']);

/** Adam with bias-corrected step size and ε outside the square root (TensorFlow form). */
export class Adam extends BoundedOptimizer implements Optimizer {
  /** First-moment decay β1. */
  readonly beta1: number;
  /** Second-moment decay β2. */
  readonly beta2: number;
  /** ε added to √v. */
  readonly epsilon: number;
  private k = 0;
  private beta1Power = 1;
  private beta2Power = 1;
  private readonly moments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();
  private readonly c1: tf.Scalar;
  private readonly c1m: tf.Scalar;
  private readonly c2: tf.Scalar;
  private readonly c2m: tf.Scalar;
  private readonly eps: tf.Scalar;

  constructor(options: AdamOptions = {}) {
    if (new.target === Adam) checkOptionKeys('options', options, ADAM_OPTION_KEYS);
    super(options);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    for (const [n, b] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (typeof b !== 'number' || !(b >= 0 && b < 1)) throw new CinderArgumentError(n, b, 'a number in [0, 1)');
    }
    const eps = options.epsilon ?? 1e-7;
    if (typeof eps !== 'number' || !(eps >= FLOAT32_MIN_NORMAL && eps <= FLOAT32_MAX)) {
      throw new CinderArgumentError('epsilon', eps, `a number in [${FLOAT32_MIN_NORMAL}, ${FLOAT32_MAX}] (a normal float32 number > 0)`);
    }
    this.epsilon = eps;
    this.c1 = tf.keep(tf.scalar(this.beta1));
    this.c1m = tf.keep(tf.scalar(1 - this.beta1));
    this.c2 = tf.keep(tf.scalar(this.beta2));
    this.c2m = tf.keep(tf.scalar(1 - this.beta2));
    this.eps = tf.keep(tf.scalar(this.epsilon));
  }

  /** Number of steps taken so far. */
  get iterations(): number {
    return this.k;
  }

  /** The step size α_k = η·√(1 − β2^k)/(1 − β1^k) that the next step will use. */
  nextStepSize(): number {
    const b1 = this.beta1Power * this.beta1;
    const b2 = this.beta2Power * this.beta2;
    return (this.learningRate * Math.sqrt(1 - b2)) / (1 - b1);
  }

  /**
   * Applies one Adam step to every listed variable (moments are created on first sight, zero).
   * @throws CinderArgumentError, before anything changes, for an update {@link checkUpdate}
   * refuses, a variable listed twice (its moments would advance twice in one step k), or a step
   * size α_k that is not finite in float32 (η ≤ FLOAT32_MAX, but 1/(1 − β1^k) can raise it past)
   */
  apply(updates: readonly VariableGradient[]): void {
    checkUpdates(updates);
    const alpha = this.nextStepSize();
    if (!(Math.abs(Math.fround(alpha)) <= FLOAT32_MAX)) {
      throw new CinderArgumentError('learningRate', this.learningRate, `a rate whose step size α_${this.k + 1} = η·√(1 − β2^k)/(1 − β1^k) is finite in float32 (it is ${alpha})`);
    }
    this.beta1Power *= this.beta1;
    this.beta2Power *= this.beta2;
    this.k += 1;
    tf.tidy(() => {
      const a = tf.scalar(alpha);
      for (const { variable, gradient } of updates) {
        let st = this.moments.get(variable);
        if (!st) {
          st = { m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false) };
          this.moments.set(variable, st);
        }
        const g = gradient.dtype === 'float32' ? gradient : tf.cast(gradient, 'float32');
        const m = tf.add(tf.mul(st.m, this.c1), tf.mul(g, this.c1m));
        const v = tf.add(tf.mul(st.v, this.c2), tf.mul(tf.square(g), this.c2m));
        st.m.assign(m);
        st.v.assign(v);
        let w = tf.sub(variable, tf.div(tf.mul(m, a), tf.add(tf.sqrt(v), this.eps)));
        if (Number.isFinite(this.wMin) || Number.isFinite(this.wMax)) w = tf.clipByValue(w, this.wMin, this.wMax);
        variable.assign(w);
      }
    });
  }

  /**
   * Step counter, bias-correction powers and the moments of every variable seen so far, for
   * checkpoints. `names` maps each variable to a stable name (e.g. its parameter path); moments are
   * saved as `<name>.m` and `<name>.v` (copies owned by the caller).
   * @throws CinderArgumentError, before anything is copied, when a variable with moments has no
   * name, or shares it with another (one pair of copies would overwrite the other, unfreed)
   */
  snapshotState(names: ReadonlyMap<tf.Variable, string>): Snapshot {
    const taken = new Set<string>();
    for (const variable of this.moments.keys()) {
      const n = names.get(variable);
      if (n === undefined) throw new CinderArgumentError('Adam variable', variable.name, 'a variable named in the map passed to snapshotState');
      if (taken.has(n)) throw new CinderArgumentError('Adam variable name', n, 'a name given to one variable only (two variables with moments share it)');
      taken.add(n);
    }
    const tensors: Record<string, tf.Tensor> = {};
    for (const [variable, { m, v }] of this.moments) {
      const n = names.get(variable)!;
      tensors[`${n}.m`] = m.clone();
      tensors[`${n}.v`] = v.clone();
    }
    return { tensors, values: { k: this.k, beta1Power: this.beta1Power, beta2Power: this.beta2Power, learningRate: this.learningRate, ...this.settings() } };
  }

  /**
   * The settings a snapshot records and a restore compares (β1, β2, ε and the weight bounds, an
   * infinite bound as the string "Infinity" / "-Infinity": snapshots hold JSON values).
   */
  private settings(): Record<string, number | string> {
    const json = (x: number) => (Number.isFinite(x) ? x : String(x));
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, wMin: json(this.wMin), wMax: json(this.wMax) };
  }

  /**
   * Restores what {@link snapshotState} captured; `variables` maps the saved names back to variables.
   * @throws CinderArgumentError, before anything changes, for a snapshot that is not one: numbers
   * out of range (k an integer ≥ 0, β powers in [0, 1]), settings (β1, β2, ε, the weight bounds)
   * other than this optimizer's, a key other than `<name>.m`/`<name>.v`, a
   * name without a variable or two names of one variable, moments that are not float32 tensors of
   * the variable's shape (or disposed)
   */
  restoreState(s: Snapshot, variables: ReadonlyMap<string, tf.Variable>): void {
    const { k, beta1Power, beta2Power, learningRate } = s.values as Record<string, number>;
    for (const [n, x] of Object.entries({ k, beta1Power, beta2Power, learningRate })) {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new CinderArgumentError(`Adam snapshot ${n}`, x, 'a finite number');
    }
    if (!(k! >= 0 && Number.isInteger(k))) throw new CinderArgumentError('Adam snapshot k', k, 'an integer >= 0');
    for (const [n, x] of [['beta1Power', beta1Power], ['beta2Power', beta2Power]] as const) {
      if (!(x! >= 0 && x! <= 1)) throw new CinderArgumentError(`Adam snapshot ${n}`, x, `a number in [0, 1] (β${n[4]}^k)`);
    }
    checkLearningRate(learningRate!);
    // the settings: moments and powers made with other β, ε or bounds would continue another optimizer
    // (a snapshot written before they were recorded has none to compare)
    for (const [n, own] of Object.entries(this.settings())) {
      if (n in s.values && !Object.is(s.values[n], own)) throw new CinderArgumentError(`Adam snapshot ${n}`, s.values[n], `${JSON.stringify(own)} (this optimizer's; build it with the saved settings)`);
    }
    // everything is checked before the current moments are dropped: a refused snapshot changes nothing
    const pairs: [tf.Variable, tf.Tensor, tf.Tensor][] = [];
    const owner = new Map<tf.Variable, string>();
    const fine = (t: tf.Tensor | undefined, shape: number[]): boolean => t instanceof tf.Tensor && !t.isDisposed && t.dtype === 'float32' && tf.util.arraysEqual(t.shape, shape);
    for (const key of Object.keys(s.tensors)) {
      if (!key.endsWith('.m') && !key.endsWith('.v')) throw new CinderArgumentError('Adam snapshot moment', key, 'a key <name>.m or <name>.v');
      if (key.endsWith('.v') && !(`${key.slice(0, -2)}.m` in s.tensors)) throw new CinderArgumentError('Adam snapshot moment', key, 'a v moment with its m moment');
      if (!key.endsWith('.m')) continue;
      const n = key.slice(0, -2);
      const variable = variables.get(n);
      const m = s.tensors[key]!;
      const v = s.tensors[`${n}.v`];
      if (!variable) throw new CinderArgumentError('Adam snapshot variable', n, 'a variable of the target');
      if (owner.has(variable)) throw new CinderArgumentError('Adam snapshot variable', n, `a variable restored from one name only (${JSON.stringify(owner.get(variable))} names it too)`);
      owner.set(variable, n);
      if (!fine(m, variable.shape) || !fine(v, variable.shape)) {
        const bad = fine(m, variable.shape) ? v! : m;
        // a wrong shape is named by the shape, anything else (dtype, disposed) by the tensor
        const shown = bad instanceof tf.Tensor && !tf.util.arraysEqual(bad.shape, variable.shape) ? bad.shape : bad;
        throw new CinderArgumentError(`Adam moments of ${n}`, shown, `float32 m and v of shape [${variable.shape.join(', ')}], not disposed`);
      }
      pairs.push([variable, m, v!]);
    }
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
    // a variable holds its own reference to the data, so the snapshot's tensors stay the caller's
    for (const [variable, m, v] of pairs) this.moments.set(variable, { m: tf.variable(m, false), v: tf.variable(v, false) });
    this.k = k!;
    this.beta1Power = beta1Power!;
    this.beta2Power = beta2Power!;
    this.learningRate = checkLearningRate(learningRate!);
  }

  /** Frees the moment tensors and constants. */
  dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
    for (const s of [this.c1, this.c1m, this.c2, this.c2m, this.eps]) s.dispose();
  }
}

