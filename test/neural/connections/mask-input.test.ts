// MaskedLinear masks: a NaN entry is neither an edge nor a non-edge; every mask form refuses it by name
// before anything is allocated (the tensor form used to read NaN as an edge, the nested array as none).
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { MaskedLinear, maskTensor } from '../../../src/neural/connections/index.js';

describe('mask inputs with NaN', () => {
  it.each([
    ['tensor', () => tf.tensor([[NaN, 1], [0, 1]])],
    ['nested array', () => [[NaN, 1], [0, 1]]],
  ])('%s: refused with the house error, no tensors left behind', (_name, make) => {
    const mask = make();
    const before = tf.memory().numTensors;
    expect(() => new MaskedLinear([2], [2], 1, { mask: mask as never })).toThrow(CinderArgumentError);
    expect(() => new MaskedLinear([2], [2], 1, { mask: mask as never })).toThrow(/invalid mask: got .*NaN/);
    expect(tf.memory().numTensors).toBe(before);
    if (mask instanceof tf.Tensor) mask.dispose();
  });

  it('finite masks still convert: non-zero / true = edge (tensor and array agree)', () => {
    const a = maskTensor(tf.tensor([[2, 0], [-1, 0.5]]), 2, 2);
    const b = maskTensor([[true, false], [1, 3]], 2, 2);
    expect(Array.from(a.dataSync())).toEqual([1, 0, 1, 1]);
    expect(Array.from(b.dataSync())).toEqual([1, 0, 1, 1]);
    tf.dispose([a, b]);
  });

  it('a nested-array entry that is neither a number nor a boolean is refused by position (\'x\' was an edge, null none)', () => {
    const before = tf.memory().numTensors;
    expect(() => new MaskedLinear([2], [2], 1, { mask: [[1, 'x'], [0, 1]] as never })).toThrow(/^invalid mask\[0\]\[1\]: got "x", expected a number or boolean/);
    expect(() => maskTensor([[1, 0], [null, 1]] as never, 2, 2)).toThrow(/^invalid mask\[1\]\[0\]: got null, expected a number or boolean/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
