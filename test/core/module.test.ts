import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Module } from '../../src/core/module.js';
import type { State, Parameter } from '../../src/core/state.js';

class Counter extends Module {
  readonly count: State;
  readonly gain: Parameter;
  constructor(readonly n: number) {
    super();
    this.count = this.addState('count', () => tf.zeros([1, n]));
    this.gain = this.addParameter('gain', tf.fill([n], 2));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const next = tf.add(this.count.value, tf.mul(x, this.gain.value));
      this.count.assign(next);
      return next.clone();
    });
  }
}

class Pair extends Module {
  readonly a = this.addModule('a', new Counter(3));
  readonly b = this.addModule('b', new Counter(2));
}

describe('Module', () => {
  it('names parameters and states by dotted path', () => {
    const p = new Pair();
    expect(p.namedParameters().map(([n]) => n)).toEqual(['a.gain', 'b.gain']);
    expect(p.namedStates().map(([n]) => n)).toEqual(['a.count', 'b.count']);
    p.dispose();
  });

  it('assigns state inside tidy without leaking and clears to the init value', () => {
    const c = new Counter(3);
    const x = tf.ones([1, 3]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) c.forward(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(c.count.value.dataSync())).toEqual([400, 400, 400]);
    c.clear();
    expect(Array.from(c.count.value.dataSync())).toEqual([0, 0, 0]);
    x.dispose();
    c.dispose();
  });

  it('propagates train/eval mode to children', () => {
    const p = new Pair();
    expect(p.a.training).toBe(true);
    p.eval();
    expect(p.training).toBe(false);
    expect(p.b.training).toBe(false);
    p.train();
    expect(p.a.training).toBe(true);
    p.dispose();
  });

  it('rejects a state assignment of the wrong shape, naming the state', () => {
    const c = new Counter(3);
    const bad = tf.zeros([2, 3]);
    expect(() => c.count.assign(bad)).toThrow(/state "count".*\[2, 3\].*expected shape \[1, 3\]/);
    bad.dispose();
    c.dispose();
  });

  it('rejects duplicate and malformed names', () => {
    class Dup extends Module {
      constructor() {
        super();
        this.addState('x', () => tf.zeros([1]));
        this.addState('x', () => tf.zeros([1]));
      }
    }
    class Bad extends Module {
      constructor() {
        super();
        this.addState('a.b', () => tf.zeros([1]));
      }
    }
    expect(() => new Dup()).toThrow(/invalid name: got "x"/);
    expect(() => new Bad()).toThrow(/invalid name: got "a.b"/);
  });

  it('frees every tensor on dispose', () => {
    const before = tf.memory().numTensors;
    const p = new Pair();
    expect(tf.memory().numTensors).toBe(before + 4);
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
