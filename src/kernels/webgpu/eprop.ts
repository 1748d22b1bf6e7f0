/**
 * The fused e-prop scan for tfjs's webgpu backend, and the helpers the other e-prop programs share: custom WGSL compute programs run through the
 * backend's `runWebGPUProgram`, reading and writing the backend's own tensors (no round trip
 * through JavaScript).
 *
 * - {@link epropScanWebgpu}: the forward scan of the recurrent population over all T steps of all
 *   B sequences in one dispatch — one workgroup per sequence, the workgroup's invocations share the
 *   neurons (invocation l owns neurons l, l + W, l + 2W, … of a workgroup of W), each keeps its v, a
 *   and refractory counter in registers, the previous step's spikes live in workgroup memory, and a
 *   barrier separates the steps. Per step and neuron j (float32):
 *       v ← α·v + Σ_{i: x_i≠0} x_i·(ζ·W_in[j,i]) + Σ_{p: z_p=1} (p = j ? −V_th : ζ·W_rec[j,p])
 *       a ← ρ·a + z_j(prev);  A = V_th + β_j·a;  d = v − A
 *       r ← max(r − 1, 0); if r = 0: ψ = surrogate(d), z = [d ≥ 0], r = n_ref on a spike; else ψ = z = 0
 *   The terms are added in the same order as the JavaScript kernel (inputs by index, then the
 *   previous step's spikes by index), so the only difference from it is float32 rounding. W_rec is
 *   read from storage (a 100×100 float32 matrix is 40 kB, more than the 16 kB of workgroup memory
 *   WebGPU guarantees); the spike vector it is multiplied with sits in workgroup memory.
 *   The output is [B, T, n, 2]: ψ and z interleaved; it stays on the device, where the readout,
 *   loss, backward factors and gradients read it (`./eprop-readout.ts`).
 *
 * Floats are baked into the shaders bit-exactly (`bitcast<f32>(0x…u)`), so the constants are the
 * float32 roundings of the float64 parameters. Every input (spikes, weights, β) is read through
 * `f32(…)`: tfjs's webgpu backend keeps a float32 tensor cast from bool or int32 in its int32 buffer
 * (a cast to a wider type copies nothing), which the shader then declares `array<i32>`; a weight
 * variable assigned such a tensor shares that buffer.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError, numel } from '../../core/errors.js';
import { checkBindingFits, maxBindingBytes } from './limits.js';
import type { EPropScanConstants } from '../eprop-scan.js';

export type { EPropScanConstants } from '../eprop-scan.js';

/** The program object `runWebGPUProgram` expects (the fields tfjs-backend-webgpu 4.x reads). */
export interface WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  size?: boolean;
  getUserCode: () => string;
}

interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], outputDtype: 'float32'): tf.TensorInfo;
}

function webgpuBackend(): WebGpuBackendLike {
  const name = tf.getBackend();
  const b = tf.backend() as unknown as Partial<WebGpuBackendLike>;
  if (name !== 'webgpu' || typeof b.runWebGPUProgram !== 'function') {
    throw new CinderArgumentError('backend', name, 'the webgpu backend for the fused e-prop kernel (kernel "webgpu")');
  }
  return b as WebGpuBackendLike;
}

/**
 * Runs a custom WGSL program on the webgpu backend; returns its (new, caller-owned) output. Its
 * output and inputs are first checked to fit one buffer of the device (`./limits.ts`): a larger
 * one would not throw but leave zeros. The program's code is preceded by {@link F32_BITS_FN}.
 */
export function runProgram(program: WebGpuProgram, inputs: tf.Tensor[]): tf.Tensor {
  const limit = maxBindingBytes();
  if (4 * numel(program.outputShape) > limit || inputs.some((t) => 4 * t.size > limit)) {
    const name = program.shaderKey.split(':')[0];
    checkBindingFits(`${name} output`, `shape [${program.outputShape.join(', ')}]`, numel(program.outputShape), 'the output');
    inputs.forEach((t, i) => checkBindingFits(`${name} input ${program.variableNames[i] ?? i}`, t.shape, t.size, 'the input'));
  }
  const user = program.getUserCode;
  const info = webgpuBackend().runWebGPUProgram({ ...program, getUserCode: () => `${F32_BITS_FN}\n${user()}` }, inputs, 'float32');
  return tf.engine().makeTensorFromTensorInfo(info);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The WGSL function every Cinder program declares (see {@link runProgram}, `./step-dispatch.ts`): a
 * float32 from its bits, evaluated at run time. A WGSL const-expression whose value is ±∞ or NaN is a
 * shader-creation error, and a call of a user-declared function is never a const-expression.
 */
export const F32_BITS_FN = 'fn cinderF32Bits(b: u32) -> f32 { return bitcast<f32>(b); }';

/**
 * A WGSL expression for the float32 rounding of x, bit-exact: `bitcast<f32>(0x…u)`, or for a value
 * that is not finite in float32 (±∞, NaN, or a float64 beyond float32's range, which rounds to ±∞)
 * the run-time `cinderF32Bits(0x…u)` ({@link F32_BITS_FN}), as the op path's float32 constant. Not
 * a const-expression then: keep such a value out of module-scope initializers.
 */
export function lit(x: number): string {
  f32[0] = x;
  const bits = `0x${u32[0]!.toString(16)}u`;
  return Number.isFinite(f32[0]) ? `bitcast<f32>(${bits})` : `cinderF32Bits(${bits})`;
}

/**
 * A number as a field of a program key: `String(x)` (NaN, Infinity and -Infinity stay apart),
 * except −0, written "-0". `String`, template literals and `Array.join` write −0 as "0", while
 * {@link lit} bakes its sign bit into the source, so a key that wrote it so would give a program
 * with a +0 constant to a caller whose constant is −0 (or the reverse): whichever was compiled first.
 * The float64 value is keyed, not its float32 rounding (code is chosen on float64 tests like `x > 0`).
 */
export function keyNum(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/**
 * A program key: the fields joined by ':', numbers as {@link keyNum}, `null`/`undefined` by name,
 * and objects and arrays as JSON whose numbers are {@link keyNum} strings (`JSON.stringify` alone
 * writes NaN and ±∞ as null and −0 as 0). Every constant baked into a program's source goes in.
 */
export function programKey(...fields: unknown[]): string {
  const field = (v: unknown): string =>
    typeof v === 'number' ? keyNum(v) : v !== null && typeof v === 'object' ? JSON.stringify(v, (_, x: unknown) => (typeof x === 'number' ? keyNum(x) : x)) : String(v);
  return fields.map(field).join(':');
}

function surrogateWgsl(s: EPropScanConstants['surrogate']): string {
  const h = lit(s.height);
  const iw = lit(1 / s.width);
  switch (s.name) {
    case 'piecewise_linear':
      return `let sx = abs(d) * ${iw}; if (sx < 1.0) { psi = ${h} * (1.0 - sx); }`;
    case 'exponential':
      return `psi = ${h} * exp(-abs(d) * ${iw});`;
    case 'fast_sigmoid':
      return `let sx = 1.0 + abs(d) * ${iw}; psi = ${h} / (sx * sx);`;
    case 'arctan':
      return `let sx = d * ${iw}; psi = ${h} / (1.0 + sx * sx);`;
    default:
      throw new CinderArgumentError('surrogate', s.name, 'piecewise_linear, exponential, fast_sigmoid or arctan');
  }
}

const SCAN_WORKGROUP = 64;
/** Largest population the fused scan takes (its spike vector fills 16 kB of workgroup memory). */
export const MAX_SCAN_NEURONS = 4096;

/**
 * The fused forward scan (see the module text). Returns a new tensor [B, T, n, 2] with ψ at
 * `[..., 0]` and z at `[..., 1]`; the caller owns it.
 *
 * @param c scan constants
 * @param wIn input weights [n, nIn] (row = postsynaptic neuron)
 * @param wRec recurrent weights [n, n] (diagonal ignored)
 * @param inputs input spikes [B, T, nIn] float32
 * @param beta β per neuron [n] float32 (cache it: it is a constant of the population)
 */
export function epropScanWebgpu(c: EPropScanConstants, wIn: tf.Tensor, wRec: tf.Tensor, inputs: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const [B, T, nIn] = inputs.shape as [number, number, number];
  const n = c.n;
  if (inputs.shape.length !== 3 || nIn !== c.nIn) throw new CinderArgumentError('inputs', inputs.shape, `shape [B, T, ${c.nIn}]`);
  // The previous step's spikes live in workgroup memory: 4 bytes per neuron of the 16 kB WebGPU
  // guarantees every device.
  if (n > MAX_SCAN_NEURONS) throw new CinderArgumentError('recurrent.n', n, `at most ${MAX_SCAN_NEURONS} neurons for the fused webgpu kernel (use kernel "tf")`);
  const W = SCAN_WORKGROUP;
  const K = Math.ceil(n / W);
  const nRef = Math.round(c.nRef);
  const zeta = lit(c.zeta);
  const surrogate = surrogateWgsl(c.surrogate);
  const key = programKey('eprop-scan', B, n, nIn, T, c.alpha, c.zeta, c.rho, c.vTh, nRef, c.surrogate.name, c.surrogate.height, c.surrogate.width);
  const program: WebGpuProgram = {
    outputShape: [B, T, n, 2],
    shaderKey: key,
    dispatchLayout: { x: [0, 1, 2, 3] },
    dispatch: [B, 1, 1],
    variableNames: ['x', 'wIn', 'wRec', 'beta'],
    workgroupSize: [W, 1, 1],
    getUserCode: () => `
      var<workgroup> zPrev: array<f32, ${n}>;
      fn main(index: i32) {
        _ = uniforms.outShape; // keeps the uniform binding in the pipeline layout tfjs binds
        // tfjs folds a dispatch wider than the device allows into x·y workgroups.
        let b = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
        let inBatch = b < ${B}; // no early return: the barriers need uniform control flow
        let lid = i32(localId.x);
        var v: array<f32, ${K}>;
        var a: array<f32, ${K}>;
        var r: array<i32, ${K}>;
        var zNew: array<f32, ${K}>;
        for (var k = 0; k < ${K}; k++) { v[k] = 0.0; a[k] = 0.0; r[k] = 0; }
        for (var j = lid; j < ${n}; j += ${W}) { zPrev[j] = 0.0; }
        workgroupBarrier();
        for (var t = 0; t < ${T}; t++) {
          let xo = (b * ${T} + t) * ${nIn};
          for (var k = 0; k < ${K}; k++) {
            let j = lid + k * ${W};
            if (j < ${n} && inBatch) {
              var vj = ${lit(c.alpha)} * v[k];
              let wo = j * ${nIn};
              for (var i = 0; i < ${nIn}; i++) {
                let xv = f32(x[xo + i]);
                if (xv != 0.0) { vj = vj + xv * (${zeta} * f32(wIn[wo + i])); }
              }
              let ro = j * ${n};
              for (var p = 0; p < ${n}; p++) {
                if (zPrev[p] != 0.0) {
                  if (p == j) { vj = vj - ${lit(c.vTh)}; } else { vj = vj + ${zeta} * f32(wRec[ro + p]); }
                }
              }
              let aj = ${lit(c.rho)} * a[k] + zPrev[j];
              let d = vj - (${lit(c.vTh)} + f32(beta[j]) * aj);
              var rj = r[k];
              var psi = 0.0;
              var z = 0.0;
              if (rj > 0) { rj = rj - 1; }
              if (rj == 0) {
                ${surrogate}
                if (d >= 0.0) { z = 1.0; rj = ${nRef}; }
              }
              v[k] = vj;
              a[k] = aj;
              r[k] = rj;
              zNew[k] = z;
              let o = ((b * ${T} + t) * ${n} + j) * 2;
              result[o] = psi;
              result[o + 1] = z;
            }
          }
          workgroupBarrier();
          for (var k = 0; k < ${K}; k++) {
            let j = lid + k * ${W};
            if (j < ${n}) { zPrev[j] = zNew[k]; }
          }
          workgroupBarrier();
        }
      }`,
  };
  return runProgram(program, [inputs, wIn, wRec, beta]);
}
