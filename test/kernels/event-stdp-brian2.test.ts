// EventSTDP against Brian2 itself (bench/peers/brian2_pair_stdp.py, numpy target) on given spike
// trains: additive and multiplicative, simultaneous pre/post spikes, duplicates and delays.
// Skipped (with the reason) where /usr/bin/python3 with Brian2 is not installed.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/core/random.js';
import { EventSTDP, type WeightDependence } from '../../src/kernels/js/event-stdp.js';
import { synapseList } from '../../src/neural/connections/sparse-topology.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('../../bench/peers/brian2_pair_stdp.py', import.meta.url));
const probe = existsSync(python) ? spawnSync(python, ['-c', 'import brian2'], { encoding: 'utf8' }) : null;
const haveBrian2 = probe !== null && probe.status === 0;
if (!haveBrian2) console.warn(`# event-stdp-brian2: skipped (${probe ? 'brian2 not importable' : `no ${python}`})`);

interface Case {
  dependence: WeightDependence;
  delays: boolean;
}

describe.skipIf(!haveBrian2)('EventSTDP vs Brian2 2.5 (event-driven pair STDP)', () => {
  it('weights after every step agree to 1e-6 (additive, multiplicative, with and without delays)', () => {
    const pairs: [number, number][] = [[0, 0], [1, 0], [2, 0], [2, 0], [0, 1], [2, 1], [3, 1]];
    const w0 = [0.5, 0.05, 0.95, 0.3, 0.6, 0.02, 0.8];
    const delay = [0, 2, 1, 3, 0, 4, 1];
    const steps = 300;
    const rng = new Rng(17);
    const preSpikes: [number, number][] = [];
    const postSpikes: [number, number][] = [];
    for (let t = 0; t < steps; t++) {
      for (let i = 0; i < 4; i++) if (rng.uniform() < 0.2) preSpikes.push([t, i]);
      for (let j = 0; j < 2; j++) if (rng.uniform() < 0.15) postSpikes.push([t, j]);
    }
    // simultaneous pre/post of the same synapse
    preSpikes.push([11, 0]);
    postSpikes.push([11, 0]);
    const uniq = (a: [number, number][]) => [...new Map(a.map((x) => [`${x[0]},${x[1]}`, x])).values()].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    const pre = uniq(preSpikes);
    const post = uniq(postSpikes);
    const cases: Case[] = [
      { dependence: 'additive', delays: false },
      { dependence: 'multiplicative', delays: false },
      { dependence: 'additive', delays: true },
    ];
    const rule = (c: Case) => ({ dt: 1, tauPre: 20, tauPost: 15, aPre: c.dependence === 'additive' ? 0.08 : 0.3, aPost: c.dependence === 'additive' ? -0.09 : -0.35, wMax: 1 });
    const input = cases.map((c) => {
      const r = rule(c);
      return {
        dt_ms: r.dt, steps, tau_pre_ms: r.tauPre, tau_post_ms: r.tauPost, a_pre: r.aPre, a_post: r.aPost, w_max: r.wMax,
        dependence: c.dependence, n_pre: 4, n_post: 2, pre: pairs.map((p) => p[0]), post: pairs.map((p) => p[1]), w0,
        delay_steps: c.delays ? delay : null, pre_spikes: pre, post_spikes: post,
      };
    });
    const res = spawnSync(python, [script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as { w: number[][] }[];
    cases.forEach((c, k) => {
      const l = synapseList(4, 2, pairs, undefined, c.delays ? delay : undefined);
      const stdp = new EventSTDP(l, { ...rule(c), dependence: c.dependence, weight: w0 });
      let maxErr = 0;
      let e = 0;
      let f = 0;
      for (let t = 0; t < steps; t++) {
        const p: number[] = [];
        const q: number[] = [];
        while (e < pre.length && pre[e]![0] === t) p.push(pre[e++]![1]);
        while (f < post.length && post[f]![0] === t) q.push(post[f++]![1]);
        stdp.step(p, p.length, q, q.length);
        for (let s = 0; s < pairs.length; s++) maxErr = Math.max(maxErr, Math.abs(stdp.weight[s]! - out[k]!.w[t]![s]!));
      }
      expect(maxErr, `${c.dependence}${c.delays ? ' with delays' : ''}`).toBeLessThan(1e-6);
    });
  });
});
