/**
 * Forward scan of the e-prop recurrent population in plain JavaScript (float64 arithmetic),
 * event-driven: input and recurrent spikes add weight columns only where a spike occurred, so a step
 * costs O(n·(1 + spikes)). This is the default kernel on the JavaScript backends (wasm, cpu); it
 * computes exactly the same quantities as {@link forwardTf}.
 * @module
 */
import type { RecurrentConstants } from './recurrent.js';
import { surrogateFunction } from './surrogate.js';
import type { DenseInput, EPropScratch, ForwardRecord } from './record.js';

/**
 * Runs the recurrent scan for every sequence of the batch. States (v, a, refractory counter, last
 * spikes) start at 0 for each sequence.
 *
 * @param c scan constants (see `EPropRecurrent.constants()`)
 * @param wIn input weights [n, nIn] row-major
 * @param wRec recurrent weights [n, n] row-major (diagonal ignored)
 * @param input dense input spikes [B, T, nIn]
 * @param traceIndex sequence whose voltages and thresholds to keep (−1: none)
 * @param scratch where ψ, z and the spike counts come from (reused, every entry written); without
 *   it they are new arrays the record owns
 */
export function forwardJs(c: RecurrentConstants, wIn: ArrayLike<number>, wRec: ArrayLike<number>, input: DenseInput, traceIndex = -1, scratch?: EPropScratch): ForwardRecord {
  const { n, nIn, alpha, zeta, rho, vTh, nRef, beta } = c;
  const { batch: B, steps: T, data: x } = input;
  const sf = surrogateFunction(c.surrogate);
  // Transposed (pre-major) weights so a presynaptic spike adds one contiguous column.
  const winT = new Float64Array(nIn * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < nIn; i++) winT[i * n + j] = zeta * wIn[j * nIn + i]!;
  const wrecT = new Float64Array(n * n);
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) wrecT[i * n + j] = i === j ? -vTh : zeta * wRec[j * n + i]! ; // reset folded in
  const psi = scratch ? scratch.take('psi', Float64Array, B * T * n) : new Float64Array(B * T * n);
  const z = scratch ? scratch.take('z', Uint8Array, B * T * n) : new Uint8Array(B * T * n);
  const counts = scratch ? scratch.take('counts', Int32Array, B * n) : new Int32Array(B * n);
  counts.fill(0);
  const trace = traceIndex >= 0 && traceIndex < B ? { index: traceIndex, v: new Float32Array(T * n), threshold: new Float32Array(T * n) } : undefined;
  const v = new Float64Array(n);
  const a = new Float64Array(n);
  const r = new Int32Array(n);
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  let hasAlif = false;
  for (let j = 0; j < n; j++) if (beta[j] !== 0) hasAlif = true;
  const linear = c.surrogate.name === 'piecewise_linear';
  const height = c.surrogate.height;
  const invWidth = 1 / c.surrogate.width;
  for (let b = 0; b < B; b++) {
    const tr = trace && b === trace.index ? trace : undefined;
    v.fill(0);
    a.fill(0);
    r.fill(0);
    let nPrev = 0;
    const co = b * n;
    for (let t = 0; t < T; t++) {
      // v holds α·v of the previous step (decayed at the end of it); the terms are then added in
      // the order inputs by index, previous spikes by index.
      const xo = (b * T + t) * nIn;
      for (let i = 0; i < nIn; i++) {
        const xv = x[xo + i]!;
        if (xv === 0) continue;
        const off = i * n;
        for (let j = 0; j < n; j++) v[j] += xv * winT[off + j]!;
      }
      for (let p = 0; p < nPrev; p++) {
        const off = prev[p]! * n;
        for (let j = 0; j < n; j++) v[j] += wrecT[off + j]!;
      }
      const o = (b * T + t) * n;
      const zo = t > 0 ? o - n : -1; // the previous step's spikes
      let nNext = 0;
      for (let j = 0; j < n; j++) {
        // a ← ρ·a + z_prev (the same roundings as ρ·a, then + 1 on a spike)
        let aj = 0;
        if (hasAlif) {
          aj = rho * a[j]! + (zo >= 0 ? z[zo + j]! : 0);
          a[j] = aj;
        }
        const vj = v[j]!;
        const thr = vTh + beta[j]! * aj;
        const d = vj - thr;
        let rj = r[j]!;
        if (rj > 0) rj -= 1;
        if (rj > 0) {
          psi[o + j] = 0; // refractory: ψ = 0, no spike
          z[o + j] = 0;
        } else {
          if (linear) {
            const x = (d < 0 ? -d : d) * invWidth;
            psi[o + j] = x < 1 ? height * (1 - x) : 0;
          } else psi[o + j] = sf(d);
          if (d >= 0) {
            z[o + j] = 1;
            rj = nRef;
            next[nNext++] = j;
            counts[co + j] += 1;
          } else z[o + j] = 0;
        }
        r[j] = rj;
        if (tr) {
          tr.v[t * n + j] = vj;
          tr.threshold[t * n + j] = thr;
        }
        v[j] = alpha * vj;
      }
      prev.set(next.subarray(0, nNext));
      nPrev = nNext;
    }
  }
  return { batch: B, steps: T, n, psi, z, counts, trace };
}
