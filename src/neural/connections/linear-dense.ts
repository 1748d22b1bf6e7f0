/**
 * All-to-all connection `y = x·Wᵀ + b`, with optional per-edge delays and (for subclasses) a
 * connectivity mask.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, numel, checkOptionKeys } from '../../core/errors.js';
import type { ParameterName, PresynapticForm } from '../types.js';
import { CONNECTION_OPTION_KEYS, Connection, type ConnectionOptions } from './connection.js';
import { optionClassOf } from './option-class.js';
import { fusedSparseMatmul, fusedSparseMatmulSimd, lastSparseSimdDensity, nonZeroFraction, sparseMatmulSimdApplies } from '../../kernels/js/fused-sparse-matmul.js';
import { fusedTranspose } from '../../kernels/js/fused-transpose.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';

/** Largest product (non-zero inputs × outputs) computed by the event-driven kernel on wasm/cpu. */
const SPARSE_PRODUCT_MAX = 40_000;

/**
 * Largest input density (fraction non-zero, averaged over recent forwards) for the SIMD
 * event-driven product on wasm.
 */
const SIMD_DENSITY_MAX = 0.25;
/**
 * Weight of the newest forward in that average: an exponential moving average, so a burst of
 * synchronous spikes (an inhibitory group firing together every few steps) does not turn the
 * product off, a steadily dense input does within a few forwards.
 */
const SIMD_DENSITY_WEIGHT = 0.1;
/**
 * Forwards after which the SIMD product is tried again once a dense input turned it off (a prime:
 * the retries do not keep landing on the same phase of a periodic input).
 */
const SIMD_RETRY = 97;

/** Options of {@link LinearDense}. */
export type LinearDenseOptions = ConnectionOptions;

/**
 * Dense connection with weight `W: [O, I]` (O, I = element counts of `outShape`, `inShape`) and
 * bias `[O]`.
 *
 * Forward without delays: `y = x·Wᵀ + b` as one matmul against a cached `Wᵀ` (`[I, O]`). With a
 * weight that changes every step (learning) on wasm/cpu, spike inputs take an event-driven product
 * instead: in JavaScript for small products, and at B > 1 on wasm with SIMD in WebAssembly SIMD
 * loops over a transposed copy of the weight (`fused-sparse-matmul.ts`); the sums run in another
 * order than the matmul's (float32 tolerance).
 * With delays (`maxDelay > 0`, per-edge `delay` in ms, read as whole steps `D_ji` by `delayInterp`, default ⌈d/Δt⌉):
 * `y = Σ_d H_d·(W ⊙ [D == d])ᵀ + b`, where `H_d` is the synapse output d steps ago; computed as one
 * matmul of the concatenated history `[B, (D+1)·I]` with a cached stacked masked weight
 * `[(D+1)·I, O]`, rebuilt only when the weight or the delays change.
 *
 * `synspike`/`syncurrent` with delays are per edge: `[B, O, I]` (the weight's layout behind the
 * batch), entry `[b, j, i]` = presynaptic value of i delayed by `D_ji`. {@link presynReceptive}
 * turns it into `[B, O, I, 1]`, which broadcasts against the postsynaptic `[B, O, 1, 1]`.
 */
export class LinearDense extends Connection {
  /** Number of presynaptic units I. */
  readonly inCount: number;
  /** Number of postsynaptic units O. */
  readonly outCount: number;
  /** Connectivity mask `[O, I]` (1 = edge present), or null when fully connected. */
  protected maskTensor: tf.Tensor | null = null;
  private kernel: tf.Tensor | null = null; // [I, O] or [(D+1)·I, O]
  /** Both receptive maps are plain reshapes (see {@link Receptive.receptiveIsReshape}). */
  readonly receptiveIsReshape = true;
  /** +0, added after masking to turn −0 into +0 (created at the first masked change, kept). */
  private zero: tf.Tensor | null = null;
  /** Data identity of the last weight written through the masked `assign` (already masked). */
  private maskedData: object | null = null;
  /** Forwards since the weight last changed (learning changes it every step). */
  private stableForwards = 0;
  private selector: tf.Tensor | null = null; // [O, I, D+1] one-hot of the delays in steps
  /** Input density seen by the last SIMD product (0 until one ran; above the limit it stays off). */
  private simdDensity = 0;
  /** Forwards since the SIMD product was turned off by a dense input. */
  private simdSkipped = 0;

  /**
   * @param inShape presynaptic shape (no batch)
   * @param outShape postsynaptic shape (no batch)
   * @param dt step length (ms)
   * @param options synapse, bias, delays, batch size, initialisers
   */
  constructor(inShape: readonly number[], outShape: readonly number[], dt: number, options: LinearDenseOptions = {}) {
    if (optionClassOf(new.target) === LinearDense) checkOptionKeys('options', options, CONNECTION_OPTION_KEYS);
    super(denseShapes(inShape, outShape), dt, options);
    this.inCount = numel(this.inShape);
    this.outCount = numel(this.outShape);
    if (new.target === LinearDense) this.initialise();
  }

  /**
   * Installs a mask `[O, I]` (kept; disposed with the connection) — for subclasses. From then on
   * every `assign` to the weight's {@link Parameter} stores `W ⊙ M + 0` (as Inferno's masked weight
   * setter): post-update hooks (clamping, normalization) that write the parameter and then the next
   * hook that reads it see absent edges at exactly +0. Writes to the raw variable (optimizers) are
   * masked at the next access, as before.
   */
  protected setMask(mask: tf.Tensor): void {
    this.maskTensor?.dispose();
    this.maskTensor = tf.keep(mask);
    this.weightParameter.setConstraint((t) => {
      const zero = (this.zero ??= tf.keep(tf.scalar(0)));
      const masked = tf.add(tf.mul(t, this.maskTensor!), zero); // + 0 turns −0 into +0
      this.maskedData = masked.dataId; // the variable takes this data: no second mask in onParameterChange
      return masked;
    });
  }

  protected override transformsOnChange(name: ParameterName): boolean {
    return super.transformsOnChange(name) || (name === 'weight' && this.maskTensor !== null);
  }

  protected override onParameterChange(name: ParameterName): void {
    if (name === 'bias') return;
    const w = this.weightParameter;
    if (name === 'weight' && this.maskTensor && this.maskedData !== w.value.dataId) {
      const m = this.maskTensor;
      const zero = (this.zero ??= tf.keep(tf.scalar(0)));
      tf.tidy(() => w.assign(tf.add(tf.mul(w.value, m), zero))); // + 0 turns −0 into +0
    }
    // The matmul kernel is rebuilt lazily at the next forward, so several changes in one step
    // (update, then a clamping hook) cost one rebuild.
    this.kernel?.dispose();
    this.kernel = null;
    this.stableForwards = 0;
    if (name === 'delay' || !this.selector) {
      this.selector?.dispose();
      this.selector = this.hasDelays ? tf.keep(this.delayOneHot()) : null; // [O, I, D+1]
    }
  }

  /** The matmul kernel: `[I, O]`, or `[(D+1)·I, O]` with delays (built on demand, kept until a change). */
  private matmulKernel(): tf.Tensor {
    if (this.kernel) return this.kernel;
    const w = this.weightParameter;
    if (!this.hasDelays) {
      this.kernel = tf.keep(tf.tidy(() => tf.transpose(w.value)));
    } else {
      const D1 = this.delaySteps + 1;
      const [O, I] = [this.outCount, this.inCount];
      const sel = this.selector!;
      this.kernel = tf.keep(tf.tidy(() => tf.reshape(tf.transpose(tf.mul(tf.expandDims(w.value, 2), sel), [2, 1, 0]), [D1 * I, O])));
    }
    return this.kernel;
  }

  /** `[B, ...inShape]` → `[B, ...outShape]`. */
  forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
    this.refresh();
    const x = this.synapse.forward(spikes, injected);
    const B = this.batchSize;
    let h: tf.Tensor;
    if (!this.hasDelays) {
      h = this.inShape.length === 1 ? x : tf.reshape(x, [B, this.inCount]);
    } else {
      const parts: tf.Tensor[] = [];
      for (let d = 0; d <= this.delaySteps; d++) {
        const c = this.synapse.currentAgo(d);
        parts.push(this.inShape.length === 1 ? c : tf.reshape(c, [B, this.inCount]));
      }
      h = tf.concat(parts, 1);
    }
    // Batch 1, no delays, weight changing every step (learning): multiply by Wᵀ inside the kernel
    // (transposeB) instead of transposing the weight after every update. Static weights and larger
    // batches use the cached transposed kernel, which is faster there (measured on wasm).
    const changing = this.kernel === null && this.stableForwards < 2;
    const learning = !this.hasDelays && B === 1 && changing;
    this.stableForwards++;
    // after a dense input, the SIMD product is tried again every SIMD_RETRY forwards
    if (this.simdDensity > SIMD_DENSITY_MAX && ++this.simdSkipped >= SIMD_RETRY) this.simdDensity = this.simdSkipped = 0;
    let y: tf.Tensor;
    if (!this.hasDelays && B > 1 && this.simdDensity <= SIMD_DENSITY_MAX && sparseMatmulSimdApplies(h, this.weightParameter.value)) {
      // wasm with SIMD, a batch of spikes: event-driven product on a transposed copy of the weight
      // (a changing weight: the kernel's, which the SIMD update writes; a static one: the cached
      // matmul kernel), 4 outputs per vector operation. The kernel measures the input's density;
      // its moving average above SIMD_DENSITY_MAX turns the matrix product back on.
      y = fusedSparseMatmulSimd(h, this.weightParameter.value, changing ? undefined : this.matmulKernel());
      this.simdDensity += SIMD_DENSITY_WEIGHT * (lastSparseSimdDensity() - this.simdDensity);
    } else if (!this.hasDelays && changing && this.sparseInput(h)) {
      // wasm/cpu, weight changing every step, mostly-zero input (spikes): event-driven product
      y = fusedSparseMatmul(h, this.weightParameter.value);
    } else if (!this.hasDelays && changing && B > 1 && fusedBackend() && h.dtype === 'float32') {
      // wasm/cpu, weight changing every step, larger batch: y = (W·xᵀ)ᵀ, so the product's packed
      // operand is the small xᵀ rather than a new Wᵀ every step (measured on wasm: ≈ 2.5× faster)
      y = fusedTranspose(tf.matMul(this.weightParameter.value, fusedTranspose(h)));
    } else {
      y = learning ? tf.matMul(h, this.weightParameter.value, false, true) : tf.matMul(h, this.matmulKernel());
    }
    const b = this.biasParameter;
    if (b) y = tf.add(y, b.value);
    return this.outShape.length === 1 ? y : tf.reshape(y, [B, ...this.outShape]);
  }

  /**
   * True when the fused event-driven product applies: wasm/cpu, and the non-zero inputs times the
   * outputs stay under {@link SPARSE_PRODUCT_MAX} multiply-adds (spikes at small batches; at larger
   * ones the backend's vectorised product is faster, measured on wasm).
   */
  private sparseInput(h: tf.Tensor): boolean {
    const limit = SPARSE_PRODUCT_MAX / (this.outCount * h.size);
    if (limit < 1e-3) return false;
    const frac = nonZeroFraction(h, Math.min(limit, 0.25));
    return frac !== null && frac <= Math.min(limit, 0.25);
  }

  protected selectDelayed(ago: (k: number) => tf.Tensor): tf.Tensor {
    const B = this.batchSize;
    return tf.tidy(() => {
      const parts: tf.Tensor[] = [];
      for (let d = 0; d <= this.delaySteps; d++) parts.push(tf.reshape(ago(d), [B, 1, this.inCount]));
      const stacked = tf.stack(parts, 3); // [B, 1, I, D+1]
      return tf.sum(tf.mul(stacked, this.selector!), 3); // [B, O, I]
    });
  }

  /**
   * Presynaptic `[B, ...inShape]` → `[B, 1, I, 1]`; per-edge `[B, O, I]` (delays) → `[B, O, I, 1]`.
   * `form` (see {@link PresynapticForm}): `'presynaptic'` takes only the first, `'synaptic'` with
   * delays only the second; omitted, the form is recognised by the element count per sample (with
   * O = 1 both forms are `[B, 1, I, 1]`).
   */
  presynReceptive(x: tf.Tensor, form?: PresynapticForm): tf.Tensor {
    const f = this.checkForm(form);
    const unit = `shape [B, ${this.inShape.join(', ')}]`;
    const edge = `per-edge [B, ${this.outCount}, ${this.inCount}]`;
    const want = f === 'presynaptic' || !this.hasDelays ? unit : f === 'synaptic' ? edge : `${unit} or ${edge}`;
    if (!(x instanceof tf.Tensor) || x.rank < 1) throw new CinderArgumentError('x', x, want);
    const B = x.shape[0]!;
    const per = x.size / B;
    if ((f !== 'synaptic' || !this.hasDelays) && per === this.inCount) return tf.reshape(x, [B, 1, this.inCount, 1]);
    if (f !== 'presynaptic' && (this.hasDelays || f === undefined) && per === this.outCount * this.inCount) return tf.reshape(x, [B, this.outCount, this.inCount, 1]);
    throw new CinderArgumentError('x', x, want);
  }

  /** Postsynaptic `[B, ...outShape]` → `[B, O, 1, 1]`. */
  postsynReceptive(y: tf.Tensor): tf.Tensor {
    this.checkPost(y);
    return tf.reshape(y, [y.shape[0]!, this.outCount, 1, 1]);
  }

  override dispose(): void {
    super.dispose();
    this.kernel?.dispose();
    this.selector?.dispose();
    this.maskTensor?.dispose();
    this.zero?.dispose();
    this.zero = null;
    this.kernel = this.selector = this.maskTensor = null;
  }
}

function denseShapes(inShape: readonly number[], outShape: readonly number[]) {
  const I = Array.isArray(inShape) ? numel(inShape) : NaN;
  const O = Array.isArray(outShape) ? numel(outShape) : NaN;
  return { inShape, outShape, weightShape: [O, I], biasShape: [O] };
}
