/**
 * A neuron group's whole step as fused WGSL programs on tfjs's webgpu backend, generated from the
 * same {@link FusedNeuronSpec} the wasm/cpu kernel (`../js/fused-neuron.ts`) takes: LIF, ALIF and
 * any model whose step is an exactly integrated linear membrane with an absolute refractory period,
 * a fixed or adaptive threshold and a constant reset. Per element e = (b, n), float32:
 *
 * - `free = r ≤ Δt` (true without a refractory period); `i ← free ? i : 0` unless `refracLock`;
 * - `v' = (v·d + v_rest·(1 − d)) + i·R·(1 − d)`, `d = e^{−Δt/τ_m}`; `v' ← free ? v' : v` with
 *   `refracLock`;
 * - with conductance input (`spec.conductance`, receptors r given this step in receptor order, one
 *   binding each; their reversal potentials E_r, V_rest, R and −Δt/τ_m baked into the program and its
 *   key): `g_r ← free ? g_r : 0` unless `refracLock`, `Σg = (g_0 + g_1) + …`,
 *   `ΣgE = (g_0·E_0 + g_1·E_1) + …`, `G = 1 + R·Σg`, `V∞ = (v_rest + R·(i + ΣgE))/G`,
 *   `v' = V∞ + (v − V∞)·exp(G·(−Δt/τ_m))` (products with R skipped for R = 1): `LinearMembrane`'s
 *   op sequence, with WGSL's `exp` and `/` as tfjs-webgpu's Exp and RealDiv use (same device, same
 *   functions). An E_r of ±0 is hidden from the shader compiler (SwiftShader's folds g·0 to 0, where
 *   the op path's g·E gives NaN for an infinite g);
 * - `fired = free ∧ v' ≥ Θ`, `Θ = (Σ_k θ_k) + Θ∞` (adaptive) or `Θ∞`;
 * - `v ← fired ? v_reset : v'`, `r ← fired ? t_ref : max(r − Δt, 0)`, `s = fired`;
 * - adaptation, per term k: `p = (r' > 0 ∧ refracLock) ? θ_k : θ_k·a_k`, then
 *   `θ_k ← reduce_b(p + s·c_k)` (`mean`: the sum in sample order / B; `max`; `none`: per sample);
 *   `sum`: `θ_k ← mean_b(p) + Σ_b s·c_k` (with no hold, `mean_b(p)` is `θ_k·a_k` itself).
 *
 * The input current i is a tensor, or (the fused layer step) computed inside the program by
 * `drive(e)` from the connections' spikes and weights and the synapses' scales, with the synapses'
 * currents stored by the same dispatch (`step-drive.ts` gives the float32 order), or by a drive
 * program just before.
 *
 * One dispatch writes every new state — voltage, refractory time (only with a refractory period),
 * spikes and the adaptation θ (`step-dispatch.ts`); on a backend without the internals that needs,
 * one program per state (`step-program.ts`). θ recomputes each sample's step where it needs it, so
 * no intermediate buffer is needed: up to {@link SEQUENTIAL_MAX_BATCH} samples one invocation per
 * θ element loops over the batch in sample order; above, θ is a second dispatch with one workgroup
 * per θ element that shares the samples and reduces them as a tree (a long serial loop per
 * invocation would dominate a GPU step at B = 1024). So a step is 1 dispatch (2 with the tree; 2–4
 * with one program per state). WebGPU binds at most 8 storage buffers per program on tfjs's device:
 * where the one dispatch's would exceed it (conductances add one each), θ is a program of its own
 * (e.g. ALIF with two receptors: 2 dispatches), or every state is (with a current too: 4); a step
 * whose inputs and one output exceed it is not taken ({@link neuronStepFits}: the op path). Constants are baked bit-exactly as float32 (`lit`). WGSL may
 * contract `x·y + z` into one fused multiply-add on some devices, so results equal the op path
 * within float32 rounding (one unit in the last place per operation), not always bit for bit.
 * @module
 */
import { share, tf } from '../../core/tf.js';
import { KernelSetting } from '../setting.js';
import type { FusedConductance, FusedNeuronResult, FusedNeuronSpec } from '../js/fused-neuron.js';
import { keyNum, lit, programKey, runElementwise, runWorkgroups, STEP_WORKGROUP } from './step-program.js';
import { multiOutputAvailable, runMultiOutput, storageBufferLimit } from './step-dispatch.js';
import { planDrive, prepareDrive, type DrivePlan, type DriveShape, type DriveTerm } from './step-drive.js';

/** Batches up to this size reduce the adaptation in one invocation per θ, in sample order (above: one workgroup per θ). */
export const SEQUENTIAL_MAX_BATCH = 64;
const sequentialMax = new KernelSetting(SEQUENTIAL_MAX_BATCH);

/** Sets the largest batch reduced sequentially (tests take the workgroup route at small B); returns the previous value. */
export function setSequentialMaxBatch(n: number): number {
  return sequentialMax.set(n);
}

/** The WGSL function `cell(e) -> vec3<f32>` (new v, new r, spike) of one element. */
function cellCode(spec: FusedNeuronSpec, N: number, K: number, refracLock: boolean, hasInput: boolean, thetaBatched: boolean, input = 'f32(cur[e])', reversal: readonly number[] = []): string {
  const refractory = spec.refracT > 0;
  const lines: string[] = [];
  lines.push(`let vv = f32(vIn[e]);`);
  lines.push(refractory ? `let rr = f32(rIn[e]); let free = rr <= ${lit(spec.dt)};` : `let rr = 0.0; let free = true;`);
  if (reversal.length > 0) {
    // conductance input: LinearMembrane's op sequence, one float32 operation per tfjs op
    const c = spec.conductance!;
    const masked = refractory && !refracLock;
    const r = (x: string) => (c.resistance === 1 ? x : `(${x} * ${lit(c.resistance)})`);
    if (hasInput) {
      lines.push(`var ii = ${input};`);
      if (masked) lines.push(`if (!free) { ii = 0.0; }`);
    }
    reversal.forEach((E, m) => {
      // E = ±0 as a value the compiler cannot see: SwiftShader's shader optimizer folds g·0 to 0,
      // where the op path (E a tensor) gives NaN for an infinite g (arrayLength is never 0 here)
      const e = Math.fround(E) === 0 ? `select(${lit(E)}, 1.0, arrayLength(&vIn) == 0u)` : lit(E);
      lines.push(`var g${m} = f32(gc${m}[e]);`);
      if (masked) lines.push(`if (!free) { g${m} = 0.0; }`);
      lines.push(m === 0 ? `var gs = g0; var ge = g0 * ${e};` : `gs = gs + g${m}; ge = ge + g${m} * ${e};`);
    });
    lines.push(`let gg = 1.0 + ${r('gs')};`);
    lines.push(`let drv = ${hasInput ? 'ii + ge' : 'ge'};`);
    lines.push(`let vinf = (${lit(c.rest)} + ${r('drv')}) / gg;`);
    lines.push(`var vn = vinf + (vv - vinf) * exp(gg * ${lit(c.rate)});`);
  } else {
    lines.push(`let leak = vv * ${lit(spec.decay)} + ${lit(spec.restTerm)};`);
    if (hasInput) {
      lines.push(`var ii = ${input};`);
      if (refractory && !refracLock) lines.push(`if (!free) { ii = 0.0; }`);
      lines.push(`var vn = leak + ii * ${lit(spec.gain)};`);
    } else {
      lines.push(`var vn = leak;`);
    }
  }
  if (refractory && refracLock) lines.push(`if (!free) { vn = vv; }`);
  if (K > 0) {
    lines.push(`let tb = ${thetaBatched ? 'e' : `e % ${N}`} * ${K};`);
    lines.push(`var th = f32(theta[tb]);`);
    if (K > 1) lines.push(`for (var k = 1; k < ${K}; k++) { th = th + f32(theta[tb + k]); }`);
    lines.push(`th = th + ${lit(spec.thresh)};`);
  } else {
    lines.push(`let th = ${lit(spec.thresh)};`);
  }
  lines.push(`let fired = free && vn >= th;`);
  lines.push(`var vo = vn; var ro = rr; var so = 0.0;`);
  lines.push(`if (fired) { vo = ${lit(spec.reset)}; so = 1.0; }`);
  if (refractory) lines.push(`if (fired) { ro = ${lit(spec.refracT)}; } else { ro = max(rr - ${lit(spec.dt)}, 0.0); }`);
  lines.push(`return vec3<f32>(vo, ro, so);`);
  return `fn cell(e: i32) -> vec3<f32> {\n${lines.join('\n')}\n}`;
}

/**
 * The storage buffers the one-dispatch neuron program binds by itself, and how many times one of
 * its invocations evaluates a cell (the adaptation's batch loop), for {@link planNeuronDrive}.
 */
function programLayout(spec: FusedNeuronSpec, B: number, size: number, adapt: boolean): { own: number; serial: number } {
  const ad = spec.adaptation;
  const theta = ad?.theta ?? null;
  const K = ad ? ad.decay.length : 0;
  const batched = theta !== null && ad!.reduction === 'none' && theta.size === size * K;
  const folds = theta !== null && adapt && (batched || B <= sequentialMax.get());
  const own = (spec.refracT > 0 ? 4 : 2) + 1 + (theta ? 1 : 0) + (folds ? 1 : 0);
  const serial = theta === null || !adapt || batched ? 1 : folds ? B : Math.ceil(B / STEP_WORKGROUP);
  return { own, serial };
}

/**
 * Where the input current of a step fed by `terms` is computed (see `step-drive.ts`), or null when
 * the drive cannot be fused on this device (the caller keeps the op path). Needs the several-output
 * dispatch.
 */
export function planNeuronDrive(spec: FusedNeuronSpec, shape: readonly number[], terms: readonly DriveShape[], adapt: boolean): DrivePlan | null {
  if (!multiOutputAvailable()) return null;
  const B = shape[0]!;
  const size = shape.reduce((a, b) => a * b, 1);
  const { own, serial } = programLayout(spec, B, size, adapt);
  return planDrive(terms, B, size / B, own, serial);
}

/**
 * True when a step of this spec with current input or not and `receptors` conductances fits the
 * device's storage buffers per program (each state, the current, θ and each conductance one input
 * buffer, plus one output): the one-program-per-state route needs that much, the one dispatch
 * (taken when it fits too) one buffer per state more. Else the caller keeps the op path.
 */
export function neuronStepFits(spec: FusedNeuronSpec, hasCurrent: boolean, receptors: number): boolean {
  const ins = 1 + (spec.refracT > 0 ? 1 : 0) + (hasCurrent ? 1 : 0) + (spec.adaptation ? 1 : 0) + receptors;
  return ins + 1 <= storageBufferLimit();
}

/**
 * One neuron step on the webgpu backend (see the module text). Same inputs and result as
 * `fusedNeuronStep`; every state must be float32. With `drive` (and no `current`) the input
 * current is computed from the connections' terms as `step-drive.ts` describes, and the result
 * also holds the synapses' currents (one per term, `synapse`); plan it first with
 * {@link planNeuronDrive}.
 */
export function neuronStepWebgpu(
  spec: FusedNeuronSpec,
  state: {
    voltage: tf.Tensor;
    refrac: tf.Tensor;
    current: tf.Tensor | null;
    drive?: { terms: readonly DriveTerm[]; plan: DrivePlan };
    conductances?: readonly FusedConductance[];
  },
  options: { refracLock: boolean; adapt: boolean },
): FusedNeuronResult & { synapse?: tf.Tensor[] } {
  const shape = [...state.voltage.shape];
  const B = shape[0]!;
  const size = state.voltage.size;
  const N = size / B;
  const ad = spec.adaptation;
  const theta = ad?.theta ?? null;
  const K = ad ? ad.decay.length : 0;
  const refractory = spec.refracT > 0;
  const gs = state.conductances ?? [];
  if (gs.length > 0 && (!spec.conductance || state.drive)) throw new Error('neuronStepWebgpu: conductance input needs spec.conductance and no drive');
  const drive = state.drive && !state.current ? prepareDrive(state.drive.terms, state.drive.plan, shape) : null;
  const current = drive?.current ?? state.current;
  const inline = drive !== null && drive.current === null;
  const hasInput = current !== null || inline;
  const thetaBatched = theta !== null && ad!.reduction === 'none' && theta.size === B * N * K;
  const names = ['vIn'];
  const inputs = [state.voltage];
  if (refractory) {
    names.push('rIn');
    inputs.push(state.refrac);
  }
  if (current) {
    names.push('cur');
    inputs.push(current);
  }
  if (theta) {
    names.push('theta');
    inputs.push(theta);
  }
  gs.forEach((c, m) => {
    names.push(`gc${m}`);
    inputs.push(c.g);
  });
  if (inline) {
    names.push(...drive!.names);
    inputs.push(...drive!.inputs);
  }
  const lock = options.refracLock;
  const reversal = gs.map((c) => c.reversal);
  const cond = gs.length > 0 ? { ...spec.conductance!, reversal } : '';
  const base = programKey('cinder-neuron', B, N, K, spec.decay, spec.restTerm, spec.gain, spec.thresh, spec.reset, spec.dt, spec.refracT, lock, hasInput, thetaBatched, inline ? drive!.key : '', cond);
  const cell = () => `${inline ? drive!.decls : ''}\n${cellCode(spec, N, K, lock, hasInput, thetaBatched, inline ? 'drive(e)' : undefined, reversal)}`;
  const tc = theta && options.adapt ? thetaCode(spec, base, names, inputs, cell, theta, B, N, K, lock && refractory, thetaBatched) : null;
  // θ as a program of its own: one invocation per θ element, or the large-batch tree
  const thetaAlone = (t: ThetaCode): tf.Tensor => {
    const store = t.store;
    return store ? runElementwise(t.key, [...theta!.shape], theta!.size, names, inputs, () => ({ decls: `${t.consts}\n${cell()}`, body: store('result', 'index') })) : t.tree();
  };
  if (inline && !multiOutputAvailable()) throw new Error('neuronStepWebgpu: a drive needs the several-output dispatch (plan it with planNeuronDrive)');
  const limit = storageBufferLimit();
  if (names.length + 1 > limit) throw new Error(`neuronStepWebgpu: ${names.length} inputs and an output exceed ${limit} storage buffers (check neuronStepFits first)`);
  // the several-output dispatch when its bindings fit (a drive was planned to fit), θ folded in when it fits too
  const states = refractory ? 3 : 2;
  const multi = multiOutputAvailable() && (inline || names.length + states <= limit);
  if (multi) {
    // one dispatch for every state (and θ, unless the large-batch tree or the binding limit needs its own)
    const outs: [string, number[]][] = [['vOut', shape]];
    if (refractory) outs.push(['rOut', shape]);
    outs.push(['sOut', shape]);
    const fold = tc?.store && (inline || names.length + states + 1 <= limit) ? tc : null;
    if (fold) outs.push(['thOut', [...theta!.shape]]);
    const first = outs.length;
    if (inline) outs.push(...drive!.outputs);
    const invocations = Math.max(size, fold ? theta!.size : 0, inline ? drive!.invocations : 0);
    const body = `
      if (index < ${size}) {
        let c = cell(index);
        vOut[index] = c.x;${refractory ? ' rOut[index] = c.y;' : ''} sOut[index] = c.z;
      }
      ${fold ? `if (index < ${theta!.size}) ${fold.store!('thOut', 'index')}` : ''}
      ${inline ? drive!.stores : ''}`;
    const r = runMultiOutput(`${base}:all:${fold ? fold.key : ''}`, outs, names.map((n, i) => [n, inputs[i]!]), invocations, () => ({
      decls: `${fold ? fold.consts : ''}\n${cell()}`,
      body,
    }));
    const voltage = r[0]!;
    const refrac = refractory ? r[1]! : share(state.refrac); // unchanged: a handle, no copy dispatch
    const spike = r[refractory ? 2 : 1]!;
    const thetaOut = fold ? r[first - 1]! : tc ? thetaAlone(tc) : null;
    if (!drive) return { voltage, refrac, spike, theta: thetaOut };
    let next = first;
    const synapse = drive.synapse.map((q) => q ?? r[next++]!);
    return { voltage, refrac, spike, theta: thetaOut, synapse };
  }
  const component = (which: string, c: number) =>
    runElementwise(`${base}:${which}`, shape, size, names, inputs, () => ({ decls: cell(), body: `result[index] = cell(index).${'xyz'[c]};` }));
  const voltage = component('v', 0);
  const refrac = refractory ? component('r', 1) : share(state.refrac);
  const spike = component('s', 2);
  return { voltage, refrac, spike, theta: tc ? thetaAlone(tc) : null };
}

/** The adaptation program parts: its key, constants, and the code of one θ element (null: the tree route). */
interface ThetaCode {
  key: string;
  consts: string;
  /** WGSL that stores θ element `i` (an i32 expression) into `out[i]`; null for large batches (see {@link ThetaCode.tree}). */
  store: ((out: string, i: string) => string) | null;
  /** The large-batch route as its own dispatch. */
  tree: () => tf.Tensor;
}

function thetaCode(
  spec: FusedNeuronSpec,
  base: string,
  names: string[],
  inputs: tf.Tensor[],
  cell: () => string,
  theta: tf.Tensor,
  B: number,
  N: number,
  K: number,
  hold: boolean,
  batched: boolean,
): ThetaCode {
  const ad = spec.adaptation!;
  const red = ad.reduction;
  const key = `${base}:theta:${red}:${hold}:${ad.decay.map(keyNum).join(',')}:${ad.increment.map(keyNum).join(',')}`;
  // functions, not module-scope arrays: an increment beyond float32's range is +∞, which `lit` can
  // only give at run time (module-scope initializers must be const-expressions)
  const consts = `
    fn aK(k: i32) -> f32 { var t = array<f32, ${K}>(${ad.decay.map(lit).join(', ')}); return t[k]; }
    fn cK(k: i32) -> f32 { var t = array<f32, ${K}>(${ad.increment.map(lit).join(', ')}); return t[k]; }`;
  const passive = hold ? `select(t0 * a, t0, c.y > 0.0)` : `t0 * a`;
  // the reduced value from the batch total (acc) and, for 'sum', the summed increments (added)
  const final = (acc: string, added: string) =>
    red === 'sum' ? (hold ? `${acc} / ${lit(B)} + ${added}` : `t0 * a + ${added}`) : red === 'max' ? acc : `${acc} / ${lit(B)}`;
  const tree = () => adaptationTree(key, consts, cell, names, inputs, theta, B, N, K, red, passive, final);
  if (batched) {
    const store = (out: string, i: string) => `{
      let ti = ${i};
      let k = ti % ${K};
      let a = aK(k); let ck = cK(k); let t0 = f32(theta[ti]);
      let c = cell(ti / ${K});
      ${out}[ti] = ${passive} + c.z * ck;
    }`;
    return { key, consts, store, tree };
  }
  if (B > sequentialMax.get()) return { key, consts, store: null, tree };
  const step =
    red === 'sum'
      ? `if (b == 0) { acc = p; added = s; } else { acc = acc + p; added = added + s; }`
      : red === 'max'
        ? `let x = p + s; if (b == 0) { acc = x; } else { acc = max(acc, x); }`
        : `let x = p + s; if (b == 0) { acc = x; } else { acc = acc + x; }`;
  const store = (out: string, i: string) => `{
      let ti = ${i};
      let n = ti / ${K}; let k = ti % ${K};
      let a = aK(k); let ck = cK(k); let t0 = f32(theta[ti]);
      var acc = 0.0; var added = 0.0;
      for (var b = 0; b < ${B}; b++) {
        let c = cell(b * ${N} + n);
        let p = ${passive};
        let s = c.z * ck;
        ${step}
      }
      ${out}[ti] = ${final('acc', 'added')};
    }`;
  return { key, consts, store, tree };
}

/**
 * The batch-reduced adaptation for large batches: one workgroup per θ element; its invocations take
 * the samples b = lid, lid + W, … (each sample's step recomputed), then a tree reduction in
 * workgroup memory. Sums are added in another order than the sample order (float32 rounding).
 */
function adaptationTree(
  key: string,
  consts: string,
  cell: () => string,
  names: string[],
  inputs: tf.Tensor[],
  theta: tf.Tensor,
  B: number,
  N: number,
  K: number,
  red: string,
  passive: string,
  final: (acc: string, added: string) => string,
): tf.Tensor {
  const W = STEP_WORKGROUP;
  const total = theta.size;
  const combine = red === 'max' ? (x: string, y: string) => `max(${x}, ${y})` : (x: string, y: string) => `${x} + ${y}`;
  const own = red === 'sum' ? 'p' : 'p + s';
  const decls = `${consts}
    var<workgroup> accW: array<f32, ${W}>;
    var<workgroup> addW: array<f32, ${W}>;
    var<workgroup> hasW: array<u32, ${W}>;
    ${cell()}`;
  const body = `
    let live = group < ${total};
    let g = min(group, ${total - 1});
    let n = g / ${K}; let k = g % ${K};
    let a = aK(k); let ck = cK(k); let t0 = f32(theta[g]);
    var acc = 0.0; var added = 0.0; var has = 0u;
    for (var b = lid; b < ${B}; b += ${W}) {
      let c = cell(b * ${N} + n);
      let p = ${passive};
      let s = c.z * ck;
      if (has == 0u) { acc = ${own}; added = s; } else { acc = ${combine('acc', own)}; added = added + s; }
      has = 1u;
    }
    accW[lid] = acc; addW[lid] = added; hasW[lid] = has;
    workgroupBarrier();
    for (var st = ${W / 2}; st > 0; st = st / 2) {
      if (lid < st && hasW[lid + st] != 0u) {
        if (hasW[lid] != 0u) { accW[lid] = ${combine('accW[lid]', 'accW[lid + st]')}; addW[lid] = addW[lid] + addW[lid + st]; }
        else { accW[lid] = accW[lid + st]; addW[lid] = addW[lid + st]; hasW[lid] = 1u; }
      }
      workgroupBarrier();
    }
    if (lid == 0 && live) { result[g] = ${final('accW[0]', 'addW[0]')}; }`;
  return runWorkgroups(`${key}:tree`, [...theta.shape], total, names, inputs, () => ({ decls, body }));
}
