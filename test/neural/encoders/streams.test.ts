import { describe, expect, it, vi } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import {
  HomogeneousPoissonEncoder, PoissonApproxEncoder, PoissonIntervalEncoder, SpikeStream,
} from '../../../src/neural/encoders/index.js';

const makers = {
  HomogeneousPoissonEncoder: (seed: number) => new HomogeneousPoissonEncoder({ steps: 200, dt: 1, frequency: 100, refrac: 2, rng: new Rng(seed) }),
  PoissonApproxEncoder: (seed: number) => new PoissonApproxEncoder({ steps: 200, dt: 1, frequency: 100, rng: new Rng(seed) }),
  PoissonIntervalEncoder: (seed: number) => new PoissonIntervalEncoder({ steps: 200, dt: 1, frequency: 100, rng: new Rng(seed) }),
};

describe('reproducibility', () => {
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: same seed ⇒ identical spikes, different seed ⇒ different spikes`, () => {
      const x = tf.fill([2, 30], 0.7);
      const a = make(42).encode(x);
      const b = make(42).encode(x);
      const c = make(43).encode(x);
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
      expect(tf.sum(a).dataSync()[0]).toBeGreaterThan(0);
      // the encoder's generator advances: a second encoding differs from the first
      const enc = make(42);
      const first = enc.encode(x);
      const second = enc.encode(x);
      expect(Array.from(first.dataSync())).not.toEqual(Array.from(second.dataSync()));
      tf.dispose([x, a, b, c, first, second]);
    });

    it(`${name}: stream() hands out exactly the steps of encode() for the same seed`, () => {
      const x = tf.fill([1, 10], 0.5);
      const train = make(7).encode(x);
      const stream = make(7).stream(x);
      const expected = tf.unstack(train);
      let t = 0;
      for (const s of stream) {
        expect(Array.from(s.dataSync())).toEqual(Array.from(expected[t]!.dataSync()));
        t++;
      }
      expect(t).toBe(200);
      stream.dispose();
      tf.dispose([x, train, ...expected]);
    });
  }
});

describe('SpikeStream', () => {
  it('fromTensorAsync: the same steps with the train downloaded by one await data() (no dataSync: webgpu in Node has none); own disposes it', async () => {
    const vals = [[[1, 0]], [[0, 1]], [[1, 1]], [[0, 0]]];
    const train = tf.tensor3d(vals);
    const before = tf.memory().numTensors;
    const sync = vi.spyOn(tf.Tensor.prototype, 'dataSync').mockImplementation(() => {
      throw new Error('dataSync called');
    });
    try {
      const stream = await SpikeStream.fromTensorAsync(train, true);
      expect(train.isDisposed).toBe(true);
      expect(stream.length).toBe(4);
      for (let t = 0; t < 4; t++) expect(Array.from(await stream.next().data())).toEqual(vals[t]![0]);
      expect(stream.done).toBe(true);
      stream.dispose();
    } finally {
      sync.mockRestore();
    }
    expect(tf.memory().numTensors).toBe(before - 1);
    await expect(SpikeStream.fromTensorAsync(tf.tensor1d([1]))).rejects.toThrow(/invalid train: .*expected a tensor \[S, B, \.\.\.\]/);
  });

  it('uploads each step once, on first access, and leaks nothing', () => {
    const train = tf.tensor3d([[[1, 0]], [[0, 1]], [[1, 1]]]);
    const before = tf.memory().numTensors;
    const stream = SpikeStream.fromTensor(train);
    const t0 = stream.next(); // first access: one step tensor
    expect(tf.memory().numTensors).toBe(before + 1);
    const t1 = stream.next();
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(Array.from(t0.dataSync())).toEqual([1, 0]);
    expect(Array.from(t1.dataSync())).toEqual([0, 1]);
    expect(Array.from(stream.at(2).dataSync())).toEqual([1, 1]);
    expect(stream.at(0)).toBe(t0); // same chunk: random access returns the same tensor
    expect(tf.memory().numTensors).toBe(before + 3);
    stream.next();
    expect(stream.done).toBe(true);
    expect(() => stream.next()).toThrow(/invalid t/);
    stream.dispose();
    expect(tf.memory().numTensors).toBe(before);
    train.dispose();
  });

  it('step tensors survive a tf.tidy around the step', () => {
    const enc = new PoissonApproxEncoder({ steps: 10, dt: 1, frequency: 500, rng: new Rng(1) });
    const x = tf.fill([1, 4], 1);
    const stream = enc.stream(x, { chunk: 3 });
    const sums: number[] = [];
    for (let t = 0; t < 10; t++) sums.push(tf.tidy(() => tf.sum(stream.next()).dataSync()[0]!));
    expect(stream.at(9).shape).toEqual([1, 4]); // still alive after the tidies
    expect(() => stream.at(0)).toThrow(/earlier chunks were freed/);
    stream.dispose();
    x.dispose();
    expect(sums.length).toBe(10);
  });

  it('Bernoulli spikes do not depend on the chunk size', () => {
    const x = tf.fill([1, 5], 0.4);
    const collect = (chunk: number) => {
      const s = new PoissonApproxEncoder({ steps: 40, dt: 1, frequency: 500, rng: new Rng(9) }).stream(x, { chunk });
      const out: number[][] = [];
      for (const t of s) out.push(Array.from(t.dataSync()));
      s.dispose();
      return out;
    };
    expect(collect(3)).toEqual(collect(40));
    x.dispose();
  });

  it('chunked streaming keeps memory flat', () => {
    const x = tf.fill([1, 8], 0.3);
    const enc = new HomogeneousPoissonEncoder({ steps: 5000, dt: 1, frequency: 100, rng: new Rng(2) });
    const stream = enc.stream(x, { chunk: 64 });
    for (let t = 0; t < 100; t++) stream.next();
    const n100 = tf.memory().numTensors;
    for (let t = 0; t < 4800; t++) stream.next();
    expect(tf.memory().numTensors).toBe(n100);
    stream.dispose();
    x.dispose();
  });
});

describe('interval encoders: a stream in chunks of any length equals the whole encoding', () => {
  // The events are taken in time order across trains, each drawing its train's next interval, so the
  // draws from the generator do not depend on where the chunks end (before, the trains were filled one
  // after the other per chunk: chunks of 50 and 200 steps gave 172 and 173 spikes for one seed).
  const cases: [string, (seed: number) => HomogeneousPoissonEncoder | PoissonIntervalEncoder][] = [
    ['HomogeneousPoisson, stationary', (s) => new HomogeneousPoissonEncoder({ steps: 120, dt: 1, frequency: 60, rng: new Rng(s) })],
    ['HomogeneousPoisson, event start, refrac 2.5', (s) => new HomogeneousPoissonEncoder({ steps: 120, dt: 1, frequency: 60, refrac: 2.5, start: 'event', rng: new Rng(s) })],
    ['HomogeneousPoisson, refrac 0.3 < dt (several events a step)', (s) => new HomogeneousPoissonEncoder({ steps: 120, dt: 1, frequency: 300, refrac: 0.3, rng: new Rng(s) })],
    ['PoissonInterval', (s) => new PoissonIntervalEncoder({ steps: 120, dt: 1, frequency: 60, rng: new Rng(s) })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: chunks of 1, 7, 50 and 120 steps hand out encode()'s train`, async () => {
      // two samples of 13 inputs, some silent (intensity 0) and some at different rates
      const x = tf.tensor2d(Array.from({ length: 26 }, (_, k) => (k % 5 === 0 ? 0 : ((k % 4) + 1) / 4)), [2, 13]);
      const whole = make(9).encode(x);
      const want = Array.from(await whole.data());
      expect(want.reduce((a, b) => a + b, 0)).toBeGreaterThan(40);
      for (const chunk of [1, 7, 50, 120]) {
        const stream = await make(9).streamAsync(x, { chunk });
        const got: number[] = [];
        for (let t = 0; t < 120; t++) {
          const s = stream.next();
          got.push(...(await s.data()));
          s.dispose();
        }
        stream.dispose();
        expect(got, `chunk ${chunk}`).toEqual(want);
      }
      tf.dispose([x, whole]);
    });
  }
});
