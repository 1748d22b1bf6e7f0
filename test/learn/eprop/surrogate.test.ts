import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { SURROGATE_NAMES, checkSurrogate, surrogateFunction, surrogateTensorFunction, surrogateValue } from '../../../src/learn/eprop/index.js';

const h = 0.5;
const w = 0.6;
const ds = [-1.5, -0.6, -0.3, 0, 0.12, 0.3, 0.6, 2];
const closed: Record<string, (d: number) => number> = {
  piecewise_linear: (d) => h * Math.max(0, 1 - Math.abs(d) / w),
  exponential: (d) => h * Math.exp(-Math.abs(d) / w),
  fast_sigmoid: (d) => h * (1 + Math.abs(d) / w) ** -2,
  arctan: (d) => h / (1 + (d / w) ** 2),
};

describe('surrogate gradients ψ', () => {
  it('piecewise-linear at the task settings: ψ = 0.5·max(0, 1 − |v − A|/0.6)', () => {
    const s = { name: 'piecewise_linear' as const, height: 0.3 / 0.6, width: 0.6 };
    expect(surrogateValue(s, 0)).toBeCloseTo(0.5, 12);
    expect(surrogateValue(s, 0.3)).toBeCloseTo(0.25, 12);
    expect(surrogateValue(s, -0.45)).toBeCloseTo(0.125, 12);
    expect(surrogateValue(s, 0.6)).toBe(0);
    expect(surrogateValue(s, -5)).toBe(0);
  });
  for (const name of SURROGATE_NAMES) {
    it(`${name}: JS scalar, JS kernel function and tfjs agree with the closed form`, () => {
      const s = { name, height: h, width: w };
      const f = surrogateFunction(s);
      const tfs = surrogateTensorFunction(s);
      const got = tf.tidy(() => tfs.psi(tf.tensor1d(ds)).dataSync());
      tfs.dispose();
      ds.forEach((d, i) => {
        const e = closed[name]!(d);
        expect(surrogateValue(s, d)).toBeCloseTo(e, 12);
        expect(f(d)).toBeCloseTo(e, 12);
        expect(got[i]).toBeCloseTo(e, 6);
      });
    });
  }
  it('rejects unknown names and non-positive height/width', () => {
    expect(() => checkSurrogate({ name: 'relu' as never, height: 1, width: 1 })).toThrow(/surrogate/);
    expect(() => checkSurrogate({ name: 'arctan', height: 0, width: 1 })).toThrow(/surrogateHeight/);
    expect(() => checkSurrogate({ name: 'arctan', height: 1, width: -1 })).toThrow(/surrogateWidth/);
  });
});
