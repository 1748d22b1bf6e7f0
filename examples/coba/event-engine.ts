/**
 * The event-driven engine of `cinder coba` (`--engine event`, the default): the network of
 * `./network.ts` — same draws ({@link cobaDraws}), same equations, same step scheme — on
 * {@link EventNetwork} (plain typed arrays, no tfjs op per step), checked step by step against the
 * module engine and a float64 loop in test/examples/coba-event.test.ts.
 *
 * One LIF population of N neurons, `method: 'exact'`:
 * - COBA, `drive: 'conductance'`: G = 1 + g_e + g_i, V∞ = (E_l + g_e E_e + g_i E_i)/G,
 *   V ← V∞ + (V − V∞)·e^{−dt·G/τ_m}; g_e ← g_e·e^{−dt/τ_e}, g_i ← g_i·e^{−dt/τ_i}.
 * - CUBA, `drive: 'current'`: V ← V·d + E_l(1 − d) + (1 − d)(g_e − g_i), d = e^{−dt/τ_m}, with
 *   E_l = −49 mV directly (the module engine rests at V_reset and adds E_l − V_reset as a bias: the
 *   same equation); g_i holds the inhibitory current with the opposite sign (jump +9 mV, subtracted).
 *
 * Step order: the engine updates V with the g it holds at the start of the step, then decays g and
 * adds the jumps of the step's spikes — so V at step t sees G_t = G_{t−1}·e^{−dt/τ} + Σ w·s_{t−1},
 * the recursion of the module engine (which decays and adds the previous step's jumps first, then
 * updates V); the initial g_e, g_i of COBA are the g held at step 0 (the module engine's jumps of
 * step 0). Spike when V ≥ Θ (as Cinder's LIF); the refractory period is the module engine's in
 * whole steps ({@link cobaRefractorySteps}: ⌊5/dt + 10⁻³⌋ = 50 (Brian2's count) with `refractory: 'steps'`, the default, or the
 * float32 countdown's {@link moduleRefractorySteps} = 51 with `'time'`). Float32 state, float64 arithmetic rounded on store;
 * the module engine's float32 ops differ by rounding only (spikes identical up to near-ties at Θ).
 * @module
 */
import { CinderArgumentError } from '../../src/core/errors.js';
import { EventNetwork, buildProjectionLane, type EventGroup } from '../../src/kernels/js/event-network.js';
import { refracStepCount } from '../../src/neural/neurons/index.js';
import { buildableDraws, cobaDraws, COBA_CONSTANTS, type CobaParams } from './network.js';

/**
 * Steps k of the refractory period as the module engine counts them with `refractory: 'time'`
 * (the LIF's `refracCount: 'time'`): the remaining time r starts
 * at fround(τref) when the neuron fires and drops by fround(dt) per step in float32
 * (r ← max(r − dt, 0)); the neuron is free at the first step that starts with r ≤ dt. A neuron that
 * fired at step n is free again from step n + k (k ≥ 1).
 */
export function moduleRefractorySteps(refracT: number, dt: number): number {
  const f = Math.fround;
  const fdt = f(dt);
  let r = f(refracT);
  let k = 1;
  while (!(r <= fdt)) {
    r = f(Math.max(f(r - fdt), 0));
    k++;
  }
  return k;
}

/**
 * The refractory period of the network of `p` in whole steps, as its module engine holds it: with
 * `refractory: 'steps'` (the default) k = max(⌊τref/dt + 10⁻³⌋, 1), Brian2's count (`refracStepCount`, 50 at dt = 0.1), with
 * `'time'` the float32 countdown's {@link moduleRefractorySteps} (51 at dt = 0.1).
 */
export function cobaRefractorySteps(p: CobaParams): number {
  const C = COBA_CONSTANTS;
  return (p.refractory ?? 'steps') === 'steps' ? Math.max(refracStepCount(C.refracT, p.dt), 1) : moduleRefractorySteps(C.refracT, p.dt);
}

/** The state of an event network that changes while it runs (checkpoints), as plain arrays. */
export interface CobaEventState {
  /** The next step. */
  step: number;
  /** Voltages (float32 values; a plain array or a Float32Array). */
  v: ArrayLike<number>;
  /** g_e (float32 values). */
  ge: ArrayLike<number>;
  /** g_i (float32 values). */
  gi: ArrayLike<number>;
  /** Step of each neuron's last spike (int32 values). */
  lastSpike: ArrayLike<number>;
  /**
   * The refractory period in steps the state was run with ({@link cobaRefractorySteps}); absent in
   * checkpoints from before `--refractory` (those held 51 steps at dt = 0.1).
   */
  refractorySteps?: number;
}

/** A built event network. */
export interface CobaEventNetwork {
  /** The engine (one lane). */
  net: EventNetwork;
  /** The population. */
  group: EventGroup;
  /** Number of excitatory neurons (the first `ne` of the population). */
  ne: number;
  /** Synapses from excitatory and from inhibitory neurons. */
  synapses: { exc: number; inh: number };
  /** Runs `steps` steps; returns their spikes as (step, neuron) pairs, ordered by step then neuron. */
  run(steps: number): { step: Int32Array; index: Int32Array };
  /** The state for a checkpoint. */
  state(): CobaEventState;
  /** Puts back a state from {@link state} (same parameters and seed). */
  restore(s: CobaEventState): void;
}

/**
 * Builds the event network of {@link CobaParams} for `seed` (the draws of {@link cobaDraws}). The
 * network keeps the synapses in its projections' lanes only (8 bytes per synapse: weight and
 * postsynaptic index); the drawn (pre, post) lists (another 8 bytes per synapse) are not kept once
 * the lanes are built — 256 MB for the 3.2·10⁷ synapses of 40 000 neurons at p = 0.02.
 */
export function buildCobaEvent(p: CobaParams, seed: number): CobaEventNetwork {
  const C = COBA_CONSTANTS;
  const draws = buildableDraws(p, seed);
  const N = p.neurons;
  const cob = p.model === 'coba';
  const held = cobaRefractorySteps(p);
  const net = new EventNetwork(1, p.dt, [seed]);
  const group = net.addLif('pop', N, {
    el: cob ? C.coba.El : C.cuba.El, vThreshold: C.threshV, vReset: C.resetV, tauM: C.tauM, tauE: C.tauE, tauI: C.tauI, tauRef: C.refracT,
    method: 'exact', spikeAtThreshold: true, refractorySteps: held,
    ...(cob ? { drive: 'conductance' as const, ee: C.coba.Ee, ei: C.coba.Ei } : { drive: 'current' as const }),
  });
  const we = cob ? C.coba.we : C.cuba.we;
  const wi = cob ? C.coba.wi : -C.cuba.wi; // CUBA: g_i is subtracted
  const lane = (list: typeof draws.exc, w: number) => buildProjectionLane(list.pre, list.post, w, N, N, false);
  net.addProjection('exc', group, group, 'ge', [lane(draws.exc, we)]);
  net.addProjection('inh', group, group, 'gi', [lane(draws.inh, wi)]);
  group.v.set(draws.v0);
  group.ge.set(draws.ge0);
  group.gi.set(draws.gi0);
  group.recording = true;
  const ne = draws.ne;
  const synapses = { exc: draws.exc.pre.length, inh: draws.inh.pre.length };
  return {
    net, group, ne, synapses,
    run(steps: number) {
      net.run(steps);
      return group.takeRecording(0);
    },
    state(): CobaEventState {
      return { step: net.step, v: Array.from(group.v), ge: Array.from(group.ge), gi: Array.from(group.gi), lastSpike: Array.from(group.lastSpike), refractorySteps: held };
    },
    restore(s: CobaEventState): void {
      for (const k of ['v', 'ge', 'gi', 'lastSpike'] as const) {
        const a = s[k] as unknown;
        const ok = Array.isArray(a) || ArrayBuffer.isView(a);
        if (!ok || (a as ArrayLike<number>).length !== N) throw new CinderArgumentError(`checkpoint ${k}`, ok ? (a as ArrayLike<number>).length : typeof a, `${N} values (this network)`);
      }
      if (!Number.isInteger(s.step) || s.step < 0) throw new CinderArgumentError('checkpoint step', s.step, 'an integer >= 0');
      const saved = s.refractorySteps ?? moduleRefractorySteps(C.refracT, p.dt);
      if (saved !== held) throw new CinderArgumentError('checkpoint refractorySteps', saved, `${held} (this network's refractory period in steps: a checkpoint of the same --refractory)`);
      group.v.set(s.v);
      group.ge.set(s.ge);
      group.gi.set(s.gi);
      group.lastSpike.set(s.lastSpike);
      net.step = s.step;
    },
  };
}
