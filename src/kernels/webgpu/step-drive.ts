/**
 * A neuron group's input current computed inside the WGSL step programs, from the connections and
 * synapses that feed it: the fused layer step on webgpu (`src/neural/layers/fused-step.ts`).
 *
 * A layer step on the op path is, per connection k, the synapse's current `q_k = s_k·S_k`
 * (`DeltaCurrent`: S_k = Q_k/Δt as float32), the connection's product `y_k` and the layer's sum
 * `I = y_0 + y_1 + …` (one tfjs op each: 2 per connection plus the sum). Here the whole drive of
 * one neuron element e = b·O + o is computed in WGSL, per term k in float32:
 *
 * - dense (`LinearDense` and its masked kinds, weight `W_k: [O, I]`):
 *   `y_k = Σ_{i = 0 … I−1} (s_k[b, i]·S_k)·W_k[o, i]`: in the drive program a workgroup of 64 per
 *   element e, invocation l summing i = l, l + 64, … from +0 and the 64 partial sums added as a
 *   tree (a weight row read coalesced, no long serial chain), on a GPU from Σ_k I_k ≥ 64; on a
 *   software adapter below Σ_k I_k = 2048, and inside a neuron program (I ≤ 256), one invocation
 *   per element summing in index order from +0 ({@link setDriveShareMinInputs}). tfjs's matrix
 *   product sums the same products in its own order: equal within float32 rounding;
 * - direct (`LinearDirect`, weight `w_k: [O]`): `y_k = (s_k[e]·S_k)·w_k[o]` (the op path's order,
 *   bit for bit);
 * - given (a product computed before, below): `y_k` read as it is;
 *
 * and `I = ((y_0 + y_1) + y_2) + …`, the layer's sum in connection order (tfjs's `addN`). The
 * synapses' currents `q_k = s_k·S_k` (bit for bit the op path's) are stored by the same dispatch, so
 * every synapse keeps its history. WGSL may contract `a·b + c` into a fused multiply-add.
 *
 * Where the drive goes ({@link planDrive}): into the neuron's own program (`fn drive(e)`) when the
 * bindings fit (WebGPU's storage buffers per stage: 8 on tfjs's device) and a dense product is small
 * (≤ 256 multiply-adds per invocation); else one program of its own (writing `I` and the `q_k`)
 * before the neuron's. Where `./step-route.ts` says so (a large batch: above 32 samples on a software
 * adapter, above 2²⁷ multiply-adds on a GPU), or with more than
 * {@link DENSE_PROGRAM_MAX_INPUTS} inputs, a dense product is tfjs's tuned matrix product instead,
 * on the synapse current `q_k` computed by a program of its own first (the op path's operands:
 * `(s·S)·Wᵀ`), and only the sum is folded.
 * @module
 */
import { tf } from '../../core/tf.js';
import { KernelSetting } from '../setting.js';
import { keyNum, lit, STEP_WORKGROUP } from './step-program.js';
import { runMultiOutput, storageBufferLimit } from './step-dispatch.js';
import { ownProductRoute, softwareAdapter } from './step-route.js';

/** One connection's part of a neuron group's input (see the module text). */
export interface DriveTerm {
  /** `'dense'`: weight `[O, I]`; `'direct'`: weight `[O]` (one to one, I = O). */
  kind: 'dense' | 'direct';
  /** Presynaptic spikes `[B, ...inShape]` (float32; a cast from bool or int32 is read through `f32`). */
  spikes: tf.Tensor;
  /** The connection's weight. */
  weight: tf.Tensor;
  /** The synapse's scale `Q/Δt` (rounded to float32 when baked). */
  scale: number;
}

/** What {@link planDrive} needs of a term: its kind and input count I. */
export interface DriveShape {
  kind: 'dense' | 'direct';
  inCount: number;
}

/** Where the drive is computed (see {@link planDrive}). */
export interface DrivePlan {
  /** Dense products by tfjs's matrix product on the synapse currents of a program run first. */
  pre: boolean;
  /** The drive inside the neuron's program (else a program of its own before it). */
  inline: boolean;
}

/** Largest input count of a dense product computed by Cinder's program (above: tfjs's matMul). */
export const DENSE_PROGRAM_MAX_INPUTS = 16384;
/**
 * Largest serial multiply-add count per invocation for folding dense products into a neuron program
 * (one invocation sums all inputs; larger products take the drive program, which shares each
 * product among a workgroup).
 */
const INLINE_SERIAL_MAX = 256;

/**
 * Dense inputs per element (Σ_k I_k) from which the drive program shares each element's products
 * among a workgroup of 64, on a software adapter (SwiftShader): below, one invocation per element
 * sums them in order, several times faster there, where workgroup barriers are costly. On a GPU
 * ({@link SHARE_MIN_INPUTS_GPU}) one invocation's serial sum waits on a memory load per input, so
 * the products are shared from 64 inputs on.
 */
export const SHARE_MIN_INPUTS = 2048;
/** {@link SHARE_MIN_INPUTS} on a hardware adapter (or one not described by `initBackend`). */
export const SHARE_MIN_INPUTS_GPU = 64;
const shareMinInputs = new KernelSetting<number | null>(null);

/**
 * Sets the dense inputs per element from which the drive program shares the products among a
 * workgroup (null: by the adapter, {@link SHARE_MIN_INPUTS} or {@link SHARE_MIN_INPUTS_GPU}); returns
 * the previous setting.
 */
export function setDriveShareMinInputs(n: number | null): number | null {
  return shareMinInputs.set(n);
}

/** The dense inputs per element from which the drive program shares the products now (see {@link setDriveShareMinInputs}). */
export function driveShareMinInputs(): number {
  const set = shareMinInputs.get();
  if (set !== null) return set;
  return softwareAdapter() ? SHARE_MIN_INPUTS : SHARE_MIN_INPUTS_GPU;
}

const denseMaxBatch = new KernelSetting<number | null>(null);

/**
 * Sets the largest batch of Cinder's dense product program (tests take the matMul route at small B;
 * null: by `./step-route.ts`, the default); returns the previous setting.
 */
export function setDenseProgramMaxBatch(n: number | null): number | null {
  return denseMaxBatch.set(n);
}

/**
 * Plans the drive of a neuron program over B samples of `outCount` elements that already binds `own`
 * storage buffers and evaluates `drive(e)` up to `serialFactor` times per invocation (a batch loop of
 * the adaptation): null when no program fits the device's binding limit (the caller keeps the op path).
 */
export function planDrive(terms: readonly DriveShape[], B: number, outCount: number, own: number, serialFactor: number): DrivePlan | null {
  if (terms.length === 0) return null;
  const limit = storageBufferLimit();
  const dense = terms.filter((t) => t.kind === 'dense');
  const work = B * outCount * dense.reduce((n, t) => n + t.inCount, 0);
  const pre = dense.length > 0 && (!ownProductRoute(B, work, denseMaxBatch.get()) || dense.some((t) => t.inCount > DENSE_PROGRAM_MAX_INPUTS));
  if (pre && 2 * terms.length > limit) return null; // the synapse-current program: an input and an output per term
  // bindings per term: dense after `pre` 1 (its product); else spikes + weight (+ the synapse current unless `pre` stored it)
  const termBindings = terms.reduce((n, t) => n + (pre ? (t.kind === 'dense' ? 1 : 2) : 3), 0);
  const serial = pre ? 0 : dense.reduce((n, t) => n + t.inCount, 0);
  const inline = own + termBindings <= limit && serial * serialFactor <= INLINE_SERIAL_MAX;
  if (!inline && 1 + termBindings > limit) return null;
  return { pre, inline };
}

/** A drive made ready for a neuron program (see {@link prepareDrive}). */
export interface PreparedDrive {
  /** Key fragment of the neuron program (shapes, scales, kinds; inline only). */
  key: string;
  /** Extra inputs of the neuron program (inline only). */
  names: string[];
  inputs: tf.Tensor[];
  /** Synapse currents the neuron program stores (inline only), name → shape. */
  outputs: [string, number[]][];
  /** Module-scope WGSL with `fn drive(e: i32) -> f32` (inline only). */
  decls: string;
  /** WGSL storing the synapse currents for invocation `index` (inline only). */
  stores: string;
  /** Invocations the stores need. */
  invocations: number;
  /** The current computed before the neuron program (not inline), `[B, ...shape]`. */
  current: tf.Tensor | null;
  /** Synapse currents already computed, per term (null: stored by the neuron program, in `outputs` order). */
  synapse: (tf.Tensor | null)[];
}

interface GenTerm {
  kind: 'dense' | 'direct' | 'given';
  /** dense/direct: spikes (or the synapse current when `scale` is null); given: the product. */
  x: tf.Tensor;
  weight: tf.Tensor | null;
  I: number;
  scale: number | null;
  /** Store the synapse current `x·scale` (shape of x). */
  store: boolean;
}

/**
 * The WGSL of a drive and its bindings. `cooperative` (the drive program with many inputs): the
 * `body` of a workgroup per neuron element, its invocations summing a dense product's inputs
 * i = lid, lid + 64, … and then as a tree; else `fn drive(e)`, one invocation summing in index order.
 */
function generate(gs: GenTerm[], B: number, O: number, cooperative: boolean) {
  const names: string[] = [];
  const inputs: tf.Tensor[] = [];
  const outputs: [string, number[]][] = [];
  const lines: string[] = [];
  const stores: string[] = [];
  const keys: string[] = [];
  const W = STEP_WORKGROUP;
  let invocations = 0;
  gs.forEach((g, k) => {
    const x = `dx${k}`;
    names.push(x);
    inputs.push(g.x);
    const scaled = (v: string) => (g.scale === null ? v : `(${v} * ${lit(g.scale)})`);
    if (g.kind !== 'given') {
      names.push(`dw${k}`);
      inputs.push(g.weight!);
    }
    const product = (i: string) => `${scaled(`f32(${x}[b * ${g.I} + ${i}])`)} * f32(dw${k}[o * ${g.I} + ${i}])`;
    if (g.kind === 'dense' && cooperative) {
      lines.push(`var p${k} = 0.0;`);
      lines.push(`for (var i = lid; i < ${g.I}; i += ${W}) { p${k} = p${k} + ${product('i')}; }`);
      lines.push(`red[lid] = p${k};`);
      lines.push('workgroupBarrier();');
      lines.push(`for (var st = ${W / 2}; st > 0; st = st / 2) { if (lid < st) { red[lid] = red[lid] + red[lid + st]; } workgroupBarrier(); }`);
      lines.push(`let t${k} = red[0];`);
      lines.push('workgroupBarrier();');
    } else if (g.kind === 'dense') {
      lines.push(`var t${k} = 0.0;`);
      lines.push(`for (var i = 0; i < ${g.I}; i++) { t${k} = t${k} + ${product('i')}; }`);
    } else if (g.kind === 'direct') {
      lines.push(`let t${k} = ${scaled(`f32(${x}[e])`)} * f32(dw${k}[o]);`);
    } else {
      lines.push(`let t${k} = f32(${x}[e]);`);
    }
    if (g.store) {
      outputs.push([`dq${k}`, [...g.x.shape]]);
      const n = g.x.size;
      stores.push(`if (index < ${n}) { dq${k}[index] = ${scaled(`f32(${x}[index])`)}; }`);
      invocations = Math.max(invocations, n);
    }
    keys.push(`${g.kind}${g.I}${g.scale === null ? '' : `*${keyNum(g.scale)}`}${g.store ? 'q' : ''}`);
  });
  const sum = gs.map((_, k) => `t${k}`).join(' + ');
  const decls = cooperative
    ? `var<workgroup> red: array<f32, ${W}>;`
    : `fn drive(e: i32) -> f32 {
  let b = e / ${O}; let o = e % ${O};
  _ = b; _ = o;
  ${lines.join('\n  ')}
  return ${sum};
}`;
  const body = cooperative
    ? `
  let e = min(group, ${B * O - 1});
  let b = e / ${O}; let o = e % ${O};
  _ = b; _ = o;
  ${lines.join('\n  ')}
  if (lid == 0 && group < ${B * O}) { dcur[e] = ${sum}; }`
    : '';
  return { key: `drive[${B}x${O}:${keys.join(',')}]`, names, inputs, outputs, decls, body, stores: stores.join('\n'), invocations };
}

/**
 * Runs what comes before the neuron program as `plan` says and returns the rest for it (or, not
 * inline, the finished current). `shape` is the neuron state's `[B, ...shape]`; O its per-sample
 * size. New tensors are owned by the caller (call inside `tf.tidy`).
 */
export function prepareDrive(terms: readonly DriveTerm[], plan: DrivePlan, shape: number[]): PreparedDrive {
  const B = shape[0]!;
  const O = shape.reduce((a, b) => a * b, 1) / B;
  const inCount = (t: DriveTerm) => t.spikes.size / B;
  let gs: GenTerm[];
  let synapse: (tf.Tensor | null)[] = terms.map(() => null);
  if (plan.pre) {
    // the synapse currents first (one dispatch), then tfjs's product on them (the op path's order)
    const outs = terms.map((t, k) => [`q${k}`, [...t.spikes.shape]] as [string, number[]]);
    const body = terms.map((t, k) => `if (index < ${t.spikes.size}) { q${k}[index] = f32(s${k}[index]) * ${lit(t.scale)}; }`).join('\n');
    const key = `cinder-synapse:${terms.map((t) => `${t.spikes.size}*${keyNum(t.scale)}`).join(',')}`;
    const q = runMultiOutput(key, outs, terms.map((t, k) => [`s${k}`, t.spikes]), Math.max(...terms.map((t) => t.spikes.size)), () => ({ decls: '', body }));
    synapse = q;
    gs = terms.map((t, k) =>
      t.kind === 'dense'
        ? { kind: 'given', x: tf.matMul(tf.reshape(q[k]!, [B, inCount(t)]), t.weight, false, true), weight: null, I: inCount(t), scale: null, store: false }
        : { kind: 'direct', x: q[k]!, weight: t.weight, I: inCount(t), scale: null, store: false },
    );
  } else {
    gs = terms.map((t) => ({ kind: t.kind, x: t.spikes, weight: t.weight, I: inCount(t), scale: t.scale, store: true }));
  }
  if (plan.inline) return { ...generate(gs, B, O, false), current: null, synapse };
  // a program of its own: the current and the synapse currents not stored yet
  const serial = gs.reduce((n, x) => n + (x.kind === 'dense' ? x.I : 0), 0);
  const shared = serial >= driveShareMinInputs();
  const g = generate(gs, B, O, shared);
  const size = B * O;
  const outs: [string, number[]][] = [['dcur', shape], ...g.outputs];
  const r = runMultiOutput(
    `cinder-drive:${g.key}:${shared}`,
    outs,
    g.names.map((n, i) => [n, g.inputs[i]!]),
    Math.max(shared ? size * STEP_WORKGROUP : size, g.invocations),
    () => ({ decls: g.decls, body: `${shared ? g.body : `if (index < ${size}) { dcur[index] = drive(index); }`}\n${g.stores}` }),
  );
  let next = 1;
  const filled = gs.map((x, k) => (x.store ? r[next++]! : synapse[k]!));
  return { key: '', names: [], inputs: [], outputs: [], decls: '', stores: '', invocations: 0, current: r[0]!, synapse: filled };
}
