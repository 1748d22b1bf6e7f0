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

  it('delayed traces need a connection that exposes selectByDelay', () => {
    const l = delayedDense([[1]], false);
    const stdp = new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 10, delayed: true });
    expect(() => stdp.register(l.cell)).toThrow(/delayed/);
    expect(() => new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 10, delayed: 1 as never })).toThrow(/delayed/);
    stdp.dispose();
  });
});
