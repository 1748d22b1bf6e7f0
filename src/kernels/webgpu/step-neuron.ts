/**
 * A neuron group's whole step as fused WGSL programs on tfjs's webgpu backend, generated from the
 * same {@link FusedNeuronSpec} the wasm/cpu kernel (`../js/fused-neuron.ts`) takes: LIF, ALIF and
 * any model whose step is an exactly integrated linear membrane with an absolute refractory period,
 * a fixed or adaptive threshold and a constant reset. Per element e = (b, n), float32:
 *
 * - `free = r ≤ Δt` (true without a refractory period); `i ← free ? i : 0` unless `refracLock`;
 * - `v' = (v·d + v_rest·(1 − d)) + i·R·(1 − d)`, `d = e^{−Δt/τ_m}`; `v' ← free ? v' : v` with
 *   `refracLock`;
 * - `fired = free ∧ v' ≥ Θ`, `Θ = (Σ_k θ_k) + Θ∞` (adaptive) or `Θ∞`;
 * - `v ← fired ? v_reset : v'`, `r ← fired ? t_ref : max(r − Δt, 0)`, `s = fired`;
 * - adaptation, per term k: `p = (r' > 0 ∧ refracLock) ? θ_k : θ_k·a_k`, then
 *   `θ_k ← reduce_b(p + s·c_k)` (`mean`: the sum in sample order / B; `max`; `none`: per sample);
 *   `sum`: `θ_k ← mean_b(p) + Σ_b s·c_k` (with no hold, `mean_b(p)` is `θ_k·a_k` itself).
 *
 * One program per new state (see `step-program.ts`): voltage, refractory time (only with a
 * refractory period), spikes, and the adaptation θ (one invocation per θ element, looping over the
 * batch and recomputing each sample's step, so no intermediate buffer is needed). So a step is 2–4
 * dispatches. Constants are baked bit-exactly as float32 (`lit`). WGSL may contract `x·y + z` into
 * one fused multiply-add on some devices, so results equal the op path within float32 rounding
 * (one unit in the last place per operation), not always bit for bit.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { FusedNeuronResult, FusedNeuronSpec } from '../js/fused-neuron.js';
import { lit, runElementwise } from './step-program.js';

/** The WGSL function `cell(e) -> vec3<f32>` (new v, new r, spike) of one element. */
function cellCode(spec: FusedNeuronSpec, N: number, K: number, refracLock: boolean, hasInput: boolean, thetaBatched: boolean): string {
  const refractory = spec.refracT > 0;
  const lines: string[] = [];
  lines.push(`let vv = f32(vIn[e]);`);
  lines.push(refractory ? `let rr = f32(rIn[e]); let free = rr <= ${lit(spec.dt)};` : `let rr = 0.0; let free = true;`);
  lines.push(`let leak = vv * ${lit(spec.decay)} + ${lit(spec.restTerm)};`);
  if (hasInput) {
    lines.push(`var ii = f32(cur[e]);`);
    if (refractory && !refracLock) lines.push(`if (!free) { ii = 0.0; }`);
    lines.push(`var vn = leak + ii * ${lit(spec.gain)};`);
  } else {
    lines.push(`var vn = leak;`);
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
 * One neuron step on the webgpu backend (see the module text). Same inputs and result as
 * `fusedNeuronStep`; every state must be float32.
 */
export function neuronStepWebgpu(
  spec: FusedNeuronSpec,
  state: { voltage: tf.Tensor; refrac: tf.Tensor; current: tf.Tensor | null },
  options: { refracLock: boolean; adapt: boolean },
): FusedNeuronResult {
  const shape = [...state.voltage.shape];
  const B = shape[0]!;
  const size = state.voltage.size;
  const N = size / B;
  const ad = spec.adaptation;
  const theta = ad?.theta ?? null;
  const K = ad ? ad.decay.length : 0;
  const refractory = spec.refracT > 0;
  const hasInput = state.current !== null;
  const thetaBatched = theta !== null && ad!.reduction === 'none' && theta.size === B * N * K;
  const names = ['vIn'];
  const inputs = [state.voltage];
  if (refractory) {
    names.push('rIn');
    inputs.push(state.refrac);
  }
  if (hasInput) {
    names.push('cur');
    inputs.push(state.current!);
  }
  if (theta) {
    names.push('theta');
    inputs.push(theta);
  }
  const lock = options.refracLock;
  const base = [
    'cinder-neuron', B, N, K, spec.decay, spec.restTerm, spec.gain, spec.thresh, spec.reset, spec.dt, spec.refracT, lock, hasInput, thetaBatched,
  ].join(':');
  const cell = () => cellCode(spec, N, K, lock, hasInput, thetaBatched);
  const component = (which: string, c: number) =>
    runElementwise(`${base}:${which}`, shape, size, names, inputs, () => ({ decls: cell(), body: `result[index] = cell(index).${'xyz'[c]};` }));
  const voltage = component('v', 0);
  const refrac = refractory ? component('r', 1) : tf.clone(state.refrac);
  const spike = component('s', 2);
  let thetaOut: tf.Tensor | null = null;
  if (theta && options.adapt) thetaOut = adaptation(spec, base, names, inputs, cell, theta, B, N, K, lock && refractory, thetaBatched);
  return { voltage, refrac, spike, theta: thetaOut };
}

function adaptation(
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
): tf.Tensor {
  const ad = spec.adaptation!;
  const red = ad.reduction;
  const key = `${base}:theta:${red}:${hold}:${ad.decay.join(',')}:${ad.increment.join(',')}`;
  const consts = `
    var<private> aK = array<f32, ${K}>(${ad.decay.map(lit).join(', ')});
    var<private> cK = array<f32, ${K}>(${ad.increment.map(lit).join(', ')});`;
  const passive = (e: string) => (hold ? `select(t0 * a, t0, c${e}.y > 0.0)` : `t0 * a`);
  let body: string;
  if (batched) {
    body = `
      let e = index / ${K}; let k = index % ${K};
      let a = aK[k]; let t0 = f32(theta[index]);
      let c = cell(e);
      result[index] = ${passive('')} + c.z * cK[k];`;
  } else {
    const step =
      red === 'sum'
        ? `if (b == 0) { acc = p; added = s; } else { acc = acc + p; added = added + s; }`
        : red === 'max'
          ? `let x = p + s; if (b == 0) { acc = x; } else { acc = max(acc, x); }`
          : `let x = p + s; if (b == 0) { acc = x; } else { acc = acc + x; }`;
    const out = red === 'sum' ? (hold ? `acc / ${lit(B)} + added` : `t0 * a + added`) : red === 'max' ? `acc` : `acc / ${lit(B)}`;
    body = `
      let n = index / ${K}; let k = index % ${K};
      let a = aK[k]; let t0 = f32(theta[index]);
      var acc = 0.0; var added = 0.0;
      for (var b = 0; b < ${B}; b++) {
        let c = cell(b * ${N} + n);
        let p = ${passive('')};
        let s = c.z * cK[k];
        ${step}
      }
      result[index] = ${out};`;
  }
  return runElementwise(key, [...theta.shape], theta.size, names, inputs, () => ({ decls: `${consts}\n${cell()}`, body }));
}
