/**
 * Fused kernel `CinderFusedNeuron` (wasm and cpu backends): one step of a neuron group with an
 * exactly integrated linear membrane, an absolute refractory period, a fixed or adaptive threshold
 * and reset (LIF, ALIF), in one kernel instead of ≈ 17 (LIF) or ≈ 30 (ALIF) small ones.
 * Same float32 operations, in the same order, as `NeuronGroup.forward` with `LinearMembrane`
 * (the reference op path), per element:
 *
 * - `free = r ≤ Δt` (always true without a refractory period);
 * - `i ← free ? i : 0` when `refracLock` is false;
 * - `v' = (v·d + v_rest·(1 − d)) + i·R·(1 − d)`, `d = e^{−Δt/τ_m}`; `v' ← free ? v' : v` when
 *   `refracLock`;
 * - with conductance input (receptors r with conductance g_r, reversal potential E_r; `LinearMembrane`'s
 *   exact step for g held over the step): `g_r ← free ? g_r : 0` when `refracLock` is false,
 *   `Σg = ((g_0 + g_1) + …)`, `ΣgE = ((g_0·E_0 + g_1·E_1) + …)` (the receptors given, in order),
 *   `G = 1 + R·Σg`, `V∞ = (v_rest + R·(i + ΣgE))/G`, `v' = V∞ + (v − V∞)·e^{G·(−Δt/τ_m)}` (the
 *   products with R skipped for R = 1, as the op path), each operation rounded to float32; the
 *   exponential is `Math.exp` of the float32 argument rounded to float32, which is what the cpu
 *   backend's `Exp` computes (bit-identical to the op path there) and within 1 ulp of the wasm
 *   backend's `expf` (which differs from the correctly rounded value for ≈ 0.07 % of arguments), so
 *   on wasm v' may differ from the op path by about |v − V∞|·2⁻²⁴ in those cases;
 * - `fired = free ∧ v' ≥ Θ` with `Θ = Σ_k θ_k + Θ∞` (adaptive) or `Θ∞`;
 * - `v ← fired ? v_reset : v'`, `r ← fired ? t_ref : max(r − Δt, 0)`, `s = fired`;
 * - adaptation (when asked): per term k, `p = (r' > 0 ∧ refracLock) ? θ_k : θ_k·a_k`,
 *   `θ_k ← reduce_b(p + s·c_k)` for `mean`, `max`, `none`; for `sum`, `θ_k ← mean_b(p) + Σ_b s·c_k`.
 *
 * The batch mean sums in sample order and divides by B (tfjs's Mean may sum in another order).
 *
 * On wasm with SIMD (`fused-simd.ts`), for a neuron count that is a multiple of 4 and at most one
 * adaptation term shared by the batch, the element loop (and a batch-mean adaptation) runs 4 neurons
 * per vector operation with the same float32 operations and no branches (a random spike pattern
 * mispredicts the JavaScript loop's branches). The one difference: `max(r − Δt, 0)` of a −0 gives −0
 * there, +0 here. With one or two receptors' conductances the element loop runs there too
 * (`neuronConductance`): the exponential `fround(Math.exp(G·rate))` is fdlibm's exp on f64x2
 * (`wasm-exp.ts`, the bits of V8's Math.exp; a module whose exponential differs from this engine's
 * Math.exp on its probe values is not used), so the loop's results equal this JavaScript loop's bit
 * for bit (`test/kernels/fused-neuron-conductance.test.ts`).
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import { FusedMemory, registerFused } from './fused-memory.js';
import { simdLoops } from './fused-simd.js';

/** Kernel name. */
export const FUSED_NEURON = 'CinderFusedNeuron';

/** The constants of a fusable neuron group. */
export interface FusedNeuronSpec {
  /** `e^{−Δt/τ_m}`. */
  decay: number;
  /** `v_rest·(1 − d)`. */
  restTerm: number;
  /** `R·(1 − d)`. */
  gain: number;
  /** Fixed threshold (Θ∞ for adaptive models). */
  thresh: number;
  /** Reset voltage. */
  reset: number;
  /** Step (ms). */
  dt: number;
  /**
   * The remaining refractory time r a spike sets (ms; 0 for none): the refractory period, or with
   * `refracCount: 'steps'` the group's `refracStart` fl((k − ½)·fl(dt)) (whole-step counting).
   */
  refracT: number;
  /** Adaptive threshold: per-term decay a_k and increment c_k, batch reduction, the state. */
  adaptation?: FusedAdaptation;
  /** The membrane constants of conductance input; without them the kernel takes current input only. */
  conductance?: FusedConductanceSpec;
}

/**
 * The membrane constants of a conductance step (`LinearMembrane`): each is rounded to float32 as the
 * op path's scalar constants are.
 */
export interface FusedConductanceSpec {
  /** Resting voltage V_rest (mV). */
  rest: number;
  /** Membrane resistance R (the products with R are skipped when it is 1). */
  resistance: number;
  /** `−Δt/τ_m`, computed in float64 (rounded to float32 by the kernel). */
  rate: number;
}

/** One receptor's input to a fused conductance step. */
export interface FusedConductance {
  /** Conductance g_r `[B, ...shape]` (float32, same size as the voltage). */
  g: tf.Tensor;
  /** Reversal potential E_r (mV; rounded to float32). */
  reversal: number;
}

/** The kernel's attributes: the spec's constants (unrounded) and the shapes and options of the call. */
interface Attrs extends Omit<FusedNeuronSpec, 'adaptation' | 'conductance'>, FusedConductanceSpec {
  B: number;
  N: number;
  K: number;
  refracLock: boolean;
  hasInput: boolean;
  adapt: boolean;
  thetaBatched: boolean;
  adaptDecay: number[];
  adaptInc: number[];
  reduction: string;
  /** Receptors given (inputs g0 … g{M−1}); 0 for current input. */
  M: number;
  reversal: number[];
}

const f = Math.fround;

function kernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }): tf.TensorInfo[] {
  const a = args.attrs as unknown as Attrs;
  const { B, N, K } = a;
  // the shapes the SIMD loops take: whole groups of 4 neurons, θ (if any) one term shared by the batch
  const simdFits = N % 4 === 0 && (!args.inputs.theta || (K === 1 && !a.thetaBatched));
  // wasm with SIMD, one or two receptors: the conductance step four neurons at a time (its loop's
  // first use allocates in the backend's memory: before any output or view is taken)
  const condLoop = simdFits && a.M > 0 && a.M <= 2 ? (simdLoops()?.conductance() ?? null) : null;
  const mem = new FusedMemory(args.backend);
  const vInfo = args.inputs.v!;
  const thetaInfo = args.inputs.theta;
  const vOutInfo = mem.output([...vInfo.shape]);
  const rOutInfo = mem.output([...vInfo.shape]);
  const sOutInfo = mem.output([...vInfo.shape]);
  const thOutInfo = thetaInfo && a.adapt ? mem.output([...thetaInfo.shape]) : null;
  const v = mem.view(vInfo);
  const r = mem.view(args.inputs.refrac!);
  const cur = a.hasInput ? mem.view(args.inputs.i!) : null;
  const theta = thetaInfo ? mem.view(thetaInfo) : null;
  const M = a.M;
  const gs: Float32Array[] = [];
  for (let m = 0; m < M; m++) gs.push(mem.view(args.inputs[`g${m}`]!));
  const rev = a.reversal.map(f);
  const rest = f(a.rest);
  const R = f(a.resistance);
  const withR = a.resistance !== 1;
  const rate = f(a.rate);
  // the first two receptors' arrays and reversal potentials as locals (the common case, e.g. COBA's exc/inh)
  const g0 = M > 0 ? gs[0]! : new Float32Array(0);
  const g1 = M > 1 ? gs[1]! : new Float32Array(0);
  const e0 = M > 0 ? rev[0]! : 0;
  const e1 = M > 1 ? rev[1]! : 0;
  const vOut = mem.view(vOutInfo);
  const rOut = mem.view(rOutInfo);
  const sOut = mem.view(sOutInfo);
  const decay = f(a.decay);
  const restTerm = f(a.restTerm);
  const gain = f(a.gain);
  const thresh = f(a.thresh);
  const reset = f(a.reset);
  const dt = f(a.dt);
  const refracT = f(a.refracT);
  const refractory = a.refracT > 0;
  const lock = a.refracLock;
  const tb = a.thetaBatched;
  // wasm with SIMD: the element loop 4 neurons at a time (same float32 operations, no branches)
  const L = simdFits ? simdLoops() : null;
  // the SIMD loops' flags: 1 refractory, 2 refracLock, 4 a current, 8 θ (the conductance loop adds 16, 32)
  const flags = (refractory ? 1 : 0) | (lock ? 2 : 0) | (cur ? 4 : 0) | (theta ? 8 : 0);
  if (L && M === 0) {
    L.neuron(v.byteOffset, r.byteOffset, cur ? cur.byteOffset : 0, theta ? theta.byteOffset : 0, vOut.byteOffset, rOut.byteOffset, sOut.byteOffset, B, N, decay, restTerm, gain, thresh, reset, dt, refracT, flags);
  }
  if (condLoop) {
    condLoop(v.byteOffset, r.byteOffset, cur ? cur.byteOffset : 0, theta ? theta.byteOffset : 0, g0.byteOffset, (M > 1 ? g1 : g0).byteOffset, vOut.byteOffset, rOut.byteOffset, sOut.byteOffset, B, N, flags | (M > 1 ? 16 : 0) | (withR ? 32 : 0), e0, e1, rest, R, rate, thresh, reset, dt, refracT);
  }
  for (let b = 0; b < ((L && M === 0) || condLoop ? 0 : B); b++) {
    for (let n = 0; n < N; n++) {
      const e = b * N + n;
      const vv = v[e]!;
      const rr = r[e]!;
      const free = !refractory || rr <= dt;
      const masked = !lock && !free;
      let ii = cur ? cur[e]! : 0;
      if (masked) ii = 0;
      let vn: number;
      if (M > 0) {
        // LinearMembrane's conductance step, operation by operation
        let gSum = masked ? 0 : g0[e]!;
        let gE = f(gSum * e0);
        if (M > 1) {
          const g = masked ? 0 : g1[e]!;
          gSum = f(gSum + g);
          gE = f(gE + f(g * e1));
        }
        for (let m = 2; m < M; m++) {
          const g = masked ? 0 : gs[m]![e]!;
          gSum = f(gSum + g);
          gE = f(gE + f(g * rev[m]!));
        }
        const G = f(1 + (withR ? f(gSum * R) : gSum));
        const drv = cur ? f(ii + gE) : gE;
        const vInf = f(f(rest + (withR ? f(drv * R) : drv)) / G);
        const d = f(Math.exp(f(G * rate)));
        vn = f(vInf + f(f(vv - vInf) * d));
      } else {
        const leak = f(f(vv * decay) + restTerm);
        vn = cur ? f(leak + f(ii * gain)) : leak;
      }
      if (refractory && lock && !free) vn = vv;
      let th = thresh;
      if (theta) {
        const base = (tb ? e : n) * K;
        let sum = theta[base]!;
        for (let k = 1; k < K; k++) sum = f(sum + theta[base + k]!);
        th = f(sum + thresh);
      }
      const fired = free && vn >= th;
      vOut[e] = fired ? reset : vn;
      sOut[e] = fired ? 1 : 0;
      rOut[e] = refractory ? (fired ? refracT : Math.max(f(rr - dt), 0)) : rr;
    }
  }
  const outs = [vOutInfo, rOutInfo, sOutInfo];
  if (thOutInfo && theta) {
    const th = mem.view(thOutInfo);
    const hold = refractory && lock;
    const red = a.reduction;
    // wasm with SIMD, one term, batch mean: the update 4 neurons at a time
    if (L && K === 1 && red === 'mean') L.adaptMean(theta.byteOffset, rOut.byteOffset, sOut.byteOffset, th.byteOffset, B, N, f(a.adaptDecay[0]!), f(a.adaptInc[0]!), hold ? 1 : 0);
    for (let k = 0; k < (L && K === 1 && red === 'mean' ? 0 : K); k++) {
      const ad = f(a.adaptDecay[k]!);
      const inc = f(a.adaptInc[k]!);
      for (let n = 0; n < N; n++) {
        if (tb) {
          // per-sample state ('none')
          for (let b = 0; b < B; b++) {
            const e = b * N + n;
            const t0 = theta[e * K + k]!;
            const p = hold && rOut[e]! > 0 ? t0 : f(t0 * ad);
            th[e * K + k] = f(p + f(sOut[e]! * inc));
          }
          continue;
        }
        const t0 = theta[n * K + k]!;
        const next = f(t0 * ad);
        let acc = 0;
        let added = 0;
        for (let b = 0; b < B; b++) {
          const e = b * N + n;
          const p = hold && rOut[e]! > 0 ? t0 : next;
          const s = f(sOut[e]! * inc);
          if (red === 'sum') {
            acc = b === 0 ? p : f(acc + p);
            added = b === 0 ? s : f(added + s);
          } else {
            const x = f(p + s);
            acc = b === 0 ? x : red === 'max' ? Math.max(acc, x) : f(acc + x);
          }
        }
        let out: number;
        if (red === 'sum') out = f((hold ? f(acc / B) : next) + added);
        else if (red === 'max') out = acc;
        else out = f(acc / B);
        th[n * K + k] = out;
      }
    }
    outs.push(thOutInfo);
  }
  return outs;
}

/** The adaptive threshold of a fused neuron step: θ_k ← a_k·θ_k + c_k·z, reduced over the batch. */
export interface FusedAdaptation {
  /** Per-term decay a_k = e^{−Δt/τ_k}. */
  decay: readonly number[];
  /** Per-term increment c_k on a spike. */
  increment: readonly number[];
  /** How the per-sample updates are combined over the batch. */
  reduction: 'mean' | 'sum' | 'max' | 'none';
  /** The adaptation state θ `[...shape, K]` (or `[B, ...shape, K]` with `none`). */
  theta: tf.Tensor;
}

/** Result of {@link fusedNeuronStep}: the new states (new tensors). */
export interface FusedNeuronResult {
  /** New membrane voltage `[B, ...shape]`. */
  voltage: tf.Tensor;
  /** New remaining refractory time `[B, ...shape]`. */
  refrac: tf.Tensor;
  /** Spikes of this step (0/1 float32) `[B, ...shape]`. */
  spike: tf.Tensor;
  /** New adaptation state, when adapting. */
  theta: tf.Tensor | null;
}

/** Throws when a state, the current or θ does not fit the kernel (see {@link fusedNeuronStep}). */
function checkStates(state: FusedNeuronState, size: number, ad: FusedAdaptation | undefined, B: number, N: number): void {
  const float = (param: string, t: tf.Tensor, n: number, what: string) => {
    if (t.dtype !== 'float32' || t.size !== n) throw new CinderArgumentError(param, t, `a float32 tensor of ${what}`);
  };
  const shape = `[${state.voltage.shape.join(', ')}]`;
  float('voltage', state.voltage, size, `B·N = ${size} elements`);
  float('refrac', state.refrac, size, `${size} elements (the voltage's shape ${shape})`);
  if (state.current) float('current', state.current, size, `${size} elements (the voltage's shape ${shape})`);
  state.conductances?.forEach((c, m) => float(`conductances[${m}]`, c.g, size, `${size} elements (the voltage's shape ${shape})`));
  if (!ad) return;
  const K = ad.decay.length;
  if (!(K >= 1) || ad.increment.length !== K) throw new CinderArgumentError('adaptation.increment', `${ad.increment.length} increments for ${K} decay factors`, 'one increment per decay factor, at least one');
  const batched = ad.reduction === 'none' && ad.theta.size === B * N * K;
  float('adaptation.theta', ad.theta, batched ? B * N * K : N * K, `N·K = ${N * K} elements${ad.reduction === 'none' ? ` or B·N·K = ${B * N * K}` : ''}`);
}

/** The states and input of a fused step. */
export interface FusedNeuronState {
  /** Membrane voltage `[B, ...shape]`. */
  voltage: tf.Tensor;
  /** Remaining refractory time `[B, ...shape]`. */
  refrac: tf.Tensor;
  /** Input current `[B, ...shape]`, or null. */
  current: tf.Tensor | null;
  /**
   * Conductance input: the receptors given, in the group's receptor order (needs
   * `spec.conductance`); absent or empty for current input only.
   */
  conductances?: readonly FusedConductance[];
}

/**
 * One fused neuron step on the current backend (wasm or cpu; see `fusedBackend`). `current` is the
 * input current `[B, ...shape]` or null, `conductances` the receptors' conductances (optional);
 * states as kept by the group.
 * @throws CinderArgumentError for an empty batch (B = 0: no per-neuron count, and a batch mean of
 *   the adaptation over no sample is undefined); for a state, current or θ that is not float32 or
 *   whose size does not match `voltage` (`refrac` and `current`: B·N elements; θ: N·K, or B·N·K with
 *   `none`; K = the number of decay factors = of increments ≥ 1). Checked before anything runs: the
 *   kernel reads and writes B·N (and N·K) elements, and on wasm the SIMD loops would otherwise
 *   write past a smaller θ output into the backend's heap; for a conductance of another size or
 *   dtype, or conductances without `spec.conductance`.
 */
export function fusedNeuronStep(
  spec: FusedNeuronSpec,
  state: FusedNeuronState,
  options: { refracLock: boolean; adapt: boolean },
): FusedNeuronResult {
  registerFused(FUSED_NEURON, kernel as unknown as tf.KernelFunc);
  const B = state.voltage.shape[0]!;
  if (!(B >= 1)) throw new CinderArgumentError('batch', B, 'at least one sample (voltage [B, ...shape] with B >= 1)');
  const N = state.voltage.size / B;
  const ad = spec.adaptation;
  const theta = ad?.theta ?? null;
  const K = ad ? ad.decay.length : 0;
  checkStates(state, B * N, ad, B, N);
  const gs = state.conductances ?? [];
  const cs = spec.conductance;
  if (gs.length > 0 && !cs) throw new CinderArgumentError('spec.conductance', cs, 'the membrane constants {rest, resistance, rate} with conductance input');
  const inputs: Record<string, tf.Tensor> = { v: state.voltage, refrac: state.refrac };
  if (state.current) inputs.i = state.current;
  gs.forEach((c, m) => (inputs[`g${m}`] = c.g));
  if (theta) inputs.theta = theta;
  const attrs: Attrs = {
    B,
    N,
    K,
    decay: spec.decay,
    restTerm: spec.restTerm,
    gain: spec.gain,
    thresh: spec.thresh,
    reset: spec.reset,
    dt: spec.dt,
    refracT: spec.refracT,
    refracLock: options.refracLock,
    hasInput: state.current !== null,
    adapt: options.adapt && theta !== null,
    thetaBatched: theta !== null && theta.size === B * N * K && ad!.reduction === 'none',
    adaptDecay: ad ? [...ad.decay] : [],
    adaptInc: ad ? [...ad.increment] : [],
    reduction: ad?.reduction ?? 'mean',
    M: gs.length,
    reversal: gs.map((c) => c.reversal),
    rest: cs?.rest ?? 0,
    resistance: cs?.resistance ?? 1,
    rate: cs?.rate ?? 0,
  };
  const out = tf.engine().runKernel(FUSED_NEURON, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
  return { voltage: out[0]!, refrac: out[1]!, spike: out[2]!, theta: out[3] ?? null };
}
