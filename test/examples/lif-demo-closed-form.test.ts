// lif-demo's two quantitative claims against closed forms (docs/examples.md § lif-demo, the module text):
// 1. its chain (LinearDense with delta-current synapses → LIF, exact integration) under a constant
//    current RI fires at the LIF rate: free time T_f = τ·ln(RI/(RI − (Θ − V_reset))), continuous rate
//    1/(t_ref + T_f); on the grid (NeuronGroup's order: refractory during k − 1 steps, k = t_ref/dt) the
//    interspike interval is k − 1 + ⌈T_f/dt⌉ steps;
// 2. the weight scale w̄ = drive·1000/(nIn·r̄) holds the membrane `drive` mV above rest on average
//    when the threshold is out of reach (the exact membrane step has unit DC gain, so ⟨V⟩ − V_rest = R⟨I⟩).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { LinearDense, constantInit } from '../../src/neural/connections/index.js';
import { DeltaCurrent } from '../../src/neural/synapses/index.js';
import { Serial } from '../../src/neural/layers/index.js';
import { runCli } from '../../src/cli/program.js';
import { lifDemoExample } from '../../examples/lif-demo/index.js';
import { readNpz } from '../cli/fixtures/npz-read.js';
import { Sink } from '../cli/fixtures/sink.js';

describe('lif-demo against closed forms', () => {
  it('constant current through the demo chain: spike steps on the grid formula, rate within dt of the analytic LIF rate', async () => {
    const dt = 0.1, tau = 20, rest = -65, reset = -65, theta = -50, tref = 2, RI = 20;
    const lif = new LIF([1], dt, { restV: rest, resetV: reset, threshV: theta, refracT: tref, tauM: tau });
    // one input spiking every step through a delta-current synapse: I = w·1/dt, so w = RI·dt
    const layer = new Serial(new LinearDense([1], [1], dt, { synapse: DeltaCurrent.factory(), weightInit: constantInit(RI * dt) }), lif);
    layer.eval();
    const x = tf.ones([1, 1]);
    const steps = 3000;
    const spikeSteps: number[] = [];
    for (let k = 0; k < steps; k++) {
      const s = tf.tidy(() => layer.forward(x).clone());
      if ((await s.data())[0] === 1) spikeSteps.push(k);
      s.dispose();
    }
    x.dispose();
    layer.dispose();
    const tFree = tau * Math.log(RI / (RI - (theta - reset))); // 27.7259 ms
    const k = Math.round(tref / dt);
    const first = Math.ceil(tFree / dt) - 1; // from rest = reset without refractory: the ⌈T_f/dt⌉-th step
    const isi = k - 1 + Math.ceil(tFree / dt);
    const want = [] as number[];
    for (let s = first; s < steps; s += isi) want.push(s);
    expect(spikeSteps).toEqual(want);
    const rate = 1000 / ((spikeSteps[spikeSteps.length - 1]! - spikeSteps[0]!) * dt / (spikeSteps.length - 1));
    const analytic = 1000 / (tref + tFree);
    expect(Math.abs(rate - analytic) / analytic).toBeLessThanOrEqual(dt / (tref + tFree));
  }, 30_000);

  it('without threshold crossings the mean voltage is rest + drive (the documented weight scale)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cinder-lif-drive-')), 'run');
    const drive = 12;
    const code = await runCli(['lif-demo', '--n-in', '200', '--n-out', '40', '--steps', '1500', '--chunk', '1500', '--drive', String(drive), '--thresh-v', '1000', '--seed', '3', '--quiet', '--out', out], {
      examples: [lifDemoExample], out: new Sink(), err: new Sink(), handleSignals: false,
    });
    expect(code).toBe(0);
    const rec = readNpz(readFileSync(join(out, 'artifacts', 'recordings.npz')));
    const layer = readNpz(readFileSync(join(out, 'artifacts', 'layer.npz')));
    const summary = JSON.parse(readFileSync(join(out, 'run_summary.json'), 'utf8'));
    const [T, nOut] = rec.voltage_mv!.shape as [number, number];
    const nIn = 200;
    // the weight scale: w̄ = drive·1000/(nIn·r̄), weights uniform in [0, 2w̄)
    const wBar = (drive * 1000) / (nIn * summary.expected_input_rate_hz);
    const W = layer['connection.weight']!.data;
    let wSum = 0, wMax = 0;
    for (const w of W) { wSum += w; wMax = Math.max(wMax, w); }
    expect(wMax).toBeLessThan(2 * wBar);
    expect(Math.abs(wSum / W.length / wBar - 1)).toBeLessThan(4 * (1 / Math.sqrt(3)) / Math.sqrt(W.length));
    // time-mean after 5 τ (100 steps of 1 ms), over neurons: rest + drive within the sampling error
    // (Poisson counts and the random weights: a few per cent)
    const v = rec.voltage_mv!.data;
    let sum = 0;
    for (let t = 100; t < T; t++) for (let j = 0; j < nOut; j++) sum += v[t * nOut + j]!;
    const mean = sum / ((T - 100) * nOut);
    expect(summary.output_spikes).toBe(0);
    expect(Math.abs(mean - (-65 + drive))).toBeLessThan(0.05 * drive);
  }, 60_000);
});
