import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { backendInfo, initBackend } from '../../src/core/backend.js';
import { Rng } from '../../src/core/random.js';
import {
  checkFinite, checkInteger, checkNonNegative, checkOneOf, checkPositive, checkRange, checkShape, checkTensorShape,
} from '../../src/core/errors.js';

describe('backend', () => {
  it('reports the backend it chose, honouring CINDER_BACKEND', async () => {
    const info = backendInfo()!;
    expect(info).not.toBeNull();
    expect(info.name).toBe(tf.getBackend());
    const env = process.env.CINDER_BACKEND;
    if (env) {
      expect(info.name).toBe(env);
      expect(info.requestedBy).toBe('CINDER_BACKEND');
    } else {
      expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
      // auto order: tensorflow is only skipped with a recorded reason
      if (info.name !== 'tensorflow') expect(info.skipped.some((s) => s.name.startsWith('tensorflow'))).toBe(true);
    }
  });

  it('rejects an unknown backend name, naming the parameter', async () => {
    await expect(initBackend({ backend: 'webgl' })).rejects.toThrow(/invalid backend: got "webgl", expected one of auto, tensorflow, webgpu, wasm, cpu/);
  });
});

describe('Rng', () => {
  it('is reproducible per seed and differs across seeds', () => {
    const a = new Rng(7).uniformArray(100);
    const b = new Rng(7).uniformArray(100);
    const c = new Rng(8).uniformArray(100);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('has the right moments (mean within 4 standard errors over 1e5 samples)', () => {
    const r = new Rng(1);
    const n = 100_000;
    let su = 0, sn = 0, sn2 = 0, se = 0, sp = 0;
    for (let i = 0; i < n; i++) {
      su += r.uniform();
      const z = r.normal();
      sn += z;
      sn2 += z * z;
      se += r.exponential(3);
      sp += r.poisson(4.5);
    }
    expect(Math.abs(su / n - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sn / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(se / n - 3)).toBeLessThan(4 * 3 / Math.sqrt(n));
    expect(Math.abs(sp / n - 4.5)).toBeLessThan(4 * Math.sqrt(4.5 / n));
  });

  it('draws large-mean Poisson variates with the right mean and variance', () => {
    const r = new Rng(3);
    const n = 50_000;
    const lam = 120;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const k = r.poisson(lam);
      s += k;
      s2 += k * k;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - lam)).toBeLessThan(4 * Math.sqrt(lam / n));
    expect(Math.abs(variance / lam - 1)).toBeLessThan(0.05);
  });
});

describe('argument checks', () => {
  it('name the parameter, the value and the expectation', () => {
    expect(() => checkPositive('tau', 0)).toThrow('invalid tau: got 0, expected a finite number > 0');
    expect(() => checkPositive('tau', NaN)).toThrow('invalid tau: got NaN, expected a finite number > 0');
    expect(() => checkFinite('v_rest', Infinity)).toThrow(/invalid v_rest: got Infinity/);
    expect(() => checkNonNegative('delay', -1)).toThrow('invalid delay: got -1, expected a finite number >= 0');
    expect(() => checkInteger('steps', 2.5, 1)).toThrow('invalid steps: got 2.5, expected an integer >= 1');
    expect(() => checkRange('p', 1.5, 0, 1)).toThrow('invalid p: got 1.5, expected a number in [0, 1]');
    expect(() => checkOneOf('mode', 'x', ['a', 'b'])).toThrow('invalid mode: got "x", expected one of "a", "b"');
    expect(() => checkShape('shape', [3, 0])).toThrow('invalid shape: got [3,0], expected a non-empty array of positive integers');
    const t = tf.zeros([2, 3]);
    expect(() => checkTensorShape('input', t, [-1, 4])).toThrow('invalid input: got tensor of shape [2, 3] (float32), expected shape [*, 4]');
    t.dispose();
  });
});
