/**
 * Fused e-prop kernels for tfjs's webgpu backend: custom WGSL compute programs run through the
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
 *   The output is [B, T, n, 2]: ψ and z interleaved, downloaded with one `await data()` per batch.
 * - {@link epropGradientsWebgpu}: the three weight gradients in one dispatch, one invocation per
 *   gradient entry, each a float32 sum over the B·T rows, event-driven like the JavaScript kernel
 *   (rows where the presynaptic input or spike is 0 are skipped: spikes are sparse):
 *       G_in[j,i]  = (1/B)·Σ_{b,u} D[b,u,j]·x[b,u,i]
 *       G_rec[j,i] = (1/B)·Σ_{b,u<T−1} D[b,u+1,j]·z[b,u,i]   (0 on the diagonal)
 *       G_out[k,i] = (1/B)·Σ_{b,u} eOut[b,u,k]·z[b,u,i]
 *   z is taken from the scan's output on the device.
 *
 * Floats are baked into the shaders bit-exactly (`bitcast<f32>(0x…u)`), so the constants are the
 * float32 roundings of the float64 parameters.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import type { EPropScanConstants } from '../eprop-scan.js';

export type { EPropScanConstants } from '../eprop-scan.js';

/** The program object `runWebGPUProgram` expects (the fields tfjs-backend-webgpu 4.x reads). */
interface WebGpuProgram {
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

function run(program: WebGpuProgram, inputs: tf.Tensor[]): tf.Tensor {
  const info = webgpuBackend().runWebGPUProgram(program, inputs, 'float32');
  return tf.engine().makeTensorFromTensorInfo(info);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** A WGSL expression for the float32 rounding of x, bit-exact. */
function lit(x: number): string {
  f32[0] = x;
  return `bitcast<f32>(0x${u32[0]!.toString(16)}u)`;
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
  const key = ['eprop-scan', B, n, nIn, T, c.alpha, c.zeta, c.rho, c.vTh, nRef, c.surrogate.name, c.surrogate.height, c.surrogate.width].join(':');
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
                let xv = x[xo + i];
                if (xv != 0.0) { vj = vj + xv * (${zeta} * wIn[wo + i]); }
              }
              let ro = j * ${n};
              for (var p = 0; p < ${n}; p++) {
                if (zPrev[p] != 0.0) {
                  if (p == j) { vj = vj - ${lit(c.vTh)}; } else { vj = vj + ${zeta} * wRec[ro + p]; }
                }
              }
              let aj = ${lit(c.rho)} * a[k] + zPrev[j];
              let d = vj - (${lit(c.vTh)} + beta[j] * aj);
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
  return run(program, [inputs, wIn, wRec, beta]);
}

const GRAD_WORKGROUP = 64;

/**
 * The three e-prop gradients in one dispatch (see the module text). Returns new tensors
 * (caller owns them): input [n, nIn], recurrent [n, n], readout [nOut, n].
 *
 * @param inputs input spikes [B, T, nIn]
 * @param scan the output of {@link epropScanWebgpu} [B, T, n, 2]
 * @param d learning-signal factors D [B, T, n] float32
 * @param eOut readout errors [B, T, nOut] float32
 */
export function epropGradientsWebgpu(inputs: tf.Tensor, scan: tf.Tensor, d: tf.Tensor, eOut: tf.Tensor): { input: tf.Tensor2D; recurrent: tf.Tensor2D; readout: tf.Tensor2D } {
  const [B, T, nIn] = inputs.shape as [number, number, number];
  const n = scan.shape[2]!;
  const nOut = eOut.shape[2]!;
  const sIn = n * nIn;
  const sRec = n * n;
  const size = sIn + sRec + nOut * n;
  const rows = B * T;
  const program: WebGpuProgram = {
    outputShape: [size],
    shaderKey: ['eprop-grad', B, T, n, nIn, nOut].join(':'),
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(size / GRAD_WORKGROUP), 1, 1],
    variableNames: ['x', 'scan', 'dd', 'eOut'],
    workgroupSize: [GRAD_WORKGROUP, 1, 1],
    size: true,
    getUserCode: () => `
      fn main(index: i32) {
        if (index >= uniforms.size) { return; }
        var s = 0.0;
        if (index < ${sIn}) {
          let j = index / ${nIn};
          let i = index % ${nIn};
          for (var q = 0; q < ${rows}; q++) {
            let xv = x[q * ${nIn} + i];
            if (xv != 0.0) { s = s + dd[q * ${n} + j] * xv; }
          }
        } else if (index < ${sIn + sRec}) {
          let e = index - ${sIn};
          let j = e / ${n};
          let i = e % ${n};
          if (i != j) {
            for (var b = 0; b < ${B}; b++) {
              for (var u = 0; u < ${T - 1}; u++) {
                let q = b * ${T} + u;
                if (scan[(q * ${n} + i) * 2 + 1] != 0.0) { s = s + dd[(q + 1) * ${n} + j]; }
              }
            }
          }
        } else {
          let e = index - ${sIn + sRec};
          let k = e / ${n};
          let i = e % ${n};
          for (var q = 0; q < ${rows}; q++) {
            if (scan[(q * ${n} + i) * 2 + 1] != 0.0) { s = s + eOut[q * ${nOut} + k]; }
          }
        }
        result[index] = s * ${lit(1 / B)};
      }`,
  };
  const flat = run(program, [inputs, scan, d, eOut]);
  const out = tf.tidy(() => ({
    input: tf.reshape(tf.slice(flat, [0], [sIn]), [n, nIn]) as tf.Tensor2D,
    recurrent: tf.reshape(tf.slice(flat, [sIn], [sRec]), [n, n]) as tf.Tensor2D,
    readout: tf.reshape(tf.slice(flat, [sIn + sRec], [nOut * n]), [nOut, n]) as tf.Tensor2D,
  }));
  flat.dispose();
  return out;
}
