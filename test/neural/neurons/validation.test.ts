import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/core/tf.js';
import { CinderArgumentError } from '../../../src/core/errors.js';
import { AdEx, ALIF, EIF, GLIF2, Izhikevich, LIF, QIF } from '../../../src/neural/neurons/index.js';
import { ExactNeuron } from '../../../src/neural/index.js';

const lif = { restV: -65, resetV: -70, threshV: -50, refracT: 2, tauM: 20 };
const alif = { ...lif, tauAdapt: [20, 100], adaptIncrement: [1, 2] };
const glif2 = { restV: -70, resetVMul: 0.5, resetVAdd: 2, threshV: -50, refracT: 1, tauM: 10, rateAdapt: 0.1, adaptIncrement: 1 };
const qif = { restV: -60, critV: -40, affinity: 0.1, resetV: -65, threshV: -20, refracT: 1, tauM: 10 };
const eif = { restV: -70, rheobaseV: -50, sharpness: 2, resetV: -60, threshV: -30, refracT: 1, tauM: 10 };
const adapt = { tauAdapt: 100, voltageCoupling: 0.1, adaptIncrement: 2 };

/** Asserts a CinderArgumentError whose message matches `re`. */
function rejects(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    const r = fn() as { dispose?: () => void } | undefined;
    r?.dispose?.();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CinderArgumentError);
  expect((err as Error).message).toMatch(re);
}

describe('neuron constructors reject bad parameters (message names the parameter)', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['LIF tauM = 0', () => new LIF(3, 1, { ...lif, tauM: 0 }), /invalid tauM: got 0, expected a finite number > 0/],
    ['LIF negative tauM', () => new LIF(3, 1, { ...lif, tauM: -5 }), /tauM.*-5/],
    ['LIF NaN restV', () => new LIF(3, 1, { ...lif, restV: NaN }), /invalid restV: got NaN/],
    ['LIF threshold <= reset', () => new LIF(3, 1, { ...lif, resetV: -50 }), /invalid resetV: got -50, expected a number < threshV \(-50\)/],
    ['LIF negative refracT', () => new LIF(3, 1, { ...lif, refracT: -1 }), /invalid refracT: got -1, expected a finite number >= 0/],
    ['LIF dt = 0', () => new LIF(3, 0, lif), /invalid dt: got 0/],
    ['LIF NaN dt', () => new LIF(3, NaN, lif), /invalid dt: got NaN/],
    ['LIF bad shape', () => new LIF([2, 0], 1, lif), /invalid shape: got \[2,0\]/],
    ['LIF fractional shape', () => new LIF(2.5, 1, lif), /invalid shape/],
    ['LIF batchSize 0', () => new LIF(3, 1, { ...lif, batchSize: 0 }), /invalid batchSize: got 0, expected an integer >= 1/],
    ['LIF resistance <= 0', () => new LIF(3, 1, { ...lif, resistance: 0 }), /invalid resistance: got 0/],
    ['LIF missing options', () => new LIF(3, 1, undefined as never), /invalid restV: got undefined/],
    ['LIF receptor without name', () => new LIF(3, 1, { ...lif, receptors: [{ name: '', reversal: 0 }] }), /receptors\[0\]\.name/],
    ['LIF duplicate receptor', () => new LIF(3, 1, { ...lif, receptors: [{ name: 'e', reversal: 0 }, { name: 'e', reversal: -80 }] }), /receptors\[1\]\.name/],
    ['LIF NaN reversal', () => new LIF(3, 1, { ...lif, receptors: [{ name: 'e', reversal: NaN }] }), /receptors\[0\]\.reversal: got NaN/],
    ['ALIF tauAdapt entry <= 0', () => new ALIF(3, 1, { ...alif, tauAdapt: [20, 0] }), /invalid tauAdapt\[1\]: got 0/],
    ['ALIF increment count mismatch', () => new ALIF(3, 1, { ...alif, adaptIncrement: [1, 2, 3] }), /invalid adaptIncrement.*array of 2 numbers/],
    ['ALIF empty tauAdapt', () => new ALIF(3, 1, { ...alif, tauAdapt: [] }), /invalid tauAdapt: got \[\]/],
    ['ALIF NaN increment', () => new ALIF(3, 1, { ...alif, adaptIncrement: [1, NaN] }), /invalid adaptIncrement\[1\]: got NaN/],
    ['ALIF bad batchReduction', () => new ALIF(3, 1, { ...alif, batchReduction: 'median' as never }), /invalid batchReduction: got "median", expected one of "mean", "sum", "max", "none"/],
    ['GLIF2 reset from threshold not below it', () => new GLIF2(3, 1, { ...glif2, resetVMul: 1, resetVAdd: -1 }), /resetVMul\/resetVAdd/],
    ['GLIF2 rateAdapt <= 0', () => new GLIF2(3, 1, { ...glif2, rateAdapt: -0.1 }), /invalid rateAdapt\[0\]: got -0.1/],
    ['GLIF2 NaN resetVMul', () => new GLIF2(3, 1, { ...glif2, resetVMul: NaN }), /invalid resetVMul: got NaN/],
    ['QIF critV above threshold', () => new QIF(3, 1, { ...qif, critV: -10 }), /invalid critV: got -10, expected a number <= threshV \(-20\)/],
    ['QIF rest above critV', () => new QIF(3, 1, { ...qif, restV: -30 }), /invalid restV: got -30, expected a number < critV/],
    ['QIF affinity <= 0', () => new QIF(3, 1, { ...qif, affinity: 0 }), /invalid affinity: got 0/],
    ['EIF sharpness <= 0', () => new EIF(3, 1, { ...eif, sharpness: 0 }), /invalid sharpness: got 0/],
    ['EIF rheobase above threshold', () => new EIF(3, 1, { ...eif, rheobaseV: -20 }), /invalid rheobaseV: got -20/],
    ['AdEx tauAdapt <= 0', () => new AdEx(3, 1, { ...eif, ...adapt, tauAdapt: 0 }), /invalid tauAdapt\[0\]: got 0/],
    ['AdEx coupling count mismatch', () => new AdEx(3, 1, { ...eif, ...adapt, tauAdapt: [10, 20], voltageCoupling: [1, 2, 3] }), /invalid voltageCoupling/],
    ['Izhikevich NaN increment', () => new Izhikevich(3, 1, { ...qif, ...adapt, adaptIncrement: NaN }), /invalid adaptIncrement\[0\]: got NaN/],
    ['Izhikevich tauM <= 0', () => new Izhikevich(3, 1, { ...qif, ...adapt, tauM: 0 }), /invalid tauM: got 0/],
    ['ExactNeuron rest >= threshold', () => new ExactNeuron(3, 1, { restV: -50, threshV: -50 }), /invalid restV: got -50, expected a number < threshV/],
    ['ExactNeuron dt < 0', () => new ExactNeuron(3, -1, { restV: -60, threshV: -50 }), /invalid dt: got -1/],
    // beyond float32 range: restV -1e39 was uploaded as -Infinity (voltage NaN from the first step),
    // threshV 1e39 as Infinity (never fires), refracT 1e39 as Infinity (refractory for ever after a spike)
    ['LIF restV beyond float32', () => new LIF(3, 1, { ...lif, restV: -1e39 }), /invalid restV: got -1e\+39, expected a number of magnitude <= 3\.4028234663852886e\+38/],
    ['LIF threshV beyond float32', () => new LIF(3, 1, { ...lif, threshV: 1e39 }), /invalid threshV: got 1e\+39, expected a number of magnitude <= 3\.4028/],
    ['LIF refracT beyond float32', () => new LIF(3, 1, { ...lif, refracT: 1e39 }), /invalid refracT: got 1e\+39, expected a number of magnitude <= 3\.4028/],
    ['ALIF adaptIncrement beyond float32', () => new ALIF(3, 1, { ...alif, adaptIncrement: [1, -1e39] }), /invalid adaptIncrement\[1\]: got -1e\+39, expected a number of magnitude <= 3\.4028/],
    ['AdEx voltageCoupling beyond float32', () => new AdEx(3, 1, { ...eif, ...adapt, voltageCoupling: 4e38 }), /invalid voltageCoupling\[0\]: got 4e\+38/],
    // GLIF2 reset parameters beyond float32: resetVAdd 1e39 reset the voltage to -Infinity, resetVMul -1e39 to NaN
    ['GLIF2 resetVAdd beyond float32', () => new GLIF2(3, 1, { ...glif2, resetVAdd: 1e39 }), /invalid resetVAdd: got 1e\+39, expected a number of magnitude <= 3\.4028/],
    ['GLIF2 resetVMul beyond float32', () => new GLIF2(3, 1, { ...glif2, resetVMul: -1e39 }), /invalid resetVMul: got -1e\+39, expected a number of magnitude <= 3\.4028/],
    ['GLIF2 reset offset beyond float32', () => new GLIF2(3, 1, { ...glif2, resetVMul: -3e38 }), /invalid resetVMul\/resetVAdd: got \[-3e\+38,2\], expected a reset offset restV·\(1 − resetVMul\) − resetVAdd of magnitude <= 3\.4028/],
    // finite parameters whose uploaded constants overflow float32: NaN voltage from the first step
    ['LIF resistance beyond float32', () => new LIF(3, 1, { ...lif, resistance: 1e40 }), /invalid resistance: got 1e\+40, expected a number of magnitude <= 3\.4028/],
    ['EIF sharpness whose reciprocal overflows', () => new EIF(3, 1, { ...eif, sharpness: 1e-39 }), /invalid sharpness: got 1e-39, expected a value for which 1\/sharpness = 1\.0+1e\+39 lies within float32 range/],
    ['QIF affinity·dt/tauM overflows', () => new QIF(3, 2, { ...qif, affinity: 3e38, tauM: 1 }), /invalid affinity: got 3e\+38, expected a value for which affinity·dt\/tauM = 6e\+38 lies within float32 range/],
    ['AdEx (dt/tauAdapt)·voltageCoupling overflows', () => new AdEx(3, 1, { ...eif, ...adapt, tauAdapt: 0.5, voltageCoupling: 3e38 }), /invalid voltageCoupling\[0\]: got 3e\+38, expected a value for which \(dt\/tauAdapt\[0\]\)·voltageCoupling\[0\] = 6e\+38 lies within float32 range/],
    // resetV < threshV in float64 but equal in float32: the neuron would sit at its threshold after every spike
    ['LIF resetV equal to threshV in float32', () => new LIF(3, 1, { ...lif, restV: 0, resetV: 1, threshV: 1 + 1e-12 }), /invalid resetV: got 1, expected a number < threshV \(1\.000000000001\) after rounding both to float32/],
    ['ExactNeuron restV equal to threshV in float32', () => new ExactNeuron(3, 1, { restV: -50 - 1e-9, threshV: -50 }), /invalid restV: got -50\.000000001, expected a number < threshV \(-50\) after rounding both to float32/],
  ];
  for (const [name, fn, re] of cases) it(name, () => rejects(fn, re));

  it('leaves no tensors behind when a constructor throws', () => {
    const before = tf.memory().numTensors;
    for (const [, fn] of cases) {
      try {
        fn();
      } catch {
        // expected
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('batchSize setter rejects non-integers', () => {
    const n = new LIF(3, 1, lif);
    rejects(() => {
      n.batchSize = 1.5;
    }, /invalid batchSize: got 1.5/);
    n.dispose();
  });
});

describe('neuron forward rejects bad input', () => {
  const n = new LIF([2, 3], 1, { ...lif, batchSize: 2, receptors: [{ name: 'e', reversal: 0 }] });
  it('wrong neuron shape', () => {
    const x = tf.zeros([2, 3, 2]);
    rejects(() => n.forward(x), /invalid input: got tensor of shape \[2, 3, 2\].*expected shape \[2, 2, 3\]/);
    x.dispose();
  });
  it('mismatched batch size', () => {
    const x = tf.zeros([1, 2, 3]);
    rejects(() => n.forward(x), /invalid input: got tensor of shape \[1, 2, 3\]/);
    x.dispose();
  });
  it('missing batch dimension', () => {
    const x = tf.zeros([2, 3]);
    rejects(() => n.forward(x), /invalid input.*expected shape \[2, 2, 3\]/);
    x.dispose();
  });
  it('int32 input', () => {
    const x = tf.zeros([2, 2, 3], 'int32');
    rejects(() => n.forward(x), /invalid input dtype: got "int32", expected "float32"/);
    x.dispose();
  });
  it('wrong current shape inside NeuronInput', () => {
    const x = tf.zeros([2, 3]);
    rejects(() => n.forward({ current: x }), /invalid input\.current/);
    x.dispose();
  });
  it('conductance list of the wrong length', () => {
    const g = tf.zeros([2, 2, 3]);
    rejects(() => n.forward({ conductances: [g, g] }), /invalid input\.conductances.*one entry per receptor \(1\)/);
    g.dispose();
  });
  it('conductance of the wrong shape', () => {
    const g = tf.zeros([2, 6]);
    rejects(() => n.forward({ conductances: [g] }), /invalid input\.conductances\[0\]/);
    g.dispose();
  });
  it('non-tensor input', () => {
    rejects(() => n.forward(3 as never), /invalid input: got 3/);
  });
  it('ExactNeuron override of the wrong size', () => {
    const e = new ExactNeuron(3, 1, { restV: -60, threshV: -50 });
    const x = tf.zeros([1, 3]);
    const o = tf.zeros([4]);
    rejects(() => e.forward(x, { override: o }), /invalid override: got tensor of shape \[4\].*3 elements/);
    [x, o].forEach((t) => t.dispose());
    e.dispose();
  });
  it('a disposed input tensor (current, NeuronInput, conductance, ExactNeuron input/override) is refused in house form, state unchanged', () => {
    // each reached tfjs and failed with a bare TypeError ("Cannot read properties of undefined (reading 'backend')")
    const gone = (shape: number[], dtype: 'float32' | 'bool' = 'float32'): tf.Tensor => {
      const t = tf.zeros(shape, dtype);
      t.dispose();
      return t;
    };
    const m = new ALIF(2, 1, { ...alif, batchSize: 1, receptors: [{ name: 'e', reversal: 0 }] });
    const v0 = Array.from(m.voltage.dataSync());
    rejects(() => m.forward(gone([1, 2])), /invalid input: got "a disposed tensor", expected a live float32 tensor of shape \[1, 2\]/);
    rejects(() => m.forward({ current: gone([1, 2]) }), /invalid input\.current: got "a disposed tensor"/);
    rejects(() => m.forward({ conductances: [gone([1, 2])] }), /invalid input\.conductances\[0\]: got "a disposed tensor"/);
    expect(Array.from(m.voltage.dataSync())).toEqual(v0);
    m.dispose();
    const e = new ExactNeuron(2, 1, { restV: -60, threshV: -50 });
    const x = tf.ones([1, 2]);
    rejects(() => e.forward(gone([1, 2])), /invalid input: got "a disposed tensor"/);
    rejects(() => e.forward(x, { override: gone([2], 'bool') }), /invalid override: got "a disposed tensor", expected a live tensor with 2 elements/);
    expect(Array.from(e.spike.dataSync())).toEqual([0, 0]);
    x.dispose();
    e.dispose();
  });
  it('ExactNeuron: a string override is refused in house form (was tfjs\'s bare "Can not upcast string with float32")', () => {
    const e = new ExactNeuron(2, 1, { restV: -60, threshV: -50 });
    const x = tf.ones([1, 2]);
    const o = tf.tensor1d(['a', '']);
    rejects(() => e.forward(x, { override: o }), /invalid override dtype: got "string", expected one of "bool", "float32", "int32"/);
    expect(Array.from(e.spike.dataSync())).toEqual([0, 0]);
    [x, o].forEach((t) => t.dispose());
    e.dispose();
  });
  it('ExactNeuron: a misspelt or non-boolean option is refused, not ignored (state unchanged)', () => {
    const e = new ExactNeuron(3, 1, { restV: -60, threshV: -50 });
    const x = tf.tensor2d([[1, 0, 1]]);
    const o = tf.tensor1d([0, 1, 0]);
    // `overide` was silently dropped: the step then fired from the input ([1, 0, 1]) instead of the override
    rejects(() => e.forward(x, { overide: o } as never), /invalid options key: got "overide", expected one of "override", "refracLock", "adapt"/);
    rejects(() => e.forward(x, { refracLock: 'no' } as never), /invalid options\.refracLock: got "no", expected a boolean/);
    rejects(() => e.forward(x, null as never), /invalid options: got null/);
    expect(Array.from(e.spike.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(e.voltage.dataSync())).toEqual([-60, -60, -60]);
    const s = e.forward(x, { override: o, refracLock: true, adapt: false });
    expect(Array.from(s.dataSync())).toEqual([0, 1, 0]);
    [x, o, s].forEach((t) => t.dispose());
    e.dispose();
  });
});

describe('NeuronGroup.clear options', () => {
  it('a misspelt or non-boolean keepAdaptations is refused before anything is reset', () => {
    const n = new ALIF(1, 1, { ...alif, refracT: 0, threshV: -60 });
    n.train();
    const x = tf.fill([1, 1], 1000);
    n.forward(x).dispose();
    const theta = Array.from(n.adaptation.dataSync());
    const v = Array.from(n.voltage.dataSync());
    expect(theta).toEqual([1, 2]); // one spike: θ_k = d_k
    // `keepAdaptation` (no s) used to be ignored: clear() reset the voltage and kept θ
    rejects(() => n.clear({ keepAdaptation: false } as never), /invalid clear options key: got "keepAdaptation", expected "keepAdaptations"/);
    rejects(() => n.clear({ keepAdaptations: 0 } as never), /invalid clear options\.keepAdaptations: got 0, expected a boolean/);
    rejects(() => n.clear(null as never), /invalid clear options: got null/);
    expect(Array.from(n.adaptation.dataSync())).toEqual(theta);
    expect(Array.from(n.voltage.dataSync())).toEqual(v);
    n.clear({ keepAdaptations: false });
    expect(Array.from(n.adaptation.dataSync())).toEqual([0, 0]);
    x.dispose();
    n.dispose();
  });
});
