import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import {
  CAReducer, ConditionalCumulativeTraceReducer, ConditionalNearestTraceReducer, CumulativeTraceReducer, EMAReducer,
  EventReducer, FoldFunctionReducer, NearestTraceReducer, PassthroughReducer, ScaledCumulativeTraceReducer,
  ScaledNearestTraceReducer,
} from '../../src/observe/index.js';

/** Spike pattern of 3 neurons over T steps: neuron j spikes at the steps in SPIKES[j]. */
const T = 60;
const SPIKES = [[0, 3, 4, 20, 41], [7], []];
const spikeAt = (t: number) => SPIKES.map((ks) => (ks.includes(t) ? 1 : 0));

function run<R extends { fold(h: tf.Tensor): void; latest: tf.Tensor }>(r: R, obs: (t: number) => number[]): number[][] {
  const out: number[][] = [];
  for (let t = 0; t < T; t++) {
    const h = tf.tensor2d([obs(t)]);
    r.fold(h);
    h.dispose();
    out.push(Array.from(r.latest.dataSync()));
  }
  return out;
}

describe('trace reducers against closed forms', () => {
  const dt = 1, tau = 7, A = 0.3;
  const alpha = Math.exp(-dt / tau);

  it('cumulative: x(t) = Σ_{t_k <= t} A·α^(t − t_k), bit-exact with (α·x) + (A·s) in float32', () => {
    const r = new CumulativeTraceReducer({ dt, tau, amplitude: A });
    expect(r.decay).toBe(alpha);
    const got = run(r, spikeAt);
    const a32 = Math.fround(alpha), A32 = Math.fround(A);
    const x32 = [0, 0, 0];
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < 3; j++) {
        const closed = SPIKES[j]!.filter((k) => k <= t).reduce((s, k) => s + A * alpha ** (t - k), 0);
        expect(got[t]![j]).toBeCloseTo(closed, 6);
        x32[j] = t === 0 ? Math.fround(A32 * spikeAt(t)[j]!) : Math.fround(Math.fround(a32 * x32[j]!) + Math.fround(A32 * spikeAt(t)[j]!));
        expect(got[t]![j]).toBe(x32[j]);
      }
    }
    expect(got[4]![0]).toBeCloseTo(A * (alpha ** 4 + alpha + 1), 6); // spikes at 0, 3, 4 accumulate
    r.dispose();
  });

  it('nearest: x(t) = A·α^(t − t_last), bit-exact with where(spike, A, α·x)', () => {
    const r = new NearestTraceReducer({ dt, tau, amplitude: A });
    const got = run(r, spikeAt);
    const a32 = Math.fround(alpha), A32 = Math.fround(A);
    const x32 = [0, 0, 0];
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < 3; j++) {
        const last = SPIKES[j]!.filter((k) => k <= t).at(-1);
        const closed = last === undefined ? 0 : A * alpha ** (t - last);
        expect(got[t]![j]).toBeCloseTo(closed, 6);
        x32[j] = spikeAt(t)[j] ? A32 : Math.fround(a32 * x32[j]!);
        expect(got[t]![j]).toBe(x32[j]);
      }
    }
    expect(got[4]![0]).toBeCloseTo(A, 7); // nearest: no accumulation
    r.dispose();
  });

  it('matches with a target and tolerance instead of spikes', () => {
    const r = new CumulativeTraceReducer({ dt: 0.5, tau: 5, amplitude: 2, criterion: { target: -50, tolerance: 0.5 } });
    const v = [[-70, -50.2], [-49.6, -40], [-60, -60]];
    const got: number[][] = [];
    for (const row of v) { const h = tf.tensor2d([row]); r.fold(h); h.dispose(); got.push(Array.from(r.latest.dataSync())); }
    const a = Math.exp(-0.1);
    expect(got[0]![0]).toBe(0);
    expect(got[0]![1]).toBeCloseTo(2, 6);
    expect(got[1]![0]).toBeCloseTo(2, 6);
    expect(got[1]![1]).toBeCloseTo(2 * a, 6);
    expect(got[2]![0]).toBeCloseTo(2 * a, 6);
    expect(got[2]![1]).toBeCloseTo(2 * a * a, 6);
    r.dispose();
  });

  it('scaled traces add/set s·h + A where the criterion holds', () => {
    const h = [0.2, 0.9, 0.7, 0.1, 0.6];
    const s = 1.5, A0 = 0.25, a = Math.exp(-1 / 4);
    const crit = (x: tf.Tensor) => tf.greater(x, 0.5);
    const cum = new ScaledCumulativeTraceReducer({ dt: 1, tau: 4, scale: s, amplitude: A0, criterion: crit });
    const near = new ScaledNearestTraceReducer({ dt: 1, tau: 4, scale: s, amplitude: A0, criterion: crit });
    let xc = 0, xn = 0;
    for (const v of h) {
      const t = tf.tensor2d([[v]]);
      cum.fold(t); near.fold(t); t.dispose();
      const match = v > 0.5;
      xc = a * xc + (match ? s * v + A0 : 0);
      xn = match ? s * v + A0 : a * xn;
      expect(cum.latest.dataSync()[0]).toBeCloseTo(xc, 6);
      expect(near.latest.dataSync()[0]).toBeCloseTo(xn, 6);
    }
    cum.dispose(); near.dispose();
  });

  it('a criterion function returning a numeric mask counts every non-zero element as one match (0/2 int32 added 2·A; a raw float mask added its values)', () => {
    const dt = 1, tau = 6, A = 0.4, s = 1.5, A0 = 0.25;
    const a = Math.exp(-dt / tau);
    const h = [0.2, 0.9, 0.7, 0.1, 0.6, 0, 0.95, 0.3, 0.8, 0.8];
    const raw = [0, 2, 0, 0.5, -3, 0, NaN, 1, 0, 7]; // observed as its own mask: every non-zero (NaN too) is a match
    const half = tf.keep(tf.scalar(0.5));
    const two = tf.keep(tf.scalar(2, 'int32'));
    const intMask = (x: tf.Tensor) => tf.mul(tf.cast(tf.greater(x, half), 'int32'), two); // 0 or 2, int32
    const cum = new CumulativeTraceReducer({ dt, tau, amplitude: A, criterion: intMask });
    const near = new NearestTraceReducer({ dt, tau, amplitude: A, criterion: intMask });
    const scaled = new ScaledCumulativeTraceReducer({ dt, tau, amplitude: A0, scale: s, criterion: intMask });
    const self = new CumulativeTraceReducer({ dt, tau, amplitude: A, criterion: (x) => x });
    const cond = new ConditionalCumulativeTraceReducer({ dt, tau, amplitude: A0, scale: s, criterion: (c) => c });
    let before = 0;
    // float64 reference loop
    let xc = 0, xn = 0, xs = 0, xr = 0, xk = 0;
    for (let t = 0; t < h.length; t++) {
      const ht = tf.tensor2d([[h[t]!]]), rt = tf.tensor2d([[raw[t]!]]);
      cum.fold(ht); near.fold(ht); scaled.fold(ht); self.fold(rt); cond.fold(ht, rt);
      tf.dispose([ht, rt]);
      const m = h[t]! > 0.5 ? 1 : 0;
      const r = raw[t] !== 0 ? 1 : 0;
      xc = a * xc + A * m;
      xn = m ? A : a * xn;
      xs = a * xs + (s * h[t]! + A0) * m;
      xr = a * xr + A * r;
      xk = a * xk + (s * h[t]! + A0) * r;
      expect(cum.latest.dataSync()[0]).toBeCloseTo(xc, 6);
      expect(near.latest.dataSync()[0]).toBeCloseTo(xn, 6);
      expect(scaled.latest.dataSync()[0]).toBeCloseTo(xs, 6);
      expect(self.latest.dataSync()[0]).toBeCloseTo(xr, 6);
      expect(cond.latest.dataSync()[0]).toBeCloseTo(xk, 6);
      if (t === 0) before = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(before); // the conversion leaks nothing per fold
    for (const r of [cum, near, scaled, self, cond]) r.dispose();
    tf.dispose([half, two]);
  });

  it('conditional traces take the match from the condition input', () => {
    const h = [2, 3, 5, 7];
    const c = [0, 1, 0, 1];
    const a = Math.exp(-2 / 10);
    const cum = new ConditionalCumulativeTraceReducer({ dt: 2, tau: 10, scale: 0.5 });
    const near = new ConditionalNearestTraceReducer({ dt: 2, tau: 10, scale: 0.5, amplitude: 1 });
    let xc = 0, xn = 0;
    for (let t = 0; t < h.length; t++) {
      const ht = tf.tensor2d([[h[t]!]]), ct = tf.tensor2d([[c[t]!]]);
      cum.fold(ht, ct); near.fold(ht, ct);
      tf.dispose([ht, ct]);
      xc = a * xc + (c[t] ? 0.5 * h[t]! : 0);
      xn = c[t] ? 0.5 * h[t]! + 1 : a * xn;
      expect(cum.latest.dataSync()[0]).toBeCloseTo(xc, 6);
      expect(near.latest.dataSync()[0]).toBeCloseTo(xn, 6);
    }
    expect(xc).toBeCloseTo(1.5 * a * a + 3.5, 12); // sanity of the closed form itself
    cum.dispose(); near.dispose();
  });
});

describe('trace reducers without a criterion: every non-zero spike value is one match', () => {
  const f = Math.fround;
  // 4 units × 8 steps of spike values other than 0/1 too (2, 0.5, −1, 3, NaN; −0 is no spike)
  const H = [
    [2, 0, 1, 0.5],
    [0, -1, 0, 0],
    [0, 0, 2, -0],
    [NaN, 0, 0, 3],
    [0, 0, 0, 0],
    [1, 2, 0, 0],
    [0, 0, 0.5, 0],
    [0, 0, 0, 1],
  ];
  const cond = (t: number) => H[(t + 3) % H.length]!; // a condition input with the same kinds of values
  const X = [0.4, 1.5, -2, 0.25];
  const dt = 1, tau = 5, A = 0.3, s = 1.5, A0 = 0.25;
  const a32 = f(Math.exp(-dt / tau)), A32 = f(A), s32 = f(s), A032 = f(A0);
  const m = (v: number) => (v !== 0 ? 1 : 0); // [h ≠ 0]: NaN counts, ±0 does not

  it('cumulative and nearest, plain and conditional: a spike value of 2 (0.5, −1, NaN) adds or sets A once, first fold included (float32 recursion written here, bit-exact)', () => {
    const cum = new CumulativeTraceReducer({ dt, tau, amplitude: A });
    const near = new NearestTraceReducer({ dt, tau, amplitude: A });
    const ccum = new ConditionalCumulativeTraceReducer({ dt, tau, amplitude: A0, scale: s });
    const cnear = new ConditionalNearestTraceReducer({ dt, tau, amplitude: A0, scale: s });
    let xc = [0, 0, 0, 0], xn = [0, 0, 0, 0], xk = [0, 0, 0, 0], xq = [0, 0, 0, 0];
    for (let t = 0; t < H.length; t++) {
      const h = tf.tensor2d([H[t]!]), c = tf.tensor2d([cond(t)]), x = tf.tensor2d([X]);
      cum.fold(h); near.fold(h); ccum.fold(x, c); cnear.fold(x, c);
      tf.dispose([h, c, x]);
      const v = X.map((xi) => f(f(s32 * f(xi)) + A032));
      xc = xc.map((p, i) => (t === 0 ? f(A32 * m(H[t]![i]!)) : f(f(a32 * p) + f(A32 * m(H[t]![i]!)))));
      xn = xn.map((p, i) => (t === 0 ? f(A32 * m(H[t]![i]!)) : m(H[t]![i]!) ? A32 : f(a32 * p)));
      xk = xk.map((p, i) => (t === 0 ? f(v[i]! * m(cond(t)[i]!)) : f(f(a32 * p) + f(v[i]! * m(cond(t)[i]!)))));
      xq = xq.map((p, i) => (t === 0 ? f(v[i]! * m(cond(t)[i]!)) : m(cond(t)[i]!) ? v[i]! : f(a32 * p)));
      expect([t, Array.from(cum.latest.dataSync())]).toEqual([t, xc]);
      expect([t, Array.from(near.latest.dataSync())]).toEqual([t, xn]);
      expect([t, Array.from(ccum.latest.dataSync())]).toEqual([t, xk]);
      expect([t, Array.from(cnear.latest.dataSync())]).toEqual([t, xq]);
    }
    // the value 2 at step 0 of unit 0 added A, not 2A
    expect(xc[0]).toBeLessThan(2 * A);
    for (const r of [cum, near, ccum, cnear]) r.dispose();
  });

  it('bool and int32 spikes fold as their float32 0/1 values', () => {
    const b = new CumulativeTraceReducer({ dt, tau, amplitude: A });
    const i = new CumulativeTraceReducer({ dt, tau, amplitude: A });
    const fl = new CumulativeTraceReducer({ dt, tau, amplitude: A });
    for (let t = 0; t < H.length; t++) {
      const bits = H[t]!.map(m);
      const hb = tf.tensor1d(bits.map((x) => x === 1), 'bool'), hi = tf.tensor1d(H[t]!.map((x) => (m(x) === 0 ? 0 : Number.isInteger(x) ? x : 7)), 'int32'), hf = tf.tensor1d(bits);
      b.fold(hb); i.fold(hi); fl.fold(hf);
      tf.dispose([hb, hi, hf]);
      expect(Array.from(b.latest.dataSync())).toEqual(Array.from(fl.latest.dataSync()));
      expect(Array.from(i.latest.dataSync())).toEqual(Array.from(fl.latest.dataSync()));
    }
    for (const r of [b, i, fl]) r.dispose();
  });
});

describe('EMA, CA, event, passthrough and fold-function reducers', () => {
  it('EMA: s(n) = (1 − α)^n·h(0) + Σ_{k=1..n} α(1 − α)^(n − k)·h(k)', () => {
    const alpha = 0.2;
    const r = new EMAReducer({ alpha });
    const h = Array.from({ length: 30 }, (_, k) => Math.sin(k) * 3 + k / 10);
    for (const v of h) { const t = tf.tensor2d([[v]]); r.fold(t); t.dispose(); }
    const n = h.length - 1;
    let closed = (1 - alpha) ** n * h[0]!;
    for (let k = 1; k <= n; k++) closed += alpha * (1 - alpha) ** (n - k) * h[k]!;
    expect(r.latest.dataSync()[0]).toBeCloseTo(closed, 5);
    r.dispose();
  });

  it('CA: the arithmetic mean of all observations (firing rate from spikes)', () => {
    const r = new CAReducer();
    const got = run(r, spikeAt);
    for (const t of [0, 9, 30, T - 1]) {
      for (let j = 0; j < 3; j++) {
        const mean = SPIKES[j]!.filter((k) => k <= t).length / (t + 1);
        expect(got[t]![j]).toBeCloseTo(mean, 6);
      }
    }
    r.clear(); // restarts the average
    const h = tf.tensor2d([[4, 4, 4]]);
    r.fold(h);
    expect(Array.from(r.latest.dataSync())).toEqual([4, 4, 4]);
    h.dispose();
    r.dispose();
  });

  it('EventReducer: time since the last event, with the initial value before any event', () => {
    const dt = 0.5;
    for (const initial of ['inf', 'zero', 'nan'] as const) {
      const r = new EventReducer({ dt, initial });
      const got = run(r, spikeAt);
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < 3; j++) {
          const last = SPIKES[j]!.filter((k) => k <= t).at(-1);
          const v = got[t]![j]!;
          if (last !== undefined) expect(v).toBeCloseTo((t - last) * dt, 6);
          else if (initial === 'inf') expect(v).toBe(Infinity);
          else if (initial === 'nan') expect(v).toBeNaN();
          else expect(v).toBeCloseTo(t * dt, 6); // 'zero': 0 at the first fold, as Inferno
        }
      }
      r.dispose();
    }
  });

  it('history: ago(k) is the value k folds ago and stack() is oldest first', () => {
    const r = new PassthroughReducer({ history: 4 });
    for (let t = 0; t < 10; t++) { const h = tf.tensor1d([t, -t]); r.fold(h); h.dispose(); }
    expect(r.size).toBe(4);
    expect(r.count).toBe(10);
    expect(Array.from(r.latest.dataSync())).toEqual([9, -9]);
    expect(Array.from(r.ago(3).dataSync())).toEqual([6, -6]);
    const st = r.stack();
    expect(st.shape).toEqual([4, 2]);
    expect(Array.from(st.dataSync())).toEqual([6, -6, 7, -7, 8, -8, 9, -9]);
    st.dispose();
    expect(() => r.ago(4)).toThrow(/invalid k: got 4, expected an integer in \[0, 3\]/);
    r.clear();
    expect(r.size).toBe(0);
    expect(() => r.latest).toThrow(/nothing recorded yet/);
    r.dispose();
  });

  it('trace history keeps α-decayed values: ago(k) = x(t − k)', () => {
    const r = new CumulativeTraceReducer({ dt: 1, tau: 5, history: 3 });
    const one = tf.tensor1d([1]), zero = tf.tensor1d([0]);
    r.fold(one);
    for (let t = 1; t < 6; t++) r.fold(zero);
    const a = Math.exp(-1 / 5);
    for (let k = 0; k < 3; k++) expect(r.ago(k).dataSync()[0]).toBeCloseTo(a ** (5 - k), 6);
    tf.dispose([one, zero]);
    r.dispose();
  });

  it('passthrough keeps the value observed, not later values of the observed variable', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const r = new PassthroughReducer({ history: 2 });
    r.fold(v);
    v.assign(tf.tensor1d([5, 6]));
    r.fold(v);
    expect(Array.from(r.ago(1).dataSync())).toEqual([1, 2]);
    expect(Array.from(r.latest.dataSync())).toEqual([5, 6]);
    r.dispose();
    v.dispose();
  });

  it('fold-function reducer: eligibility z ← α_z·z + x·s/τ_z over two observations', () => {
    const tauZ = 25, aZ = Math.exp(-1 / tauZ);
    const decay = tf.keep(tf.scalar(aZ)), scale = tf.keep(tf.scalar(1 / tauZ));
    const r = new FoldFunctionReducer<[tf.Tensor, tf.Tensor]>(([x, s], z) => {
      const inc = tf.mul(scale, tf.mul(x, s));
      return z === null ? inc : tf.add(tf.mul(decay, z), inc);
    });
    const xs = [0.2, 0.5, 0.1, 0.9, 0.4];
    const ss = [0, 1, 1, 0, 1];
    let z = 0;
    for (let t = 0; t < xs.length; t++) {
      const x = tf.tensor1d([xs[t]!]), s = tf.tensor1d([ss[t]!]);
      r.fold(x, s);
      tf.dispose([x, s]);
      z = aZ * z + (xs[t]! * ss[t]!) / tauZ;
      expect(r.latest.dataSync()[0]).toBeCloseTo(z, 7);
    }
    r.dispose();
    tf.dispose([decay, scale]);
  });

  it('fold-function reducer: a constant returned by the fold (made once, outside) is not freed by the history; a non-tensor result is refused', () => {
    // z ← z + x, starting from the constant c = [10, 20] (returned as is on the first fold)
    const c = tf.keep(tf.tensor1d([10, 20]));
    const r = new FoldFunctionReducer<[tf.Tensor]>(([x], z) => (z === null ? c : tf.add(z, x)), { history: 2 });
    const x = tf.tensor1d([1, 2]);
    const base = tf.memory().numTensors;
    const expected = (n: number) => [10 + n, 20 + 2 * n]; // after n + 1 folds: c + n·x
    for (let n = 0; n < 4; n++) {
      r.fold(x);
      expect(Array.from(r.latest.dataSync())).toEqual(expected(n));
    }
    expect(c.isDisposed).toBe(false); // was freed when it left the history (after the third fold)
    expect(Array.from(c.dataSync())).toEqual([10, 20]);
    r.clear();
    r.fold(x); // the first fold again returns c
    expect(Array.from(r.latest.dataSync())).toEqual([10, 20]);
    r.fold(x);
    expect(Array.from(r.latest.dataSync())).toEqual([11, 22]);
    expect(tf.memory().numTensors).toBe(base + 2); // the history's two values, nothing else

    // a result that is not a tensor: refused, nothing changed (a typed array was kept as the value)
    const bad = new FoldFunctionReducer<[tf.Tensor]>(([v]) => (v.shape[0] === 2 ? (new Float32Array(2) as unknown as tf.Tensor) : tf.add(v, 1)));
    const n0 = tf.memory().numTensors;
    expect(() => bad.fold(x)).toThrow(/invalid fold result: got .*, expected a tensor \(the new value\)/);
    expect([bad.count, bad.size, tf.memory().numTensors]).toEqual([0, 0, n0]);
    r.dispose(); bad.dispose();
    tf.dispose([c, x]);
  });

  it('memory stays flat over long folds', () => {
    const r = new CumulativeTraceReducer({ dt: 1, tau: 20, history: 8 });
    const ev = new EventReducer({ dt: 1 });
    const ca = new CAReducer();
    const spikes = [tf.tensor2d([[1, 0, 1]]), tf.tensor2d([[0, 1, 0]])];
    const step = (t: number) => tf.tidy(() => { r.fold(spikes[t % 2]!); ev.fold(spikes[t % 2]!); ca.fold(spikes[t % 2]!); });
    for (let t = 0; t < 100; t++) step(t);
    const n = tf.memory().numTensors;
    for (let t = 0; t < 2000; t++) step(t);
    expect(tf.memory().numTensors).toBe(n);
    r.dispose(); ev.dispose(); ca.dispose();
    tf.dispose(spikes);
  });
});

describe('reducer checkpoints and dtypes', () => {
  it('CA: a restored reducer continues the average, (Σ_{k<=n} h_k)/n over all folds', () => {
    const obs = [[1, 0, 3], [1, 1, -2], [0, 0, 7], [1, 0, 0.5]];
    const a = new CAReducer({ history: 2 });
    for (const o of obs) { const h = tf.tensor1d(o); a.fold(h); h.dispose(); }
    const s = a.snapshotState();
    const b = new CAReducer({ history: 2 });
    const junk = tf.tensor1d([9, 9, 9]);
    b.fold(junk); // a restore replaces whatever b folded before
    b.restoreState(s);
    tf.dispose(Object.values(s.tensors));
    const next = [[0, 1, 1], [1, 1, 1]];
    for (const o of next) {
      const h = tf.tensor1d(o);
      a.fold(h); b.fold(h); h.dispose();
    }
    const all = [...obs, ...next];
    const mean = [0, 1, 2].map((j) => all.reduce((m, o) => m + o[j]!, 0) / all.length);
    expect(Array.from(a.latest.dataSync())).toEqual(Array.from(Float32Array.from(mean)));
    expect(Array.from(b.latest.dataSync())).toEqual(Array.from(a.latest.dataSync()));
    expect(b.count).toBe(6);
    tf.dispose(junk);
    a.dispose(); b.dispose();
  });

  it('CA past 2^24 folds: the count keeps counting (a float32 count stopped at 2^24, so the average stopped falling)', () => {
    // a checkpoint of a long run: 2^24 folds at rates 0.5 and 0.25, then 1000 folds of [0, 1]
    const N = 2 ** 24;
    const r = new CAReducer();
    const h0 = tf.tensor1d([0.5, 0.25]);
    const sum = tf.tensor1d([N / 2, N / 4]);
    r.restoreState({ tensors: { h0, sum }, values: { folds: N } });
    tf.dispose([h0, sum]);
    const obs = tf.tensor1d([0, 1]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) r.fold(obs);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.count).toBe(N + 1000);
    // the sums (2^23 and 2^22 + 1000) and N + 1000 are exact in float32: one rounding of the quotient
    const want = [N / 2 / (N + 1000), (N / 4 + 1000) / (N + 1000)].map(Math.fround);
    expect(Array.from(r.latest.dataSync())).toEqual(want); // old code: [0.5, 0.25 + 1000/2^24]
    obs.dispose(); r.dispose();
  });

  it('CA: more than 2^48 − 1 folds in a checkpoint are refused, nothing changed', () => {
    const r = new CAReducer();
    const h = tf.tensor1d([1, 3]);
    r.fold(h);
    const before = tf.memory().numTensors;
    expect(() => r.restoreState({ tensors: { h0: h }, values: { folds: 2 ** 48 } })).toThrow(/invalid snapshot folds: got 281474976710656, expected at most 281474976710655/);
    expect(r.count).toBe(1);
    expect(Array.from(r.latest.dataSync())).toEqual([1, 3]);
    expect(tf.memory().numTensors).toBe(before);
    // at 2^48 − 1 folds a further fold is refused before anything changes
    r.restoreState({ tensors: { h0: h }, values: { folds: 2 ** 48 - 1 } });
    const atMax = tf.memory().numTensors;
    expect(() => r.fold(h)).toThrow(/invalid fold: got 281474976710656, expected at most 281474976710655 folds/);
    expect(r.count).toBe(2 ** 48 - 1);
    expect(Array.from(r.latest.dataSync())).toEqual([1, 3]);
    expect(tf.memory().numTensors).toBe(atMax);
    h.dispose(); r.dispose();
  });

  // The count is a float32 multiple of 2^24 (hi) plus a float32 remainder below 2^24 (lo, the part
  // incremented each fold), so it stays exact on backends that add int32 in float32 (webgpu; an
  // int32 count stopped at 2^24 there) and past 2^31 (where an int32 count ended: such checkpoints
  // were refused). Reference: float32 sums (Math.fround after each add) over fround(n), one rounding.
  for (const [label, start] of [['across 2^24', 2 ** 24 - 3], ['across 2^40 (past the int32 range)', 2 ** 40 - 3], ['across 2^48 − 2^24', 2 ** 48 - 2 ** 24 - 2]] as const) {
    it(`CA: a restored count continues exactly ${label}`, () => {
      const r = new CAReducer();
      const s0 = [Math.fround(start * 0.5), Math.fround(start * 0.25)];
      const h0 = tf.tensor1d([0.5, 0.25]);
      const sum = tf.tensor1d(s0);
      r.restoreState({ tensors: { h0, sum }, values: { folds: start } });
      tf.dispose([h0, sum]);
      const obs = [tf.tensor1d([0, 2 ** 20]), tf.tensor1d([2 ** 21, 0])];
      const acc = s0.slice();
      const before = tf.memory().numTensors;
      for (let k = 1; k <= 6; k++) {
        const o = k % 2 === 1 ? [0, 2 ** 20] : [2 ** 21, 0];
        r.fold(obs[(k + 1) % 2]!);
        for (let j = 0; j < 2; j++) acc[j] = Math.fround(acc[j]! + o[j]!);
        const n = Math.fround(start + k);
        expect(Array.from(r.latest.dataSync()), `fold ${k}`).toEqual(acc.map((a) => Math.fround(a / n)));
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(r.count).toBe(start + 6);
      // a snapshot of the continued reducer restores the same state: one more fold gives the same value
      const snap = r.snapshotState();
      const q = new CAReducer();
      q.restoreState(snap);
      tf.dispose(Object.values(snap.tensors));
      r.fold(obs[0]!);
      q.fold(obs[0]!);
      expect(Array.from(q.latest.dataSync())).toEqual(Array.from(r.latest.dataSync()));
      tf.dispose(obs); r.dispose(); q.dispose();
    });
  }

  it('a history of mixed shapes is refused before anything changes (was accepted; stack() then threw)', () => {
    const r = new EMAReducer({ alpha: 0.5, history: 3 });
    const h = tf.tensor1d([2, 4]);
    r.fold(h);
    const bad = { h0: tf.tensor1d([1, 1]), h1: tf.tensor2d([[1, 1]]) };
    const before = tf.memory().numTensors;
    expect(() => r.restoreState({ tensors: bad, values: { folds: 2 } })).toThrow(/invalid snapshot history h1: got tensor of shape \[1, 2\] \(float32\), expected shape \[2\] \(the shape of h0\)/);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.count).toBe(1);
    const x = tf.tensor1d([0, 8]);
    r.fold(x); // continues from [2, 4]: 0.5·[0, 8] + 0.5·[2, 4]
    const st = r.stack();
    expect(Array.from(st.dataSync())).toEqual([2, 4, 1, 6]);
    tf.dispose([h, x, st, ...Object.values(bad)]); r.dispose();
  });

  it('a snapshot that counts folds but holds no value is refused, nothing changed (CA then averaged over the restored count: [4], [4] gave 8/7)', () => {
    const r = new CAReducer();
    const h = tf.tensor1d([2, 6]);
    r.fold(h);
    const sum = tf.tensor1d([20, 30]);
    const before = tf.memory().numTensors;
    for (const tensors of [{}, { sum }] as Record<string, tf.Tensor>[]) {
      expect(() => r.restoreState({ tensors, values: { folds: 5 } })).toThrow(/invalid snapshot history: got "none", expected at least the latest value h0 \(the snapshot counts 5 folds\)/);
      expect(tf.memory().numTensors).toBe(before);
      expect(r.count).toBe(1);
    }
    r.fold(h); // continues the mean of [2, 6], [2, 6]
    expect(Array.from(r.latest.dataSync())).toEqual([2, 6]);
    r.restoreState({ tensors: {}, values: { folds: 0 } }); // an empty reducer is fine
    expect([r.count, r.size]).toEqual([0, 0]);
    tf.dispose([h, sum]); r.dispose();
  });

  it('a failed restore changes nothing', () => {
    const r = new PassthroughReducer({ history: 3 });
    const h = tf.tensor1d([1, 2]);
    r.fold(h); r.fold(h);
    const before = tf.memory().numTensors;
    expect(() => r.restoreState({ tensors: { h0: h, h2: h }, values: { folds: 2 } })).toThrow(/invalid snapshot history: got "h1"/);
    expect(r.size).toBe(2);
    expect(r.count).toBe(2);
    expect(Array.from(r.latest.dataSync())).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);
    h.dispose(); r.dispose();
  });

  it('EMA of bool or int32 observations is float32 from the first fold (history stacks)', () => {
    const r = new EMAReducer({ alpha: 0.25, history: 3 });
    const s = [tf.tensor1d([true, false], 'bool'), tf.tensor1d([false, false], 'bool'), tf.tensor1d([3, 1], 'int32')];
    for (const h of s) r.fold(h);
    expect(r.ago(2).dtype).toBe('float32');
    const st = r.stack();
    // s0 = h0, s1 = 0.75·s0, s2 = 0.25·h2 + 0.75·s1
    expect(Array.from(st.dataSync())).toEqual([1, 0, 0.75, 0, 0.25 * 3 + 0.75 * 0.75, 0.25]);
    tf.dispose([...s, st]);
    r.dispose();
  });
});
