import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { Parameter } from '../../../src/core/state.js';
import { Updater } from '../../../src/neural/updater.js';

function make(values: number[]) {
  const p = new Parameter('weight', tf.tensor1d(values));
  const applied: string[] = [];
  const u = new Updater({ weight: p }, (n) => applied.push(n));
  return { p, u, applied, read: () => Array.from(p.value.dataSync()) };
}

describe('Updater', () => {
  it('sums several trainer calls and applies them once: P + Σpos − Σneg', () => {
    const { u, read, applied, p } = make([1, 2]);
    tf.tidy(() => {
      u.add('weight', tf.tensor1d([0.5, 0.25]), tf.tensor1d([0.125, 0]));
      u.add('weight', tf.tensor1d([0.25, 0.25]), null);
      u.add('weight', null, tf.tensor1d([0.5, 1]));
    });
    expect(read()).toEqual([1, 2]);
    u.apply();
    expect(read()).toEqual([1 + 0.75 - 0.625, 2 + 0.5 - 1]);
    expect(applied).toEqual(['weight']);
    p.dispose();
  });

  it('always clears on apply (a second apply changes nothing)', () => {
    const { u, read, applied, p } = make([0]);
    tf.tidy(() => u.add('weight', tf.tensor1d([1]), null));
    u.apply();
    u.apply();
    expect(read()).toEqual([1]);
    expect(applied).toEqual(['weight']);
    expect(u.accumulator('weight').empty).toBe(true);
    p.dispose();
  });

  it('clear() drops pending parts; post-update hooks run after a change only', () => {
    const { u, read, p } = make([0]);
    let calls = 0;
    const off = u.onUpdate(() => calls++);
    tf.tidy(() => u.add('weight', tf.tensor1d([1]), null));
    u.clear();
    u.apply();
    expect(read()).toEqual([0]);
    expect(calls).toBe(0);
    tf.tidy(() => u.add('weight', tf.tensor1d([1]), null));
    u.apply();
    expect(calls).toBe(1);
    off();
    tf.tidy(() => u.add('weight', tf.tensor1d([1]), null));
    u.apply();
    expect(calls).toBe(1);
    p.dispose();
  });

  it('leaks no tensors and names unknown parameters', () => {
    const { u, p } = make([0, 0, 0]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      tf.tidy(() => u.add('weight', tf.ones([3]), tf.ones([3])));
      u.apply();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => u.add('bias', null, null)).toThrow(/bias/);
    expect(() => u.onUpdate(3 as never)).toThrow(/fn/);
    expect(u.names).toEqual(['weight']);
    p.dispose();
  });
});
