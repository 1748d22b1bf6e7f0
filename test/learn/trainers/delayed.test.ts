import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { LinearDense } from '../../../src/neural/connections/index.js';
import { MSTDP, STDP } from '../../../src/learn/trainers/index.js';
import { ForcedNeurons, TestLayer, values } from './harness.js';


const layers: TestLayer[] = [];
function delayedDense(delays: number[][], selectable: boolean): TestLayer {
  const c = new LinearDense([delays[0]!.length], [delays.length], 1, {
    weightInit: (s) => tf.zeros(s as number[]),
    maxDelay: 3,
    delayInit: (s) => tf.tensor(delays.flat(), s as number[]),
  });
  // A connection type without per-edge delay selection (a user-written one, say) must be refused.
  if (!selectable) Object.defineProperty(c, 'selectByDelay', { value: undefined });
  const l = new TestLayer(c, new ForcedNeurons([delays.length], 1));
  layers.push(l);
  return l;
}
afterEach(() => {
  for (const l of layers.splice(0)) l.dispose();
});

describe('STDP with synaptic delays', () => {
  it('pairs the post spike with the delayed arrival of the pre spike (closed form)', () => {
    for (const delayed of [false, true]) {
      const l = delayedDense([[2]], true);
      const stdp = new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 10, delayed });
      stdp.register(l.cell);
      // pre emitted at step 1 arrives at step 3 (delay 2 ms); post at step 4
      const pre = [1, 0, 0, 0];
      const post = [0, 0, 0, 1];
      for (let t = 0; t < 4; t++) {
        l.step([pre[t]!], [post[t]!]);
        stdp.step();
        l.connection.update();
      }
      expect(values(l.connection.weight)[0]).toBeCloseTo(0.1 * Math.exp(-1 / 10), 6);
      stdp.dispose();
    }
  });

  it('delayed traces (raw trace read at each delay) equal traces of the delayed spikes', () => {
    const delays = [[0, 1], [2, 3]];
    const a = delayedDense(delays, true);
    const b = delayedDense(delays, true);
    const sa = new MSTDP({ lrPost: 0.1, lrPre: -0.07, tauPost: 9, tauPre: 6, delayed: true });
    const sb = new MSTDP({ lrPost: 0.1, lrPre: -0.07, tauPost: 9, tauPre: 6 });
    sa.register(a.cell);
    sb.register(b.cell);
    expect(sa.traces(a.cell).delayed).toBe(true);
    expect(sa.traces(a.cell).tracePre.reducer.capacity).toBe(4);
    for (let t = 0; t < 30; t++) {
      const pre = [t % 3 === 0 ? 1 : 0, t % 5 === 1 ? 1 : 0];
      const post = [t % 4 === 2 ? 1 : 0, t % 7 === 3 ? 1 : 0];
      for (const l of [a, b]) l.step(pre, post);
      sa.step(t < 15 ? 1 : -1);
      sb.step(t < 15 ? 1 : -1);
      a.connection.update();
      b.connection.update();
    }
    const wa = values(a.connection.weight);
    const wb = values(b.connection.weight);
    wa.forEach((w, i) => expect(Math.abs(w - wb[i]!)).toBeLessThan(1e-6));
    expect(Math.max(...wa.map(Math.abs))).toBeGreaterThan(0.01);
    sa.dispose();
    sb.dispose();
  });

  it('delayed traces read a fractional delay as Inferno does: the trace ⌈d/Δt⌉ steps back, decayed over the rest (closed form)', () => {
    // dt 0.7 ms, pre spike at step 0, post spike at step 3 (t = 2.1 ms); delay d: the pre spike arrives
    // at step ⌈d/0.7⌉ (before the post spike), and the delayed trace at step 3 is x(2.1 − d) = e^{−(2.1 − d)/τ}
    // (Inferno's interp_expdecay of its trace history; 0.35 → 0.839457, 1.05 → 0.900325 there), while
    // without `delayed` it is the trace of the delayed spike: e^{−0.7·(3 − ⌈d/0.7⌉)/τ}
    const tau = 10;
    for (const d of [0, 0.35, 0.7, 1.05, 1.4]) {
      for (const delayed of [true, false]) {
        const c = new LinearDense([1], [1], 0.7, { weightInit: (s) => tf.zeros(s as number[]), maxDelay: 2.8, delayInit: (s) => tf.fill(s as number[], d) });
        const l = new TestLayer(c, new ForcedNeurons([1], 1));
        layers.push(l);
        const stdp = new STDP({ lrPost: 1, lrPre: -1, tauPost: tau, tauPre: tau, delayed });
        stdp.register(l.cell);
        for (let t = 0; t < 4; t++) {
          l.step([t === 0 ? 1 : 0], [t === 3 ? 1 : 0]);
          stdp.step();
          l.connection.update();
        }
        const want = delayed ? Math.exp(-(2.1 - d) / tau) : Math.exp(-(0.7 * (3 - Math.ceil(d / 0.7 - 1e-9))) / tau);
        expect(values(l.connection.weight)[0], `d ${d}, delayed ${delayed}`).toBeCloseTo(want, 6);
        stdp.dispose();
      }
    }
  });

  it('delayed traces need a connection that exposes selectByDelay', () => {
    const l = delayedDense([[1]], false);
    const stdp = new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 10, delayed: true });
    expect(() => stdp.register(l.cell)).toThrow(/delayed/);
    expect(() => new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 10, delayed: 1 as never })).toThrow(/delayed/);
    stdp.dispose();
  });
});
