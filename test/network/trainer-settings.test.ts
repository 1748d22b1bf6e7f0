// A trainer's settings (its hyperparameters per cell) are saved with the network and compared on
// load, as neurons' and connections' settings are: a save of an STDP built with τ_pre = 20 used to
// load silently into a network whose STDP was built with τ_pre = 15 (likewise another learning
// rate, trace mode, delayed flag, eligibility τ, weight bound or kernel). Now such a load is
// refused with a CinderArgumentError naming the trainer, the cell, the setting, the saved and the
// built value, before anything changes. Saves written before trainers saved their settings (their
// trainer extras are `{}`) still load: there is nothing to compare.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { SNAPSHOT_SETTINGS, disposeSnapshot } from '../../src/core/snapshot.js';
import { Network, disposeNetworkState, type NetworkState } from '../../src/network/index.js';
import { writeNetworkState } from '../../src/network/files.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { uniformInit } from '../../src/neural/connections/initializers.js';
import { Serial } from '../../src/neural/layers/serial.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { CellTrainer } from '../../src/learn/toolkit/trainer.js';
import * as trainers from '../../src/learn/trainers/index.js';
import { KernelSTDP, MSTDP, MSTDPET, STDP, VoltageSTDP, expStdpPostKernel, expStdpPreKernel, type STDPOptions } from '../../src/learn/trainers/index.js';
import { refusal } from '../helpers/refusal.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-settings-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const B = 2;
const I = 6;
const O = 4;

type AnyTrainer = CellTrainer<object, never> & { step(...a: unknown[]): void };

/** Two layers (both with delays), one trainer on each built by `make`, `overrides` for the second cell. */
function build(make: () => AnyTrainer, overrides: object = {}, seed = 1) {
  const init = new Rng(seed);
  const layer = () =>
    new Serial(
      new LinearDense([I], [O], 1, { batchSize: B, maxDelay: 2, weightInit: uniformInit(init, 0, 1), delayInit: uniformInit(init, 0, 2) }),
      new LIF([O], 1, { restV: -65, resetV: -65, threshV: -64.5, refracT: 1, tauM: 10, batchSize: B }),
    );
  const l1 = layer();
  const l2 = new Serial(
    new LinearDense([O], [O], 1, { batchSize: B, maxDelay: 2, weightInit: uniformInit(init, 0.5, 1), delayInit: uniformInit(init, 0, 2) }),
    new LIF([O], 1, { restV: -65, resetV: -65, threshV: -64.5, refracT: 1, tauM: 10, batchSize: B }),
  );
  const net = new Network();
  net.addLayer('l1', l1);
  net.addLayer('l2', l2);
  const trainer = make();
  trainer.register(l1.cell('connection', 'neuron'));
  trainer.register(l2.cell('connection', 'neuron'), overrides);
  net.addTrainer('rule', trainer, (t) => t.step(...(t instanceof MSTDPET || t instanceof MSTDP ? [0.5] : [])));
  return { net, l1, l2, trainer };
}

function steps(b: ReturnType<typeof build>, n: number, t0 = 0): void {
  for (let t = t0; t < t0 + n; t++) {
    const x = tf.tensor2d(Array.from({ length: B * I }, (_, k) => ((t * 5 + k * 3) % 7 < 3 ? 1 : 0)), [B, I]);
    b.net.step(x).dispose();
    x.dispose();
  }
}

/** Every tensor and number the network would save, as plain values. */
function everything(net: Network): Record<string, unknown> {
  const s = net.exportState();
  const out: Record<string, unknown> = { steps: s.steps, ...s.snapshot.values };
  for (const [k, { tensor }] of Object.entries(s.tensors)) out[k] = Array.from(tensor.dataSync());
  for (const [k, t] of Object.entries(s.snapshot.tensors)) out[k] = Array.from(t.dataSync());
  disposeNetworkState(s);
  return out;
}

const pair: STDPOptions = { lrPost: 0.05, lrPre: -0.04, tauPost: 10, tauPre: 20 };
const kernels = () => ({ kernelPost: expStdpPostKernel(0.1, 20), kernelPre: expStdpPreKernel(-0.05, 20) });

/** [what differs, saved build, target build, expected message]. */
const cases: [string, () => ReturnType<typeof build>, () => ReturnType<typeof build>, RegExp][] = [
  ['τ_pre', () => build(() => new STDP(pair) as never), () => build(() => new STDP({ ...pair, tauPre: 15 }) as never), /^invalid setting tauPre of cell 0 of trainer "rule" in the saved state: got 20, expected 15 \(/],
  ['the learning rate', () => build(() => new STDP(pair) as never), () => build(() => new STDP({ ...pair, lrPost: 0.06 }) as never), /^invalid setting lrPost of cell 0 of trainer "rule" in the saved state: got 0\.05, expected 0\.06 \(/],
  ['the trace mode', () => build(() => new STDP({ ...pair, traceMode: 'nearest' }) as never), () => build(() => new STDP(pair) as never), /^invalid setting traceMode of cell 0 of trainer "rule" in the saved state: got "nearest", expected "cumulative" \(/],
  ['the delayed flag', () => build(() => new STDP({ ...pair, delayed: true }) as never), () => build(() => new STDP(pair) as never), /^invalid setting delayed of cell 0 of trainer "rule" in the saved state: got true, expected false \(/],
  ['the batch reduction', () => build(() => new STDP({ ...pair, batchReduction: 'sum' }) as never), () => build(() => new STDP(pair) as never), /^invalid setting batchReduction of cell 0 of trainer "rule" in the saved state: got "sum", expected "mean" \(/],
  ['a custom batch reduction', () => build(() => new STDP({ ...pair, batchReduction: (x) => tf.sum(x, 0) }) as never), () => build(() => new STDP(pair) as never), /^invalid setting batchReduction of cell 0 of trainer "rule" in the saved state: got "<function batchReduction #[0-9a-f]{8}>", expected "mean" \(/],
  ['a per-cell override (cell 1)', () => build(() => new STDP(pair) as never, { tauPost: 30 }), () => build(() => new STDP(pair) as never), /^invalid setting tauPost of cell 1 of trainer "rule" in the saved state: got 30, expected 10 \(/],
  ['the eligibility τ (MSTDPET)', () => build(() => new MSTDPET({ ...pair, tauEligibility: 25 }) as never), () => build(() => new MSTDPET({ ...pair, tauEligibility: 40 }) as never), /^invalid setting tauEligibility of cell 0 of trainer "rule" in the saved state: got 25, expected 40 \(/],
  ['a weight bound (VoltageSTDP)', () => build(() => new VoltageSTDP({ wMax: 5 }) as never), () => build(() => new VoltageSTDP({ wMax: 4 }) as never), /^invalid setting wMax of cell 0 of trainer "rule" in the saved state: got 5, expected 4 \(/],
  ['a kernel\'s τ (KernelSTDP)', () => build(() => new KernelSTDP(kernels()) as never), () => build(() => new KernelSTDP({ ...kernels(), kernelPost: expStdpPostKernel(0.1, 25) }) as never), /^invalid setting kernelPost\.tau of cell 0 of trainer "rule" in the saved state: got 20, expected 25 \(/],
  ['a kernel\'s side (KernelSTDP)', () => build(() => new KernelSTDP({ ...kernels(), kernelPre: expStdpPostKernel(-0.05, 20) }) as never), () => build(() => new KernelSTDP(kernels()) as never), /^invalid setting kernelPre\.side of cell 0 of trainer "rule" in the saved state: got "causal", expected "acausal" \(/],
];

describe('Network load: trainer settings', () => {
  for (const [what, saved, target, message] of cases) {
    it(`a save whose trainer differs in ${what} is refused, naming the trainer, cell, setting and both values; nothing changes`, () => {
      const a = saved();
      steps(a, 6);
      const state = a.net.exportState();
      const b = target();
      steps(b, 3, 20);
      const before = everything(b.net);
      const n0 = tf.memory().numTensors;
      expect(refusal(() => b.net.importState(state))).toMatch(message);
      expect(tf.memory().numTensors).toBe(n0);
      expect(everything(b.net)).toEqual(before);
      disposeNetworkState(state);
      a.net.dispose();
      b.net.dispose();
    });
  }

  it('through files: a save of τ_pre = 20 is refused by Network.load of a build with τ_pre = 15; the same build loads it', async () => {
    const a = build(() => new STDP(pair) as never);
    steps(a, 6);
    const dir = join(root, 'tau');
    await a.net.save(dir);
    await expect(Network.load(dir, () => build(() => new STDP({ ...pair, tauPre: 15 }) as never).net)).rejects.toThrow(/^invalid setting tauPre of cell 0 of trainer "rule" in the saved state: got 20, expected 15 \(/);
    const { network } = await Network.load(dir, () => build(() => new STDP(pair) as never, {}, 2).net);
    expect(everything(network)).toEqual(everything(a.net));
    network.dispose();
    a.net.dispose();
  });

  it('a save without trainer settings (written before they were saved: trainer extras {}) still loads, in memory and through files, and continues as the saved network', async () => {
    const a = build(() => new STDP({ ...pair, traceMode: 'nearest' }) as never);
    steps(a, 6);
    const state: NetworkState = a.net.exportState();
    expect(state.extras.rule).toHaveProperty('settings'); // the new saves carry them
    expect(a.trainer.extras()).toEqual({}); // (not the trainer's module extras: module files are unchanged)
    state.extras.rule = {};
    const b = build(() => new STDP({ ...pair, traceMode: 'nearest' }) as never, {}, 3);
    b.net.importState(state);
    expect(everything(b.net)).toEqual(everything(a.net));
    const dir = join(root, 'old');
    await writeNetworkState(dir, state, {});
    disposeNetworkState(state);
    const { network } = await Network.load(dir, () => build(() => new STDP({ ...pair, traceMode: 'nearest' }) as never, {}, 4).net);
    expect(everything(network)).toEqual(everything(a.net));
    // the three continue alike
    const c = { net: network } as ReturnType<typeof build>;
    steps(a, 4, 6);
    steps(b, 4, 6);
    steps(c, 4, 6);
    expect(everything(b.net)).toEqual(everything(a.net));
    expect(everything(network)).toEqual(everything(a.net));
    for (const n of [a.net, b.net, network]) n.dispose();
  });

  it('a network keeps a trainer\'s settings once: in the trainer\'s extras, not also in its snapshot (where a standalone trainer snapshot carries them)', () => {
    const a = build(() => new STDP(pair) as never);
    steps(a, 3);
    const state = a.net.exportState();
    const own = a.trainer.snapshotState();
    expect(own.values[SNAPSHOT_SETTINGS]).toEqual(a.trainer.settingsExtras());
    expect(Object.keys(state.snapshot.values).filter((k) => k.includes(SNAPSHOT_SETTINGS))).toEqual([]);
    expect(state.extras.rule).toEqual(JSON.parse(JSON.stringify(a.trainer.settingsExtras())));
    disposeSnapshot(own);
    disposeNetworkState(state);
    a.net.dispose();
  });

  it('saved settings of a trainer with another number of cells, or of the wrong kind, are refused with the trainer named', () => {
    const a = build(() => new STDP(pair) as never);
    const state = a.net.exportState();
    const settings = (state.extras.rule as { settings: unknown[] }).settings;
    expect(settings).toHaveLength(2);
    const b = build(() => new STDP(pair) as never);
    state.extras.rule = { settings: settings.slice(0, 1) };
    expect(() => b.net.importState(state)).toThrow(/^invalid number of cells of trainer "rule" in the saved settings: got 1, expected 2 /);
    state.extras.rule = { settings: 'tauPre=20' };
    expect(() => b.net.importState(state)).toThrow(/^invalid settings of trainer "rule" in the saved state: got "tauPre=20", expected an array of per-cell settings/);
    state.extras.rule = { settings };
    b.net.importState(state); // as saved
    const snap = b.trainer.snapshotState();
    expect(Object.keys(snap.values).length).toBeGreaterThan(0);
    disposeSnapshot(snap);
    disposeNetworkState(state);
    a.net.dispose();
    b.net.dispose();
  });
});

describe('Network load: trainer class', () => {
  // STDP with a sum reduction and MSTDP have the same options and the same snapshot entries: only
  // the class tells them apart (MSTDP scales each step's update by the reward)
  const same = { ...pair, batchReduction: 'sum' as const };

  it('a save of an STDP is refused by an MSTDP built with the same settings, naming both classes; nothing changes', () => {
    const a = build(() => new STDP(same) as never);
    steps(a, 6);
    const state = a.net.exportState();
    const b = build(() => new MSTDP(same) as never);
    steps(b, 3, 20);
    const before = everything(b.net);
    expect(refusal(() => b.net.importState(state))).toMatch(/^invalid trainer class of trainer "rule" in the saved state: got "STDP", expected "MSTDP" \(/);
    expect(everything(b.net)).toEqual(before);
    expect((state.extras.rule as { trainer?: unknown }).trainer).toBe('STDP');
    // a save from before the class was recorded (settings, no class) loads as before
    delete (state.extras.rule as { trainer?: unknown }).trainer;
    b.net.importState(state);
    expect(everything(b.net)).toEqual(everything(a.net));
    disposeNetworkState(state);
    a.net.dispose();
    b.net.dispose();
  });

  it('a user subclass is recorded by its own static kind, else by its constructor name (not its parent\'s kind)', () => {
    class PlainSubclass extends STDP {}
    class KeyedSubclass extends STDP {
      static override readonly kind: string = 'my-stdp';
    }
    expect(new STDP(pair).trainerClass).toBe('STDP');
    expect(new PlainSubclass(pair).trainerClass).toBe('PlainSubclass');
    expect(new KeyedSubclass(pair).trainerClass).toBe('my-stdp');
    const a = build(() => new PlainSubclass(same) as never);
    const state = a.net.exportState();
    expect((state.extras.rule as { trainer?: unknown }).trainer).toBe('PlainSubclass');
    const b = build(() => new STDP(same) as never);
    expect(refusal(() => b.net.importState(state))).toMatch(/^invalid trainer class of trainer "rule" in the saved state: got "PlainSubclass", expected "STDP" \(/);
    disposeNetworkState(state);
    a.net.dispose();
    b.net.dispose();
    class BadKind extends STDP {
      static override readonly kind: string = '';
    }
    expect(refusal(() => new BadKind(pair))).toMatch(/^invalid static kind of trainer class BadKind: got "", expected a non-empty string/);
  });

  it('every exported concrete trainer declares its own kind, equal to its class name (stable under minifiers)', () => {
    const abstract = new Set(['PairTraceTrainer', 'SpikeTimeTrainer', 'ExponentialDelayTrainer', 'UserKernelTrainer']);
    const classes = Object.entries(trainers).filter(([, v]) => typeof v === 'function' && v.prototype instanceof CellTrainer) as [string, { kind?: string }][];
    expect(classes.length).toBeGreaterThanOrEqual(13);
    for (const [name, C] of classes) {
      if (abstract.has(name)) continue;
      expect([name, Object.hasOwn(C, 'kind') ? C.kind : 'none']).toEqual([name, name]);
    }
  });
});

/** FNV-1a (32 bits) of the text with whitespace removed, written here from the algorithm's definition. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5n;
  for (const c of text.replace(/\s/g, '')) {
    for (let i = 0; i < c.length; i++) h = ((h ^ BigInt(c.charCodeAt(i))) * 0x01000193n) % 2n ** 32n;
  }
  return h.toString(16).padStart(8, '0');
}

describe('Network load: custom functions in the settings', () => {
  // two custom reductions that differ only in their code (same name), and one of another name
  const reductions = {
    sumA: { reduce: (x: tf.Tensor) => tf.sum(x, 0) },
    sumB: { reduce: (x: tf.Tensor) => tf.mul(tf.sum(x, 0), 2) },
  };
  const maxOf = (x: tf.Tensor) => tf.max(x, 0);
  const stdp = (fn: (x: tf.Tensor) => tf.Tensor) => () => new STDP({ ...pair, batchReduction: fn }) as never;

  it('a function is saved by its name and a hash of its source text (whitespace removed)', () => {
    const a = build(stdp(reductions.sumA.reduce));
    const state = a.net.exportState();
    const saved = (state.extras.rule as { settings: { batchReduction: unknown }[] }).settings[0]!.batchReduction;
    expect(saved).toBe(`<function reduce #${fnv1a(reductions.sumA.reduce.toString())}>`);
    expect(fnv1a('(x) =>\n  tf.sum(x, 0)')).toBe(fnv1a('(x)=>tf.sum(x,0)'));
    disposeNetworkState(state);
    a.net.dispose();
  });

  it('a save made with one custom batch reduction is refused by a trainer built with another (other code, same name; or another name); the same function loads', () => {
    const a = build(stdp(reductions.sumA.reduce));
    steps(a, 4);
    const state = a.net.exportState();
    for (const [fn, name] of [[reductions.sumB.reduce, 'reduce'], [maxOf, 'maxOf']] as const) {
      const b = build(stdp(fn));
      const before = everything(b.net);
      const message = refusal(() => b.net.importState(state));
      expect(message).toMatch(/^invalid setting batchReduction of cell 0 of trainer "rule" in the saved state: got "<function reduce #[0-9a-f]{8}>", expected "<function \w+ #[0-9a-f]{8}>" \(/);
      expect(message).toContain(`expected "<function ${name} #${fnv1a(fn.toString())}>"`);
      expect(everything(b.net)).toEqual(before);
      b.net.dispose();
    }
    const c = build(stdp(reductions.sumA.reduce), {}, 5);
    c.net.importState(state);
    expect(everything(c.net)).toEqual(everything(a.net));
    disposeNetworkState(state);
    a.net.dispose();
    c.net.dispose();
  });

  it('a save from before functions were told apart ("<function>") loads into a trainer with any custom function, not into one with a named reduction', () => {
    const a = build(stdp(reductions.sumA.reduce));
    steps(a, 4);
    const state = a.net.exportState();
    for (const cell of (state.extras.rule as { settings: { batchReduction: unknown }[] }).settings) cell.batchReduction = '<function>';
    const b = build(stdp(maxOf), {}, 6);
    b.net.importState(state);
    expect(everything(b.net)).toEqual(everything(a.net));
    const c = build(() => new STDP(pair) as never);
    expect(refusal(() => c.net.importState(state))).toMatch(/^invalid setting batchReduction of cell 0 of trainer "rule" in the saved state: got "<function>", expected "mean" \(/);
    disposeNetworkState(state);
    for (const n of [a.net, b.net, c.net]) n.dispose();
  });
});
