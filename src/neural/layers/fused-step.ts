/**
 * A layer's step on webgpu with its connections and synapses folded into the neuron group's WGSL
 * step program (`src/kernels/webgpu/step-drive.ts`): instead of a synapse scaling, a matrix or
 * element-wise product per connection and the layer's sum (tfjs ops, one dispatch each), the
 * group's program (or one program before it) computes `I = Σ_k (s_k·Q_k/Δt)·W_k` itself and stores
 * the synapses' currents, so every state (synapse history, neuron state) is what the op path leaves.
 *
 * Taken only where that is exactly the op path's computation; anything else keeps the op path:
 * - one neuron group with a fused step (LIF, ALIF: `NeuronGroup.planDrive`) and the base class's own
 *   `forward` (a subclass overriding it keeps its step), no per-step `override`;
 * - every connection a `LinearDense` (or `MaskedLinear`, `LinearLateral`: the mask is already in the
 *   weight) or a `LinearDirect`, with its own `forward`, no delays, no bias;
 * - every synapse exactly a `DeltaCurrent` (or a `DeltaPlusCurrent` given no injected current);
 * - current wiring only (no receptor), no `transform`, the layer's `'sum'` (any built-in mode with
 *   one connection).
 * No intermediate tensor of the op path (a connection's output, the layer's sum) is observable: the
 * layer's observers run after the step and read states, which are all kept.
 * @module
 */
import { tf } from '../../core/tf.js';
import type { Neuron, NeuronForwardOptions } from '../types.js';
import type { Connection } from '../connections/connection.js';
import { LinearDense } from '../connections/linear-dense.js';
import { LinearDirect } from '../connections/linear-direct.js';
import { DeltaCurrent, DeltaPlusCurrent } from '../synapses/delta.js';
import type { BaseSynapse } from '../synapses/synapse.js';
import { NeuronGroup } from '../neurons/neuron-group.js';
import { stepProgramsOn } from '../../kernels/webgpu/step-program.js';
import type { DriveShape, DriveTerm } from '../../kernels/webgpu/step-drive.js';
import type { LayerInput } from './layer.js';

/** What the fused step needs of a layer's wire. */
export interface FusedWire {
  connection: Connection;
  input: string;
  targets: readonly string[];
  receptorIndex: ReadonlyMap<string, number> | null;
  transform: ((output: tf.Tensor) => tf.Tensor) | null;
}

/** The drive kind of a connection, or null when the fused step does not cover it. */
function kindOf(c: Connection): 'dense' | 'direct' | null {
  if (c.hasDelays || c.biasParameter !== null) return null;
  const syn = Object.getPrototypeOf(c.synapse);
  if (syn !== DeltaCurrent.prototype && syn !== DeltaPlusCurrent.prototype) return null;
  if (c instanceof LinearDense && c.forward === LinearDense.prototype.forward) return 'dense';
  if (c instanceof LinearDirect && c.forward === LinearDirect.prototype.forward) return 'direct';
  return null;
}

/**
 * Runs the layer's step fused (see the module text) and returns its spikes per neuron group, or null
 * (nothing done) when the fused step does not apply. The inputs are already checked by the layer.
 */
export function fusedLayerStep(
  wires: readonly FusedWire[],
  neurons: ReadonlyMap<string, Neuron>,
  inputs: ReadonlyMap<string, LayerInput>,
  combine: string | null,
  neuronOptions?: ReadonlyMap<string, NeuronForwardOptions>,
): Map<string, tf.Tensor> | null {
  if (!stepProgramsOn() || neurons.size !== 1 || wires.length === 0) return null;
  if (combine === null || (wires.length > 1 && combine !== 'sum')) return null;
  const [name, neuron] = neurons.entries().next().value as [string, Neuron];
  // a subclass with its own forward (e.g. one that shapes its input) keeps its step: the program would skip it
  if (!(neuron instanceof NeuronGroup) || neuron.forward !== NeuronGroup.prototype.forward) return null;
  const opts = neuronOptions?.get(name) ?? {};
  if ((opts as { override?: unknown }).override !== undefined) return null;
  const shapes: DriveShape[] = [];
  const spikes: tf.Tensor[] = [];
  for (const w of wires) {
    if (w.transform || w.receptorIndex || w.targets.length !== 1 || w.targets[0] !== name) return null;
    const inp = inputs.get(w.input)!;
    const s = inp instanceof tf.Tensor ? inp : inp.injected === undefined ? inp.spikes : null;
    const kind = kindOf(w.connection);
    if (!s || !kind) return null;
    spikes.push(s);
    shapes.push({ kind, inCount: s.size / s.shape[0]! });
  }
  const { refracLock, adapt } = opts;
  const stepOpts = { ...(refracLock !== undefined ? { refracLock } : {}), ...(adapt !== undefined ? { adapt } : {}) };
  const plan = neuron.planDrive(shapes, stepOpts);
  if (!plan) return null;
  const floats = spikes.map((s) => (s.dtype === 'float32' ? s : tf.cast(s, 'float32')));
  const terms: DriveTerm[] = wires.map((w, k) => {
    const syn = w.connection.synapse as DeltaCurrent;
    return { kind: shapes[k]!.kind, spikes: floats[k]!, weight: w.connection.weight, scale: syn.charge / syn.dt };
  });
  const r = neuron.forwardDrive(terms, plan, stepOpts);
  wires.forEach((w, k) => (w.connection.synapse as unknown as BaseSynapse).record(floats[k]!, r.synapse[k]!));
  return new Map([[name, r.spike]]);
}
