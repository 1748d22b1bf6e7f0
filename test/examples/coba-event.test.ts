// `cinder coba --engine event` (examples/coba/event-engine.ts on EventNetwork) against the module
// engine (examples/coba/network.ts) and the float64 loop of ./coba-reference.ts, step by step: the
// same spikes at every step up to the first step where a differing neuron is a near-tie at Θ of the
// reference (float32 rounding), voltages within 1e-3 mV of the float64 loop up to there.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { buildCoba, cobaDraws, type CobaParams } from '../../examples/coba/network.js';
import { buildCobaEvent, cobaRefractorySteps, moduleRefractorySteps } from '../../examples/coba/event-engine.js';
import { firstDifference, reference } from './coba-reference.js';

function eventEngine(p: CobaParams, seed: number, steps: number): { spikes: number[][]; v: Float32Array[] } {
  const m = buildCobaEvent(p, seed);
  const spikes: number[][] = [];
  const v: Float32Array[] = [];
  for (let t = 0; t < steps; t++) {
    const r = m.run(1);
    expect(Array.from(r.step).every((s) => s === t)).toBe(true);
    spikes.push(Array.from(r.index));
    v.push(m.group.v.slice());
  }
  return { spikes, v };
}

async function moduleEngine(p: CobaParams, seed: number, steps: number): Promise<number[][]> {
  const m = buildCoba(p, seed);
  try {
    const spikes: number[][] = [];
    for (let t = 0; t < steps; t++) {
      const s = m.step(t === 0);
      const data = await s.data();
      s.dispose();
      const now: number[] = [];
      data.forEach((x, j) => { if (x !== 0) now.push(j); });
      spikes.push(now);
    }
    return spikes;
  } finally {
    m.dispose();
  }
}

describe('coba --engine event: EventNetwork vs the module engine and a float64 loop', () => {
  const cases: { model: 'coba' | 'cuba'; neurons: number; p: number; minSpikes: number; refractory?: 'steps' | 'time' }[] = [
    { model: 'coba', neurons: 400, p: 0.2, minSpikes: 50 },
    { model: 'cuba', neurons: 200, p: 0.1, minSpikes: 50 },
    { model: 'coba', neurons: 400, p: 0.2, minSpikes: 50, refractory: 'time' },
  ];
  for (const c of cases) {
    it(`${c.model}: ${c.neurons} neurons, p = ${c.p}, refractory ${c.refractory ?? 'steps (default)'}, 200 ms — identical spike steps (up to a near-tie at Θ), voltages within float32 rounding`, async () => {
      const p: CobaParams = { model: c.model, neurons: c.neurons, p: c.p, dt: 0.1, ...(c.refractory ? { refractory: c.refractory } : {}) };
      const steps = 2000;
      const seed = 7;
      const ref = reference(p, seed, steps);
      const ev = eventEngine(p, seed, steps);
      const vsRef = firstDifference(ev.spikes, ref.spikes, ref.ties);
      expect(vsRef.ok, vsRef.message).toBe(true);
      expect(vsRef.same).toBeGreaterThan(c.minSpikes);
      let worst = 0;
      for (let t = 0; t < vsRef.upTo; t++) for (let j = 0; j < p.neurons; j++) worst = Math.max(worst, Math.abs(ev.v[t]![j]! - ref.v[t]![j]!));
      expect(worst).toBeLessThan(1e-3);
      const mod = await moduleEngine(p, seed, steps);
      const vsMod = firstDifference(ev.spikes, mod, ref.ties);
      expect(vsMod.ok, vsMod.message).toBe(true);
      expect(vsMod.same).toBeGreaterThan(c.minSpikes);
      console.log(`${c.model}: event = reference for ${vsRef.upTo} steps (${vsRef.same} spikes), event = tfjs for ${vsMod.upTo} steps (${vsMod.same} spikes)`);
    }, 120_000);
  }

  it('a checkpoint restores only into a network with the same refractory period (one from before --refractory held 51 steps)', () => {
    const p: CobaParams = { model: 'cuba', neurons: 50, p: 0.2, dt: 0.1 };
    const a = buildCobaEvent(p, 1);
    a.run(30);
    const s = a.state();
    expect(s.refractorySteps).toBe(50);
    const { refractorySteps: _, ...old } = s;
    expect(() => buildCobaEvent(p, 1).restore(old)).toThrow('invalid checkpoint refractorySteps: got 51, expected 50');
    expect(() => buildCobaEvent({ ...p, refractory: 'time' }, 1).restore(s)).toThrow('invalid checkpoint refractorySteps: got 50, expected 51');
    const b = buildCobaEvent({ ...p, refractory: 'time' }, 1);
    b.restore(old);
    expect(b.net.step).toBe(30);
    const c = buildCobaEvent(p, 1);
    c.restore(s);
    const after = a.run(40).index;
    expect(after.length).toBeGreaterThan(0);
    expect(Array.from(c.run(40).index)).toEqual(Array.from(after));
  });

  it('memory: the built network holds its synapses once (8 bytes each in the lanes), not also the drawn (pre, post) lists', () => {
    // the heap's ArrayBuffer bytes (Node's process.memoryUsage().arrayBuffers) after a full GC, before
    // and after building, the network still referenced: lanes = w (float32) + post (int32) per
    // synapse, plus O(N) of state; the old network kept the draws too (another 8 bytes per synapse)
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const p: CobaParams = { model: 'coba', neurons: 2000, p: 0.5, dt: 0.1 };
    const settled = () => {
      for (let k = 0; k < 3; k++) gc(); // ArrayBuffer backing stores are swept after a collection
      return process.memoryUsage().arrayBuffers;
    };
    const before = settled();
    const m = buildCobaEvent(p, 3);
    const held = settled() - before;
    const S = ((d) => d.exc.pre.length + d.inh.pre.length)(cobaDraws(p, 3)); // the same draws, counted apart
    expect(S).toBeGreaterThan(1.9e6); // 2000² pairs at p = 0.5: 2·10⁶ expected
    expect(held).toBeGreaterThanOrEqual(8 * S);
    expect(held).toBeLessThan(8 * S + 4e6); // O(N) state and row pointers: well under 4 MB at N = 2000
    expect(m.synapses.exc + m.synapses.inh).toBe(S);
    expect(m.ne).toBe(1600);
  });

  it("refractory steps: 'steps' (default) 50 = ⌈5/0.1⌉ as Brian2's ⌊τref/dt + 10⁻³⌋; 'time' the module engine's float32 countdown (5 ms at 0.1 ms: 51 steps, one more than Brian2 counts)", () => {
    expect(cobaRefractorySteps({ model: 'coba', neurons: 10, p: 0.1, dt: 0.1 })).toBe(50);
    expect(cobaRefractorySteps({ model: 'coba', neurons: 10, p: 0.1, dt: 0.1, refractory: 'steps' })).toBe(Math.floor(5 / 0.1 + 1e-3));
    expect(cobaRefractorySteps({ model: 'coba', neurons: 10, p: 0.1, dt: 0.1, refractory: 'time' })).toBe(51);
    // a float64 count of the LIF's rule r ← max(r − dt, 0), free when r ≤ dt, in float32
    const f = Math.fround;
    const count = (refr: number, dt: number) => {
      let r = f(refr);
      for (let k = 1; ; k++) {
        if (r <= f(dt)) return k;
        r = f(Math.max(f(r - f(dt)), 0));
      }
    };
    // 0.1 is not a float32: the countdown 5, 4.9, … ends just above f(0.1) after 49 steps (Brian2: ⌊τref/dt + 10⁻³⌋ = 50)
    expect(count(5, 0.1)).toBe(51);
    expect(moduleRefractorySteps(5, 0.1)).toBe(count(5, 0.1));
    expect(moduleRefractorySteps(0, 0.1)).toBe(1);
    for (const [r, dt] of [[2, 0.1], [1.3, 0.5], [5, 0.25], [0.05, 0.1]] as const) expect(moduleRefractorySteps(r, dt)).toBe(count(r, dt));
  });
});
