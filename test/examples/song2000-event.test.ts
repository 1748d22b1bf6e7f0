// The event-driven Song 2000 engine against the tfjs path (step by step) and the float64 recursion
// of the same discretisation (test/examples/song-reference.ts).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendInfo } from '../../src/core/backend.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { song2000Example } from '../../examples/song2000/index.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { SongNetwork } from '../../examples/song2000/network.js';
import { EventSong, bernoulliChunk, chunkFromDense } from '../../examples/song2000/event.js';
import { songParams } from '../../examples/song2000/params.js';
import { bernoulli, songReference } from './song-reference.js';

describe('song2000 event-driven engine', () => {
  const p = songParams();

  for (const drive of ['conductance', 'current'] as const) it(`agrees with the tfjs path step by step (${drive} drive, 0.3 s)`, () => {
    const steps = 3000;
    const spikes = bernoulli(steps, p.nInputs, p.rate, p.dt, 21);
    const net = new SongNetwork(p, new Rng(5), true, drive);
    const ev = new EventSong(p, net.weights(), drive, true);
    const chunk = chunkFromDense(spikes, steps, p.nInputs);
    let posts = 0;
    let maxV = 0;
    let maxGe = 0;
    for (let t = 0; t < steps; t++) {
      const s = tf.tensor2d(spikes.subarray(t * p.nInputs, (t + 1) * p.nInputs), [1, p.nInputs]);
      const w = net.connection.weight.dataSync();
      const o = tf.tidy(() => net.step(s));
      const fired = o.dataSync()[0]!;
      o.dispose();
      s.dispose();
      const g = net.connection.synapse.current.dataSync();
      let sum = 0;
      for (let i = 0; i < p.nInputs; i++) sum += w[i]! * g[i]!;
      const geTf = drive === 'conductance' ? sum : sum / (p.Ee - p.vr);
      const n = ev.step(chunk.ids, chunk.start[t]!, chunk.start[t + 1]!);
      expect(n).toBe(fired);
      posts += n;
      maxV = Math.max(maxV, Math.abs(ev.v[0]! - net.neuron.voltage.dataSync()[0]!));
      maxGe = Math.max(maxGe, Math.abs(ev.geSeen[0]! - geTf) / Math.max(1, geTf));
    }
    expect(posts).toBeGreaterThan(3);
    expect(maxV).toBeLessThan(2e-4);
    expect(maxGe).toBeLessThan(1e-5);
    const a = net.weights();
    const b = ev.weights();
    let maxW = 0;
    for (let i = 0; i < p.nInputs; i++) maxW = Math.max(maxW, Math.abs(a[i]! - b[i]!));
    expect(maxW).toBeLessThan(1e-5 * p.gmax);
    net.dispose();
  });

  it('matches the float64 recursion of the discretisation over 2 s (post spikes exactly, weights to 1e-5·gmax)', () => {
    const steps = 20_000;
    const spikes = bernoulli(steps, p.nInputs, p.rate, p.dt, 4);
    const w0 = new Rng(9).uniformArray(p.nInputs, 0, p.gmax);
    const ref = songReference(p, w0, spikes, steps, 'cinder');
    const ev = new EventSong(p, w0);
    const chunk = chunkFromDense(spikes, steps, p.nInputs);
    const post = new Uint8Array(steps);
    for (let t = 0; t < steps; t++) post[t] = ev.step(chunk.ids, chunk.start[t]!, chunk.start[t + 1]!);
    expect(post.reduce((x, y) => x + y, 0)).toBeGreaterThan(10);
    expect(Array.from(post)).toEqual(Array.from(ref.post));
    let maxW = 0;
    const w = ev.weights();
    for (let i = 0; i < p.nInputs; i++) maxW = Math.max(maxW, Math.abs(w[i]! - ref.w[i]!));
    expect(maxW).toBeLessThan(1e-5 * p.gmax);
  });

  for (const drive of ['conductance', 'current'] as const) it(`scheme brian2 matches the float64 recursion of Brian2's discretisation over 2 s (${drive} drive)`, () => {
    const steps = 20_000;
    const spikes = bernoulli(steps, p.nInputs, p.rate, p.dt, 6);
    const w0 = new Rng(10).uniformArray(p.nInputs, 0, p.gmax);
    const ref = songReference(p, w0, spikes, steps, 'brian2', true, drive);
    const ev = new EventSong(p, w0, drive, true, 1, 'brian2');
    const chunk = chunkFromDense(spikes, steps, p.nInputs);
    const post = new Uint8Array(steps);
    let maxV = 0;
    for (let t = 0; t < steps; t++) {
      post[t] = ev.step(chunk.ids, chunk.start[t]!, chunk.start[t + 1]!);
      maxV = Math.max(maxV, Math.abs(ev.v[0]! - ref.v[t]!));
    }
    expect(post.reduce((x, y) => x + y, 0)).toBeGreaterThan(10);
    expect(Array.from(post)).toEqual(Array.from(ref.post));
    expect(maxV).toBeLessThan(1e-5); // mV; the weights (and so ge) are float32
    let maxW = 0;
    const w = ev.weights();
    for (let i = 0; i < p.nInputs; i++) maxW = Math.max(maxW, Math.abs(w[i]! - ref.w[i]!));
    expect(maxW).toBeLessThan(1e-5 * p.gmax);
  });

  it("scheme brian2, current drive: the membrane follows the exact solution of the linear system (Brian2's example uses method='exact')", () => {
    // one input spike at step 0 with w = gmax, learning off: ge jumps to w after step 0's state
    // update; from then on v(t) − El is the closed-form response of τm dv/dt = ge(t)(Ee − vr) + El − v,
    // ge(t) = w·e^{−t/τe}: w(Ee − vr)·τe/(τe − τm)·(e^{−t/τe} − e^{−t/τm}) (t from the jump)
    const q = songParams({ nInputs: 1 });
    const ev = new EventSong(q, [q.gmax], 'current', false, 1, 'brian2');
    const ids = Int32Array.of(0);
    const w = Math.fround(q.gmax); // the weight as stored (float32)
    const c = w * (q.Ee - q.vr) * (q.taue / (q.taue - q.taum));
    let maxErr = 0;
    for (let k = 0; k < 200; k++) {
      ev.step(ids, 0, k === 0 ? 1 : 0);
      const s = k * q.dt; // time since the jump (the end of step 0)
      const v = q.El + c * (Math.exp(-s / q.taue) - Math.exp(-s / q.taum));
      maxErr = Math.max(maxErr, Math.abs(ev.v[0]! - v));
      expect(Math.abs(ev.ge[0]! - w * Math.exp(-s / q.taue))).toBeLessThan(1e-15);
    }
    expect(ev.v[0]!).toBeGreaterThan(q.El + 1e-3); // the input moved the membrane
    expect(maxErr).toBeLessThan(1e-10); // mV; forward Euler is off by ≈1e-4 mV
  });

  it('a batch of 3 instances equals 3 separate runs; learn = false keeps the weights', () => {
    const steps = 5000;
    const rngs = [new Rng(1), new Rng(2), new Rng(3)];
    const chunk = bernoulliChunk(steps, 3 * p.nInputs, (p.rate * p.dt) / 1000, rngs, p.nInputs);
    const w0 = new Rng(5).uniformArray(3 * p.nInputs, 0, p.gmax);
    const batch = new EventSong(p, w0, 'conductance', true, 3);
    batch.run(chunk);
    const counts = batch.takeCounts();
    for (let b = 0; b < 3; b++) {
      const one = new EventSong(p, w0.subarray(b * p.nInputs, (b + 1) * p.nInputs));
      const own = bernoulliChunk(steps, p.nInputs, (p.rate * p.dt) / 1000, [[new Rng(1), new Rng(2), new Rng(3)][b]!], p.nInputs);
      one.run(own);
      expect(one.takeCounts()[0]).toBe(counts[b]);
      expect(Array.from(one.weights())).toEqual(Array.from(batch.weights(b)));
    }
    const frozen = new EventSong(p, w0.subarray(0, p.nInputs), 'conductance', false);
    frozen.run(bernoulliChunk(steps, p.nInputs, (p.rate * p.dt) / 1000, [new Rng(1)], p.nInputs));
    expect(Array.from(frozen.weights())).toEqual(Array.from(w0.subarray(0, p.nInputs)));
  });

  it('bernoulliChunk: Bernoulli(p) per step — count and gap statistics within 3 SE', () => {
    const steps = 20_000;
    const width = 500;
    const q = 0.0015;
    const c = bernoulliChunk(steps, width, q, [new Rng(8)], width);
    const n = c.ids.length;
    const mean = steps * width * q;
    expect(Math.abs(n - mean)).toBeLessThan(3 * Math.sqrt(mean * (1 - q)));
    // ids within a step are distinct and sorted by input
    for (let k = 0; k < steps; k++) for (let e = c.start[k]! + 1; e < c.start[k + 1]!; e++) expect(c.ids[e]!).toBeGreaterThan(c.ids[e - 1]!);
    // matches the dense form
    const dense = new Uint8Array(steps * width);
    for (let k = 0; k < steps; k++) for (let e = c.start[k]!; e < c.start[k + 1]!; e++) dense[k * width + c.ids[e]!] = 1;
    const again = chunkFromDense(dense, steps, width);
    expect(Array.from(again.ids)).toEqual(Array.from(c.ids));
    expect(bernoulliChunk(10, 3, 0, [new Rng(1)], 3).ids.length).toBe(0);
    expect(bernoulliChunk(10, 3, 1, [new Rng(1)], 3).ids.length).toBe(30);
    expect(() => bernoulliChunk(10, 3, 1.5, [new Rng(1)], 3)).toThrow(/invalid p/);
    expect(() => bernoulliChunk(10, 6, 0.1, [new Rng(1)], 3)).toThrow(/invalid rngs/);
  });

  for (const engine of ['event', 'tfjs', 'brian2']) it(`cinder song2000 --engine ${engine} runs and reports its engine`, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cinder-song-engine-')), 'run');
    const params: Record<string, number | string | boolean> = {};
    for (const o of song2000Example.options) params[o.name] = o.default;
    Object.assign(params, song2000Example.presets.tiny, { seconds: 0.02, binSeconds: 0.01, engine });
    const run = startRun({
      spec: song2000Example, params, mode: 'tiny', seed: 3, seeds: 1, outDir: out, backend: backendInfo()!, backendRequest: 'auto',
      quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
    });
    expect((await run.done).status).toBe('completed');
    const summary = JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8'));
    expect(summary.engine).toBe(engine);
    expect(summary.steps).toBe(200);
  });
});
