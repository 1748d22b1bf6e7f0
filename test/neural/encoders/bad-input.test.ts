import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Rng } from '../../../src/core/random.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import {
  HomogeneousPoissonEncoder, InhomogeneousPoissonEncoder, PoissonApproxEncoder, PoissonIntervalEncoder, SpikeGenerator, SpikeStream,
} from '../../../src/neural/encoders/index.js';

/** Expects `fn` to throw a CinderArgumentError whose message matches `re`. */
function rejects(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CinderArgumentError);
  expect((err as Error).message).toMatch(re);
}

const base = { steps: 10, dt: 1, frequency: 100, rng: new Rng(0) };

describe('encoders reject bad input', () => {
  it('steps must be an integer >= 1', () => {
    rejects(() => new HomogeneousPoissonEncoder({ ...base, steps: 0 }), /invalid steps: got 0, expected an integer >= 1/);
    rejects(() => new PoissonApproxEncoder({ ...base, steps: 2.5 }), /invalid steps: got 2.5/);
    rejects(() => new SpikeGenerator({ steps: -1, dt: 1, times: [] }), /invalid steps/);
  });

  it('dt must be > 0', () => {
    rejects(() => new PoissonIntervalEncoder({ ...base, dt: 0 }), /invalid dt: got 0, expected a finite number > 0/);
    rejects(() => new InhomogeneousPoissonEncoder({ dt: -1, rng: new Rng(1) }), /invalid dt: got -1/);
  });

  it('frequency must be finite and > 0', () => {
    rejects(() => new HomogeneousPoissonEncoder({ ...base, frequency: 0 }), /invalid frequency: got 0/);
    rejects(() => new PoissonApproxEncoder({ ...base, frequency: -5 }), /invalid frequency: got -5/);
    rejects(() => new PoissonIntervalEncoder({ ...base, frequency: NaN }), /invalid frequency: got NaN/);
  });

  it('the Bernoulli approximation needs frequency·dt/1000 <= 1', () => {
    rejects(() => new PoissonApproxEncoder({ ...base, dt: 2, frequency: 600 }), /invalid frequency: got 600, expected <= 1000\/dt = 500 Hz/);
  });

  it('inputs must be rank >= 2 with values in [0, 1]', () => {
    const enc = new HomogeneousPoissonEncoder(base);
    const cases: [tf.Tensor, RegExp][] = [
      [tf.tensor2d([[0.5, -0.25]]), /invalid inputs\[1\]: got -0.25, expected a number in \[0, 1\]/],
      [tf.tensor2d([[NaN, 0.5]]), /invalid inputs\[0\]: got NaN/],
      [tf.tensor2d([[0.2, 1.5]]), /invalid inputs\[1\]: got 1.5/],
      [tf.tensor1d([0.5]), /invalid inputs: got tensor of shape \[1\].*rank >= 2/],
    ];
    for (const [x, re] of cases) {
      rejects(() => enc.encode(x), re);
      rejects(() => enc.stream(x), re);
      x.dispose();
    }
  });

  it('refrac must be >= 0 and, with compensation, shorter than the mean interval at the maximum rate', () => {
    rejects(() => new HomogeneousPoissonEncoder({ ...base, refrac: -1 }), /invalid refrac: got -1/);
    rejects(() => new HomogeneousPoissonEncoder({ ...base, refrac: 10 }), /invalid refrac: got 10, expected < 1000\/frequency = 10 ms/);
    expect(() => new HomogeneousPoissonEncoder({ ...base, refrac: 10, compensate: false })).not.toThrow();
  });

  it('refrac < dt with a huge frequency: refused before drawing instead of one interval draw per event (unbounded time)', () => {
    // refrac 0, f = 2e10 Hz, 10 steps of 1 ms: 2e10·1e-3·10 = 2e8 expected events (interval draws) for one input
    const rng = new Rng(4);
    const enc = new HomogeneousPoissonEncoder({ steps: 10, dt: 1, frequency: 2e10, refrac: 0, rng });
    const state = JSON.stringify(rng.getState());
    rejects(() => enc.encodeArray([1]), /invalid frequency: got 20000000000, expected .*at most 1e\+8 interval draws in all \(here 2\.00e\+8: with refrac = 0 ms < dt/);
    expect(JSON.stringify(rng.getState())).toBe(state);
    // a hundredth of the intensity (2e6 draws) is accepted, and every step spikes (p = 1 − e^{−2e5})
    expect(Array.from(enc.encodeArray([0.01]))).toEqual(new Array(10).fill(1));
  });

  it('expectedRate / expectedInterval take a finite rate >= 0 (no silent 0 or NaN for a bad one)', () => {
    const hom = new HomogeneousPoissonEncoder({ ...base, refrac: 2, compensate: false });
    const itv = new PoissonIntervalEncoder(base);
    for (const f of [-5, NaN, Infinity]) {
      rejects(() => hom.expectedRate(f), new RegExp(`invalid f: got ${f}, expected a finite number >= 0`));
      rejects(() => itv.expectedInterval(f), new RegExp(`invalid f: got ${f}, expected a finite number >= 0`));
    }
    // closed forms: f/(1 + f·refrac/1000) and m + e^{−m}, m = 1000/(f·dt); f = 0 never spikes
    expect(hom.expectedRate(50)).toBeCloseTo(50 / 1.1, 12);
    expect(hom.expectedRate(0)).toBe(0);
    expect(itv.expectedInterval(0)).toBe(Infinity);
  });

  it('rng must be an Rng', () => {
    rejects(() => new PoissonApproxEncoder({ ...base, rng: 42 as unknown as Rng }), /invalid rng: got 42/);
  });

  it('chunk must be an integer >= 1', () => {
    const x = tf.fill([1, 2], 0.5);
    rejects(() => new PoissonApproxEncoder(base).stream(x, { chunk: 0 }), /invalid chunk: got 0/);
    x.dispose();
  });

  it('inhomogeneous rates must be finite, >= 0, and the table rank >= 3', () => {
    const enc = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(1) });
    const neg = tf.tensor3d([[[10, -3]]]);
    rejects(() => enc.encode(neg), /invalid rates\[0\]\[1\]: got -3, expected a finite rate >= 0/);
    const nan = tf.tensor3d([[[10, 5]], [[NaN, 1]]]);
    rejects(() => enc.encode(nan), /invalid rates\[1\]\[0\]: got NaN/);
    const flat = tf.tensor2d([[1, 2]]);
    rejects(() => enc.encode(flat), /invalid rates: got tensor of shape \[1, 2\]/);
    const high = tf.tensor3d([[[2000]]]);
    rejects(() => enc.encode(high), /invalid rates\[0\]\[0\]: got 2000, expected <= 1000\/dt = 1000 Hz/);
    rejects(() => new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(1), method: 'euler' as 'exact' }), /invalid method: got "euler"/);
    tf.dispose([neg, nan, flat, high]);
  });

  it('thinning needs maxRate and rates within it', () => {
    const enc = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(1), method: 'exact' });
    rejects(() => enc.encodeFunction(() => 10, { steps: 10, shape: [1, 2] }), /invalid maxRate: got undefined/);
    rejects(() => enc.encodeFunction((t) => (t > 5 ? 500 : 10), { steps: 1000, shape: [1, 2], maxRate: 100 }), /invalid rate\(t=.*, index=0\): got 500, expected a rate in \[0, maxRate = 100\]/);
    rejects(() => enc.encodeFunction(() => 10, { steps: 10, shape: [] }), /invalid shape/);
  });

  it('spike generator times must be finite and >= 0, and the shape must match', () => {
    rejects(() => new SpikeGenerator({ steps: 10, dt: 1, times: [[1, -2]] }), /invalid times\[0\]\[1\]: got -2, expected a finite time >= 0/);
    rejects(() => new SpikeGenerator({ steps: 10, dt: 1, times: [[NaN]] }), /invalid times\[0\]\[0\]: got NaN/);
    rejects(() => new SpikeGenerator({ steps: 10, dt: 1, times: [[1], [2]], shape: [1, 3] }), /invalid shape: got \[1,3\], expected a shape with 2 elements/);
    rejects(() => new SpikeGenerator({ steps: 10, dt: 1, times: 'x' as unknown as number[][] }), /invalid times/);
  });
});

describe('option objects and flags are refused with CinderArgumentError (not a TypeError)', () => {
  it('null options of stream/encodeFunction/streamFunction, a null encodeArray input, a non-boolean compensate', () => {
    const x = tf.fill([1, 2], 0.5);
    const table = tf.fill([3, 1, 2], 10);
    const hom = new HomogeneousPoissonEncoder(base);
    const inh = new InhomogeneousPoissonEncoder({ dt: 1, rng: new Rng(1) });
    const gen = new SpikeGenerator({ steps: 3, dt: 1, times: [[0]] });
    const before = tf.memory().numTensors;
    const cases: [() => unknown, RegExp][] = [
      [() => hom.stream(x, null as never), /invalid options: got null, expected an object \{chunk\?\}/],
      [() => inh.stream(table, null as never), /invalid options: got null/],
      [() => inh.encodeFunction(() => 1, null as never), /invalid options: got null, expected an object \{steps, shape/],
      [() => inh.streamFunction(() => 1, null as never), /invalid options: got null/],
      [() => new InhomogeneousPoissonEncoder(null as never), /invalid options: got null, expected an object \{dt, rng/],
      [() => gen.stream(null as never), /invalid options: got null/],
      [() => hom.encodeArray(null as never), /invalid intensities: got null/],
      [() => new HomogeneousPoissonEncoder({ ...base, compensate: 'false' as never }), /invalid compensate: got "false", expected a boolean/],
    ];
    for (const [fn, re] of cases) rejects(fn, re);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, table]);
  });

  it('streamAsync with null options', async () => {
    const x = tf.fill([1, 2], 0.5);
    await expect(new PoissonApproxEncoder(base).streamAsync(x, null as never)).rejects.toThrow(/invalid options: got null/);
    x.dispose();
  });
});

describe('disposed tensors are refused with CinderArgumentError (not tfjs "Tensor is disposed")', () => {
  it('encode/stream inputs, rate tables, and SpikeStream.fromTensor trains', async () => {
    const x = tf.fill([1, 2], 0.5);
    const table = tf.fill([3, 1, 2], 10);
    const train = tf.zeros([3, 1, 2]);
    tf.dispose([x, table, train]);
    const rng = new Rng(8);
    const state = JSON.stringify(rng.getState());
    const hom = new HomogeneousPoissonEncoder({ ...base, rng });
    const inh = new InhomogeneousPoissonEncoder({ dt: 1, rng });
    rejects(() => hom.encode(x), /invalid inputs: got "a disposed tensor", expected a live tensor/);
    rejects(() => hom.stream(x), /invalid inputs: got "a disposed tensor"/);
    rejects(() => inh.encode(table), /invalid rates: got "a disposed tensor", expected a live tensor/);
    rejects(() => SpikeStream.fromTensor(train), /invalid train: got "a disposed tensor", expected a live tensor/);
    await expect(hom.encodeAsync(x)).rejects.toThrow(/invalid inputs: got "a disposed tensor"/);
    await expect(inh.encodeAsync(table)).rejects.toThrow(/invalid rates: got "a disposed tensor"/);
    await expect(SpikeStream.fromTensorAsync(train)).rejects.toThrow(/invalid train: got "a disposed tensor"/);
    expect(JSON.stringify(rng.getState())).toBe(state);
  });
});
