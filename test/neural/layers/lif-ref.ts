// Plain-JS LIF reference with the step order of NeuronGroup (refractory count-down, exact leak,
// threshold, reset), used to check that layers step every group exactly once per step.
export interface LifParams {
  restV: number;
  resetV: number;
  threshV: number;
  refracT: number;
  tauM: number;
}

/** State of n reference neurons. */
export class LifRef {
  v: number[];
  r: number[];
  spike: number[];
  constructor(readonly p: LifParams, readonly n: number, readonly dt: number) {
    this.v = new Array<number>(n).fill(p.restV);
    this.r = new Array<number>(n).fill(0);
    this.spike = new Array<number>(n).fill(0);
  }

  /** One step with current I (R = 1); returns the spikes. */
  step(I: number[]): number[] {
    const { restV, resetV, threshV, refracT, tauM } = this.p;
    const a = Math.exp(-this.dt / tauM);
    for (let k = 0; k < this.n; k++) {
      const free = refracT > 0 ? this.r[k]! <= this.dt : true;
      let v = restV + (this.v[k]! - restV - I[k]!) * a + I[k]!;
      if (!free) v = this.v[k]!;
      const fired = free && v >= threshV;
      this.v[k] = fired ? resetV : v;
      if (refracT > 0) this.r[k] = fired ? refracT : Math.max(this.r[k]! - this.dt, 0);
      this.spike[k] = fired ? 1 : 0;
    }
    return [...this.spike];
  }
}

/** y_j = Σ_i W[j][i]·x_i. */
export function matvec(W: number[][], x: number[]): number[] {
  return W.map((row) => row.reduce((s, w, i) => s + w * x[i]!, 0));
}
