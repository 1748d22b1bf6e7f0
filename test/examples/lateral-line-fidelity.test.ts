// The lateral-line circuit on Cinder's event engine against Brian2 running the original model's
// equations (test/examples/lateral-line-fidelity-brian2.py, numpy target) with identical GIVEN input
// spike trains: LL afferents and background as spike lists, the same connectivity, initial
// potentials and weights. Both are deterministic then, so MON, TS and inhibitory-cell spike trains
// must agree spike for spike and the plastic weights (multiplicative LL→MON, additive MON→TS with
// gain) to float32 precision. Skipped (with the reason) where /usr/bin/python3 with Brian2 is absent.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProjectionLane, EventNetwork, LaneRng, type EventGroup, type LifParams } from '../../src/kernels/js/event-network.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('./lateral-line-fidelity-brian2.py', import.meta.url));
const probe = existsSync(python) ? spawnSync(python, ['-c', 'import brian2'], { encoding: 'utf8' }) : null;
const haveBrian2 = probe !== null && probe.status === 0;
if (!haveBrian2) console.warn(`# lateral-line-fidelity: skipped (${probe ? 'brian2 not importable' : `no ${python}`})`);

type Spike = [number, number];

/** Bernoulli(rate·dt) spike list (step, index) for n cells over `steps` 1 ms steps. */
function spikeList(n: number, steps: number, rateHz: number, rng: LaneRng): Spike[] {
  const out: Spike[] = [];
  for (let t = 0; t < steps; t++) for (let i = 0; i < n; i++) if (rng.uniform() < rateHz / 1000) out.push([t, i]);
  return out;
}

/** Rates that make a rate input spike exactly at the listed (step, index): 1000 Hz there, else 0. */
function ratesOf(n: number, steps: number, spikes: Spike[]): Float32Array {
  const r = new Float32Array(steps * n);
  for (const [t, i] of spikes) r[t * n + i] = 1000;
  return r;
}

describe.skipIf(!haveBrian2)('lateral-line circuit: Cinder event engine vs Brian2 (original equations, given input spikes)', () => {
  it('MON, TS and inhibitory-cell spikes identical; plastic weights to 1e-5 relative', () => {
    const steps = 400;
    const nLl = 16;
    const nMon = 48;
    const nTs = 12;
    const lif: LifParams = { el: -74, vThreshold: -54, vReset: -60, tauM: 10, tauS: 2, tauRef: 2 };
    const rng = new LaneRng(20261128);
    // connectivity (no duplicate pairs, so weights can be matched by (pre, post))
    // k distinct partners drawn per MON cell: LL sources (pairs m ← i) or TS targets (pairs m → j)
    const partners = (k: number, n: number, mon: 'pre' | 'post'): { pre: number[]; post: number[] } => {
      const pre: number[] = [];
      const post: number[] = [];
      for (let m = 0; m < nMon; m++) {
        const picked = new Set<number>();
        while (picked.size < k) picked.add(rng.int(n));
        for (const o of picked) {
          pre.push(mon === 'pre' ? m : o);
          post.push(mon === 'pre' ? o : m);
        }
      }
      return { pre, post };
    };
    const { pre: llmPre, post: llmPost } = partners(5, nLl, 'post');
    const llmW = llmPre.map(() => 10 + 8 * rng.uniform());
    const { pre: mtPre, post: mtPost } = partners(6, nTs, 'pre');
    const mtW = mtPre.map(() => 0.02 + 0.005 * rng.uniform());
    const monToInh = Array.from({ length: nMon }, (_, k) => k).filter(() => rng.uniform() < 0.5);
    const tsToInh = Array.from({ length: nTs }, (_, k) => k).filter(() => rng.uniform() < 0.5);
    const R = 4;
    const latPre: number[] = [];
    const latPost: number[] = [];
    const latW: number[] = [];
    for (let a = 0; a < nTs; a++) for (let c = 0; c < nTs; c++) {
      const d0 = Math.abs(a - c);
      const d = Math.min(d0, nTs - d0);
      if (a === c || d >= R) continue;
      latPre.push(a);
      latPost.push(c);
      latW.push(1.5 * (1 - d / R));
    }
    const monV0 = Array.from({ length: nMon }, () => -74 + 2 * rng.uniform());
    const tsV0 = Array.from({ length: nTs }, () => -74 + 2 * rng.uniform());
    // input spike trains: LL bursts of high rate in the first half, lower later; background
    const llSpikes = [...spikeList(nLl, steps / 2, 140, rng), ...spikeList(nLl, steps / 2, 60, rng).map(([t, i]) => [t + steps / 2, i] as Spike)]
      .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    const bgMon = spikeList(nMon, steps, 18, rng);
    const bgTs = spikeList(nTs, steps, 20, rng);
    const c = {
      steps, n_ll: nLl, n_mon: nMon, n_ts: nTs, vth: lif.vThreshold, vreset: lif.vReset, el: lif.el, tau_ref: lif.tauRef, tau_m: lif.tauM, tau_s: lif.tauS,
      ll_spikes: llSpikes, bg_mon_spikes: bgMon, bg_ts_spikes: bgTs, mon_v0: monV0, ts_v0: tsV0,
      llm_pre: llmPre, llm_post: llmPost, llm_w: llmW, llm_apre: 0.01, llm_apost: -0.0105, llm_wmax: 20,
      mt_pre: mtPre, mt_post: mtPost, mt_w: mtW, mt_apre: 0.01, mt_apost: -0.006, mt_wmax: 0.028, mt_gain: 600,
      bg_w_mon: 1.5, bg_w_ts: 0.85, mon_to_inh: monToInh, mon_inh_drive: 12, mon_inh_w: 1.8,
      lat_pre: latPre, lat_post: latPost, lat_w: latW, ts_to_inh: tsToInh, ts_inh_drive: 20, ts_inh_w: 0.5,
    };
    const res = spawnSync(python, [script], { input: JSON.stringify(c), encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(res.status, res.stderr).toBe(0);
    const ref = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, number[][] | number[]>;

    const net = new EventNetwork(1, 1, [1]);
    const ll = net.addRateInput('LL', nLl);
    const mon = net.addLif('MON', nMon, lif);
    const ts = net.addLif('TS', nTs, lif);
    const monInh = net.addLif('MON inh', 1, lif);
    const tsInh = net.addLif('TS inh', 1, lif);
    const bgM = net.addRateInput('bg MON', nMon);
    const bgT = net.addRateInput('bg TS', nTs);
    mon.v.set(monV0);
    ts.v.set(tsV0);
    const id = (n: number) => Array.from({ length: n }, (_, k) => k);
    const llMon = net.addProjection('LL→MON', ll, mon, 'ge', [buildProjectionLane(llmPre, llmPost, llmW, nLl, nMon, true)],
      { stdp: { dependence: 'multiplicative', tauPre: 20, tauPost: 20, aPre: 0.01, aPost: -0.0105, wMax: 20 } });
    const monTs = net.addProjection('MON→TS', mon, ts, 'ge', [buildProjectionLane(mtPre, mtPost, mtW, nMon, nTs, true, 'post')],
      { scale: 600, stdp: { dependence: 'additive', tauPre: 20, tauPost: 20, aPre: 0.01, aPost: -0.006, wMax: 0.028 } });
    net.addProjection('bg MON', bgM, mon, 'ge', [buildProjectionLane(id(nMon), id(nMon), new Array(nMon).fill(1.5), nMon, nMon, false)]);
    net.addProjection('bg TS', bgT, ts, 'ge', [buildProjectionLane(id(nTs), id(nTs), new Array(nTs).fill(0.85), nTs, nTs, false)]);
    net.addProjection('MON→inh', mon, monInh, 'ge', [buildProjectionLane(monToInh, monToInh.map(() => 0), monToInh.map(() => 12), nMon, 1, false)]);
    net.addProjection('inh→MON', monInh, mon, 'gi', [buildProjectionLane(new Array(nMon).fill(0), id(nMon), new Array(nMon).fill(1.8), 1, nMon, false)]);
    net.addProjection('TS lateral', ts, ts, 'gi', [buildProjectionLane(latPre, latPost, latW, nTs, nTs, false)]);
    net.addProjection('TS→inh', ts, tsInh, 'ge', [buildProjectionLane(tsToInh, tsToInh.map(() => 0), tsToInh.map(() => 20), nTs, 1, false)]);
    net.addProjection('inh→TS', tsInh, ts, 'gi', [buildProjectionLane(new Array(nTs).fill(0), id(nTs), new Array(nTs).fill(0.5), 1, nTs, false)]);
    net.setRates(ll, 0, ratesOf(nLl, steps, llSpikes));
    net.setRates(bgM, 0, ratesOf(nMon, steps, bgMon));
    net.setRates(bgT, 0, ratesOf(nTs, steps, bgTs));
    const groups: [string, EventGroup][] = [['mon', mon], ['ts', ts], ['mon_inh', monInh], ['ts_inh', tsInh]];
    for (const [, g] of groups) g.recording = true;
    net.run(steps);

    for (const [name, g] of groups) {
      const r = g.takeRecording(0);
      const mine = Array.from(r.step, (t, k) => `${t}:${r.index[k]}`).sort();
      const theirs = (ref[name] as number[][]).map(([t, i]) => `${t}:${i}`).sort();
      expect(mine, name).toEqual(theirs);
    }
    console.log(`# spikes MON ${(ref.mon as number[][]).length}, TS ${(ref.ts as number[][]).length}, MON inh ${(ref.mon_inh as number[][]).length}, TS inh ${(ref.ts_inh as number[][]).length}`);
    // the circuit is active: every layer spikes, the inhibitory cells too
    expect((ref.mon as number[][]).length).toBeGreaterThan(200);
    expect((ref.ts as number[][]).length).toBeGreaterThan(20);
    expect((ref.mon_inh as number[][]).length).toBeGreaterThan(0);
    expect((ref.ts_inh as number[][]).length).toBeGreaterThan(0);
    const check = (key: string, ij: number[][], L: { pre: Int32Array; post: Int32Array; w: Float32Array }, w0: number[]) => {
      const byPair = new Map<string, number>();
      (ref[key] as number[]).forEach((w, s) => byPair.set(`${ij[s]![0]},${ij[s]![1]}`, w));
      let maxRel = 0;
      let moved = 0;
      for (let s = 0; s < L.w.length; s++) {
        const wr = byPair.get(`${L.pre[s]},${L.post[s]}`)!;
        maxRel = Math.max(maxRel, Math.abs(L.w[s]! - wr) / Math.max(Math.abs(wr), 1e-6));
        if (Math.abs(wr - w0[s]!) > 1e-4 * Math.abs(w0[s]!)) moved++;
      }
      expect(maxRel, key).toBeLessThan(1e-5);
      expect(moved, `${key}: weights that learning moved`).toBeGreaterThan(L.w.length / 4);
    };
    check('llm_w', ref.llm_ij as number[][], llMon.lanes[0]!, llmW);
    check('mt_w', ref.mt_ij as number[][], monTs.lanes[0]!, mtW);
  });
});
