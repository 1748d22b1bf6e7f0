// The culture engine (src/kernels/js/culture.ts) against an independent float64 loop of its model
// (the module text; livn's equations in livn-and-lateral-line.md A.2: voltage-gated STDP with the
// weight changed at each presynaptic spike, then the dual-exponential conductance kick w·weight·f).
// Per step of dt: OU noise (exact), receptor currents g_r = B_r − A_r (NMDA × Jahr–Stevens block)
// from the values at the start of the step and then their exact decay, forward Euler of the
// membrane unless refractory, threshold/reset/refractory, the somatic voltage V_peak for the spike
// width, the learning sites (zero-order hold of that voltage), then the spikes due this step:
// w ← clip(w·(1 + I − I_c)), I_c ← I, A_r, B_r += w·weight·f_r.
// The only thing shared with the engine is the stream of standard normals (NoiseStream, an input).
import { describe, expect, it } from 'vitest';
import { CultureEngine, NoiseStream, type CultureNeuronParams, type CultureSpec, type ReceptorKinetics } from '../../src/kernels/js/culture.js';
import { EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP, type VoltageStdpParams } from '../../src/kernels/js/voltage-stdp.js';
import { mulberry32 } from '../helpers/random.js';

const rng = mulberry32;

const EXC_POP: CultureNeuronParams = { capacitance: 200, gLeak: 10, eLeak: -65, vThreshold: -50, vReset: -60, refractory: 2, vPeak: 20, spikeWidth: 1 };
const INH_POP: CultureNeuronParams = { capacitance: 100, gLeak: 10, eLeak: -65, vThreshold: -50, vReset: -60, refractory: 1, vPeak: 20, spikeWidth: 1 };
const AMPA: ReceptorKinetics = { name: 'AMPA', tauRise: 0.5, tauDecay: 3, reversal: 0, mgBlock: false, group: 0 };
const NMDA: ReceptorKinetics = { name: 'NMDA', tauRise: 0.5, tauDecay: 80, reversal: 0, mgBlock: true, group: 0 };
const GABA: ReceptorKinetics = { name: 'GABA_A', tauRise: 0.3, tauDecay: 5, reversal: -75, mgBlock: false, group: 1 };

/**
 * A random culture of n neurons (the last nInh inhibitory): each ordered pair connected with
 * probability pConn through the receptors of the presynaptic type; edges sorted by (post, receptor, pre).
 */
function culture(seed: number, n: number, nInh: number, receptors: readonly ReceptorKinetics[], groups: readonly VoltageStdpParams[], opts: { pConn?: number; ge0?: number; dt?: number; gain?: number } = {}): CultureSpec {
  const r = rng(seed);
  const { pConn = 0.5, ge0 = 3, dt = 0.1, gain = 1 } = opts;
  const inh = (i: number) => i >= n - nInh;
  const edges: { pre: number; post: number; rec: number; w: number; d: number }[] = [];
  for (let post = 0; post < n; post++) {
    for (let rec = 0; rec < receptors.length; rec++) {
      const inhibitoryReceptor = receptors[rec]!.reversal < -50;
      for (let pre = 0; pre < n; pre++) {
        if (pre === post || inh(pre) !== inhibitoryReceptor || r() >= pConn) continue;
        const w = gain * (inhibitoryReceptor ? 3 + 3 * r() : receptors[rec]!.mgBlock ? 0.5 + r() : 2 + 3 * r());
        edges.push({ pre, post, rec, w, d: 1 + Math.floor(r() * 15) });
      }
    }
  }
  return {
    dt,
    populations: [EXC_POP, INH_POP],
    population: Uint8Array.from({ length: n }, (_, i) => (inh(i) ? 1 : 0)),
    noise: { ge0, gi0: 1.217, sigmaE: 1.5, sigmaI: 0.356, tauE: 33, tauI: 28.5, eE: 0, eI: -75 },
    receptors,
    groups,
    edgePre: Int32Array.from(edges, (e) => e.pre),
    edgePost: Int32Array.from(edges, (e) => e.post),
    edgeReceptor: Uint8Array.from(edges, (e) => e.rec),
    edgeWeight: Float32Array.from(edges, (e) => e.w),
    edgeDelay: Int32Array.from(edges, (e) => e.d),
    seed: 1234 + seed,
  };
}

interface Trace {
  /** (step, neuron) of every spike, in order. */
  spikes: [number, number][];
  /** v after every step [steps][n]. */
  v: Float64Array[];
  /** Somatic voltage after every step. */
  vSoma: Float64Array[];
  /** Plastic weight of every edge after every step [steps][m]. */
  w: Float64Array[];
  /** Final site integrals per group [n]. */
  I: Float64Array[];
  /** Final rise/decay components per receptor [n]. */
  A: Float64Array[];
  B: Float64Array[];
}

/** The float64 loop (see the file comment). `on(k)`: plasticity on at step k (enabling sets I_c ← I). */
function reference(spec: CultureSpec, steps: number, on: (k: number) => boolean): Trace {
  const n = spec.population.length, m = spec.edgePre.length, dt = spec.dt;
  const pop = (i: number) => spec.populations[spec.population[i]!]!;
  const nz = spec.noise;
  const v = Float64Array.from({ length: n }, (_, i) => pop(i).eLeak);
  const ge = new Float64Array(n).fill(nz.ge0), gi = new Float64Array(n).fill(nz.gi0);
  const A = spec.receptors.map(() => new Float64Array(n)), B = spec.receptors.map(() => new Float64Array(n));
  const refLeft = new Int32Array(n), holdLeft = new Int32Array(n);
  const vSoma = Float64Array.from(v);
  // learning sites: L, I per (group, neuron); per edge w and I_c
  const G = spec.groups.length;
  const L = spec.groups.map(() => new Float64Array(n)), I = spec.groups.map(() => new Float64Array(n));
  const group = (e: number) => spec.receptors[spec.edgeReceptor[e]!]!.group;
  const w = Float64Array.from({ length: m }, (_, e) => spec.groups[group(e)]!.wInit);
  const Ic = new Float64Array(m);
  const drive = (p: VoltageStdpParams, x: number) => {
    const sig = (h: number) => 1 / (1 + Math.pow(p.slope, -(x - h)));
    const ltd = (p.inhibitory ? x < p.thetaLtd : x > p.thetaLtd) ? sig(p.ltdHalf) : 0;
    const ltp = (p.inhibitory ? x < p.thetaLtp : x > p.thetaLtp) ? sig(p.ltpHalf) : 0;
    return 2 / (1 + Math.pow(p.slope, -(-p.aLtd * ltd + 2 * p.aLtp * ltp) / p.learningScale)) - 1;
  };
  // peak normalisation of e^{−t/τd} − e^{−t/τr}: its maximum at t* = τdτr ln(τd/τr)/(τd − τr)
  const peak = spec.receptors.map((r) => {
    const t = ((r.tauDecay * r.tauRise) / (r.tauDecay - r.tauRise)) * Math.log(r.tauDecay / r.tauRise);
    return 1 / (Math.exp(-t / r.tauDecay) - Math.exp(-t / r.tauRise));
  });
  const noise = new NoiseStream(spec.seed);
  const z = new Float64Array(2 * n);
  const aE = Math.exp(-dt / nz.tauE), aI = Math.exp(-dt / nz.tauI);
  const spikeSteps: number[][] = Array.from({ length: n }, () => []);
  const out: Trace = { spikes: [], v: [], vSoma: [], w: [], I: [], A: [], B: [] };
  let was = false;
  for (let k = 0; k < steps; k++) {
    const isOn = on(k);
    if (isOn && !was) for (let e = 0; e < m; e++) Ic[e] = I[group(e)]![spec.edgePost[e]!]!;
    was = isOn;
    noise.fill(z);
    const cur = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ge[i] = nz.ge0 + (ge[i]! - nz.ge0) * aE + nz.sigmaE * Math.sqrt(1 - aE * aE) * z[2 * i]!;
      gi[i] = nz.gi0 + (gi[i]! - nz.gi0) * aI + nz.sigmaI * Math.sqrt(1 - aI * aI) * z[2 * i + 1]!;
      let c = pop(i).gLeak * (pop(i).eLeak - v[i]!) + ge[i]! * (nz.eE - v[i]!) + gi[i]! * (nz.eI - v[i]!);
      spec.receptors.forEach((r, q) => {
        const block = r.mgBlock ? 1 / (1 + (Math.exp(-0.062 * v[i]!) * 1) / 3.57) : 1;
        c += (B[q]![i]! - A[q]![i]!) * block * (r.reversal - v[i]!);
        A[q]![i] = A[q]![i]! * Math.exp(-dt / r.tauRise);
        B[q]![i] = B[q]![i]! * Math.exp(-dt / r.tauDecay);
      });
      cur[i] = c;
    }
    for (let i = 0; i < n; i++) {
      const p = pop(i);
      if (refLeft[i]! > 0) refLeft[i]!--;
      else {
        const nv = v[i]! + (dt / p.capacitance) * cur[i]!;
        if (nv > p.vThreshold) {
          v[i] = p.vReset;
          refLeft[i] = Math.round(p.refractory / dt);
          holdLeft[i] = Math.round(p.spikeWidth / dt);
          out.spikes.push([k, i]);
          spikeSteps[i]!.push(k);
        } else v[i] = nv;
      }
      if (holdLeft[i]! > 0) {
        holdLeft[i]!--;
        vSoma[i] = p.vPeak;
      } else vSoma[i] = v[i]!;
    }
    for (let g = 0; g < G; g++) {
      const p = spec.groups[g]!;
      const a = Math.exp(-dt / p.tauSignal);
      for (let i = 0; i < n; i++) {
        const Linf = isOn ? (p.tauSignal * drive(p, vSoma[i]!)) / 125 : 0;
        I[g]![i] = I[g]![i]! + Linf * dt + (L[g]![i]! - Linf) * p.tauSignal * (1 - a);
        L[g]![i] = Linf + (L[g]![i]! - Linf) * a;
      }
    }
    for (let e = 0; e < m; e++) {
      const pre = spec.edgePre[e]!, post = spec.edgePost[e]!, q = spec.edgeReceptor[e]!;
      if (!spikeSteps[pre]!.includes(k - spec.edgeDelay[e]!)) continue;
      const g = group(e), p = spec.groups[g]!;
      if (isOn) {
        w[e] = Math.min(p.wMax, Math.max(p.wMin, w[e]! * (1 + I[g]![post]! - Ic[e]!)));
        Ic[e] = I[g]![post]!;
      }
      const kick = w[e]! * spec.edgeWeight[e]! * peak[q]!;
      A[q]![post] = A[q]![post]! + kick;
      B[q]![post] = B[q]![post]! + kick;
    }
    out.v.push(Float64Array.from(v));
    out.vSoma.push(Float64Array.from(vSoma));
    out.w.push(Float64Array.from(w));
  }
  out.I = I;
  out.A = A;
  out.B = B;
  return out;
}

function engine(spec: CultureSpec, steps: number, on: (k: number) => boolean): Trace {
  const e = new CultureEngine(spec);
  const out: Trace = { spikes: [], v: [], vSoma: [], w: [], I: [], A: [], B: [] };
  e.onSpike = (step, i) => out.spikes.push([step, i]);
  let was = false;
  for (let k = 0; k < steps; k++) {
    const isOn = on(k);
    if (isOn && !was) for (const s of e.sites) s.enable();
    if (!isOn && was) for (const s of e.sites) s.disable();
    was = isOn;
    e.run(1);
    out.v.push(Float64Array.from(e.v));
    out.vSoma.push(Float64Array.from(e.vSoma));
    out.w.push(Float64Array.from({ length: e.edges }, (_, j) => e.plasticWeight(j)));
  }
  out.I = e.sites.map((s) => Float64Array.from(s.integral));
  out.A = e.rise.map((x) => Float64Array.from(x));
  out.B = e.decay.map((x) => Float64Array.from(x));
  return out;
}

/** Spikes identical; v within 1e-4 mV; weights rel 1e-5; I, A, B within 1e-5 of their scale. */
function compare(got: Trace, ref: Trace): void {
  expect(got.spikes).toEqual(ref.spikes);
  for (let k = 0; k < ref.v.length; k++) {
    for (let i = 0; i < ref.v[k]!.length; i++) {
      if (!(Math.abs(got.v[k]![i]! - ref.v[k]![i]!) <= 1e-4)) expect.fail(`step ${k}, neuron ${i}: v ${got.v[k]![i]}, reference ${ref.v[k]![i]}`);
      if (!(Math.abs(got.vSoma[k]![i]! - ref.vSoma[k]![i]!) <= 1e-4)) expect.fail(`step ${k}, neuron ${i}: vSoma ${got.vSoma[k]![i]}, reference ${ref.vSoma[k]![i]}`);
    }
    for (let e = 0; e < ref.w[k]!.length; e++) {
      const r = ref.w[k]![e]!, g = got.w[k]![e]!;
      if (!(Math.abs(g - r) <= 1e-5 * Math.abs(r))) expect.fail(`step ${k}, edge ${e}: w ${g}, reference ${r}`);
    }
  }
  for (const key of ['I', 'A', 'B'] as const) {
    ref[key].forEach((row, q) => {
      const scale = Math.max(1e-30, ...Array.from(row, Math.abs));
      for (let i = 0; i < row.length; i++) {
        if (!(Math.abs(got[key][q]![i]! - row[i]!) <= 1e-5 * scale)) expect.fail(`${key}[${q}][${i}]: ${got[key][q]![i]}, reference ${row[i]}`);
      }
    });
  }
}

/** Strong rule (learning visible in a few hundred ms) with the livn gates. */
const EXC_FAST: VoltageStdpParams = { ...EXCITATORY_VOLTAGE_STDP, aLtp: 40, aLtd: 40, wMin: 0.9, wMax: 1.1 };
const INH_FAST: VoltageStdpParams = { ...INHIBITORY_VOLTAGE_STDP, aLtp: 40, aLtd: 40, wMin: 0.9, wMax: 1.1 };

describe('culture engine vs an independent float64 loop of the model', () => {
  it('10 neurons (8 EXC, 2 INH), AMPA/NMDA/GABA_A, livn rule: 1500 steps at 0.1 ms', () => {
    const spec = culture(1, 10, 2, [AMPA, NMDA, GABA], [EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP]);
    const ref = reference(spec, 1500, () => true);
    const got = engine(spec, 1500, () => true);
    compare(got, ref);
    expect(ref.spikes.length).toBeGreaterThan(20);
    const changed = ref.w[1499]!.filter((x) => x !== 1).length;
    expect(changed).toBeGreaterThan(spec.edgePre.length / 2);
  });

  it('strong rule with bounds reached, plasticity off for steps 400–799, 2000 steps', () => {
    const spec = culture(2, 12, 3, [AMPA, NMDA, GABA], [EXC_FAST, INH_FAST]);
    const on = (k: number) => k < 400 || k >= 800;
    const ref = reference(spec, 2000, on);
    const got = engine(spec, 2000, on);
    compare(got, ref);
    const last = ref.w[1999]!;
    expect(last.some((x, e) => x === spec.groups[spec.receptors[spec.edgeReceptor[e]!]!.group]!.wMin || x === spec.groups[spec.receptors[spec.edgeReceptor[e]!]!.group]!.wMax)).toBe(true);
  });

  it('another receptor set (NMDA, GABA_A, AMPA order: the generic current loop), dt 0.05 ms', () => {
    const recs = [{ ...NMDA }, { ...GABA }, { ...AMPA }];
    const spec = culture(3, 9, 2, recs, [EXC_FAST, INH_FAST], { dt: 0.05 });
    const ref = reference(spec, 2000, () => true);
    const got = engine(spec, 2000, () => true);
    compare(got, ref);
    expect(ref.spikes.length).toBeGreaterThan(10);
  });
});

describe('culture engine: specifications that would silently produce garbage are rejected', () => {
  const base = () => culture(5, 6, 2, [AMPA, NMDA, GABA], [EXCITATORY_VOLTAGE_STDP, INHIBITORY_VOLTAGE_STDP]);

  it('a negative static weight had no effect at all (its kick was flushed as "tiny"): now rejected', () => {
    // Old code: the negative kick was set to 0 at the first decay (x < 1e-30), so the culture ran
    // exactly as with weight 0 — no error, no inhibition.
    const spec = base();
    const neg = { ...spec, edgeWeight: Float32Array.from(spec.edgeWeight, (w, e) => (e === 0 ? -3 : w)) };
    expect(() => new CultureEngine(neg)).toThrow(/^invalid edgeWeight\[0\]: got -3, expected a finite number >= 0/);
    const nan = { ...spec, edgeWeight: Float32Array.from(spec.edgeWeight, (w, e) => (e === 1 ? Number.NaN : w)) };
    expect(() => new CultureEngine(nan)).toThrow(/^invalid edgeWeight\[1\]: got NaN/);
  });

  it('receptor kinetics, groups, populations and noise are checked', () => {
    const spec = base();
    const recs = (r: Partial<ReceptorKinetics>) => ({ ...spec, receptors: [AMPA, { ...NMDA, ...r }, GABA] });
    // τ_rise > τ_decay made the peak factor negative: every kick silently flushed to 0
    expect(() => new CultureEngine(recs({ tauRise: 90 }))).toThrow(/^invalid receptors\[1\]\.tauDecay: got 80, expected a number > tauRise = 90/);
    expect(() => new CultureEngine(recs({ tauRise: 80 }))).toThrow(/receptors\[1\]\.tauDecay: got 80/);
    expect(() => new CultureEngine(recs({ tauRise: 0 }))).toThrow(/receptors\[1\]\.tauRise: got 0/);
    expect(() => new CultureEngine(recs({ reversal: Number.NaN }))).toThrow(/receptors\[1\]\.reversal: got NaN/);
    // a group without rule parameters threw a TypeError from deep inside the constructor
    expect(() => new CultureEngine(recs({ group: 2 }))).toThrow(/^invalid receptors\[1\]\.group: got 2, expected an integer in \[0, 2\)/);
    const pops = (p: Partial<CultureNeuronParams>) => ({ ...spec, populations: [EXC_POP, { ...INH_POP, ...p }] });
    expect(() => new CultureEngine(pops({ capacitance: 0 }))).toThrow(/^invalid populations\[1\]\.capacitance: got 0/);
    expect(() => new CultureEngine(pops({ gLeak: -1 }))).toThrow(/populations\[1\]\.gLeak: got -1/);
    expect(() => new CultureEngine(pops({ vThreshold: Number.NaN }))).toThrow(/populations\[1\]\.vThreshold: got NaN/);
    expect(() => new CultureEngine(pops({ refractory: -1 }))).toThrow(/populations\[1\]\.refractory: got -1/);
    const noise = (z: Partial<CultureSpec['noise']>) => ({ ...spec, noise: { ...spec.noise, ...z } });
    expect(() => new CultureEngine(noise({ tauE: 0 }))).toThrow(/^invalid noise\.tauE: got 0/);
    expect(() => new CultureEngine(noise({ sigmaI: -0.1 }))).toThrow(/noise\.sigmaI: got -0\.1/);
    expect(() => new CultureEngine(noise({ ge0: Number.POSITIVE_INFINITY }))).toThrow(/noise\.ge0: got Infinity/);
    // steps of run(): whole numbers only (2.5 ran 3 steps)
    const e = new CultureEngine(spec);
    expect(() => e.run(2.5)).toThrow(/^invalid steps: got 2\.5, expected an integer >= 0/);
    expect(e.stepCount).toBe(0);
    e.run(3);
    expect(e.stepCount).toBe(3);
  });
});
