/**
 * 2-D convolution connection on channels-last inputs.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger, checkShape, checkElements, numel } from '../../core/errors.js';
import type { ParameterName, PresynapticForm } from '../types.js';
import { Connection, type ConnectionOptions } from './connection.js';

/** Padding of {@link Conv2D}: `'valid'` (none), `'same'` (output size ⌈H/stride⌉) or a number of zero rows/columns on each side. */
export type Conv2DPadding = 'valid' | 'same' | number;

/** Options of {@link Conv2D}. */
export interface Conv2DOptions extends ConnectionOptions {
  /** Stride (default 1). */
  stride?: number | readonly [number, number];
  /** Padding (default `'valid'`). */
  padding?: Conv2DPadding;
  /** Dilation (default 1; tfjs needs stride 1 when dilation > 1). */
  dilation?: number | readonly [number, number];
}

function pair(param: string, v: number | readonly [number, number]): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : null;
  if (!p) throw new CinderArgumentError(param, v, 'a positive integer or a pair [rows, cols]');
  checkInteger(param, p[0]!, 1);
  checkInteger(param, p[1]!, 1);
  return p as [number, number];
}

function outSize(n: number, k: number, s: number, d: number, padding: Conv2DPadding): number {
  const span = (k - 1) * d + 1;
  if (padding === 'same') return Math.ceil(n / s);
  const p = padding === 'valid' ? 0 : padding;
  return Math.floor((n + 2 * p - span) / s) + 1;
}

/**
 * Convolution of inputs `[B, H, W, C]` with `F` filters: weight `[F, kh, kw, C]` (filters first,
 * then the window in the input's channels-last order), bias `[F]`, output `[B, OH, OW, F]`. The
 * forward is one `tf.conv2d` on the synapse output with a cached `[kh, kw, C, F]` filter.
 *
 * Receptive contract (im2col, receptive axis R = the L = OH·OW output locations):
 * pre `[B, H, W, C]` → unfolded patches `[B, 1, kh, kw, C, L]`, post `[B, OH, OW, F]` →
 * `[B, F, 1, 1, 1, L]`; `Σ_R pre·post` is `[B, F, kh, kw, C]`, the weight's shape. Delays are not
 * supported (`maxDelay` must be 0).
 */
export class Conv2D extends Connection {
  /** Number of filters F. */
  readonly filters: number;
  /** Kernel size [kh, kw]. */
  readonly kernel: readonly [number, number];
  /** Stride [sh, sw]. */
  readonly stride: readonly [number, number];
  /** Dilation [dh, dw]. */
  readonly dilation: readonly [number, number];
  /** Padding. */
  readonly padding: Conv2DPadding;
  private filter: tf.Tensor | null = null; // [kh, kw, C, F]
  private readonly patchFilter: tf.Tensor; // [kh, kw, C, kh·kw·C] identity

  /**
   * @param inShape input shape `[H, W, C]` (no batch)
   * @param filters number of output channels F
   * @param kernel kernel size (number or [kh, kw])
   * @param dt step length (ms)
   * @param options stride, padding, dilation and connection options
   */
  constructor(inShape: readonly [number, number, number] | readonly number[], filters: number, kernel: number | readonly [number, number], dt: number, options: Conv2DOptions = {}) {
    const s = checkShape('inShape', inShape);
    if (s.length !== 3) throw new CinderArgumentError('inShape', inShape, 'a channels-last shape [H, W, C]');
    checkInteger('filters', filters, 1);
    checkElements('filters', filters * numel(s), `an output of [${s.slice(0, 2).join(', ')}, ${filters}] at most (filters × input size)`);
    const k = pair('kernel', kernel);
    const st = pair('stride', options?.stride ?? 1);
    const dl = pair('dilation', options?.dilation ?? 1);
    if ((st[0] > 1 || st[1] > 1) && (dl[0] > 1 || dl[1] > 1)) throw new CinderArgumentError('dilation', options.dilation, 'dilation 1 when stride > 1 (tfjs limitation)');
    const padding = options?.padding ?? 'valid';
    if (padding !== 'valid' && padding !== 'same') checkInteger('padding', padding as number, 0);
    if ((options?.maxDelay ?? 0) !== 0) throw new CinderArgumentError('maxDelay', options.maxDelay, '0 (Conv2D supports no delays)');
    const [H, W, C] = s as [number, number, number];
    const oh = outSize(H, k[0], st[0], dl[0], padding);
    const ow = outSize(W, k[1], st[1], dl[1], padding);
    if (oh < 1 || ow < 1) throw new CinderArgumentError('kernel', kernel, `a kernel that fits the padded input [${H}, ${W}]`);
    super({ inShape: s, outShape: [oh, ow, filters], weightShape: [filters, k[0], k[1], C], biasShape: [filters] }, dt, options);
    this.filters = filters;
    this.kernel = k;
    this.stride = st;
    this.dilation = dl;
    this.padding = padding;
    const K = k[0] * k[1] * C;
    this.patchFilter = tf.keep(tf.tidy(() => tf.reshape(tf.eye(K), [k[0], k[1], C, K])));
    this.initialise();
  }

  protected override onParameterChange(name: ParameterName): void {
    if (name !== 'weight') return;
    this.filter?.dispose();
    const w = this.weightParameter.value;
    this.filter = tf.keep(tf.tidy(() => tf.transpose(w, [1, 2, 3, 0])));
  }

  private conv(x: tf.Tensor, filter: tf.Tensor): tf.Tensor {
    // A numeric pad is passed as explicit padding: tfjs 4.22 computes the output size of a numeric
    // pad from the kernel height only, which is wrong (and corrupts wasm memory) for kh ≠ kw.
    const p = this.padding;
    const pad: 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]] =
      typeof p === 'number' ? [[0, 0], [p, p], [p, p], [0, 0]] : p;
    return tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, this.stride as [number, number], pad, 'NHWC', this.dilation as [number, number]);
  }

  /** `[B, H, W, C]` → `[B, OH, OW, F]`. */
  forward(spikes: tf.Tensor, injected?: tf.Tensor): tf.Tensor {
    this.refresh();
    const x = this.synapse.forward(spikes, injected);
    const y = this.conv(x, this.filter!);
    const b = this.biasParameter;
    return b ? tf.add(y, b.value) : y;
  }

  protected selectDelayed(): tf.Tensor {
    throw new CinderArgumentError('maxDelay', this.maxDelay, '0 (Conv2D supports no delays)');
  }

  /** `[B, H, W, C]` → unfolded `[B, 1, kh, kw, C, L]` (no delays: both forms of {@link PresynapticForm} are this one; `form` is checked). */
  presynReceptive(x: tf.Tensor, form?: PresynapticForm): tf.Tensor {
    this.checkForm(form);
    const [H, W, C] = this.inShape as [number, number, number];
    if (!(x instanceof tf.Tensor) || x.shape.length !== 4 || x.shape[1] !== H || x.shape[2] !== W || x.shape[3] !== C) {
      throw new CinderArgumentError('x', x, `shape [B, ${H}, ${W}, ${C}]`);
    }
    const B = x.shape[0]!;
    const [kh, kw] = this.kernel;
    const L = this.outShape[0]! * this.outShape[1]!;
    return tf.tidy(() => {
      const patches = this.conv(x, this.patchFilter); // [B, OH, OW, K]
      return tf.reshape(tf.transpose(tf.reshape(patches, [B, L, kh * kw * C]), [0, 2, 1]), [B, 1, kh, kw, C, L]);
    });
  }

  /** `[B, OH, OW, F]` → `[B, F, 1, 1, 1, L]`. */
  postsynReceptive(y: tf.Tensor): tf.Tensor {
    this.checkPost(y);
    const B = y.shape[0]!;
    const L = this.outShape[0]! * this.outShape[1]!;
    return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(y, [B, L, this.filters]), [0, 2, 1]), [B, this.filters, 1, 1, 1, L]));
  }

  override dispose(): void {
    super.dispose();
    this.filter?.dispose();
    this.patchFilter.dispose();
    this.filter = null;
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), filters: this.filters, kernel: [...this.kernel], stride: [...this.stride], dilation: [...this.dilation], padding: this.padding };
  }
}
