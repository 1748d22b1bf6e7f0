/**
 * An independent float64 reference of e-prop written straight from the NEST notes: the forward
 * scan of §9 (per step, per sequence) and the per-synapse forward eligibility traces of §4
 * (z̄, e, ε, ē, Σe per synapse), with the batch gradient of §6. No code shared with src/.
 */
export interface RefNet {
  nIn: number;
  n: number;
  nOut: number;
  beta: number[]; // per neuron, 0 for LIF
  alpha: number;
  kappa: number;
  rho: number;
  vTh: number;
  nRef: number;
  psi: (d: number) => number;
  wIn: number[][]; // [n][nIn]
  wRec: number[][]; // [n][n]
  wOut: number[][]; // [nOut][n]
  feedback: number[][]; // [n][nOut]
  loss: 'cross_entropy' | 'mean_squared_error';
  nLw: number;
  cReg: number;
  f0: number;
  average: boolean;
  /** Input scale ζ of the synaptic input (NEST regular_spike_arrival false: 1 − α; default 1). */
  zeta?: number;
}

export interface RefResult {
  loss: number;
  gIn: number[][];
  gRec: number[][];
  gOut: number[][];
}

/** x: [B][T][nIn]; labels (CE) or targets [B][nLw][nOut] (MSE). */
export function referenceGradients(net: RefNet, x: number[][][], labels: number[], targets?: number[][][]): RefResult {
  const { nIn, n, nOut, alpha, kappa, rho, vTh, nRef, nLw } = net;
  const B = x.length;
  const T = x[0]!.length;
  const zeros = (r: number, c: number) => Array.from({ length: r }, () => new Array<number>(c).fill(0));
  const gIn = zeros(n, nIn);
  const gRec = zeros(n, n);
  const gOut = zeros(nOut, n);
  let lossSum = 0;
  const div = net.average ? nLw : 1;
  const zeta = net.zeta ?? 1;
  for (let b = 0; b < B; b++) {
    // ---- forward, keeping ψ_t, z_t (after the step), z_{t-1}, L_t, err_t ----
    let v = new Array<number>(n).fill(0);
    const a = new Array<number>(n).fill(0);
    const r = new Array<number>(n).fill(0);
    let z = new Array<number>(n).fill(0);
    const y = new Array<number>(nOut).fill(0);
    const psiT: number[][] = [];
    const zPrevT: number[][] = [];
    const zT: number[][] = [];
    const errT: number[][] = [];
    let count = new Array<number>(n).fill(0);
    for (let t = 0; t < T; t++) {
      const zNew = new Array<number>(n).fill(0);
      const psi = new Array<number>(n).fill(0);
      const vNew = new Array<number>(n).fill(0);
      for (let j = 0; j < n; j++) {
        a[j] = rho * a[j]! + z[j]!;
        const A = vTh + net.beta[j]! * a[j]!;
        let inp = 0;
        for (let i = 0; i < nIn; i++) inp += net.wIn[j]![i]! * x[b]![t]![i]!;
        for (let i = 0; i < n; i++) if (i !== j) inp += net.wRec[j]![i]! * z[i]!;
        vNew[j] = alpha * v[j]! + zeta * inp - vTh * z[j]!;
        if (r[j]! > 0) r[j] = r[j]! - 1;
        psi[j] = r[j]! > 0 ? 0 : net.psi(vNew[j]! - A);
        if (vNew[j]! >= A && r[j] === 0) {
          zNew[j] = 1;
          r[j] = nRef;
        }
      }
      for (let k = 0; k < nOut; k++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += net.wOut[k]![j]! * zNew[j]!;
        y[k] = kappa * y[k]! + (1 - kappa) * s;
      }
      const err = new Array<number>(nOut).fill(0);
      if (t >= T - nLw) {
        if (net.loss === 'cross_entropy') {
          const ex = y.map((u) => Math.exp(u));
          const sum = ex.reduce((p, q) => p + q, 0);
          for (let k = 0; k < nOut; k++) err[k] = ex[k]! / sum - (k === labels[b] ? 1 : 0);
          lossSum -= Math.log(ex[labels[b]!]! / sum);
        } else {
          for (let k = 0; k < nOut; k++) {
            err[k] = y[k]! - targets![b]![t - (T - nLw)]![k]!;
            lossSum += 0.5 * err[k]! * err[k]!;
          }
        }
      }
      psiT.push(psi);
      zPrevT.push(z);
      zT.push(zNew);
      errT.push(err);
      count = count.map((c, j) => c + zNew[j]!);
      v = vNew;
      z = zNew;
    }
    const R = count.map((c) => (net.cReg * (c / T - net.f0)) / T);
    const L = errT.map((err) => Array.from({ length: n }, (_, j) => err.reduce((s, e, k) => s + net.feedback[j]![k]! * e, 0)));
    // ---- per-synapse traces (§4), for every synapse i→j ----
    const synapse = (j: number, pre: (t: number) => number): number => {
      let zbar = 0;
      let eps = 0;
      let ebar = 0;
      let g = 0;
      let sumE = 0;
      for (let t = 0; t < T; t++) {
        zbar = alpha * zbar + zeta * pre(t);
        const p = psiT[t]![j]!;
        const e = net.beta[j]! > 0 ? p * (zbar - net.beta[j]! * eps) : p * zbar;
        if (net.beta[j]! > 0) eps = rho * eps + e;
        ebar = kappa * ebar + (1 - kappa) * e;
        g += L[t]![j]! * ebar;
        sumE += e;
      }
      return (g + R[j]! * sumE) / div;
    };
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < nIn; i++) gIn[j]![i] += synapse(j, (t) => x[b]![t]![i]!) / B;
      for (let i = 0; i < n; i++) if (i !== j) gRec[j]![i] += synapse(j, (t) => zPrevT[t]![i]!) / B;
    }
    for (let k = 0; k < nOut; k++) {
      for (let j = 0; j < n; j++) {
        let zhat = 0;
        let g = 0;
        for (let t = 0; t < T; t++) {
          zhat = kappa * zhat + (1 - kappa) * zT[t]![j]!;
          g += errT[t]![k]! * zhat;
        }
        gOut[k]![j] += g / div / B;
      }
    }
  }
  // NEST's reported losses: cross-entropy averaged over sequences and window steps; squared error
  // 0.5·Σ over the window, averaged over readouts and sequences (test_eprop_regression)
  return { loss: lossSum / (net.loss === 'cross_entropy' ? B * nLw : B * nOut), gIn, gRec, gOut };
}
