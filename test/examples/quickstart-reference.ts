/**
 * A plain-JavaScript float64 recursion of the quickstart network's steps (the equations of
 * `examples/quickstart/network.ts`), for the tests of `cinder quickstart`.
 */
import { QUICKSTART as Q } from '../../examples/quickstart/params.js';

/** The state of the recursion (all row-major, batch first). */
export interface QuickstartState {
  B: number;
  w: Float64Array; // [100, 784]
  ve: Float64Array; re: Float64Array; theta: Float64Array; // exc [B,100], θ [100]
  vi: Float64Array; ri: Float64Array; si: Float64Array; // inh [B,100]
  xpre: Float64Array; xpost: Float64Array; // traces [B,784], [B,100]
}

const N = 100;
const I = 784;

/** Initial state for weights `w0` `[100·784]`. */
export function initialState(B: number, w0: ArrayLike<number>): QuickstartState {
  const f = (n: number, v: number) => new Float64Array(n).fill(v);
  return {
    B, w: Float64Array.from(w0),
    ve: f(B * N, Q.exc.restV), re: f(B * N, 0), theta: f(N, 0),
    vi: f(B * N, Q.inh.restV), ri: f(B * N, 0), si: f(B * N, 0),
    xpre: f(B * I, 0), xpost: f(B * N, 0),
  };
}

/** One exact LIF step with absolute refractory period (Cinder's NeuronGroup order). */
function lif(v: number, r: number, drive: number, d: number, rest: number, thresh: number, reset: number, refracT: number): { v: number; r: number; s: number } {
  const free = r <= Q.dt;
  const rDec = Math.max(r - Q.dt, 0);
  const vInt = v * d + rest * (1 - d) + (1 - d) * drive;
  const v1 = free ? vInt : v;
  const fired = free && v1 >= thresh;
  return { v: fired ? reset : v1, r: fired ? refracT : rDec, s: fired ? 1 : 0 };
}

/** Advances `st` by one step with input spikes `x` `[B·784]`; returns exc and inh spikes `[B·100]` each. */
export function referenceStep(st: QuickstartState, x: ArrayLike<number>, learn: boolean): { exc: Float64Array; inh: Float64Array } {
  const { B } = st;
  const de = Math.exp(-Q.dt / Q.exc.tauM);
  const di = Math.exp(-Q.dt / Q.inh.tauM);
  const se = new Float64Array(B * N);
  const si = new Float64Array(B * N);
  const thetaNext = new Float64Array(N);
  for (let b = 0; b < B; b++) {
    let inhTotal = 0;
    for (let k = 0; k < N; k++) inhTotal += st.si[b * N + k]!;
    for (let j = 0; j < N; j++) {
      let drive = 0;
      for (let i = 0; i < I; i++) drive += st.w[j * I + i]! * x[b * I + i]!;
      drive = Q.excCharge * drive + Q.excCharge * Q.inhToExc * (inhTotal - st.si[b * N + j]!);
      const k = b * N + j;
      const r = lif(st.ve[k]!, st.re[k]!, drive, de, Q.exc.restV, Q.exc.threshInfV + st.theta[j]!, Q.exc.resetV, Q.exc.refracT);
      st.ve[k] = r.v;
      st.re[k] = r.r;
      se[k] = r.s;
      if (learn) {
        const next = r.r > 0 ? st.theta[j]! : st.theta[j]! * Math.exp(-Q.dt / Q.exc.tauAdapt);
        thetaNext[j]! += (next + Q.exc.adaptIncrement * r.s) / B;
      }
    }
  }
  if (learn) st.theta.set(thetaNext);
  for (let k = 0; k < B * N; k++) {
    const r = lif(st.vi[k]!, st.ri[k]!, Q.inhCharge * Q.excToInh * se[k]!, di, Q.inh.restV, Q.inh.threshV, Q.inh.resetV, Q.inh.refracT);
    st.vi[k] = r.v;
    st.ri[k] = r.r;
    si[k] = r.s;
  }
  st.si.set(si);
  if (learn) {
    const a = Math.exp(-Q.dt / Q.stdp.tauPre);
    const aPost = Math.exp(-Q.dt / Q.stdp.tauPost);
    for (let k = 0; k < B * I; k++) st.xpre[k] = st.xpre[k]! * a + Math.abs(Q.stdp.lrPost) * x[k]!;
    for (let k = 0; k < B * N; k++) st.xpost[k] = st.xpost[k]! * aPost + Math.abs(Q.stdp.lrPre) * se[k]!;
    for (let j = 0; j < N; j++) {
      for (let i = 0; i < I; i++) {
        let dpost = 0;
        let dpre = 0;
        for (let b = 0; b < B; b++) {
          dpost += se[b * N + j]! * st.xpre[b * I + i]!;
          dpre += st.xpost[b * N + j]! * x[b * I + i]!;
        }
        const w = st.w[j * I + i]!;
        st.w[j * I + i] = Math.max(w + (Q.weightMax - w) * (dpost / B) - dpre / B, 0);
      }
    }
  }
  return { exc: se, inh: si };
}
