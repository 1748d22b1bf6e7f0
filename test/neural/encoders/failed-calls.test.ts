// Spike streams and rate-function encodings: a call that fails leaves the stream and the encoder's
// generator as they were, and a stream that owns its train frees it however it ends.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/random.js';
import { HomogeneousPoissonEncoder, InhomogeneousPoissonEncoder, PoissonApproxEncoder, PoissonIntervalEncoder, SpikeStream } from '../../../src/neural/encoders/index.js';

describe('SpikeStream lifecycle', () => {
  it('fromTensor(train, own = true) disposed before its first read frees the train', () => {
    const before = tf.memory().numTensors;
    const stream = SpikeStream.fromTensor(tf.tensor3d([[[1, 0]], [[0, 1]]]), true);
    stream.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => stream.next()).toThrow(/invalid stream: got "disposed", expected a live stream/);
  });

  it('a chunk whose generation throws leaves the current chunk readable (values and tensors intact)', () => {
    // bernoulli, rate function: p(k) = λ(k)·dt/1000 = 1 for k < 3 (every step spikes), then an invalid rate at k = 3
    const enc = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(5) });
    const rate = (t: number) => (t < 3 ? 1000 : -1);
    const before = tf.memory().numTensors;
    const stream = enc.streamFunction(rate, { steps: 6, shape: [1, 2], chunk: 3 });
    const first = [stream.next(), stream.next(), stream.next()];
    expect(() => stream.next()).toThrow(CinderArgumentError);
    expect(() => stream.at(3)).toThrow(/invalid rate\(t=3, index=0\): got -1/);
    expect(stream.position).toBe(3);
    // the steps of the chunk that was current are still the same live tensors with p = 1 spikes
    for (let k = 0; k < 3; k++) {
      expect(stream.at(k)).toBe(first[k]);
      expect(first[k]!.isDisposed).toBe(false);
      expect(Array.from(first[k]!.dataSync())).toEqual([1, 1]);
    }
    expect(tf.memory().numTensors).toBe(before + 3);
    stream.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a streamFunction chunk whose rate function throws leaves the generator and the trains as they were', () => {
    // the rate function fails once, for train 2 in the second chunk (t >= 5 ms); reading the step
    // again must give the spikes of a stream that never failed (same seed), and so must every later chunk
    for (const method of ['bernoulli', 'exact'] as const) {
      let fail = true;
      const flaky = (t: number, i: number): number => {
        if (fail && t >= 5 && i === 2) {
          fail = false;
          throw new Error('transient');
        }
        return 300;
      };
      const opts = { steps: 12, shape: [1, 4], maxRate: 400, chunk: 4 };
      const a = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(3), method }).streamFunction(flaky, opts);
      const b = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(3), method }).streamFunction(() => 300, opts);
      const got: number[] = [];
      const want: number[] = [];
      for (let k = 0; k < 4; k++) got.push(...a.next().dataSync());
      expect(() => a.next()).toThrow(/transient/);
      expect(a.position).toBe(4);
      for (let k = 4; k < 12; k++) got.push(...a.next().dataSync());
      for (let k = 0; k < 12; k++) want.push(...b.next().dataSync());
      expect(got, method).toEqual(want);
      expect(want.slice(16).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
      a.dispose();
      b.dispose();
    }
  });

  it('encodeFunction that throws on a bad rate leaves the generator where it was', () => {
    for (const method of ['bernoulli', 'exact'] as const) {
      const good = (t: number) => 50 + 0.5 * t;
      const bad = (t: number) => (t < 20 ? 50 : NaN);
      const opts = { steps: 40, shape: [1, 3], maxRate: 100 };
      const enc = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(11), method });
      expect(() => enc.encodeFunction(bad, opts)).toThrow(/invalid rate\(t=.*got NaN/);
      const after = enc.encodeFunction(good, opts);
      const fresh = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(11), method }).encodeFunction(good, opts);
      expect(Array.from(after.dataSync())).toEqual(Array.from(fresh.dataSync()));
      expect(tf.sum(after).dataSync()[0]).toBeGreaterThan(0);
      tf.dispose([after, fresh]);
    }
  });
  it('streamFunction refused for a bad chunk leaves the generator where it was (exact method draws at set-up)', () => {
    const opts = { steps: 30, shape: [1, 4], maxRate: 200 };
    const rate = () => 150;
    const enc = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(21), method: 'exact' });
    expect(() => enc.streamFunction(rate, { ...opts, chunk: 0 })).toThrow(/invalid chunk: got 0, expected an integer >= 1/);
    const after = enc.encodeFunction(rate, opts);
    const fresh = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(21), method: 'exact' }).encodeFunction(rate, opts);
    expect(Array.from(after.dataSync())).toEqual(Array.from(fresh.dataSync()));
    expect(tf.sum(after).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([after, fresh]);
  });
  it('a jump over several chunks whose last chunk fails leaves the current chunk readable and resumes without losing spikes', () => {
    // bernoulli, rate function: p = 1 for t < 6 ms, then 0.5; the first evaluation at t >= 6 throws once
    const make = (failOnce: boolean) => {
      let fail = failOnce;
      const rate = (t: number): number => {
        if (t < 6) return 1000;
        if (fail) {
          fail = false;
          throw new Error('transient');
        }
        return 500;
      };
      return new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(9) }).streamFunction(rate, { steps: 9, shape: [1, 8], chunk: 3 });
    };
    const a = make(true);
    const b = make(false);
    const before = tf.memory().numTensors;
    const held = [a.next(), a.next(), a.next()];
    // at(7) has to render chunk [3, 6) (skipped) and chunk [6, 9), which fails
    expect(() => a.at(7)).toThrow(/transient/);
    expect(a.position).toBe(3);
    for (let k = 0; k < 3; k++) {
      expect(held[k]!.isDisposed, `step ${k}`).toBe(false);
      expect(a.at(k)).toBe(held[k]);
      expect(Array.from(held[k]!.dataSync())).toEqual(new Array(8).fill(1));
    }
    // the retry gives the spikes of a stream that never failed, for the skipped chunk and the last one
    expect(Array.from(a.at(4).dataSync())).toEqual(new Array(8).fill(1));
    for (let k = 6; k < 9; k++) expect(Array.from(a.at(k).dataSync()), `step ${k}`).toEqual(Array.from(b.at(k).dataSync()));
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('rate encoders: a train too large for one tensor is refused before anything is drawn', () => {
  // 1000 steps × 300 000 inputs = 3·10⁸ elements > 2^28: refused. The interval encoders draw each
  // train's first spike time when their source is built, so the size must be checked before that.
  for (const [name, make] of [
    ['HomogeneousPoissonEncoder', (rng: Rng) => new HomogeneousPoissonEncoder({ steps: 1000, dt: 1, frequency: 100, rng })],
    ['HomogeneousPoissonEncoder (start: event)', (rng: Rng) => new HomogeneousPoissonEncoder({ steps: 1000, dt: 1, frequency: 100, rng, start: 'event' })],
    ['PoissonIntervalEncoder', (rng: Rng) => new PoissonIntervalEncoder({ steps: 1000, dt: 1, frequency: 100, rng })],
    ['PoissonApproxEncoder', (rng: Rng) => new PoissonApproxEncoder({ steps: 1000, dt: 1, frequency: 100, rng })],
  ] as const) {
    it(`${name}: encode and encodeAsync leave the generator where it was`, async () => {
      const rng = new Rng(12);
      const enc = make(rng);
      const x = tf.fill([1, 300_000], 0.5);
      const state = JSON.stringify(rng.getState());
      expect(() => enc.encode(x)).toThrow(/invalid steps: got "300000000 elements for a train of 1000 steps × 300000 inputs/);
      await expect(enc.encodeAsync(x)).rejects.toThrow(/invalid steps: got "300000000 elements/);
      expect(JSON.stringify(rng.getState())).toBe(state);
      x.dispose();
      // the next encoding draws what a fresh encoder with the same seed draws
      expect(Array.from(enc.encodeArray([0.5, 1]))).toEqual(Array.from(make(new Rng(12)).encodeArray([0.5, 1])));
    });
  }
});
