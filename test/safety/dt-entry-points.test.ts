// The entry points outside the neuron/synapse/connection constructors that take a step length and
// keep a float32 (or float32-derived) state refuse a dt that float32 does not hold as a normal number
// (checkDt in core/errors.ts: 1e-46 → fround 0, 1e-40 → subnormal, 1e39 → +∞; also +∞ itself),
// with the project's error naming dt, before anything is built; they accept 0.1 and the float32
// extremes 2^-126 and 3.4028234663852886e38. (test/neural/dt-float32.test.ts covers the neurons,
// synapses and connections.) The other entry points that take a dt keep checkPositive: the encoders,
// SpikeGenerator, EventSTDP, VoltageStdpSites and e-prop (its CPU paths) use dt in float64 (or only through
// exp(−dt/τ), whose float32 rounding, 1 or 0, is the right limit), and give the right answer for
// 1e-46 and 1e39 (no spikes in 1e-46 ms; a trace fully decayed after 1e39 ms).
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { EventReducer } from '../../src/observe/reducers/event.js';
import { CultureEngine, type CultureNeuronParams, type CultureSpec } from '../../src/kernels/js/culture.js';
import { EXCITATORY_VOLTAGE_STDP } from '../../src/kernels/js/voltage-stdp.js';
import { EventNetwork, buildProjectionLane, type LifParams } from '../../src/kernels/js/event-network.js';

const POP: CultureNeuronParams = { capacitance: 200, gLeak: 10, eLeak: -65, vThreshold: -50, vReset: -60, refractory: 2, vPeak: 20, spikeWidth: 1 };
/** Two neurons of one population, one plastic AMPA edge 0 → 1 (delay 1 step). */
function culture(dt: number, pop: Partial<CultureNeuronParams> = {}): CultureSpec {
  return {
    dt,
    populations: [{ ...POP, ...pop }],
    population: Uint8Array.from([0, 0]),
    noise: { ge0: 3, gi0: 1.217, sigmaE: 1.5, sigmaI: 0.356, tauE: 33, tauI: 28.5, eE: 0, eI: -75 },
    receptors: [{ name: 'AMPA', tauRise: 0.5, tauDecay: 3, reversal: 0, mgBlock: false, group: 0 }],
    groups: [EXCITATORY_VOLTAGE_STDP],
    edgePre: Int32Array.from([0]),
    edgePost: Int32Array.from([1]),
    edgeReceptor: Uint8Array.from([0]),
    edgeWeight: Float32Array.from([1]),
    edgeDelay: Int32Array.from([1]),
    seed: 5,
  };
}

const entries: [string, (dt: number) => unknown][] = [
  ['EventReducer', (dt) => new EventReducer({ dt })],
  ['CultureEngine', (dt) => new CultureEngine(culture(dt))],
  ['EventNetwork', (dt) => new EventNetwork(1, dt, [1])],
];

function dispose(x: unknown): void {
  (x as { dispose?: () => void } | undefined)?.dispose?.();
}

function thrown(f: () => void): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('dt entry points: a normal finite float32 step', () => {
  it.each(entries)('%s refuses dt whose float32 value is 0, subnormal or ∞', (_name, make) => {
    const before = tf.memory().numTensors;
    for (const dt of [1e-46, 1e-40, 1e39, Infinity]) {
      const err = thrown(() => dispose(make(dt)));
      expect(err, `dt = ${dt}`).toBeInstanceOf(CinderArgumentError);
      expect((err as Error).message).toMatch(/^invalid dt: got /);
      expect((err as CinderArgumentError).value).toBe(dt);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(entries)('%s accepts 0.1 and the float32 extremes of dt', (_name, make) => {
    for (const dt of [0.1, 2 ** -126, 3.4028234663852886e38]) {
      const err = thrown(() => dispose(make(dt)));
      // an extreme dt may be refused through a derived quantity (another parameter is named then)
      if (dt === 0.1) expect(err).toBeUndefined();
      else if (err !== undefined) expect((err as Error).message).not.toMatch(/^invalid dt:/);
    }
  });
});

describe('EventReducer: the elapsed time e(t) = e(t − dt) + dt', () => {
  it('counts dt per fold without an event (float32 closed form k·fround(dt))', () => {
    // the smallest accepted step and an ordinary one: e after k folds equals the float32 sum of k dt's
    for (const dt of [2 ** -126, 0.1]) {
      const r = new EventReducer({ dt, initial: 'zero' });
      let want = 0;
      const got: number[] = [];
      const wants: number[] = [];
      for (let k = 0; k < 4; k++) {
        const h = tf.tensor1d([k === 0 ? 1 : 0]);
        r.fold(h);
        h.dispose();
        got.push(r.latest!.dataSync()[0]!);
        wants.push(want);
        want = Math.fround(want + Math.fround(dt));
      }
      expect(got).toEqual(wants);
      expect(got[3]).toBeGreaterThan(0); // time does pass
      r.dispose();
    }
  });
});

describe('CultureEngine: refractory period and spike width in whole steps', () => {
  /** Neuron 0 starts above threshold (spikes at step 0); v and the somatic voltage of neuron 0 after each step. */
  function afterSpike(spec: CultureSpec, steps: number): { v: number[]; vSoma: number[] } {
    const e = new CultureEngine(spec);
    e.v[0] = -40;
    const v: number[] = [];
    const vSoma: number[] = [];
    for (let k = 0; k < steps; k++) {
      e.run(1);
      v.push(e.v[0]!);
      vSoma.push(e.vSoma[0]!);
    }
    return { v, vSoma };
  }

  it('holds v at vReset for round(refractory/dt) steps and the somatic voltage at vPeak for round(spikeWidth/dt) steps', () => {
    const dt = 0.25;
    const { v, vSoma } = afterSpike(culture(dt), 12);
    const ref = Math.round(POP.refractory / dt); // 8
    const hold = Math.round(POP.spikeWidth / dt); // 4
    // the spike step and the ref steps after it keep v = vReset; the next step integrates
    for (let k = 0; k <= ref; k++) expect(v[k]).toBe(POP.vReset);
    expect(v[ref + 1]).not.toBe(POP.vReset);
    for (let k = 0; k < hold; k++) expect(vSoma[k]).toBe(POP.vPeak);
    expect(vSoma[hold]).toBe(v[hold]);
  });

  it('refuses a refractory period or spike width of more than 2^31 − 1 steps (the step counters are int32)', () => {
    // dt = 1e-9 ms: spikeWidth 3 ms is 3e9 steps, which an Int32Array wraps to −1294967296 (the
    // somatic voltage would not show the spike at all); refractory 3 ms likewise (no refractory period)
    expect(() => new CultureEngine(culture(1e-9, { spikeWidth: 3 }))).toThrow(/^invalid populations\[0\]\.spikeWidth: got 3, expected .*2147483647 steps/);
    expect(() => new CultureEngine(culture(1e-9, { refractory: 3, spikeWidth: 1 }))).toThrow(/^invalid populations\[0\]\.refractory: got 3, expected .*2147483647 steps/);
    // 2 ms at 1e-9 ms is 2e9 <= 2^31 − 1 steps: accepted, and the somatic voltage shows the spike
    const { vSoma } = afterSpike(culture(1e-9, { refractory: 2, spikeWidth: 2 }), 2);
    expect(vSoma).toEqual([POP.vPeak, POP.vPeak]);
  });
});

describe('EventNetwork: forward Euler of the LIF membrane, v ← v + (dt/τm)·(E_l − v + g_e − g_i)', () => {
  const LIF: LifParams = { el: -74, vThreshold: -54, vReset: -60, tauM: 10, tauS: 2, tauRef: 2 };

  it('relaxes v towards E_l without input (float32 closed form of the recursion)', () => {
    const dt = 0.5;
    const net = new EventNetwork(1, dt, [1]);
    const pop = net.addLif('pop', 1, LIF);
    pop.v[0] = -70;
    let want = -70;
    for (let k = 0; k < 5; k++) {
      net.run(1);
      want = Math.fround(want + (dt / LIF.tauM) * (LIF.el - want));
      expect(pop.v[0]).toBeCloseTo(want, 5);
    }
  });

  it('refuses an STDP time constant whose decay table exp(−k·dt/τ), k <= 69·τ/dt, exceeds 2^28 entries', () => {
    const stdp = { dependence: 'additive' as const, tauPre: 20, tauPost: 20, aPre: 0.01, aPost: -0.012, wMax: 1 };
    const add = (dt: number, tauPre: number) => {
      const net = new EventNetwork(1, dt, [1]);
      const input = net.addRateInput('in', 1);
      // no refractory period: at dt = 1e-12 ms any τref would exceed the 2^28-step limit of addLif
      const pop = net.addLif('pop', 1, { ...LIF, tauRef: 0 });
      const lane = buildProjectionLane([0], [0], [0.5], 1, 1, true);
      let err: unknown;
      try {
        net.addProjection('p', input, pop, 'ge', [lane], { stdp: { ...stdp, tauPre } });
      } catch (e) {
        err = e;
      }
      return { net, err };
    };
    // dt = 1e-12 ms (a normal float32): 69·20/1e-12 = 1.38e15 entries
    const big = add(1e-12, 20);
    expect(big.err).toBeInstanceOf(CinderArgumentError);
    expect((big.err as Error).message).toMatch(/^invalid p stdp\.tauPre: got 20, expected a time constant of at most .* steps of dt = 1e-12 ms/);
    expect(big.net.projections).toHaveLength(0);
    // an ordinary step is accepted (1381 entries)
    const ok = add(0.1, 20);
    expect(ok.err).toBeUndefined();
    expect(ok.net.projections).toHaveLength(1);
  });
});
