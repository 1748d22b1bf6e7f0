/**
 * The Diehl & Cook readout: every neuron is assigned to the class for which it fired most, and a
 * sample is classified by the mean rate of the neurons assigned to each class.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger, checkNonNegative, checkShape, numel, checkElements, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { Module } from '../../core/module.js';
import type { Parameter } from '../../core/state.js';

/** Options of {@link MaxRateClassifier}. */
export interface MaxRateClassifierOptions {
  /**
   * Decay λ ≥ 0 of the stored rates per sample of a class (default 0: plain accumulation). On an
   * update with `b_k` samples of class k, the old rates of class k are scaled by `exp(−λ·b_k)`.
   */
  decay?: number;
  /**
   * Default for {@link MaxRateClassifier.logits}: when true, a neuron's contribution to its class is
   * weighted by the fraction of its (stored) rate that belongs to that class. Default false: the
   * plain Diehl & Cook mean over the assigned neurons. (Inferno's default is true.)
   */
  proportional?: boolean;
}

/** The keys of {@link MaxRateClassifierOptions}. */
export const MAX_RATE_CLASSIFIER_OPTION_KEYS = optionKeys<MaxRateClassifierOptions>()(['decay', 'proportional']);

/** Tensors derived from the rate table; recomputed whenever the table's data changes. */
interface Derived {
  /** The rate data these were computed from. */
  key: object;
  /** Class of every neuron, int32 `[...shape]`. */
  assignments: tf.Tensor;
  /** Neurons per class, int32 `[K]`. */
  occurrences: tf.Tensor;
  /** Rates normalised to sum 1 over the classes, `[...shape, K]`. */
  proportions: tf.Tensor;
  /** Neurons per class as float32 (the divisor of the logits), `[K]`. */
  sizes: tf.Tensor;
  /** One-hot assignment matrix, `[N, K]`. */
  plain: tf.Tensor;
  /** As `plain`, each row weighted by the neuron's proportion for its class, `[N, K]`. */
  weighted: tf.Tensor;
}

/**
 * Maximum-rate classifier (Diehl & Cook 2015 readout; Inferno's `MaxRateClassifier`).
 *
 * State: a rate table `rates` of shape `[...shape, K]` (neurons × classes). With inputs `x` of shape
 * `[B, ...shape]` (spike counts or rates per sample) and labels `y` of shape `[B]`:
 *
 * - {@link update}: `rates[:, k] ← exp(−λ·b_k)·rates[:, k] + mean_{b: y_b = k} x_b`, with `b_k` the
 *   number of samples of class k in the batch (classes absent from the batch keep their rates);
 * - {@link assignments}: every neuron's class `argmax_k rates[n, k]` (argmax of the class-normalised
 *   rates, which is the same class; ties go to the lowest class index);
 * - {@link logits}: `logit[b, k] = Σ_{n assigned to k} x[b, n] / #{n assigned to k}` (0 for classes
 *   without neurons); with `proportional`, each term is weighted by `rates[n, k]/Σ_j rates[n, j]`.
 *   float32: the sum (a matMul) is divided once by the class size, so equal class means of integer
 *   counts are equal logits (ties go to the lowest class, as in Inferno);
 * - {@link predict}: `argmax_k logit[b, k]`.
 *
 * The table is a non-trainable parameter named `rates`, so it is saved and loaded with the module;
 * `clear()` does not forget it (use {@link reset}).
 */
export class MaxRateClassifier extends Module {
  /** Shape of the classified neuron group (no batch dimension). */
  readonly shape: readonly number[];
  /** Number of neurons. */
  readonly count: number;
  /** Number of classes K. */
  readonly numClasses: number;
  /** Decay λ per sample of a class. */
  readonly decay: number;
  /** Default weighting of {@link logits}. */
  readonly proportional: boolean;
  private readonly table: Parameter;
  private readonly negDecay: tf.Scalar;
  private readonly epsilon: tf.Scalar;
  private derived: Derived | null = null;

  /**
   * @param shape shape of the neuron group (an integer or an array of positive integers)
   * @param numClasses number of classes (integer ≥ 1)
   * @param options decay and default weighting
   */
  constructor(shape: number | readonly number[], numClasses: number, options: MaxRateClassifierOptions = {}) {
    if (new.target === MaxRateClassifier) checkOptionKeys('options', options, MAX_RATE_CLASSIFIER_OPTION_KEYS);
    super();
    this.shape = checkShape('shape', typeof shape === 'number' ? [shape] : (shape as number[]));
    this.count = numel(this.shape);
    this.numClasses = checkInteger('numClasses', numClasses, 1);
    checkElements('numClasses', this.count * this.numClasses, `a rate table [${this.shape.join(', ')}, ${this.numClasses}]`);
    this.decay = checkNonNegative('decay', options.decay ?? 0);
    const proportional = options.proportional ?? false;
    if (typeof proportional !== 'boolean') throw new CinderArgumentError('proportional', proportional, 'a boolean');
    this.proportional = proportional;
    this.table = this.addParameter('rates', tf.zeros([...this.shape, this.numClasses]), false);
    this.negDecay = tf.keep(tf.scalar(-this.decay));
    this.epsilon = tf.keep(tf.scalar(1e-12));
  }

  /** The rate table `[...shape, K]` (owned by the classifier). */
  get rates(): tf.Tensor {
    return this.table.value;
  }

  /** Replaces the rate table (shape `[...shape, K]`, finite, ≥ 0); the tensor is copied, not taken. */
  setRates(rates: tf.Tensor): void {
    this.checkTable(rates);
    this.table.assign(rates);
  }

  /** Class of every neuron, int32 `[...shape]` (owned by the classifier; valid until the rates change). */
  get assignments(): tf.Tensor {
    return this.current().assignments;
  }

  /** Number of neurons assigned to each class, int32 `[K]` (owned by the classifier). */
  get occurrences(): tf.Tensor {
    return this.current().occurrences;
  }

  /** Rates normalised to sum 1 over the classes, `[...shape, K]` (owned by the classifier). */
  get proportions(): tf.Tensor {
    return this.current().proportions;
  }

  /**
   * {@link MaxRateClassifier.update} without a synchronous read: the on-device count of invalid
   * inputs (NaN, ±Inf, negative) and tensor labels are downloaded together with `await data()`
   * (once per batch; the inputs themselves only when the count is not 0, to name the first invalid
   * value) and validated before anything changes.
   */
  async updateAsync(inputs: tf.Tensor, labels: tf.Tensor | readonly number[]): Promise<void> {
    const batch = this.checkInputs(inputs);
    if (labels instanceof tf.Tensor) {
      if (labels.dtype !== 'int32' || labels.rank !== 1 || labels.shape[0] !== batch) {
        throw new CinderArgumentError('labels', labels, `an int32 tensor of shape [${batch}] (${batch} integer labels in [0, ${this.numClasses - 1}])`);
      }
    }
    const count = invalidCount(inputs);
    let values: [ArrayLike<number> | undefined, ArrayLike<number> | undefined];
    try {
      values = await Promise.all([labels instanceof tf.Tensor ? labels.data() : undefined, count?.data()]);
    } finally {
      count?.dispose();
    }
    if (values[1] && values[1][0]! > 0) checkInputValues(await inputs.data(), inputs.shape);
    const labelTensor = this.checkLabels(values[0] ? Array.from(values[0]) : (labels as readonly number[]), batch);
    try {
      this.fold(inputs, labelTensor, batch);
    } finally {
      labelTensor.dispose();
    }
  }

  /**
   * Folds a batch into the rate table (see the class description). Inputs that are NaN, ±Inf or
   * negative are rejected (a {@link CinderArgumentError} naming the first, `inputs[b][…]`) before
   * anything changes. This synchronous form reads tensor labels and an on-device count of invalid
   * inputs with `dataSync`; on webgpu, which has no synchronous reads in Node, the input check is
   * skipped (tensor labels fail there): use {@link updateAsync}, which checks both.
   * @param inputs spike counts or rates `[B, ...shape]` (finite, ≥ 0; not disposed)
   * @param labels class of every sample: an int32 tensor `[B]` or an array of B integers in [0, K)
   */
  update(inputs: tf.Tensor, labels: tf.Tensor | readonly number[]): void {
    const batch = this.checkInputs(inputs);
    const labelTensor = this.checkLabels(labels, batch);
    try {
      if (tf.getBackend() !== 'webgpu') {
        const count = invalidCount(inputs);
        if (count) {
          let bad: number;
          try {
            bad = count.dataSync()[0]!;
          } finally {
            count.dispose();
          }
          if (bad > 0) checkInputValues(inputs.dataSync(), inputs.shape);
        }
      }
      this.fold(inputs, labelTensor, batch);
    } finally {
      if (labelTensor !== labels) labelTensor.dispose();
    }
  }

  /** The update of validated inputs and labels. */
  private fold(inputs: tf.Tensor, labelTensor: tf.Tensor, batch: number): void {
    const next = tf.tidy(() => {
      const x = tf.reshape(inputs.dtype === 'float32' ? inputs : tf.cast(inputs, 'float32'), [batch, this.count]);
      const onehot = tf.cast(tf.oneHot(labelTensor, this.numClasses), 'float32'); // [B, K] (the wasm backend's float32 oneHot is broken)
      const perClass = tf.sum(onehot, 0); // b_k
      const sums = tf.matMul(x, onehot, true, false); // [N, K]
      const means = tf.divNoNan(sums, perClass);
      const old = tf.reshape(this.table.value, [this.count, this.numClasses]);
      const kept = tf.mul(old, tf.exp(tf.mul(this.negDecay, perClass)));
      return tf.reshape(tf.add(kept, means), [...this.shape, this.numClasses]);
    });
    this.table.assign(next);
    next.dispose();
  }

  /**
   * Class scores `[B, K]` (a new tensor owned by the caller). The inputs are not checked (that would
   * need a read): a NaN or ±Inf input makes NaN or ±Inf logits for its sample.
   * @param inputs spike counts or rates `[B, ...shape]`
   * @param proportional weight every neuron by its class proportion (default: the constructor option)
   */
  logits(inputs: tf.Tensor, proportional = this.proportional): tf.Tensor {
    const batch = this.checkInputs(inputs);
    const d = this.current();
    return tf.tidy(() => {
      const x = tf.reshape(inputs.dtype === 'float32' ? inputs : tf.cast(inputs, 'float32'), [batch, this.count]);
      // the float32 sum over the assigned neurons, then one division by their number (as Inferno):
      // multiplying by 1/#assigned first would round every term and break exact ties
      return tf.divNoNan(tf.matMul(x, proportional ? d.weighted : d.plain), d.sizes);
    });
  }

  /**
   * Predicted class of every sample, int32 `[B]` (a new tensor owned by the caller). Ties go to the
   * lowest class index.
   * @param inputs spike counts or rates `[B, ...shape]`
   * @param proportional see {@link logits}
   */
  predict(inputs: tf.Tensor, proportional = this.proportional): tf.Tensor {
    return tf.tidy(() => tf.argMax(this.logits(inputs, proportional), 1));
  }

  /** Sets every stored rate to 0 (forgets all updates). */
  reset(): void {
    tf.tidy(() => this.table.assign(tf.zerosLike(this.table.value)));
  }

  /** Shape, number of classes, decay and default weighting (checked on load). */
  override extras(): Record<string, unknown> {
    return { shape: [...this.shape], numClasses: this.numClasses, decay: this.decay, proportional: this.proportional };
  }

  /** Frees the table, the derived tensors and the constants. */
  override dispose(): void {
    this.dropDerived();
    this.negDecay.dispose();
    this.epsilon.dispose();
    super.dispose();
  }

  /** The derived tensors of the current table (recomputed when the table's data changed). */
  private current(): Derived {
    const variable = this.table.variable;
    const key = variable.dataId;
    if (this.derived && this.derived.key === key) return this.derived;
    this.dropDerived();
    const k = this.numClasses;
    const d = tf.tidy(() => {
      const flat = tf.reshape(variable, [this.count, k]);
      const proportions = tf.div(flat, tf.maximum(tf.sum(flat, 1, true), this.epsilon));
      const assign = tf.argMax(flat, 1); // int32 [N]
      const onehot = tf.cast(tf.oneHot(assign, k), 'float32'); // [N, K]
      const occurrences = tf.sum(onehot, 0); // [K]
      const weighted = tf.mul(onehot, proportions);
      return {
        assignments: tf.keep(tf.reshape(assign, [...this.shape])),
        occurrences: tf.keep(tf.cast(occurrences, 'int32')),
        proportions: tf.keep(tf.reshape(proportions, [...this.shape, k])),
        sizes: tf.keep(occurrences),
        plain: tf.keep(onehot),
        weighted: tf.keep(weighted),
      };
    });
    this.derived = { key, ...d };
    return this.derived;
  }

  private dropDerived(): void {
    if (!this.derived) return;
    const { assignments, occurrences, proportions, sizes, plain, weighted } = this.derived;
    for (const t of [assignments, occurrences, proportions, sizes, plain, weighted]) t.dispose();
    this.derived = null;
  }

  /** Checks `inputs` is `[B, ...shape]` and returns B. */
  private checkInputs(inputs: tf.Tensor): number {
    if (!(inputs instanceof tf.Tensor)) throw new CinderArgumentError('inputs', inputs, `a tensor of shape [B, ${this.shape.join(', ')}]`);
    const s = inputs.shape;
    const ok = s.length === this.shape.length + 1 && s[0]! >= 1 && this.shape.every((d, i) => s[i + 1] === d);
    if (!ok) throw new CinderArgumentError('inputs', inputs, `shape [B, ${this.shape.join(', ')}] with B >= 1`);
    if (inputs.dtype !== 'float32' && inputs.dtype !== 'int32' && inputs.dtype !== 'bool') {
      throw new CinderArgumentError('inputs', inputs, 'a float32, int32 or bool tensor');
    }
    return s[0]!;
  }

  /** Validates labels and returns them as an int32 tensor `[B]` (the given tensor itself when it already is one). */
  private checkLabels(labels: tf.Tensor | readonly number[], batch: number): tf.Tensor {
    const k = this.numClasses;
    const expected = `${batch} integer labels in [0, ${k - 1}]`;
    if (labels instanceof tf.Tensor) {
      if (labels.dtype !== 'int32' || labels.rank !== 1 || labels.shape[0] !== batch) {
        throw new CinderArgumentError('labels', labels, `an int32 tensor of shape [${batch}] (${expected})`);
      }
      // Labels are read once per update (not per simulation step) to reject out-of-range classes,
      // which oneHot would silently drop.
      const values = labels.dataSync();
      for (let i = 0; i < values.length; i++) {
        if (values[i]! < 0 || values[i]! >= k) throw new CinderArgumentError(`labels[${i}]`, values[i], `an integer in [0, ${k - 1}]`);
      }
      return labels;
    }
    if (!Array.isArray(labels) || labels.length !== batch) throw new CinderArgumentError('labels', labels, expected);
    labels.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0 || v >= k) throw new CinderArgumentError(`labels[${i}]`, v, `an integer in [0, ${k - 1}]`);
    });
    return tf.tensor1d(labels as number[], 'int32');
  }

  private checkTable(rates: tf.Tensor): void {
    const want = [...this.shape, this.numClasses];
    if (!(rates instanceof tf.Tensor) || rates.rank !== want.length || want.some((d, i) => rates.shape[i] !== d)) {
      throw new CinderArgumentError('rates', rates, `a tensor of shape [${want.join(', ')}]`);
    }
    const bad = tf.tidy(() => tf.any(tf.logicalOr(tf.less(rates, 0), tf.logicalNot(tf.isFinite(rates)))).dataSync()[0]);
    if (bad) throw new CinderArgumentError('rates', rates, 'finite values >= 0');
  }
}

/**
 * Number of input values that are NaN, ±Inf or negative, counted on the device as a float32 scalar
 * (exact up to 2^24 values, and never 0 when one is); null for bool inputs, which are always valid.
 * The caller disposes it.
 */
function invalidCount(inputs: tf.Tensor): tf.Scalar | null {
  if (inputs.dtype === 'bool') return null;
  return tf.tidy(() => {
    const negative = tf.less(inputs, 0);
    const bad = inputs.dtype === 'int32' ? negative : tf.logicalOr(negative, tf.logicalNot(tf.isFinite(inputs)));
    return tf.sum(tf.cast(bad, 'float32')) as tf.Scalar;
  });
}

/** Throws a CinderArgumentError naming the first input value `inputs[b][…]` that is NaN, ±Inf or negative. */
function checkInputValues(data: ArrayLike<number>, shape: readonly number[]): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v >= 0 && v < Number.POSITIVE_INFINITY) continue;
    const index: number[] = [];
    let rest = i;
    for (let d = shape.length - 1; d >= 0; d--) {
      index.unshift(rest % shape[d]!);
      rest = Math.floor(rest / shape[d]!);
    }
    throw new CinderArgumentError(`inputs${index.map((k) => `[${k}]`).join('')}`, v, 'a finite value >= 0 (a spike count or rate)');
  }
}
