// Layers: Serial, Biclique (combine modes, the Inferno quickstart built without double stepping),
// RecurrentLayer, conductance wiring, observers and cells — against plain-JS LIF references.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { LIF } from '../../../src/neural/neurons/index.js';
import { DeltaPlusCurrent, ExponentialConductance } from '../../../src/neural/synapses/index.js';
import { LinearDense, LinearDirect, LinearLateral, constantInit } from '../../../src/neural/connections/index.js';
import { Biclique, Cell, RecurrentLayer, Serial } from '../../../src/neural/layers/index.js';
import type { Observer } from '../../../src/neural/types.js';
import { LifRef, matvec, type LifParams } from './lif-ref.js';

const vals = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const fromTensor2 = (t: tf.Tensor): number[][] => t.arraySync() as number[][];
const bits = (rng: Rng, n: number, p: number) => Array.from({ length: n }, () => (rng.uniform() < p ? 1 : 0));

function expectVoltages(got: number[], want: number[], step: number): void {
  for (let k = 0; k < want.length; k++) {
    if (Math.abs(got[k]! - want[k]!) > 1e-3) throw new Error(`step ${step}, neuron ${k}: V = ${got[k]}, reference ${want[k]}`);
  }
}

const EXC: LifParams = { restV: -65, resetV: -60, threshV: -52, refracT: 3, tauM: 10 };
const INH: LifParams = { restV: -60, resetV: -45, threshV: -40, refracT: 2, tauM: 8 };

describe('Serial', () => {
  it('dense connection → LIF equals the plain-JS LIF driven by x·Wᵀ (60 steps)', () => {
    const rng = new Rng(51);
    const conn = new LinearDense([5], [3], 1, { weightInit: (s) => tf.tensor(Array.from({ length: 15 }, () => 40 * rng.uniform()), [...s]) });
    const layer = new Serial(conn, new LIF([3], 1, EXC));
    const W = fromTensor2(conn.weight);
    const ref = new LifRef(EXC, 3, 1);
    let spikes = 0;
    for (let t = 0; t < 60; t++) {
      const x = bits(rng, 5, 0.5);
      const s = tf.tidy(() => vals(layer.forward(tf.tensor([x]))));
      const want = ref.step(matvec(W, x));
      expect(s).toEqual(want);
      expectVoltages(vals(layer.neuron.voltage), ref.v, t);
      spikes += s.reduce((a, b) => a + b, 0);
    }
    expect(spikes).toBeGreaterThan(5); // the comparison covered spiking and refractory steps
    layer.dispose();
  });

  it('passes an injected current to a DeltaPlusCurrent synapse', () => {
    const conn = new LinearDirect([2], 1, { weightInit: constantInit(2), synapse: DeltaPlusCurrent.factory({ charge: 3 }) });
    const layer = new Serial(conn, new LIF([2], 1, { ...EXC, threshV: 100 }));
    tf.tidy(() => layer.forward(tf.tensor([[1, 0]]), tf.tensor([[0.5, 4]])));
    const a = 1 - Math.exp(-1 / EXC.tauM);
    const v = vals(layer.neuron.voltage);
    expect(v[0]).toBeCloseTo(-65 + 2 * (3 + 0.5) * a, 4); // w·(s·Q/dt + I_x)
    expect(v[1]).toBeCloseTo(-65 + 2 * 4 * a, 4);
    layer.dispose();
  });

  it('applies the transform to the connection output', () => {
    const layer = new Serial(new LinearDirect([2], 1, { weightInit: constantInit(1) }), new LIF([2], 1, { ...EXC, threshV: 100 }), { transform: (y) => tf.mul(y, 3) });
    tf.tidy(() => layer.forward(tf.tensor([[1, 0]])));
    const a = 1 - Math.exp(-1 / EXC.tauM);
    expect(vals(layer.neuron.voltage)[0]).toBeCloseTo(-65 + 3 * a, 4);
    layer.dispose();
  });
});

describe('Biclique', () => {
  const modes = [
    ['sum', (xs: number[]) => xs.reduce((a, b) => a + b, 0)],
    ['mean', (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length],
    ['max', (xs: number[]) => Math.max(...xs)],
    ['min', (xs: number[]) => Math.min(...xs)],
    ['product', (xs: number[]) => xs.reduce((a, b) => a * b, 1)],
  ] as const;
  for (const [mode, f] of modes) {
    it(`combine '${mode}': each group integrates the combination once (two groups, three connections)`, () => {
      const w = [[2, -1], [3, 0.5], [-4, 2]];
      const params = { ...EXC, restV: 0, resetV: 0, threshV: 1e6, refracT: 0 };
      const layer = new Biclique({
        connections: Object.fromEntries(w.map((wk, k) => [`c${k}`, { connection: new LinearDirect([2], 1, { weightInit: () => tf.tensor(wk) }), input: k === 2 ? 'c0' : undefined }])),
        neurons: { a: new LIF([2], 1, params), b: new LIF([2], 1, params) },
        combine: mode,
      });
      expect(layer.inputNames).toEqual(['c0', 'c1']); // c2 shares c0's input
      const out = tf.tidy(() => layer.forward({ c0: tf.tensor([[1, 1]]), c1: tf.tensor([[1, 2]]) }));
      expect(Object.keys(out)).toEqual(['a', 'b']);
      const x = [[1, 1], [1, 2], [1, 1]];
      const a = 1 - Math.exp(-1 / params.tauM);
      for (const g of ['a', 'b']) {
        const v = vals(layer.neurons.get(g)!.voltage);
        for (let n = 0; n < 2; n++) expect(v[n]).toBeCloseTo(a * f(w.map((wk, k) => wk[n]! * x[k]![n]!)), 4);
      }
      layer.dispose();
    });
  }

  it('a custom combine function receives every output', () => {
    const params = { ...EXC, restV: 0, resetV: 0, threshV: 1e6, refracT: 0 };
    const layer = new Biclique({
      connections: { p: new LinearDirect([1], 1, { weightInit: constantInit(3) }), q: new LinearDirect([1], 1, { weightInit: constantInit(4) }) },
      neurons: { n: new LIF([1], 1, params) },
      combine: ([p, q]) => tf.sqrt(tf.add(tf.square(p!), tf.square(q!))),
    });
    tf.tidy(() => layer.forward({ p: tf.ones([1, 1]), q: tf.ones([1, 1]) }));
    expect(vals(layer.neurons.get('n')!.voltage)[0]).toBeCloseTo(5 * (1 - Math.exp(-0.1)), 4);
    layer.dispose();
  });

  it("Inferno's quickstart without double stepping: Biclique([input, previous inhibitory spikes] → exc), Serial(exc → inh)", () => {
    const rng = new Rng(52);
    const [NI, N] = [8, 4];
    const Win = Array.from({ length: N }, () => Array.from({ length: NI }, () => 25 * rng.uniform()));
    const input = new LinearDense([NI], [N], 1, { weightInit: () => tf.tensor(Win) });
    const inhToExc = new LinearLateral([N], 1, { weightInit: constantInit(-120) });
    const exc = new LIF([N], 1, EXC);
    const inh = new LIF([N], 1, INH);
    const excLayer = new Biclique({ connections: { input, inhibition: inhToExc }, neurons: { exc } });
    const inhLayer = new Serial(new LinearDirect([N], 1, { weightInit: constantInit(200) }), inh);
    const Wlat = Array.from({ length: N }, (_, j) => Array.from({ length: N }, (__, i) => (i === j ? 0 : -120)));
    const refE = new LifRef(EXC, N, 1);
    const refI = new LifRef(INH, N, 1);
    let [excSpikes, inhSpikes] = [0, 0];
    for (let t = 0; t < 80; t++) {
      const x = bits(rng, NI, 0.4);
      const [se, si] = tf.tidy(() => {
        const s = excLayer.forward({ input: tf.tensor([x]), inhibition: inh.spike });
        return [vals(s.exc!), vals(inhLayer.forward(s.exc!))];
      });
      const prevInh = [...refI.spike];
      const wantE = refE.step(matvec(Win, x).map((v, j) => v + matvec(Wlat, prevInh)[j]!));
      const wantI = refI.step(wantE.map((s) => 200 * s));
      expect(se).toEqual(wantE);
      expect(si).toEqual(wantI);
      expectVoltages(vals(exc.voltage), refE.v, t);
      expectVoltages(vals(inh.voltage), refI.v, t);
      excSpikes += se.reduce((a, b) => a + b, 0);
      inhSpikes += si.reduce((a, b) => a + b, 0);
    }
    expect(excSpikes).toBeGreaterThan(10);
    expect(inhSpikes).toBeGreaterThan(5);
    excLayer.dispose();
    inhLayer.dispose();
  });

  it('conductance connections feed the receptor they are assigned to (Σ_i w_ji·g_i), currents add on top', () => {
    const [tau, dg] = [4, 0.5];
    const receptors = [{ name: 'gaba', reversal: -80 }, { name: 'ampa', reversal: 0 }];
    const params = { ...EXC, threshV: -40, receptors };
    const W = [[0.2, 0.1, 0.3], [0.05, 0.4, 0.1]];
    const gConn = new LinearDense([3], [2], 1, { weightInit: () => tf.tensor(W), synapse: ExponentialConductance.factory({ tau, increment: dg }) });
    const iConn = new LinearDirect([2], 1, { weightInit: constantInit(5) });
    const layer = new Biclique({ connections: { g: { connection: gConn, receptor: 'ampa' }, i: iConn }, neurons: { n: new LIF([2], 1, params) } });
    const twin = new LIF([2], 1, params);
    const rng = new Rng(53);
    const g = [0, 0, 0];
    const decay = Math.exp(-1 / tau);
    for (let t = 0; t < 40; t++) {
      const x = bits(rng, 3, 0.4);
      const c = bits(rng, 2, 0.5);
      for (let i = 0; i < 3; i++) g[i] = g[i]! * decay + dg * x[i]!;
      tf.tidy(() => {
        const s = layer.forward({ g: tf.tensor([x]), i: tf.tensor([c]) });
        const st = twin.forward({ current: tf.tensor([c.map((v) => 5 * v)]), conductances: [undefined, tf.tensor([matvec(W, g)])] });
        expect(vals(s.n!)).toEqual(vals(st));
      });
      expectVoltages(vals(layer.neurons.get('n')!.voltage), vals(twin.voltage), t);
    }
    layer.dispose();
    twin.dispose();
  });
});

describe('RecurrentLayer', () => {
  it('the recurrent connection sees the previous step spikes; the group integrates ff + rec once', () => {
    const rng = new Rng(54);
    const [NI, N] = [5, 3];
    const Wff = Array.from({ length: N }, () => Array.from({ length: NI }, () => 30 * rng.uniform()));
    const Wrec = [[0, -30, 20], [15, 0, -25], [-10, 35, 0]];
    const layer = new RecurrentLayer(
      new LinearDense([NI], [N], 1, { weightInit: () => tf.tensor(Wff) }),
      new LinearLateral([N], 1, { weightInit: () => tf.tensor(Wrec) }),
      new LIF([N], 1, EXC),
    );
    const ref = new LifRef(EXC, N, 1);
    let spikes = 0;
    for (let t = 0; t < 60; t++) {
      const x = bits(rng, NI, 0.5);
      const prev = [...ref.spike];
      const want = ref.step(matvec(Wff, x).map((v, j) => v + matvec(Wrec, prev)[j]!));
      expect(tf.tidy(() => vals(layer.forward(tf.tensor([x]))))).toEqual(want);
      expectVoltages(vals(layer.neuron.voltage), ref.v, t);
      spikes += want.reduce((a, b) => a + b, 0);
    }
    expect(spikes).toBeGreaterThan(5);
    layer.dispose();
  });

  it('keeps the tensor count flat over 2000 steps with delays and frees everything on dispose', () => {
    const before = tf.memory().numTensors;
    const layer = new RecurrentLayer(
      new LinearDense([6], [4], 1, { maxDelay: 3, delayInit: constantInit(2), weightInit: constantInit(10) }),
      new LinearLateral([4], 1, { maxDelay: 2, delayInit: constantInit(1), weightInit: constantInit(-5) }),
      new LIF([4], 1, EXC),
    );
    const x = tf.keep(tf.tensor([[1, 0, 1, 1, 0, 1]]));
    tf.tidy(() => { layer.forward(x); });
    const n0 = tf.memory().numTensors;
    for (let t = 0; t < 2000; t++) tf.tidy(() => { layer.forward(x); });
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('observers and cells', () => {
  it('observers run after the neurons in training mode; trainOnly false also in eval; detach stops them', () => {
    const layer = new Serial(new LinearDirect([1], 1, { weightInit: constantInit(200) }), new LIF([1], 1, EXC));
    const seen: number[] = [];
    const spikeObserver: Observer = { observe: () => seen.push(vals(layer.neuron.spike)[0]!) };
    let always = 0;
    const evalObserver: Observer = { observe: () => always++, trainOnly: false };
    layer.attach(spikeObserver);
    layer.attach(evalObserver);
    tf.tidy(() => layer.forward(tf.ones([1, 1]))); // fires at once: −65 + 200·(1 − e^{−0.1}) ≈ −46 ≥ −52
    expect(seen).toEqual([1]); // the observer saw this step's spike, so it ran after the neuron
    layer.eval();
    tf.tidy(() => layer.forward(tf.ones([1, 1])));
    expect(seen).toEqual([1]);
    expect(always).toBe(2);
    layer.train();
    expect(layer.detach(spikeObserver)).toBe(true);
    tf.tidy(() => layer.forward(tf.ones([1, 1])));
    expect(seen).toEqual([1]);
    expect(always).toBe(3);
    layer.dispose();
  });

  it('cell(connection, neuron) exposes typed parts and is not a module (dispose frees everything once)', () => {
    const before = tf.memory().numTensors;
    const conn = new LinearDense([3], [2], 1);
    const neuron = new LIF([2], 1, EXC);
    const layer = new Serial(conn, neuron);
    const cell = layer.cell(conn, neuron);
    expect(cell).toBeInstanceOf(Cell);
    expect(cell.connection).toBe(conn);
    expect(cell.neuron).toBe(neuron);
    expect(cell.layer).toBe(layer);
    expect(cell.updater).toBe(conn.updater);
    expect(cell.synapse).toBe(conn.synapse);
    expect(layer.cell('connection', 'neuron').connection).toBe(conn);
    expect(layer.children().map(([n]) => n)).toEqual(['neuron', 'connection']);
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
