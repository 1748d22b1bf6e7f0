// The event-driven network engine's specialised paths: synapses stored in pre or in post order
// (each pathway then walks its synapses either in storage order or through an index list), the
// skipped g_i update of lanes whose g_i are all +0, and the constant-rate Poisson input drawn by
// geometric skipping. References are written here: a per-synapse float64 recursion of Brian2's
// event-driven pair STDP, the Euler step in closed form, and the Bernoulli/binomial moments.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { buildProjectionLane, EventNetwork, MAX_STEP, refractorySteps, type LifParams } from '../../src/kernels/js/event-network.js';
import type { WeightDependence } from '../../src/kernels/js/event-stdp.js';
import { refracStepCount } from '../../src/neural/neurons/neuron-group.js';

const LIF: LifParams = { el: -74, vThreshold: -54, vReset: -60, tauM: 10, tauS: 2, tauRef: 2 };
const BIG = 1e7; // rate (Hz) with rate·dt ≫ 1: the input spikes every step it is on

/** 14 synapses over 5 pre × 4 post cells, listed in an order that is neither by pre nor by post. */
const PRE = [3, 0, 4, 1, 2, 0, 3, 4, 1, 2, 0, 4, 3, 1];
const POST = [1, 2, 0, 3, 1, 0, 2, 3, 0, 2, 3, 1, 0, 1];

function run(rule: WeightDependence | 'static', order: 'pre' | 'post', steps: number) {
  const nPre = 5;
  const driver = nPre; // input index that drives every post cell
  const preAt = (t: number, i: number) => (t + 3 * i) % (9 + 2 * i) === 0;
  const postDriveAt = (t: number) => t % 17 === 6 || t % 29 === 11;
  const net = new EventNetwork(1, 1, [7]);
  const input = net.addRateInput('in', nPre + 1);
  const post = net.addLif('post', 4, LIF);
  const wMax = rule === 'multiplicative' ? 20 : 0.05;
  const w0 = PRE.map((_, s) => (rule === 'multiplicative' ? 2 + ((s * 7) % 17) : 0.002 + 0.003 * ((s * 5) % 14)));
  const aPre = rule === 'multiplicative' ? 0.05 : 0.01;
  const aPost = rule === 'multiplicative' ? -0.06 : -0.012;
  const proj = net.addProjection('plastic', input, post, 'ge', [buildProjectionLane(PRE, POST, w0, nPre + 1, 4, rule !== 'static', order)], {
    scale: rule === 'multiplicative' ? 1 : 100,
    stdp: rule === 'static' ? undefined : { dependence: rule, tauPre: 20, tauPost: 20, aPre, aPost, wMax },
  });
  net.addProjection('drive', input, post, 'ge', [buildProjectionLane([driver, driver, driver, driver], [0, 1, 2, 3], [400, 400, 400, 400], nPre + 1, 4, false)]);
  const rates = new Float32Array(steps * (nPre + 1));
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < nPre; i++) rates[t * (nPre + 1) + i] = preAt(t, i) ? BIG : 0;
    rates[t * (nPre + 1) + driver] = postDriveAt(t) ? BIG : 0;
  }
  net.setRates(input, 0, rates);
  post.recording = true;
  const ge: number[] = [];
  for (let t = 0; t < steps; t++) {
    net.setRates(input, 0, rates.subarray(t * (nPre + 1)));
    net.run(1);
    ge.push(...post.ge);
  }
  const rec = post.takeRecording(0);
  const L = proj.lanes[0]!;
  // weights back in the listing order of PRE/POST (pairs are unique)
  const w = PRE.map((i, s) => {
    for (let q = 0; q < L.w.length; q++) if (L.pre[q] === i && L.post[q] === POST[s]) return L.w[q]!;
    throw new Error('synapse not found');
  });
  return { w, w0, ge, rec, preAt, wMax, aPre, aPost };
}

describe('event-network: synapses stored by pre or by post give the same floats', () => {
  for (const rule of ['additive', 'multiplicative'] as const) it(`${rule} STDP: both orders equal bit for bit and match a float64 recursion to 1e-6`, () => {
    const steps = 500;
    const a = run(rule, 'pre', steps);
    const b = run(rule, 'post', steps);
    expect(b.w).toEqual(a.w);
    expect(b.ge).toEqual(a.ge);
    expect(Array.from(b.rec.step)).toEqual(Array.from(a.rec.step));
    expect(Array.from(b.rec.index)).toEqual(Array.from(a.rec.index));
    expect(a.rec.step.length).toBeGreaterThan(40);
    // per-synapse float64 recursion (Brian2: all on_pre, then all on_post, traces decayed at events)
    const fired = new Set<number>();
    for (let k = 0; k < a.rec.step.length; k++) fired.add(a.rec.step[k]! * 10 + a.rec.index[k]!);
    const n = PRE.length;
    const w = a.w0.slice();
    const apre = new Float64Array(n);
    const apost = new Float64Array(n);
    const last = new Float64Array(n);
    const decay = (s: number, t: number) => {
      const f = Math.exp(-(t - last[s]!) / 20);
      apre[s] = apre[s]! * f;
      apost[s] = apost[s]! * f;
      last[s] = t;
    };
    const clip = (x: number) => Math.min(a.wMax, Math.max(0, x));
    for (let t = 0; t < steps; t++) {
      for (let s = 0; s < n; s++) if (a.preAt(t, PRE[s]!)) {
        decay(s, t);
        apre[s] = apre[s]! + a.aPre;
        w[s] = clip(rule === 'additive' ? w[s]! + apost[s]! : w[s]! + apost[s]! * w[s]!);
      }
      for (let s = 0; s < n; s++) if (fired.has(t * 10 + POST[s]!)) {
        decay(s, t);
        apost[s] = apost[s]! + a.aPost;
        w[s] = clip(rule === 'additive' ? w[s]! + apre[s]! : w[s]! + apre[s]! * (a.wMax - w[s]!));
      }
    }
    let moved = 0;
    for (let s = 0; s < n; s++) {
      expect(Math.abs(a.w[s]! - w[s]!)).toBeLessThan(1e-6 * (rule === 'additive' ? 1 : a.wMax));
      if (a.w[s] !== a.w0[s]) moved++;
    }
    expect(moved).toBe(n);
  });

  it('static synapses: both orders deliver the same g_e, equal to Σ scale·w over the step\'s presynaptic spikes', () => {
    const a = run('static', 'pre', 120);
    const b = run('static', 'post', 120);
    expect(b.ge).toEqual(a.ge);
    // after step t (delivery happens after the decay): ge_j(t) = fround(ge_j(t−1)·(1 − 1/2)) + Σ 100·w
    const ge = [0, 0, 0, 0];
    for (let t = 0; t < 120; t++) {
      for (let j = 0; j < 4; j++) ge[j] = Math.fround(ge[j]! * 0.5);
      // presynaptic spikes in ascending index (each post cell gets at most one term per pre)
      for (let i = 0; i < 5; i++) if (a.preAt(t, i)) for (let s = 0; s < PRE.length; s++) if (PRE[s] === i) ge[POST[s]!] = Math.fround(ge[POST[s]!]! + 100 * Math.fround(a.w0[s]!));
      if (t % 17 === 6 || t % 29 === 11) for (let j = 0; j < 4; j++) ge[j] = Math.fround(ge[j]! + 400);
      for (let j = 0; j < 4; j++) expect(a.ge[t * 4 + j]).toBe(ge[j]);
    }
  });
});

describe('event-network: g_i of a lane that is all +0', () => {
  it('g_i written between runs is used by the next step (v, g_i by the Euler formula)', () => {
    const net = new EventNetwork(2, 1, [1, 2]);
    const pop = net.addLif('pop', 3, LIF);
    net.run(5); // no input: g_i stays +0, v stays at E_l
    for (let i = 0; i < 6; i++) expect(pop.v[i]).toBe(-74);
    pop.gi[4] = 6; // lane 1, cell 1
    pop.ge[5] = 2; // lane 1, cell 2
    net.run(1);
    const km = 1 / 10;
    expect(pop.v[4]).toBe(Math.fround(-74 + km * (-74 - -74 + 0 - 6)));
    expect(pop.gi[4]).toBe(Math.fround(6 * (1 - 1 / 2)));
    expect(pop.v[5]).toBe(Math.fround(-74 + km * (-74 - -74 + 2 - 0)));
    for (const i of [0, 1, 2, 3]) expect(pop.v[i]).toBe(-74);
    const v1 = pop.v[4]!;
    net.run(1);
    expect(pop.v[4]).toBe(Math.fround(v1 + km * (-74 - v1 + 0 - 3))); // g_i was 6·(1 − 1/2) = 3 at the start of this step
  });

  it('an inhibitory delivery after a quiet stretch reaches v on the next step, as in the float64 recursion', () => {
    const steps = 300;
    const net = new EventNetwork(1, 1, [5]);
    const input = net.addRateInput('in', 1);
    const pop = net.addLif('pop', 1, { ...LIF, vThreshold: 100 });
    net.addProjection('inh', input, pop, 'gi', [buildProjectionLane([0], [0], [4], 1, 1, false)]);
    const on = (t: number) => t === 150 || t === 151 || t === 260;
    let v = -74;
    let gi = 0;
    let vMin = v;
    for (let t = 0; t < steps; t++) {
      net.setRates(input, 0, Float32Array.of(on(t) ? BIG : 0));
      net.run(1);
      v = v + 0.1 * (-74 - v - gi);
      gi = gi - gi / 2;
      if (on(t)) gi += 4;
      expect(Math.abs(pop.v[0]! - v)).toBeLessThan(1e-4);
      expect(Math.abs(pop.gi[0]! - gi)).toBeLessThan(1e-4);
      vMin = Math.min(vMin, v);
      if (t < 151) expect(pop.v[0]).toBe(-74); // nothing before the first delivery acts
    }
    expect(vMin).toBeLessThan(-74.5); // the inhibition did act
    // the same in one run of all steps (no state written between steps)
    const one = new EventNetwork(1, 1, [5]);
    const input1 = one.addRateInput('in', 1);
    const pop1 = one.addLif('pop', 1, { ...LIF, vThreshold: 100 });
    one.addProjection('inh', input1, pop1, 'gi', [buildProjectionLane([0], [0], [4], 1, 1, false)]);
    const rates = new Float32Array(265);
    for (let t = 0; t < 265; t++) rates[t] = on(t) ? BIG : 0;
    one.setRates(input1, 0, rates);
    one.run(265);
    v = -74;
    gi = 0;
    for (let t = 0; t < 265; t++) {
      v = v + 0.1 * (-74 - v - gi);
      gi = gi - gi / 2;
      if (on(t)) gi += 4;
    }
    expect(Math.abs(pop1.v[0]! - v)).toBeLessThan(1e-4);
    expect(Math.abs(pop1.gi[0]! - gi)).toBeLessThan(1e-4);
    expect(v).toBeLessThan(-74.1);
  });
});

describe('event-network: constant-rate Poisson input (geometric skipping)', () => {
  it('is Bernoulli(rate·dt) per neuron and step: total, per-step variance and per-neuron counts within 3 SE', () => {
    const n = 64;
    const steps = 6000;
    const rate = 18; // Hz at dt 1 ms: p = 0.018
    const p = (rate * 1) / 1000;
    const net = new EventNetwork(1, 1, [11]);
    const g = net.addPoisson('bg', n, rate);
    g.recording = true;
    net.run(steps);
    const rec = g.takeRecording(0);
    const N = n * steps;
    // total spikes ~ Binomial(N, p)
    const total = rec.step.length;
    expect(Math.abs(total - N * p)).toBeLessThan(3 * Math.sqrt(N * p * (1 - p)));
    // per-step counts ~ Binomial(n, p): mean and variance
    const perStep = new Float64Array(steps);
    const perNeuron = new Float64Array(n);
    for (let k = 0; k < total; k++) {
      perStep[rec.step[k]!]!++;
      perNeuron[rec.index[k]!]!++;
    }
    const mean = perStep.reduce((a, x) => a + x, 0) / steps;
    const variance = perStep.reduce((a, x) => a + (x - mean) ** 2, 0) / (steps - 1);
    const m = n * p;
    const s2 = m * (1 - p);
    expect(Math.abs(mean - m)).toBeLessThan(3 * Math.sqrt(s2 / steps));
    // SE of a sample variance: sqrt((μ4 − σ⁴·(steps − 3)/(steps − 1)) / steps), μ4 of the binomial
    const mu4 = n * p * (1 - p) * (1 + 3 * (n - 2) * p * (1 - p));
    expect(Math.abs(variance - s2)).toBeLessThan(3 * Math.sqrt((mu4 - (s2 * s2 * (steps - 3)) / (steps - 1)) / steps));
    // every neuron: Binomial(steps, p) counts; Σ (x − e)²/var over the 64 neurons ≈ χ²₆₄ (mean 64, SD √128)
    const e = steps * p;
    const chi2 = perNeuron.reduce((a, x) => a + ((x - e) ** 2) / (e * (1 - p)), 0);
    expect(Math.abs(chi2 - n)).toBeLessThan(3 * Math.sqrt(2 * n));
    // no spike twice in one slot, indices ascending within a step
    for (let k = 1; k < total; k++) if (rec.step[k] === rec.step[k - 1]) expect(rec.index[k]!).toBeGreaterThan(rec.index[k - 1]!);
  });
});

describe('event-network: clipping of weights given outside [0, w_max]', () => {
  // Brian2 clips w on every on_pre and on_post event. Post cell 0 is driven to spike at steps 30 and
  // 200; its plastic synapse (from a silent input, w = 2 > w_max = 1 or w = −0.5) must be clipped at
  // the first post spike; the pre trace (τ = 1 ms, dt = 1 ms) is past its decay table (70 steps) by
  // step 200, which used to skip the clip there.
  for (const first of [30, 200]) it(`additive and multiplicative: clipped at the first post spike (step ${first})`, () => {
    for (const dependence of ['additive', 'multiplicative'] as const) {
      const net = new EventNetwork(1, 1, [3]);
      const input = net.addRateInput('in', 2);
      const post = net.addLif('post', 1, LIF);
      const proj = net.addProjection('plastic', input, post, 'ge', [buildProjectionLane([0, 0], [0, 0], [2, -0.5], 2, 1, true)], {
        scale: 0,
        stdp: { dependence, tauPre: 1, tauPost: 1, aPre: 0.01, aPost: -0.01, wMax: 1 },
      });
      net.addProjection('drive', input, post, 'ge', [buildProjectionLane([1], [0], [400], 2, 1, false)]);
      const steps = first + 1;
      const rates = new Float32Array(steps * 2);
      rates[(first - 1) * 2 + 1] = BIG; // delivered at first − 1: the cell crosses at step first
      net.setRates(input, 0, rates);
      post.recording = true;
      net.run(steps);
      expect(Array.from(post.takeRecording(0).step)).toEqual([first]);
      expect(Array.from(proj.lanes[0]!.w)).toEqual([1, 0]);
    }
  });
});

describe('event-network: refractory period in whole steps as Brian2 counts them', () => {
  it('the count is the neuron groups\' refracCount: \'steps\' count (Brian2\'s timestep in seconds), float64 ties included', () => {
    // 0.1999 ms at dt 0.1: (1.999e-4 + 1e-7)/1e-4 = 2 in seconds (Brian2: 2 steps), but 1.999 + 0.001
    // = 1.9999999999999998 in ms (the count in ms gave 1); 0.2999 at 0.1: 3 (in ms: 2)
    expect(refractorySteps(0.1999, 0.1)).toBe(2);
    expect(refractorySteps(0.2999, 0.1)).toBe(3);
    expect(Math.floor(0.1999 / 0.1 + 1e-3)).toBe(1); // the count in ms, as before
    for (const dt of [0.1, 0.05, 0.25, 0.3, 1]) {
      for (let i = 1; i <= 3000; i++) {
        const tauRef = i / 1e4;
        // (the groups count a period shorter than a step as 1: no lock-out either way)
        expect(Math.max(refractorySteps(tauRef, dt), 1), `τref ${tauRef}, dt ${dt}`).toBe(refracStepCount(tauRef, dt));
      }
    }
  });

  it('v is held for Brian2\'s timestep(τref, dt) steps: a neuron driven to spike whenever free spikes every that many steps', () => {
    // [τref, dt, Brian2's timestep(τref, dt)]: 1.3/0.5 = 2.6 → 2 (rounding gave 3), 2/0.1 = 19.99… → 20
    for (const [tauRef, dt, steps] of [[1.3, 0.5, 2], [2, 0.1, 20], [0.75, 0.5, 1], [1.0, 0.5, 2]] as const) {
      expect(refractorySteps(tauRef, dt)).toBe(steps);
      const net = new EventNetwork(1, dt, [1]);
      const pop = net.addLif('pop', 1, { ...LIF, tauRef });
      pop.recording = true;
      for (let t = 0; t < 12 * steps + 4; t++) {
        pop.ge[0] = 1e6; // far above threshold within one Euler step
        net.run(1);
      }
      const at = Array.from(pop.takeRecording(0).step);
      expect(at.length).toBeGreaterThan(8);
      for (let k = 1; k < at.length; k++) expect(at[k]! - at[k - 1]!, `τref ${tauRef} dt ${dt}`).toBe(Math.max(1, steps));
    }
  });
});

// A projection's synapse lists index the source's and the target's cells by the sizes they were
// built for. A lane built for 8 post cells on a 4-cell target used to deliver lane 0's spike at
// post index 5 into lane 1's cell 1 (lane 1's g_e = 1.5 after one step: lane 0's w = 3 decayed by
// lane 1's own step, 1 − dt/τs = 0.5, with no input of its own); a lane built without traces on a plastic projection silently did not learn.
describe('event-network: synapse lists that do not fit the projection are refused', () => {
  it('sizes other than the source and target cells, or no traces for STDP: CinderArgumentError, nothing added', () => {
    const net = new EventNetwork(2, 1, [1, 2]);
    const input = net.addRateInput('in', 2);
    const post = net.addLif('post', 4, LIF);
    const fits = () => buildProjectionLane([0, 1], [0, 3], [3, 3], 2, 4, true);
    const stdp = { dependence: 'additive' as const, tauPre: 20, tauPost: 20, aPre: 0.01, aPost: -0.01, wMax: 5 };
    expect(() => net.addProjection('p', input, post, 'ge', [buildProjectionLane([0], [5], [3], 2, 8, false), fits()])).toThrow(/^invalid p lanes\[0\]: got "synapses of 2 → 8 cells", expected synapses of 2 → 4 cells \(in → post\)$/);
    expect(() => net.addProjection('p', input, post, 'ge', [fits(), buildProjectionLane([2], [0], [3], 3, 4, false)])).toThrow(/^invalid p lanes\[1\]: got "synapses of 3 → 4 cells", expected synapses of 2 → 4 cells \(in → post\)$/);
    expect(() => net.addProjection('p', input, post, 'ge', [fits(), buildProjectionLane([0], [0], [3], 2, 4, false)], { stdp })).toThrow(/^invalid p lanes\[1\]: got "a lane without STDP traces", expected a lane built with plastic = true \(the projection has STDP\)$/);
    expect(net.projections.length).toBe(0);
    // lanes that fit: lane 0's input reaches only lane 0 (g_e = w = 3, delivered after the step's decay), and STDP runs
    const lanes = [fits(), fits()];
    net.addProjection('p', input, post, 'ge', lanes, { stdp });
    net.setRates(input, 0, new Float32Array([1e7, 0]));
    net.setRates(input, 1, new Float32Array([0, 0]));
    net.run(1);
    expect(Array.from(post.ge)).toEqual([3, 0, 0, 0, 0, 0, 0, 0]);
    expect(lanes[0]!.xPre[0]).toBe(0.01);
    expect(lanes[1]!.xPre[0]).toBe(0);
  });
});

// A projection's trace decay tables exp(−k·dt/τ) are built when it is added. Assigning `stdp`
// afterwards used to be accepted silently: on a static projection nothing learned (its lanes have no
// traces), and a new tauPre/tauPost on a plastic one kept decaying with the old tables. Now `stdp`
// and its time constants refuse assignment; amplitudes are changed in place and take effect.
describe('event-network: STDP settings after the projection is added', () => {
  const stdp = { dependence: 'additive' as const, tauPre: 20, tauPost: 10, aPre: 0.01, aPost: -0.01, wMax: 5 };
  function build(plastic: boolean) {
    const net = new EventNetwork(1, 1, [1]);
    const input = net.addRateInput('in', 1);
    const post = net.addLif('post', 1, LIF);
    const lane = buildProjectionLane([0], [0], [3], 1, 1, plastic);
    const proj = net.addProjection('p', input, post, 'ge', [lane], plastic ? { scale: 0, stdp } : { scale: 0 });
    return { net, input, proj, lane };
  }

  it('assigning stdp throws and changes nothing (static and plastic projections)', () => {
    for (const plastic of [false, true]) {
      const { net, input, proj, lane } = build(plastic);
      expect(() => (proj.stdp = { ...stdp, aPre: 0.5 })).toThrow(/^invalid p stdp: got an object \{dependence, tauPre, tauPost, aPre, aPost, wMax\}, expected no assignment \(STDP is chosen by addProjection's options\.stdp; change amplitudes in place, e\.g\. projection\.stdp\.aPre = 0\)$/);
      expect(() => (proj.stdp = undefined)).toThrow(/^invalid p stdp: got undefined/);
      expect(proj.stdp === undefined).toBe(!plastic);
      if (plastic) expect(proj.stdp!.aPre).toBe(0.01);
      net.setRates(input, 0, new Float32Array([1e7]));
      net.run(1);
      expect(Array.from(lane.xPre)).toEqual(plastic ? [0.01] : []);
    }
  });

  it('time constants refuse assignment; a changed amplitude is used by the next spike with the original decay', () => {
    const { net, input, proj, lane } = build(true);
    const st = proj.stdp!;
    expect(() => ((st as { tauPre: number }).tauPre = 5)).toThrow(/^invalid p stdp\.tauPre: got 5, expected 20, the value the projection was added with/);
    expect(() => ((st as { tauPost: number }).tauPost = 40)).toThrow(/^invalid p stdp\.tauPost: got 40, expected 10, the value/);
    expect([st.tauPre, st.tauPost]).toEqual([20, 10]);
    expect({ ...st }).toEqual(stdp);
    // pre spikes at steps 0 and 4; A_pre 0.01 for the first, 0.03 for the second:
    // x_pre = 0.01·exp(−4·1/20) + 0.03 (float64, the decay over 4 steps of 1 ms with τ_pre = 20 ms)
    net.setRates(input, 0, new Float32Array([1e7, 0, 0, 0]));
    net.run(4);
    st.aPre = 0.03;
    net.setRates(input, 0, new Float32Array([1e7]));
    net.run(1);
    expect(lane.xPre[0]).toBe(0.01 * Math.exp(-4 / 20) + 0.03);
    expect(lane.xPreLast[0]).toBe(4);
  });
});

describe('event-network: synapse lanes keep only what their storage order needs', () => {
  // reference CSR lists by a plain stable sort (independent of buildProjectionLane's counting sort)
  const csr = (key: number[], other: number[], nKey: number, n: number) => {
    const ids = Array.from({ length: n }, (_, s) => s).sort((a, b) => key[a]! - key[b]! || a - b);
    const row = new Array<number>(nKey + 1).fill(0);
    for (const k of key) row[k + 1]!++;
    for (let k = 0; k < nKey; k++) row[k + 1]! += row[k]!;
    return { row, ids, oth: ids.map((s) => other[s]!) };
  };

  it('every list equals the reference in both orders; lists other than storage key, partner and w are built on first read', () => {
    const nPre = 37;
    const nPost = 23;
    const n = 500;
    let x = 12345;
    const rand = (m: number) => ((x = (x * 1103515245 + 12345) % 2147483648), x % m);
    const pre = Array.from({ length: n }, () => rand(nPre));
    const post = Array.from({ length: n }, () => rand(nPost));
    const w = Array.from({ length: n }, (_, s) => s + 0.5);
    for (const order of ['pre', 'post'] as const) {
      const L = buildProjectionLane(pre, post, w, nPre, nPost, false, order);
      // storage order: stable sort by the key
      const st = order === 'pre' ? csr(pre, post, nPre, n) : csr(post, pre, nPost, n);
      const sPre = st.ids.map((s) => pre[s]!);
      const sPost = st.ids.map((s) => post[s]!);
      expect(Array.from(L.w)).toEqual(st.ids.map((s) => w[s]!));
      const byPre = csr(sPre, sPost, nPre, n);
      const byPost = csr(sPost, sPre, nPost, n);
      const lazy = L as unknown as { cross: unknown; keyOf: unknown; ident: unknown };
      if (order === 'pre') {
        // a static lane in pre order: weights, post per synapse and pre row pointers only
        expect([lazy.cross, lazy.keyOf, lazy.ident]).toEqual([null, null, null]);
        expect(L.postByPre).toBe(L.post);
      } else {
        expect(lazy.ident).toBe(null);
        expect(L.preByPost).toBe(L.pre);
      }
      expect([L.nPre, L.nPost, L.order]).toEqual([nPre, nPost, order]);
      expect(Array.from(L.pre)).toEqual(sPre);
      expect(Array.from(L.post)).toEqual(sPost);
      expect(Array.from(L.preRow)).toEqual(byPre.row);
      expect(Array.from(L.preSyn)).toEqual(byPre.ids);
      expect(Array.from(L.postByPre)).toEqual(byPre.oth);
      expect(Array.from(L.postRow)).toEqual(byPost.row);
      expect(Array.from(L.postSyn)).toEqual(byPost.ids);
      expect(Array.from(L.preByPost)).toEqual(byPost.oth);
    }
  });

  it('int32 lists, lists already in storage order (copied as they are) and float64 weights give the reference lists; the lane never aliases its inputs', () => {
    const nPre = 29;
    const nPost = 31;
    const n = 400;
    let x = 777;
    const rand = (m: number) => ((x = (x * 1103515245 + 12345) % 2147483648), x % m);
    const pairs = Array.from({ length: n }, () => [rand(nPre), rand(nPost)] as const);
    const w = Float64Array.from({ length: n }, (_, s) => 0.1 * s + 1 / 3);
    for (const sortBy of ['none', 'pre', 'post'] as const) {
      const ids = Array.from({ length: n }, (_, s) => s);
      if (sortBy !== 'none') ids.sort((a, b) => pairs[a]![sortBy === 'pre' ? 0 : 1] - pairs[b]![sortBy === 'pre' ? 0 : 1] || a - b);
      const pre = Int32Array.from(ids, (s) => pairs[s]![0]);
      const post = Int32Array.from(ids, (s) => pairs[s]![1]);
      const ws = Float64Array.from(ids, (s) => w[s]!);
      for (const order of ['pre', 'post'] as const) {
        const L = buildProjectionLane(pre, post, ws, nPre, nPost, false, order);
        const st = order === 'pre' ? csr(Array.from(pre), Array.from(post), nPre, n) : csr(Array.from(post), Array.from(pre), nPost, n);
        expect(Array.from(L.pre)).toEqual(st.ids.map((s) => pre[s]!));
        expect(Array.from(L.post)).toEqual(st.ids.map((s) => post[s]!));
        expect(Array.from(L.w)).toEqual(st.ids.map((s) => Math.fround(ws[s]!)));
        expect(Array.from(order === 'pre' ? L.preRow : L.postRow)).toEqual(st.row);
        // the inputs changed after the build leave the lane as it was
        const before = [Array.from(L.pre), Array.from(L.post), Array.from(L.w)];
        const [p0, q0, w0] = [pre[0]!, post[0]!, ws[0]!];
        pre[0] = (p0 + 1) % nPre;
        post[0] = (q0 + 1) % nPost;
        ws[0] = 99;
        expect([Array.from(L.pre), Array.from(L.post), Array.from(L.w)]).toEqual(before);
        [pre[0], post[0], ws[0]] = [p0, q0, w0];
      }
    }
    // one number for every synapse: the lane of the list of n equal weights (float32), in both orders
    for (const order of ['pre', 'post'] as const) {
      const pre = Int32Array.from(pairs, (q) => q[0]);
      const post = Int32Array.from(pairs, (q) => q[1]);
      const a = buildProjectionLane(pre, post, 0.1, nPre, nPost, false, order);
      const b = buildProjectionLane(pre, post, new Array<number>(n).fill(0.1), nPre, nPost, false, order);
      expect([Array.from(a.pre), Array.from(a.post), Array.from(a.w)]).toEqual([Array.from(b.pre), Array.from(b.post), Array.from(b.w)]);
      expect(a.w[0]).toBe(Math.fround(0.1));
    }
    for (const bad of [NaN, Infinity]) expect(() => buildProjectionLane([0], [0], bad, 1, 1, false)).toThrow(`invalid weight: got ${bad}, expected a finite number (one weight for every synapse) or a list of them`);
    // int32 indices out of range and non-integer indices of plain lists are refused, pre before post
    expect(() => buildProjectionLane(Int32Array.of(0, nPre), Int32Array.of(0, 0), [1, 1], nPre, nPost, false)).toThrow(`invalid pre index: got ${nPre}, expected an integer in [0, ${nPre})`);
    expect(() => buildProjectionLane(Int32Array.of(0, -1), Int32Array.of(0, -1), [1, 1], nPre, nPost, false, 'post')).toThrow(`invalid pre index: got -1, expected an integer in [0, ${nPre})`);
    expect(() => buildProjectionLane(Int32Array.of(0, 1), Int32Array.of(0, nPost), [1, 1], nPre, nPost, false)).toThrow(`invalid post index: got ${nPost}, expected an integer in [0, ${nPost})`);
    expect(() => buildProjectionLane([0, 1], [0, 1.5], [1, 1], nPre, nPost, false)).toThrow(`invalid post index: got 1.5, expected an integer in [0, ${nPost})`);
  });

  it('a static pre-ordered lane of 10⁶ synapses allocates about 8 bytes per synapse (the full lists took 28)', () => {
    const n = 1_000_000;
    const nPre = 1000;
    const pre = new Int32Array(n);
    const post = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      pre[s] = (s * 7919) % nPre;
      post[s] = (s * 104729) % 5000;
    }
    const w = new Float32Array(n).fill(1);
    // earlier garbage swept first: a collection during the build can then only free the build's own temporaries
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let k = 0; k < 3; k++) gc();
    const before = process.memoryUsage().arrayBuffers;
    const L = buildProjectionLane(pre, post, w, nPre, 5000, false);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(L.w.length).toBe(n);
    expect(grown).toBeGreaterThanOrEqual(8 * n);
    expect(grown).toBeLessThan(8 * n + 64 * 1024);
  });
});

describe('event-network: step numbers are int32', () => {
  it('a run that would pass step 2^31 − 1 is refused before anything changes (it wrapped: refractoriness broke, recorded steps went negative)', () => {
    const net = new EventNetwork(1, 1, [1]);
    const pop = net.addLif('pop', 2, LIF);
    pop.ge.fill(3000); // strong drive: the cells fire and go refractory
    pop.recording = true;
    net.step = MAX_STEP - 10;
    net.run(5);
    const v = Array.from(pop.v);
    const last = Array.from(pop.lastSpike);
    expect(() => net.run(6)).toThrow(`invalid steps: got 6, expected at most 5 (the network is at step ${MAX_STEP - 5}; step numbers are int32, so it stops at step 2^31 − 1 = ${MAX_STEP})`);
    expect(() => net.run(1.5)).toThrow('invalid steps: got 1.5, expected an integer >= 0');
    expect(net.step).toBe(MAX_STEP - 5);
    expect(Array.from(pop.v)).toEqual(v);
    expect(Array.from(pop.lastSpike)).toEqual(last);
    net.run(5); // up to the last int32 step
    expect(net.step).toBe(MAX_STEP);
    const rec = pop.takeRecording(0);
    expect(rec.step.length).toBeGreaterThan(0);
    for (const s of rec.step) expect(s).toBeGreaterThanOrEqual(MAX_STEP - 10);
  });
});

describe('event-network: a lane holds at most 2^31 − 1 synapses', () => {
  it('longer lists are refused before anything is allocated (int32 row pointers would wrap)', () => {
    const huge = { length: 2 ** 31 } as ArrayLike<number>;
    expect(() => buildProjectionLane(huge, huge, huge, 4, 4, false)).toThrow(`invalid synapse lists: got "2147483648 entries", expected at most ${MAX_STEP} synapses per lane (the CSR row pointers are int32)`);
  });
});
