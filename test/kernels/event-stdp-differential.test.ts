// Randomized differential test of event-driven pair STDP (src/kernels/js/event-stdp.ts) against a
// float64 per-synapse recursion written here (every trace decayed every step, on_pre before
// on_post, the 'cinder' order's one combined update): random synapse lists (duplicate pairs,
// units without synapses), delays or none, both dependences and orders, bounds [wMin, wMax] with
// wMin ≠ 0, batches with shared and own lists, steps with no, one or all units spiking.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { EventSTDP, type PairingOrder, type WeightDependence } from '../../src/kernels/js/event-stdp.js';
import { pairStdpReference } from '../helpers/event-stdp-reference.js';
import { randomSynapses, synapseList, type SynapseList } from '../../src/neural/connections/sparse-topology.js';

interface Rule {
  dt: number;
  tauPre: number;
  tauPost: number;
  aPre: number;
  aPost: number;
  wMin: number;
  wMax: number;
  dependence: WeightDependence;
  order: PairingOrder;
}

/** Random spike trains: per step none, one, all or a random subset of the units. */
function trains(rng: Rng, steps: number, n: number): number[][] {
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const u = rng.uniform();
    const all = Array.from({ length: n }, (_, i) => i);
    out.push(u < 0.3 ? [] : u < 0.5 ? [rng.int(n)] : u < 0.55 ? all : all.filter(() => rng.uniform() < 0.3));
  }
  return out;
}

describe('EventSTDP randomized against a float64 per-synapse recursion', () => {
  const combos = (['additive', 'multiplicative'] as const).flatMap((dependence) => (['brian2', 'cinder'] as const).flatMap((order) => [false, true].map((delays) => [dependence, order, delays] as const)));
  it.each(combos)('%s, order %s, delays %s: weights and delivered input after every step to 1e-6', (dependence, order, delays) => {
    const rng = new Rng(`${dependence}-${order}-${delays}`);
    for (let rep = 0; rep < 4; rep++) {
      const nPre = 1 + rng.int(8);
      const nPost = 1 + rng.int(6);
      const B = [1, 2, 3][rep % 3]!;
      const r: Rule = {
        dt: [1, 0.5, 0.1][rng.int(3)]!, tauPre: 5 + 30 * rng.uniform(), tauPost: 5 + 30 * rng.uniform(),
        aPre: 0.2 * rng.uniform(), aPost: -0.2 * rng.uniform(), wMin: rep % 2 === 0 ? 0 : -0.3, wMax: rep === 3 ? 0.6 : 1, dependence, order,
      };
      // own lists per instance (one repeated, to share an index), with a duplicate pair each
      const lists: SynapseList[] = [];
      for (let b = 0; b < B; b++) {
        if (b === 2) {
          lists.push(lists[0]!);
          continue;
        }
        const base = randomSynapses(nPre, nPost, 0.5, rng, { self: true });
        const pairs: [number, number][] = Array.from(base.pre, (p, s) => [p, base.post[s]!]);
        pairs.push([rng.int(nPre), rng.int(nPost)], pairs[0] ?? [0, 0]);
        lists.push(synapseList(nPre, nPost, pairs, undefined, delays ? pairs.map(() => rng.int(4)) : undefined));
      }
      const w0s = lists.map((l) => Array.from({ length: l.pre.length }, () => r.wMin + (r.wMax - r.wMin) * rng.uniform()));
      const steps = 200;
      const pre = lists.map(() => trains(rng, steps, nPre));
      const post = lists.map(() => trains(rng, steps, nPost));
      const k = new EventSTDP(lists, { ...r, weight: w0s.flat() });
      const refs = lists.map((l, b) => pairStdpReference(l, w0s[b]!, pre[b]!, post[b]!, r));
      for (let t = 0; t < steps; t++) {
        const p: number[] = [];
        const q: number[] = [];
        for (let b = 0; b < B; b++) {
          for (const i of pre[b]![t]!) p.push(b * nPre + i);
          for (const j of post[b]![t]!) q.push(b * nPost + j);
        }
        const input = new Float64Array(B * nPost);
        k.step(Int32Array.from(p), p.length, Int32Array.from(q), q.length, input);
        for (let b = 0; b < B; b++) {
          const want = refs[b]!.ws[t]!;
          for (let s = 0; s < want.length; s++) {
            const got = k.weight[k.offset[b]! + s]!;
            if (!(Math.abs(got - want[s]!) <= 1e-6)) expect.fail(`rep ${rep} B=${B} step ${t} instance ${b} synapse ${s}: kernel ${got}, recursion ${want[s]}`);
          }
          for (let j = 0; j < nPost; j++) {
            const got = input[b * nPost + j]!;
            const want2 = refs[b]!.inputs[t]![j]!;
            if (!(Math.abs(got - want2) <= 1e-6)) expect.fail(`rep ${rep} step ${t} instance ${b} input ${j}: kernel ${got}, recursion ${want2}`);
          }
        }
      }
    }
  });
});
