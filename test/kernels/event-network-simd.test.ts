// EventNetwork's WebAssembly SIMD neuron passes (src/kernels/js/event-simd.ts) against its
// JavaScript loops: the same network run with the SIMD route on and off must give bit-identical
// v, g_e, g_i, lastSpike, spike lists and giLive after every chunk, for each drive × method, with
// v > V_th and v ≥ V_th, two lanes and a population size that leaves a JavaScript tail (n mod 4 = 3).
// The reference route (SIMD off) is itself checked against a float64 loop of the formulas in
// event-network-modes.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { buildProjectionLane, EventNetwork, lifSimdRoute, setEventSimd, type LifParams } from '../../src/kernels/js/event-network.js';
import { aboveF32, lifArena } from '../../src/kernels/js/event-simd.js';

const N = 203;
const NIN = 60;

function synapses(nPre: number, nPost: number, p: number, salt: number): { pre: number[]; post: number[] } {
  const pre: number[] = [];
  const post: number[] = [];
  for (let i = 0; i < nPre; i++) for (let j = 0; j < nPost; j++) if (((i * 7919 + j * 104729 + salt * 31) % 997) / 997 < p) { pre.push(i); post.push(j); }
  return { pre, post };
}

type Mode = { drive: 'current' | 'conductance'; method: 'euler' | 'exact'; atThreshold: boolean; inhibitionFrom: number };

/** Runs the network (SIMD `on` or off) for `steps` steps in chunks; returns the state bits after each chunk. */
function run(mode: Mode, on: boolean, steps: number, chunk: number) {
  const was = setEventSimd(on);
  try {
    const cond = mode.drive === 'conductance';
    const lif: LifParams = {
      el: cond ? -60 : -52, vThreshold: -50, vReset: -60, tauM: 20, tauE: 5, tauI: 10, tauRef: 2,
      drive: mode.drive, method: mode.method, spikeAtThreshold: mode.atThreshold,
      ...(cond ? { ee: 0, ei: -80 } : {}),
    };
    const B = 2;
    const net = new EventNetwork(B, 0.1, [5, 6]);
    const input = net.addPoisson('in', NIN, 300);
    const pop = net.addLif('pop', N, lif);
    const lanes = (s: { pre: number[]; post: number[] }, nPre: number, w: number) =>
      Array.from({ length: B }, (_, b) => buildProjectionLane(s.pre, s.post, s.pre.map((_, k) => w * (1 + 0.1 * ((k + b) % 5))), nPre, N, false));
    net.addProjection('in', input, pop, 'ge', lanes(synapses(NIN, N, 0.1, 1), NIN, cond ? 0.3 : 2.2));
    net.addProjection('exc', pop, pop, 'ge', lanes(synapses(N, N, 0.05, 2), N, cond ? 0.1 : 0.6));
    const inh = synapses(N, N, 0.05, 3);
    // inhibitory synapses only from neurons ≥ inhibitionFrom: g_i stays +0 until one of them fires
    const keep = inh.pre.map((i) => i >= mode.inhibitionFrom);
    const inhF = { pre: inh.pre.filter((_, k) => keep[k]), post: inh.post.filter((_, k) => keep[k]) };
    net.addProjection('inh', pop, pop, 'gi', lanes(inhF, N, cond ? 1 : 2));
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < N; j++) {
        const q = b * N + j;
        // (the inhibitory cells, when inhibition starts later, start at rest)
        pop.v[q] = mode.inhibitionFrom > 0 && j >= mode.inhibitionFrom ? -60 : -60 + (10 * ((j * 37 + b) % N)) / N;
        pop.ge[q] = cond ? 0.2 * (j % 3) : 0.5 * (j % 4);
        pop.gi[q] = mode.inhibitionFrom > 0 ? 0 : cond ? 0.5 * (j % 2) : 0.4 * (j % 3);
      }
    }
    // a -0 g_i: not "all +0", as the JavaScript loop counts it
    if (mode.inhibitionFrom > 0) pop.gi[N + 7] = -0;
    pop.recording = true;
    const route = lifSimdRoute(pop);
    const states: { v: Uint32Array; ge: Uint32Array; gi: Uint32Array; last: Int32Array; live: Uint8Array }[] = [];
    for (let t = 0; t < steps; t += chunk) {
      net.run(chunk);
      states.push({ v: new Uint32Array(pop.v.slice().buffer), ge: new Uint32Array(pop.ge.slice().buffer), gi: new Uint32Array(pop.gi.slice().buffer), last: pop.lastSpike.slice(), live: pop.giLive.slice() });
    }
    const rec = [0, 1].map((b) => pop.takeRecording(b));
    return { route, states, rec, counts: Array.from(pop.spikeCounts) };
  } finally {
    setEventSimd(was);
  }
}

describe('event-network: SIMD neuron passes bit-identical to the JavaScript loops', () => {
  afterEach(() => setEventSimd(true));

  const modes: Mode[] = [];
  for (const drive of ['current', 'conductance'] as const) {
    for (const method of ['euler', 'exact'] as const) {
      for (const atThreshold of [false, true]) modes.push({ drive, method, atThreshold, inhibitionFrom: 0 });
    }
  }
  // current + Euler with g_i all +0 at first (the pass without g_i), then inhibition switching on
  modes.push({ drive: 'current', method: 'euler', atThreshold: false, inhibitionFrom: 150 });

  for (const mode of modes) {
    const label = `${mode.drive}, ${mode.method}, ${mode.atThreshold ? 'v ≥ V_th' : 'v > V_th'}${mode.inhibitionFrom ? ', g_i +0 until inhibition' : ''}`;
    it(`${label}: 1500 steps, v/g_e/g_i/lastSpike bits and spikes equal`, () => {
      const steps = 1500;
      const simd = run(mode, true, steps, 10);
      const js = run(mode, false, steps, 10);
      expect(simd.route).toBe(true); // the SIMD loops did run (WebAssembly SIMD in Node)
      expect(js.route).toBe(false);
      const total = js.counts.reduce((a, x) => a + x, 0);
      expect(total).toBeGreaterThan(500); // active: spikes, refractory holds and recurrent jumps
      expect(simd.counts).toEqual(js.counts);
      for (let b = 0; b < 2; b++) {
        expect(Array.from(simd.rec[b]!.step)).toEqual(Array.from(js.rec[b]!.step));
        expect(Array.from(simd.rec[b]!.index)).toEqual(Array.from(js.rec[b]!.index));
      }
      for (let c = 0; c < simd.states.length; c++) {
        const s = simd.states[c]!;
        const j = js.states[c]!;
        expect(s.v, `v after chunk ${c}`).toEqual(j.v);
        expect(s.ge, `ge after chunk ${c}`).toEqual(j.ge);
        expect(s.gi, `gi after chunk ${c}`).toEqual(j.gi);
        expect(s.last, `lastSpike after chunk ${c}`).toEqual(j.last);
        expect(s.live, `giLive after chunk ${c}`).toEqual(j.live);
      }
      if (mode.inhibitionFrom) {
        expect(js.states[0]!.live[0]).toBe(0); // the g_i-free pass ran in lane 0 …
        expect(js.states.at(-1)!.live).toEqual(new Uint8Array([1, 1])); // … and inhibition came on
      }
    });
  }

  it('v landing exactly on V_th: a spike with v ≥ V_th, none with v > V_th, on both routes', () => {
    // no input, v = E_l = V_th = V_reset = −50: every update gives −50 again (the float64 value
    // rounds to −50 in float32), so a cell spikes at every free step, i.e. at steps 0, k, 2k, …
    const k = 3;
    const steps = 30;
    for (const drive of ['current', 'conductance'] as const) {
      for (const method of ['euler', 'exact'] as const) {
        for (const atThreshold of [true, false]) {
          for (const on of [true, false]) {
            const was = setEventSimd(on);
            try {
              const net = new EventNetwork(1, 0.1, [1]);
              const pop = net.addLif('pop', 7, {
                el: -50, vThreshold: -50, vReset: -50, tauM: 20, tauE: 5, tauI: 10, tauRef: 0, refractorySteps: k,
                drive, method, spikeAtThreshold: atThreshold, ...(drive === 'conductance' ? { ee: 0, ei: -80 } : {}),
              });
              expect(lifSimdRoute(pop)).toBe(on);
              net.run(steps);
              const want = atThreshold ? 7 * Math.ceil(steps / k) : 0;
              expect(pop.spikeCounts[0], `${drive} ${method} ${atThreshold ? '≥' : '>'} simd ${on}`).toBe(want);
              expect(Array.from(pop.v)).toEqual(new Array(7).fill(-50));
            } finally {
              setEventSimd(was);
            }
          }
        }
      }
    }
  });

  it('a group whose arrays were replaced falls back to the JavaScript loop', () => {
    const net = new EventNetwork(1, 0.1, [1]);
    const pop = net.addLif('pop', 8, { el: -49, vThreshold: -50, vReset: -60, tauM: 20, tauS: 5, tauRef: 0 });
    expect(lifSimdRoute(pop)).toBe(true);
    pop.v = new Float32Array(8).fill(-49);
    expect(lifSimdRoute(pop)).toBe(false);
    net.run(1); // v = −49 + k·(−49 + 49) stays −49 > −50: every neuron spikes, through the JS loop
    expect(pop.count).toBe(8);
    expect(Array.from(pop.spikes.slice(0, 8))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('exact conductance with e^{G·rate} over the whole range of the f64x2 exp: 400 steps, bits equal', () => {
    // rate = −dt/τm = −0.1 (τm = 1 ms): g_e from 0 to 20000, decaying, spans G·rate from −0.1 to
    // −2000: k = 0, k = ±1, large k, and below −708 (pairs the f64x2 exp leaves to Math.exp);
    // τm = 10⁹ ms: rate = −10⁻¹⁰, G·rate below 2⁻²⁸ in size (Math.exp lanes) until G > 2.7;
    // τm = 1 ms with slow g (τ = 10⁴ ms) from 6000 to 8000, always free: G·rate stays around −708,
    // where k reaches −1021 and the f64x2 exp hands over to Math.exp
    const N2 = 203;
    const NT = 42;
    const wide = (on: boolean) => {
      const was = setEventSimd(on);
      try {
        const B = 2;
        const base = { el: -60, vThreshold: -50, vReset: -60, tauE: 5, tauI: 10, tauRef: 0.5, drive: 'conductance', method: 'exact', ee: 0, ei: -80 } as const;
        const net = new EventNetwork(B, 0.1, [3, 4]);
        const input = net.addPoisson('in', NIN, 500);
        const fast = net.addLif('fast', N2, { ...base, tauM: 1 });
        const tiny = net.addLif('tiny', NT, { ...base, tauM: 1e9 });
        // (threshold above E_e: no spike and reset hides a wrong v)
        const deep = net.addLif('deep', NT + 1, { ...base, tauM: 1, tauE: 1e4, tauI: 1e4, tauRef: 0, vThreshold: 10 });
        const lanes = (s: { pre: number[]; post: number[] }, nPre: number, nPost: number, w: number) =>
          Array.from({ length: B }, (_, b) => buildProjectionLane(s.pre, s.post, s.pre.map((_, k) => w * (1 + 0.1 * ((k + b) % 5))), nPre, nPost, false));
        net.addProjection('in-fast', input, fast, 'ge', lanes(synapses(NIN, N2, 0.1, 4), NIN, N2, 0.1));
        net.addProjection('fast-fast', fast, fast, 'ge', lanes(synapses(N2, N2, 0.05, 5), N2, N2, 0.02));
        net.addProjection('fast-inh', fast, fast, 'gi', lanes(synapses(N2, N2, 0.05, 6), N2, N2, 0.01));
        net.addProjection('in-tiny', input, tiny, 'ge', lanes(synapses(NIN, NT, 0.1, 7), NIN, NT, 0.05));
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < N2; j++) {
            const q = b * N2 + j;
            fast.v[q] = -70 + (30 * ((j * 53 + b) % N2)) / N2;
            // neighbours alike, so that both lanes of a pair meet each range together
            fast.ge[q] = 20000 * ((j + 0.3 * b) / N2) ** 4;
            fast.gi[q] = 0.5 * (j % 5);
          }
          for (let j = 0; j < NT; j++) {
            const q = b * NT + j;
            tiny.v[q] = -65 + (j % 9);
            tiny.ge[q] = j % 6 === 5 ? 1e4 : 0.3 * (j % 6);
            tiny.gi[q] = 0.1 * (j % 3);
          }
          for (let j = 0; j <= NT; j++) {
            const q = b * (NT + 1) + j;
            deep.v[q] = -60;
            deep.ge[q] = 6000 + (2000 * (j + 0.5 * b)) / NT;
            deep.gi[q] = 0.5 * (j % 2);
          }
        }
        // the arguments G·rate (from the float32 state before each step) by the exp's cases
        const cases = { over708: 0, kLarge: 0, kOne: 0, kZero: 0, tiny: 0 };
        const routes = [lifSimdRoute(fast), lifSimdRoute(tiny), lifSimdRoute(deep)];
        const states: Uint32Array[][] = [];
        for (let t = 0; t < 400; t++) {
          for (const [g, rate] of [[fast, -0.1], [tiny, -1e-10], [deep, -0.1]] as const) {
            for (let q = 0; q < g.v.length; q++) {
              const a = Math.abs((1 + g.ge[q]! + g.gi[q]!) * rate);
              if (a > 708) cases.over708++;
              else if (a > 1.5 * Math.LN2) cases.kLarge++;
              else if (a > 0.5 * Math.LN2) cases.kOne++;
              else if (a >= 2 ** -28) cases.kZero++;
              else cases.tiny++;
            }
          }
          net.run(1);
          if (t % 20 === 19) {
            states.push([fast, tiny, deep].flatMap((g) => [g.v, g.ge, g.gi, g.lastSpike].map((a) => new Uint32Array(a.slice().buffer))));
          }
        }
        return { routes, cases, states, counts: [fast, tiny, deep].map((g) => Array.from(g.spikeCounts)) };
      } finally {
        setEventSimd(was);
      }
    };
    const simd = wide(true);
    const js = wide(false);
    expect(simd.routes).toEqual([true, true, true]);
    expect(js.routes).toEqual([false, false, false]);
    expect(lifArena(1, 4)!.expExact).toBe(true); // the SIMD route takes the f64x2 exp (its probe agreed)
    for (const c of Object.values(simd.cases)) expect(c).toBeGreaterThan(200); // every case of the exp
    expect(js.counts[0]!.reduce((a, x) => a + x, 0)).toBeGreaterThan(1000);
    expect(simd.counts).toEqual(js.counts);
    for (let c = 0; c < js.states.length; c++) {
      for (let k = 0; k < js.states[c]!.length; k++) expect(simd.states[c]![k], `array ${k} after chunk ${c}`).toEqual(js.states[c]![k]);
    }
  });

  it('aboveF32(th): the smallest float32 above th, so x > th ⇔ x ≥ aboveF32(th) for float32 x', () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const prevF32 = (x: number) => {
      f32[0] = x;
      if (x === 0) return -1.401298464324817e-45;
      u32[0] = x > 0 ? u32[0]! - 1 : u32[0]! + 1;
      return f32[0]!;
    };
    for (const th of [-50, -50.000000000000007, -49.99999999999999, 0, -0, 1e-50, -1e-50, 0.1, 3.4028234663852886e38, 3.5e38, -3.5e38]) {
      const a = aboveF32(th);
      expect(a).toBeGreaterThan(th);
      expect(Math.fround(a)).toBe(a);
      if (Number.isFinite(a)) expect(prevF32(a) <= th).toBe(true); // no float32 strictly between
    }
  });
});
