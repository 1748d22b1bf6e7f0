/**
 * Shared plumbing of the fused per-step WGSL programs (`step-neuron.ts`, `step-trace.ts`,
 * `step-update.ts`): the switch that turns them on or off, and how an element-wise program is
 * built and run through tfjs's webgpu backend on the backend's own tensors.
 *
 * tfjs's `runWebGPUProgram` binds one writable buffer (the program's output) and any number of
 * read-only inputs, and a buffer cannot be both in one dispatch. A step that renews several states
 * (a neuron group's voltage, refractory time, spikes, adaptation) is therefore one dispatch of
 * Cinder's own pipeline recorded into the backend's command stream (`step-dispatch.ts`), or, on a
 * backend without the internals that needs, one small program per state here, each computing the
 * whole element update and storing its own component (2–4 dispatches instead of one per tfjs op:
 * ≈ 17 for LIF, ≈ 30 for ALIF). Packing the states into one output would need a slice per state
 * afterwards (the webgpu backend has no zero-copy slice): the same dispatches plus copies.
 *
 * Inputs are read through `f32(…)`: the webgpu backend keeps a float32 tensor that was cast from bool
 * or int32 in its int32 buffer (a cast to a wider type copies nothing).
 *
 * The program object is rebuilt on every call (the backend rewrites its `shaderKey` in place), but
 * its WGSL text is generated once per key and the backend caches the compiled pipeline by key.
 * @module
 */
import { tf } from '../../core/tf.js';
import { envSwitch } from '../setting.js';
import { runProgram, type WebGpuProgram } from './eprop.js';
import { dispatchListeners, multiOutputAvailable, runMultiOutput } from './step-dispatch.js';

export { keyNum, lit, programKey } from './eprop.js';

/** Switch for the step programs: `CINDER_FUSED=0` turns them off at start (as the JS fused kernels). */
const enabled = envSwitch('CINDER_FUSED');

/** Turns the fused WGSL step programs on or off (the op path is used when off); returns the previous setting. */
export function setStepPrograms(on: boolean): boolean {
  return enabled.set(on);
}

/** True when the step programs are on and the current backend is webgpu. */
export function stepProgramsOn(): boolean {
  return enabled.get() && tf.getBackend() === 'webgpu';
}

/** Invocations per workgroup of the element-wise step programs. */
export const STEP_WORKGROUP = 64;

const sources = new Map<string, string>();

/** The WGSL of a step program, generated once per key: module-scope `decls` and the `body` of `main`. */
export type StepCode = () => { decls: string; body: string };

/**
 * Runs an element-wise program of `size` invocations writing a new float32 tensor of `shape`:
 * `code()` gives the WGSL `body` run with `index` in 0 … size − 1 (it stores to `result`) and the
 * module-scope declarations `decls` it uses. Every input is read once up front (WebGPU drops unused
 * bindings from the pipeline layout that tfjs binds).
 */
export function runElementwise(key: string, shape: number[], size: number, names: string[], inputs: tf.Tensor[], code: StepCode): tf.Tensor {
  return run(key, shape, Math.ceil(size / STEP_WORKGROUP), names, inputs, code, size);
}

/**
 * Runs a program of `groups` workgroups (see the two callers): element-wise over `size`
 * invocations (`main` first returns past the end), or, with `size` null, by workgroup (`main` gets
 * the workgroup's number `group` and the invocation's `lid`). Recorded by `step-dispatch.ts` where
 * the backend's internals allow (no uniform buffer, shader key or program object per call: a step's
 * host time is what bounds it on a GPU), else through tfjs's `runWebGPUProgram`. Both give `main`
 * the same `index`, `group` and `lid`, and fold a dispatch wider than 65,535 workgroups into rows
 * the same way. The WGSL is built only when a program is first compiled.
 */
function run(key: string, shape: number[], groups: number, names: string[], inputs: tf.Tensor[], code: StepCode, size: number | null): tf.Tensor {
  const guard = () => (size === null ? '' : `if (index >= ${size}) { return; }`);
  if (multiOutputAvailable()) {
    // runMultiOutput's main defines index, group and lid itself
    const [out] = runMultiOutput(key, [['result', shape]], names.map((n, i) => [n, inputs[i]!]), groups * STEP_WORKGROUP, () => {
      const { decls, body } = code();
      return { decls, body: `${guard()}\n${body}` };
    });
    return out!;
  }
  let src = sources.get(key);
  if (src === undefined) {
    const { decls, body } = code();
    src = `
      ${decls}
      fn main(index: i32) {
        _ = uniforms.outShape;
        ${names.map((n) => `_ = ${n}[0];`).join(' ')}
        ${size === null ? 'let group = i32(workgroupId.y * numWorkgroups.x + workgroupId.x); let lid = i32(localId.x);' : guard()}
        ${body}
      }`;
    sources.set(key, src);
  }
  const userCode = src;
  const program: WebGpuProgram = {
    outputShape: shape,
    shaderKey: key,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [groups, 1, 1],
    variableNames: names,
    workgroupSize: [STEP_WORKGROUP, 1, 1],
    getUserCode: () => userCode,
  };
  return runProgram(program, inputs);
}

/** Result of {@link countPrograms}. */
export interface ProgramCount {
  /** WGSL programs dispatched (tfjs's own kernels and Cinder's). */
  programs: number;
  /** Their names (the program class, or the key's first field for Cinder's programs), in order. */
  names: string[];
}

/**
 * Counts the WGSL programs `fn` dispatches on the webgpu backend (every call of the backend's
 * `runWebGPUProgram`, tfjs's kernels and Cinder's custom programs alike, and the several-output
 * dispatches of `step-dispatch.ts`). `tf.profile` does not see
 * custom programs (they bypass the kernel registry) and counts kernels that dispatch nothing
 * (reshape, and small tensors computed on the CPU), so this is the dispatch count of a step.
 */
export async function countPrograms(fn: () => unknown): Promise<ProgramCount> {
  const b = tf.backend() as unknown as { runWebGPUProgram?: (program: WebGpuProgram, ...rest: unknown[]) => unknown };
  const own = Object.prototype.hasOwnProperty.call(b, 'runWebGPUProgram');
  const orig = b.runWebGPUProgram;
  if (tf.getBackend() !== 'webgpu' || typeof orig !== 'function') return { programs: 0, names: [] };
  const names: string[] = [];
  b.runWebGPUProgram = function (this: unknown, program: WebGpuProgram, ...rest: unknown[]) {
    const ctor = (program as { constructor?: { name?: string } }).constructor?.name;
    names.push(ctor && ctor !== 'Object' ? ctor : program.shaderKey.split(':')[0]!);
    return orig.call(this, program, ...rest);
  };
  const listener = (name: string) => void names.push(name);
  dispatchListeners.add(listener);
  try {
    await fn();
  } finally {
    dispatchListeners.delete(listener);
    if (own) b.runWebGPUProgram = orig;
    else delete b.runWebGPUProgram;
  }
  return { programs: names.length, names };
}

/**
 * Runs a program of `groups` workgroups of {@link STEP_WORKGROUP} invocations writing a new float32
 * tensor of `shape`: `code()` gives the WGSL `body` of `main` (the workgroup's number is `group`,
 * possibly ≥ `groups` where tfjs folds a wide dispatch into rows: keep barriers in uniform control
 * flow and guard the stores) and module-scope `decls`. Every input is read once up front.
 */
export function runWorkgroups(key: string, shape: number[], groups: number, names: string[], inputs: tf.Tensor[], code: StepCode): tf.Tensor {
  return run(key, shape, groups, names, inputs, code, null);
}
