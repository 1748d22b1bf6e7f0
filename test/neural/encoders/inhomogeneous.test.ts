import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { InhomogeneousPoissonEncoder, SpikeGenerator } from '../../../src/neural/encoders/index.js';
import { rows } from './helpers.js';

const S = 1000;
const N = 100;

/**
 * Checks spike counts against expected per-step probabilities p(k) (same for all N trains): the total
 * within 3 standard errors, and each of the `windows` time windows within 4 (allowance for testing
 * several windows at once), so the time course is checked too.
 */
function expectWindows(train: tf.Tensor, p: (k: number) => number, windows = 4): void {
  const { data } = rows(train);
  let total = 0, totalMean = 0, totalVar = 0;
  for (let k = 0; k < S; k++) {
    for (let i = 0; i < N; i++) total += data[k * N + i]!;
    totalMean += N * p(k);
    totalVar += N * p(k) * (1 - p(k));
  }
  expect(Math.abs(total - totalMean)).toBeLessThan(3 * Math.sqrt(totalVar));
  const w = S / windows;
  for (let q = 0; q < windows; q++) {
    let count = 0, mean = 0, variance = 0;
    for (let k = q * w; k < (q + 1) * w; k++) {
      for (let i = 0; i < N; i++) count += data[k * N + i]!;
      mean += N * p(k);
      variance += N * p(k) * (1 - p(k));
    }
    expect(Math.abs(count - mean)).toBeLessThan(4 * Math.sqrt(variance));
  }
}

describe('InhomogeneousPoissonEncoder', () => {
  const rate = (t: number) => 60 + 40 * Math.sin((2 * Math.PI * t) / 250); // Hz, t in ms
  const integral = (a: number, b: number) => // ∫ rate dt over [a, b] ms, in spikes (÷1000)
    (60 * (b - a) - ((40 * 250) / (2 * Math.PI)) * (Math.cos((2 * Math.PI * b) / 250) - Math.cos((2 * Math.PI * a) / 250))) / 1000;

  it('bernoulli method with a rate table: p(k) = λ(k)·dt/1000', () => {
    const dt = 2;
    const lam = (k: number) => 20 + 280 * ((k % 100) / 100);
    const table = new Float32Array(S * N);
    for (let k = 0; k < S; k++) table.fill(lam(k), k * N, (k + 1) * N);
    const rates = tf.tensor(table, [S, 1, N]);
    const enc = new InhomogeneousPoissonEncoder({ dt, rng: new Rng(2) });
    const train = enc.encode(rates);
    expect(train.shape).toEqual([S, 1, N]);
    expectWindows(train, (k) => Math.fround(lam(k)) * dt / 1000);
    tf.dispose([rates, train]);
  });

  it('encodeAsync/streamAsync read the rate table without a synchronous download (webgpu in Node has none)', async () => {
    const dt = 2;
    const lam = (k: number) => 20 + 280 * ((k % 100) / 100);
    const table = new Float32Array(S * N);
    for (let k = 0; k < S; k++) table.fill(lam(k), k * N, (k + 1) * N);
    const noSync = () => {
      const t = tf.tensor(table, [S, 1, N]);
      Object.defineProperty(t, 'dataSync', { value: () => { throw new Error('no synchronous reads on this backend'); } });
      return t;
    };
    const a = noSync();
    const train = await new InhomogeneousPoissonEncoder({ dt, rng: new Rng(2) }).encodeAsync(a);
    expect(train.shape).toEqual([S, 1, N]);
    expectWindows(train, (k) => Math.fround(lam(k)) * dt / 1000);
    const b = noSync();
    const stream = await new InhomogeneousPoissonEncoder({ dt, rng: new Rng(2) }).streamAsync(b, { chunk: 64 });
    const trainData = train.dataSync();
    for (let k = 0; k < S; k++) {
      // Bernoulli draws are step-major: the same seed gives the same spikes for every chunking
      expect(Array.from(stream.next().dataSync())).toEqual(Array.from(trainData.subarray(k * N, (k + 1) * N)));
    }
    stream.dispose();
    const bad = tf.zeros([S, N]);
    await expect(new InhomogeneousPoissonEncoder({ dt, rng: new Rng(2) }).encodeAsync(bad)).rejects.toThrow(/invalid rates: got .*expected a tensor \[S, B, \.\.\.shape\] \(rank >= 3\)/);
    tf.dispose([a, b, bad, train]);
  });

  it('exact method with a rate table: p(k) = 1 − exp(−λ(k)·dt/1000), distinct from the Bernoulli approximation', () => {
    const dt = 2;
    const table = tf.fill([S, 1, N], 300);
    const enc = new InhomogeneousPoissonEncoder({ dt, rng: new Rng(3), method: 'exact' });
    const train = enc.encode(table);
    expectWindows(train, () => 1 - Math.exp(-0.6));
    const frac = tf.sum(train).dataSync()[0]! / (S * N);
    expect(Math.abs(frac - 0.6)).toBeGreaterThan(0.1); // the approximation would give 0.6
    tf.dispose([table, train]);
  });

  it('bernoulli method with a rate function evaluates λ at the start of each step', () => {
    const enc = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(4) });
    const train = enc.encodeFunction((t) => rate(t), { steps: S, shape: [1, N] });
    expectWindows(train, (k) => rate(k) / 1000, 8);
    train.dispose();
  });

  it('exact method with a rate function (thinning): P(spike in step k) = 1 − exp(−∫λ)', () => {
    const dt = 1;
    const enc = new InhomogeneousPoissonEncoder({ dt, rng: new Rng(5), method: 'exact' });
    const train = enc.encodeFunction((t) => rate(t), { steps: S, shape: [1, N], maxRate: 100 });
    expectWindows(train, (k) => 1 - Math.exp(-integral(k * dt, (k + 1) * dt)), 8);
    train.dispose();
  });

  it('streams in chunks the same spikes as one encoding for the bernoulli method', () => {
    const rates = tf.fill([50, 2, 3], 80);
    const a = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(6) }).encode(rates);
    const stream = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(6) }).stream(rates, { chunk: 7 });
    const steps: number[][] = [];
    for (const s of stream) steps.push(Array.from(s.dataSync()));
    expect(steps.flat()).toEqual(Array.from(a.dataSync()));
    stream.dispose();
    tf.dispose([rates, a]);
  });
});

describe('SpikeGenerator', () => {
  it('places spikes at exact steps (step k covers [k·dt, (k + 1)·dt))', () => {
    const gen = new SpikeGenerator({
      steps: 20,
      dt: 0.1,
      times: [[0, 0.3, 1.0, 1.05], [0.7, 1.99, 2.0, 5]],
    });
    expect(gen.stepIndices).toEqual([[0, 3, 10], [7, 19]]);
    const train = gen.encode();
    expect(train.shape).toEqual([20, 1, 2]);
    const { data } = rows(train);
    const on: [number, number][] = [];
    data.forEach((v, j) => { if (v === 1) on.push([Math.floor(j / 2), j % 2]); });
    expect(on).toEqual([[0, 0], [3, 0], [7, 1], [10, 0], [19, 1]]);
    expect(data.reduce((a, b) => a + b, 0)).toBe(5);
    train.dispose();
  });

  it('supports a batch shape and streams step by step', () => {
    const gen = new SpikeGenerator({ steps: 5, dt: 1, times: [[1], [2], [3], [4]], shape: [2, 2] });
    const stream = gen.stream({ chunk: 2 });
    const seen: number[][] = [];
    for (const s of stream) {
      expect(s.shape).toEqual([2, 2]);
      seen.push(Array.from(s.dataSync()));
    }
    expect(seen).toEqual([[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
    stream.dispose();
  });
});
