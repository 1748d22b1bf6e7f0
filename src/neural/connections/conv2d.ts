/**
 * 2-D convolution connection on channels-last inputs.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, checkInteger, checkShape, checkElements, numel, checkOptionKeys, optionKeys } from '../../core/errors.js';
import type { ParameterName, PresynapticForm } from '../types.js';
import { CONNECTION_OPTION_KEYS, Connection, type ConnectionOptions } from './connection.js';
import { optionClassOf } from './option-class.js';
import { fusedGatherUnits } from '../../kernels/js/fused-sparse-list.js';
import { fusedBackend } from '../../kernels/js/fused-memory.js';

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

/** The keys of {@link Conv2DOptions}: other keys make {@link Conv2D}'s constructor throw. */
export const CONV2D_OPTION_KEYS = optionKeys<Conv2DOptions>()([...CONNECTION_OPTION_KEYS, 'stride', 'padding', 'dilation']);

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
 * Gather indices of the unfold, in `[kh, kw, C, L]` order: the flat channels-last input index of each
 * window entry at each output location, or `H·W·C` (a zero appended to the input) in the padding.
 * Padding top/left: the number, 0 for `'valid'`, and for `'same'` tfjs's ⌊max(0, (O − 1)·s + span − N)/2⌋.
 */
function unfoldIndex(H: number, W: number, C: number, k: readonly [number, number], st: readonly [number, number], dl: readonly [number, number], padding: Conv2DPadding, oh: number, ow: number): Int32Array {
  const before = (n: number, o: number, kk: number, s: number, d: number): number => {
    if (padding === 'valid') return 0;
    if (padding === 'same') return Math.floor(Math.max(0, (o - 1) * s + (kk - 1) * d + 1 - n) / 2);
    return padding;
  };
  const top = before(H, oh, k[0], st[0], dl[0]);
  const left = before(W, ow, k[1], st[1], dl[1]);
  const L = oh * ow;
  const idx = new Int32Array(k[0] * k[1] * C * L);
  let n = 0;
  for (let a = 0; a < k[0]; a++) {
    for (let b = 0; b < k[1]; b++) {
      for (let c = 0; c < C; c++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * st[0] - top + a * dl[0];
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * st[1] - left + b * dl[1];
            idx[n++] = iy < 0 || iy >= H || ix < 0 || ix >= W ? H * W * C : (iy * W + ix) * C + c;
          }
        }
      }
    }
  }
  return idx;
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
  /** Unfold gather indices `[kh·kw·C·L]` (int32) into the flat input with a trailing 0 (the padding); built at the first unfold. */
  private patchIndex: tf.Tensor | null = null;
  /** The same indices on the host, for the fused JavaScript gather (wasm, cpu). */
  private patchUnits: Int32Array | null = null;

  /**
   * @param inShape input shape `[H, W, C]` (no batch)
   * @param filters number of output channels F
   * @param kernel kernel size (number or [kh, kw])
   * @param dt step length (ms)
   * @param options stride, padding, dilation and connection options
   */
  constructor(inShape: readonly [number, number, number] | readonly number[], filters: number, kernel: number | readonly [number, number], dt: number, options: Conv2DOptions = {}) {
    if (optionClassOf(new.target) === Conv2D) checkOptionKeys('options', options, CONV2D_OPTION_KEYS);
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

  /**
   * `[B, H, W, C]` → unfolded `[B, 1, kh, kw, C, L]` (no delays: both forms of {@link PresynapticForm} are this one; `form` is checked).
   * A copy (Inferno's `F.unfold`): entry `(a, b, c, l)` is the input at row `oy·sh − top + a·dh`, column
   * `ox·sw − left + b·dw`, channel c of output location l = (oy, ox), and 0 in the padding (top/left as
   * the forward's: the numeric padding, or tfjs's `'same'` split with the smaller half first); NaN and
   * ±Inf stay in the entries that hold them. A non-float32 input is cast to float32.
   */
  presynReceptive(x: tf.Tensor, form?: PresynapticForm): tf.Tensor {
    this.checkForm(form);
    const [H, W, C] = this.inShape as [number, number, number];
    if (!(x instanceof tf.Tensor) || x.shape.length !== 4 || x.shape[1] !== H || x.shape[2] !== W || x.shape[3] !== C) {
      throw new CinderArgumentError('x', x, `shape [B, ${H}, ${W}, ${C}]`);
    }
    const B = x.shape[0]!;
    const [kh, kw] = this.kernel;
    const L = this.outShape[0]! * this.outShape[1]!;
    const units = (this.patchUnits ??= unfoldIndex(H, W, C, this.kernel, this.stride, this.dilation, this.padding, this.outShape[0]!, this.outShape[1]!));
    // wasm/cpu: one fused copy (tfjs's wasm GatherV2 takes ≈ 30 ns per element: 5–7× the old
    // identity-filter convolution; the fused gather is as fast as that convolution)
    const fused = fusedBackend() !== null;
    const index = fused ? null : (this.patchIndex ??= tf.keep(tf.tensor1d(units, 'int32')));
    return tf.tidy(() => {
      const flat = tf.reshape(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), [B, H * W * C]);
      const padded = tf.concat([flat, tf.zeros([B, 1])], 1); // index H·W·C reads the padding's 0
      return tf.reshape(fused ? fusedGatherUnits(padded, units) : tf.gather(padded, index!, 1), [B, 1, kh, kw, C, L]);
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
    this.patchIndex?.dispose();
    this.patchIndex = null;
    this.filter = null;
  }

  override extras(): Record<string, unknown> {
    return { ...super.extras(), filters: this.filters, kernel: [...this.kernel], stride: [...this.stride], dilation: [...this.dilation], padding: this.padding };
  }
}
