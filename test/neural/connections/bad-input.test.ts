// Invalid connection arguments throw CinderArgumentError naming the parameter.
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/random.js';
import { Conv2D, LinearDense, LinearDirect, LinearLateral, MaskedLinear, constantInit, edgeListMask, gaussianMask, normalInit, radiusMask, uniformInit } from '../../../src/neural/connections/index.js';

describe('connection validation', () => {
  it.each([
    ['negative maxDelay', () => new LinearDense([2], [2], 1, { maxDelay: -1 }), /maxDelay.*>= 0/],
    ['maxDelay not a multiple of dt', () => new LinearDense([2], [2], 0.4, { maxDelay: 1 }), /maxDelay.*multiple of dt/],
    ['NaN maxDelay', () => new LinearDirect([2], 1, { maxDelay: NaN }), /maxDelay/],
    ['zero dt', () => new LinearDense([2], [2], 0), /dt/],
    ['bad inShape', () => new LinearDense([2, 0], [2], 1), /inShape/],
    ['bad outShape', () => new LinearDense([2], [-1], 1), /outShape/],
    ['batch 0', () => new LinearDense([2], [2], 1, { batchSize: 0 }), /batchSize/],
    // a truthy non-boolean added a bias (bias: 'no' gave one)
    ['bias not a boolean', () => new LinearDense([2], [2], 1, { bias: 'no' as never }), /invalid bias: got "no", expected a boolean/],
    ['bias 1 on LinearDirect', () => new LinearDirect([2], 1, { bias: 1 as never }), /invalid bias: got 1, expected a boolean/],
    ['initialiser of the wrong shape', () => new LinearDense([2], [3], 1, { weightInit: () => tf.zeros([2, 3]) }), /weightInit.*\[3, 2\]/],
    ['delayInit without maxDelay', () => new LinearDense([2], [3], 1, { delayInit: constantInit(0) }), /delayInit/],
    ['synapse that is not a factory', () => new LinearDense([2], [2], 1, { synapse: 3 as never }), /synapse/],
    ['mask of the wrong shape', () => new MaskedLinear([3], [2], 1, { mask: [[1, 0], [0, 1]] }), /mask.*\[2, 3\]/],
    ['missing mask', () => new MaskedLinear([3], [2], 1, {} as never), /mask/],
    ['edge out of range', () => edgeListMask(2, 3, [[0, 3]]), /pre.*\[0, 2\]/],
    ['mask on LinearLateral', () => new LinearLateral([3], 1, { mask: [[1]] } as never), /mask/],
    ['Conv2D with delays', () => new Conv2D([4, 4, 1], 2, 2, 1, { maxDelay: 1 }), /maxDelay.*no delays/],
    ['Conv2D kernel larger than the input', () => new Conv2D([2, 2, 1], 1, 3, 1), /kernel/],
    ['Conv2D 2-D input', () => new Conv2D([4, 4], 1, 3, 1), /inShape.*\[H, W, C\]/],
    ['Conv2D stride and dilation', () => new Conv2D([8, 8, 1], 1, 2, 1, { stride: 2, dilation: 2 }), /dilation/],
    ['uniformInit hi <= lo', () => uniformInit(new Rng(0), 1, 1), /hi/],
    ['normalInit negative std', () => normalInit(new Rng(0), 0, -1), /std/],
    ['radius NaN', () => radiusMask([3, 3], [3, 3], NaN), /radius/],
    ['gaussian sigma 0', () => gaussianMask([3, 3], [3, 3], 0, new Rng(0)), /sigma/],
    ['gaussian peak > 1', () => gaussianMask([3, 3], [3, 3], 1, new Rng(0), { peak: 2 }), /peak/],
    ['3-D grid', () => radiusMask([3, 3, 3], [3, 3], 1), /inGrid/],
    // a missing grid was a TypeError (reading [0] of null)
    ['null grid', () => radiusMask(null as never, [3, 3], 1), /invalid inGrid: got null/],
    ['gaussian null grid', () => gaussianMask([3, 3], null as never, 1, new Rng(0)), /invalid outGrid: got null/],
    // two grids each within the limit whose mask [O, I] is not (2^40 entries): was a RangeError from the Uint8Array
    ['mask too large', () => radiusMask([1024, 1024], [1024, 1024], 1), /invalid outGrid: got "1099511627776 elements for a mask \[1048576, 1048576\]/],
    ['edge-list mask too large', () => edgeListMask(1 << 20, 1 << 20, []), /invalid outCount: got "1099511627776 elements for a mask \[1048576, 1048576\]/],
    ['gaussian mask too large', () => gaussianMask([1024, 1024], [1024, 1024], 1, new Rng(0)), /invalid outGrid: got "1099511627776 elements/],
  ])('%s', (_name, f, re) => {
    expect(f).toThrow(CinderArgumentError);
    expect(f).toThrow(re);
  });

  it('a constructor that throws leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    expect(() => new LinearDense([2], [3], 1, { bias: true, biasInit: () => tf.zeros([2]) })).toThrow(/biasInit/);
    expect(() => new MaskedLinear([3], [2], 1, { mask: { edges: [[5, 0]] } })).toThrow(/post/);
    expect(() => new LinearDirect([2], 1, { delayInit: constantInit(1) })).toThrow(/delayInit/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects wrong inputs and parameter assignments at run time', () => {
    const conn = new LinearDense([3], [2], 1, { batchSize: 2, maxDelay: 2 });
    expect(() => tf.tidy(() => conn.forward(tf.zeros([2, 4])))).toThrow(/spikes.*shape \[2, 3\]/);
    expect(() => tf.tidy(() => conn.forward(tf.zeros([3, 3])))).toThrow(/spikes.*batch 2/);
    expect(() => { conn.weight = tf.zeros([3, 2]); }).toThrow(/weight.*\[2, 3\]/);
    expect(() => { conn.weight = 'w' as never; }).toThrow(/weight/);
    expect(() => { conn.bias = tf.zeros([2]); }).toThrow(/bias.*bias: false/);
    expect(() => { conn.delay = tf.tensor([[0, 1, -1], [0, 0, 0]]); }).toThrow(/delay.*\[0, 2\]/);
    expect(() => { conn.delay = tf.tensor([[0, 1, 3], [0, 0, 0]]); }).toThrow(/delay.*\[0, 2\]/);
    expect(() => { conn.delay = tf.tensor([[0, NaN, 1], [0, 0, 0]]); }).toThrow(/delay/);
    expect(() => tf.tidy(() => conn.postsynReceptive(tf.zeros([2, 3])))).toThrow(/y.*\[B, 2\]/);
    expect(() => tf.tidy(() => conn.presynReceptive(tf.zeros([2, 5])))).toThrow(/x/);
    const plain = new LinearDense([3], [2], 1);
    expect(() => { plain.delay = tf.zeros([2, 3]); }).toThrow(/delay.*maxDelay/);
    expect(() => plain.updater.add('delay', tf.zeros([2, 3]))).toThrow(/parameter.*weight/);
    conn.dispose();
    plain.dispose();
  });
});
