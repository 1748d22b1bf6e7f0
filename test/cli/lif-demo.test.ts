// lif-demo against an independent float64 re-implementation of the LIF equations, driven by the
// run's own saved input spikes and weights (artifacts/recordings.npz, artifacts/layer.npz):
//   r ← max(r − dt, 0); free = (r == 0)
//   V ← V_rest + (V − V_rest − R·I)·e^{−dt/τ_m} + R·I  (free neurons; others hold V)
//   spike = free ∧ V ≥ Θ; then V ← V_reset, r ← refracT
// with I = W·x·charge/dt (delta-current synapses, charge 1).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { lifDemoExample } from '../../examples/lif-demo/index.js';
import { readNpz } from './fixtures/npz-read.js';
import { Sink } from './fixtures/sink.js';

describe('cinder lif-demo', () => {
  it('spikes and voltages match the closed-form LIF step; summary rates match the recordings', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cinder-lif-')), 'run');
    const code = await runCli(['lif-demo', '--mode', 'tiny', '--steps', '300', '--seed', '5', '--quiet', '--out', out], {
      examples: [lifDemoExample], out: new Sink(), err: new Sink(), handleSignals: false,
    });
    expect(code).toBe(0);
    const rec = readNpz(readFileSync(join(out, 'artifacts', 'recordings.npz')));
    const layer = readNpz(readFileSync(join(out, 'artifacts', 'layer.npz')));
    const params = JSON.parse(readFileSync(join(out, 'params.json'), 'utf8')).params;
    const summary = JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8'));
    const [T, nIn] = rec.input_spikes!.shape as [number, number];
    const nOut = rec.output_spikes!.shape[1]!;
    expect([T, nIn, nOut]).toEqual([300, 20, 5]);
    const W = layer['connection.weight']!.data;
    expect(layer['connection.weight']!.shape).toEqual([nOut, nIn]);
    const x = rec.input_spikes!.data;
    const dt = params.dt;
    const decay = Math.exp(-dt / params.tauM);
    const v = new Float64Array(nOut).fill(params.restV);
    const r = new Float64Array(nOut);
    let mismatches = 0;
    let spikes = 0;
    let maxDv = 0;
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < nOut; j++) {
        let I = 0;
        for (let i = 0; i < nIn; i++) I += W[j * nIn + i]! * x[t * nIn + i]!;
        I /= dt;
        r[j] = Math.max(r[j]! - dt, 0);
        const free = r[j] === 0;
        if (free) v[j] = params.restV + (v[j]! - params.restV - I) * decay + I;
        const s = free && v[j]! >= params.threshV ? 1 : 0;
        if (s) {
          v[j] = params.resetV;
          r[j] = params.refracT;
        }
        spikes += s;
        if (s !== rec.output_spikes!.data[t * nOut + j]) mismatches++;
        maxDv = Math.max(maxDv, Math.abs(v[j]! - rec.voltage_mv!.data[t * nOut + j]!));
      }
    }
    expect(spikes).toBeGreaterThan(5); // the tiny preset drives the neurons above threshold
    expect(mismatches).toBe(0);
    expect(maxDv).toBeLessThan(1e-3);
    const inCount = Array.from(x).reduce((a, b) => a + b, 0);
    expect(summary.output_spikes).toBe(spikes);
    expect(summary.input_spikes).toBe(inCount);
    expect(summary.output_rate_hz).toBeCloseTo((1000 * spikes) / (nOut * T * dt), 9);
    expect(summary.input_rate_hz).toBeCloseTo((1000 * inCount) / (nIn * T * dt), 9);
    // time axis: record k is the state after step k + 1
    expect(Array.from(rec.time_ms!.data.slice(0, 3))).toEqual([dt, 2 * dt, 3 * dt]);
  });
});
