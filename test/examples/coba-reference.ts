// The float64 reference loop of the COBA / CUBA equations (examples/coba/network.ts docs), shared
// by the coba tests: same connectivity and initial state (cobaDraws), same step scheme (postsynaptic
// g ← g·e^{−dt/τ} + Σ w·s_prev, then V exact with g held over the step, threshold V ≥ Θ, reset, 5 ms
// refractory: with `refractory: 'steps'` (the default) a whole-step counter of k = round(5/dt) = 50
// steps, with 'time' the remaining time counted down in float32 as the LIF's refracCount 'time' does).
import { cobaDraws, COBA_CONSTANTS as C, type CobaParams } from '../../examples/coba/network.js';

const f = Math.fround;

/** The reference: spikes per step (neuron ids) and the voltage after every step. */
export function reference(p: CobaParams, seed: number, steps: number): { spikes: number[][]; v: Float64Array[]; ties: number[][] } {
  const d = cobaDraws(p, seed);
  const N = p.neurons;
  const cob = p.model === 'coba';
  const we = f(cob ? C.coba.we : C.cuba.we);
  const wi = f(cob ? C.coba.wi : C.cuba.wi);
  const out = (list: typeof d.exc) => {
    const o: number[][] = Array.from({ length: N }, () => []);
    for (let s = 0; s < list.pre.length; s++) o[list.pre[s]!]!.push(list.post[s]!);
    return o;
  };
  const oe = out(d.exc);
  const oi = out(d.inh);
  const de = Math.exp(-p.dt / C.tauE);
  const di = Math.exp(-p.dt / C.tauI);
  const dm = Math.exp(-p.dt / C.tauM);
  const v = Float64Array.from(d.v0, (x) => f(x));
  const ge = new Float64Array(N);
  const gi = new Float64Array(N);
  const r = new Float64Array(N);
  const steps_ = (p.refractory ?? 'steps') === 'steps';
  const k = Math.round(C.refracT / p.dt); // a whole multiple of dt here
  const left = new Int32Array(N); // 'steps': locked steps left
  let prev: number[] = [];
  const ties: number[][] = [];
  const spikes: number[][] = [];
  const vs: Float64Array[] = [];
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < N; j++) {
      ge[j] = ge[j]! * de + (t === 0 && cob ? f(d.ge0[j]!) : 0);
      gi[j] = gi[j]! * di + (t === 0 && cob ? f(d.gi0[j]!) : 0);
    }
    for (const i of prev) {
      for (const j of oe[i]!) ge[j]! += we;
      for (const j of oi[i]!) gi[j]! += wi;
    }
    const now: number[] = [];
    const tie: number[] = [];
    for (let j = 0; j < N; j++) {
      const free = steps_ ? left[j] === 0 : r[j]! <= f(p.dt);
      let vn: number;
      if (cob) {
        const G = 1 + ge[j]! + gi[j]!;
        const vinf = (C.coba.El + ge[j]! * C.coba.Ee + gi[j]! * C.coba.Ei) / G;
        vn = vinf + (v[j]! - vinf) * Math.exp((-p.dt * G) / C.tauM);
      } else {
        vn = v[j]! * dm + C.cuba.El * (1 - dm) + (1 - dm) * (ge[j]! + gi[j]!);
      }
      if (!free) vn = v[j]!;
      else if (Math.abs(vn - C.threshV) < TIE) tie.push(j);
      if (free && vn >= C.threshV) {
        now.push(j);
        v[j] = C.resetV;
        r[j] = f(C.refracT);
        left[j] = k - 1;
      } else {
        v[j] = vn;
        r[j] = f(Math.max(f(r[j]! - f(p.dt)), 0));
        left[j] = Math.max(left[j]! - 1, 0);
      }
    }
    ties.push(tie);
    spikes.push(now);
    vs.push(Float64Array.from(v));
    prev = now;
  }
  return { spikes, v: vs, ties };
}

// A free neuron whose float64 voltage lands within float32 rounding of Θ may cross in one and not
// the other (seen: CUBA seed 7, step 244, V = Θ − 1e-6 mV, a neuron creeping up to Θ by 0.01 mV per
// step); the trajectories then legitimately part. So spikes must be identical at every step up to
// the first step where they differ, and there the reference must have had a near-tie (|V − Θ| < TIE)
// for a differing neuron, after at least `minSpikes` identical spikes; otherwise to the end.
export const TIE = 1e-3;


/**
 * The first step where two spike records differ, checked the way {@link TIE} describes: returns
 * `upTo` (the first differing step, or the length) and the identical spikes before it; `ok` false
 * with a message when a differing neuron was not a near-tie of the reference at that step.
 */
export function firstDifference(x: number[][], y: number[][], ties: number[][]): { upTo: number; same: number; ok: boolean; message: string } {
  let same = 0;
  for (let t = 0; t < x.length; t++) {
    const a = x[t]!;
    const b = y[t]!;
    if (a.length === b.length && a.every((j, k) => j === b[k])) { same += a.length; continue; }
    const differing = [...a.filter((j) => !b.includes(j)), ...b.filter((j) => !a.includes(j))];
    return { upTo: t, same, ok: differing.every((j) => ties[t]!.includes(j)), message: `spikes at step ${t}: [${a}] vs [${b}], near-ties [${ties[t]}]` };
  }
  return { upTo: x.length, same, ok: true, message: '' };
}
