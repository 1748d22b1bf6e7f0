/**
 * One compute dispatch with several outputs on tfjs's webgpu backend. tfjs's `runWebGPUProgram`
 * binds a single writable buffer; a step that renews several states (a neuron group's voltage,
 * refractory time, spikes and adaptation) would need one program per state. This module records a
 * dispatch of Cinder's own pipeline into the backend's command stream instead, the way the backend
 * records its own programs: fresh output tensors allocated by the backend (its buffer pool), the
 * inputs read in place, the same compute pass, the same deferred-submit batching. It uses the
 * backend's internal methods of tfjs-backend-webgpu 4.x (`makeTensorInfo`, `uploadToGPU`,
 * `tensorToBinding`, `ensureCommandEncoderReady`, `endComputePassEncoder`, `submitQueue` and the
 * pass/queue fields): {@link multiOutputAvailable} says whether they are there, and callers keep the
 * one-program-per-state route (`step-program.ts`) for any backend without them.
 *
 * The shader is written whole here: outputs at bindings 0 … m−1 (`read_write`), inputs after them
 * (`read`; an input kept by the backend in an int32 buffer — a cast from bool or int32 — is declared
 * `i32` and the body reads it through `f32(…)`), `index` the global invocation number, `group` the
 * workgroup's number and `lid` the invocation's number in it (index = group·64 + lid).
 * @module
 */
import { tf } from '../../core/tf.js';
import { KernelSetting } from '../setting.js';
import { numel } from '../../core/errors.js';
import { checkBindingFits, maxBindingBytes } from './limits.js';
import { F32_BITS_FN } from './eprop.js';

interface Internals {
  device: any;
  tensorMap: { get(dataId: object): { dtype: string; resource?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
  uploadToGPU(dataId: object): void;
  tensorToBinding(t: tf.TensorInfo): unknown;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: any;
  computePassEncoder: any;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  activeTimers: unknown;
}

const METHODS = ['makeTensorInfo', 'uploadToGPU', 'tensorToBinding', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue'] as const;

function internals(): Internals | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const b = tf.backend() as unknown as Partial<Internals>;
  if (!b.device || !b.tensorMap || !(b.commandQueueOwnedIds instanceof WeakSet) || typeof b.dispatchCountInPass !== 'number') return null;
  for (const m of METHODS) if (typeof b[m] !== 'function') return null;
  return b as Internals;
}

/** Invocations per workgroup (as the other step programs). */
const STEP_WORKGROUP = 64;

/** Whether one dispatch may write several outputs on the current backend (see the module text). */
export function multiOutputAvailable(): boolean {
  return enabled.get() && internals() !== null;
}

const enabled = new KernelSetting(true);

/** Turns the several-output dispatch on or off (off: one program per state); returns the previous setting. */
export function setMultiOutput(on: boolean): boolean {
  return enabled.set(on);
}

const bufferCap = new KernelSetting(Infinity);

/**
 * Caps {@link storageBufferLimit} at `n` (tests take the routes of an 8-buffer device on one that
 * allows more; Infinity: no cap); returns the previous cap.
 */
export function setStorageBufferCap(n: number): number {
  return bufferCap.set(n);
}

/**
 * Storage buffers one program may bind on the backend's device: the device's
 * `maxStorageBuffersPerShaderStage` (`initBackend` asks for the adapter's; WebGPU's default is 8),
 * at most the cap {@link setStorageBufferCap}; 8 when unknown.
 */
export function storageBufferLimit(): number {
  const b = internals();
  const n = b?.device?.limits?.maxStorageBuffersPerShaderStage;
  return Math.min(typeof n === 'number' && n > 0 ? n : 8, bufferCap.get());
}

/** Listeners told of every dispatch recorded here (`countPrograms` counts them). */
export const dispatchListeners = new Set<(name: string) => void>();

/** Compiled pipelines and their bind-group layouts, per device and program key. */
const pipelines = new WeakMap<object, Map<string, { pipeline: any; layout: any }>>();

/**
 * Records one dispatch of `invocations` invocations that writes the float32 outputs `outputs`
 * (name → shape) and reads `inputs` (name → tensor). `code()` gives module-scope `decls` and the
 * `body` run with `index`; it must guard its stores (invocations past the end exist). Returns the new
 * output tensors in the order given (owned by the caller).
 */
export function runMultiOutput(
  key: string,
  outputs: [string, number[]][],
  inputs: [string, tf.Tensor][],
  invocations: number,
  code: () => { decls: string; body: string },
): tf.Tensor[] {
  const b = internals();
  if (!b) throw new Error('runMultiOutput: the webgpu backend internals it records with are missing (check multiOutputAvailable() first)');
  const limit = maxBindingBytes();
  for (const [name, shape] of outputs) if (4 * numel(shape) > limit) checkBindingFits(`${key.split(':')[0]} output ${name}`, `shape [${shape.join(', ')}]`, numel(shape), 'the output');
  // a binding over the limit would not throw but read zeros
  for (const [name, t] of inputs) if (4 * t.size > limit) checkBindingFits(`${key.split(':')[0]} input ${name}`, t.shape, t.size, 'the input');
  for (const [, t] of inputs) b.uploadToGPU(t.dataId);
  const wide = inputs.map(([, t]) => {
    const dtype = b.tensorMap.get(t.dataId).dtype;
    return dtype === 'int32' || dtype === 'bool' ? 'i32' : 'f32';
  });
  const fullKey = `${key}|${wide.join(',')}`;
  let cache = pipelines.get(b.device);
  if (!cache) {
    cache = new Map();
    pipelines.set(b.device, cache);
  }
  let pipeline = cache.get(fullKey);
  if (!pipeline) {
    const { decls, body } = code();
    const bindings = [
      ...outputs.map(([name], i) => `@group(0) @binding(${i}) var<storage, read_write> ${name}: array<f32>;`),
      ...inputs.map(([name], i) => `@group(0) @binding(${outputs.length + i}) var<storage, read> ${name}: array<${wide[i]}>;`),
    ];
    const source = `${bindings.join('\n')}
${F32_BITS_FN}
${decls}
@compute @workgroup_size(${STEP_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let index = i32(gid.y * nwg.x * ${STEP_WORKGROUP}u + gid.x);
  let group = i32(wid.y * nwg.x + wid.x); let lid = i32(lid3.x);
  _ = group; _ = lid;
  ${[...outputs, ...inputs].map(([name]) => `_ = &${name};`).join(' ')}
  ${body}
}`;
    const module = b.device.createShaderModule({ code: source, label: key });
    const made = b.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
    // the layout is asked for once: each getBindGroupLayout call makes a new object
    pipeline = { pipeline: made, layout: made.getBindGroupLayout(0) };
    cache.set(fullKey, pipeline);
  }
  const outs = outputs.map(([, shape]) => {
    const info = b.makeTensorInfo(shape, 'float32');
    b.uploadToGPU(info.dataId);
    return info;
  });
  const all = [...outs, ...inputs.map(([, t]) => t as tf.TensorInfo)];
  for (const t of all) b.commandQueueOwnedIds.add(t.dataId);
  const bindGroup = b.device.createBindGroup({
    layout: pipeline.layout,
    entries: all.map((t, i) => ({ binding: i, resource: b.tensorToBinding(t) })),
  });
  const groups = Math.max(1, Math.ceil(invocations / STEP_WORKGROUP));
  const x = Math.min(groups, 65535);
  const y = Math.ceil(groups / x);
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder.beginComputePass({});
  b.computePassEncoder.setPipeline(pipeline.pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(x, y, 1);
  b.dispatchCountInPass++;
  if (b.activeTimers != null || (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  for (const fn of dispatchListeners) fn(key.split(':')[0]!);
  return outs.map((info) => tf.engine().makeTensorFromTensorInfo(info));
}
