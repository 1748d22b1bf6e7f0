// Network: a save in the middle of a run, loaded into a freshly built network, continues
// bit-identically with the uninterrupted run — weights, voltages, STDP/MSTDPET traces and
// eligibility, Adam's moments and step counter, and the input generator's position included.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/random.js';
import { Network, disposeNetworkState, type NetworkState } from '../../src/network/index.js';
import { writeNetworkState } from '../../src/network/files.js';
import { LinearDense } from '../../src/neural/connections/linear-dense.js';
import { uniformInit } from '../../src/neural/connections/initializers.js';
import { Serial } from '../../src/neural/layers/serial.js';
import { LIF } from '../../src/neural/neurons/index.js';
import { SingleExponentialCurrent } from '../../src/neural/synapses/index.js';
import { MSTDPET, STDP } from '../../src/learn/trainers/index.js';
import { Adam } from '../../src/learn/optimizers/adam.js';
import { MANIFEST_FILE } from '../../src/io/tensors.js';
import { Recorder } from '../../src/observe/monitors/recorder.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { StateMonitor } from '../../src/observe/monitors/state-monitor.js';
import { EMAReducer } from '../../src/observe/reducers/ema.js';

const root = mkdtempSync(join(tmpdir(), 'cinder-net-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const B = 2;
const N_IN = 12;
const N_OUT = 5;

function build(seed: number, capacity = 64, hiddenName = 'hidden') {
  const init = new Rng(seed);
  const layer1 = new Serial(
    new LinearDense([N_IN], [N_OUT], 1, { synapse: SingleExponentialCurrent.factory({ charge: 40, tau: 5 }), batchSize: B, weightInit: uniformInit(init, 0, 1) }),
    new LIF([N_OUT], 1, { restV: -65, resetV: -65, threshV: -55, refracT: 2, tauM: 10, batchSize: B }),
  );
  const layer2 = new Serial(
    new LinearDense([N_OUT], [3], 1, { synapse: SingleExponentialCurrent.factory({ charge: 60, tau: 4 }), batchSize: B, weightInit: uniformInit(init, 0, 1) }),
    new LIF([3], 1, { restV: -65, resetV: -65, threshV: -58, refracT: 2, tauM: 10, batchSize: B }),
  );
  const net = new Network();
  net.addLayer(hiddenName, layer1);
  net.addLayer('out', layer2);
  const stdp = new STDP({ lrPost: 0.01, lrPre: -0.012, tauPre: 20, tauPost: 20 });
  stdp.register(layer1.cell('connection', 'neuron'));
  const mstdpet = new MSTDPET({ lrPost: 0.02, lrPre: -0.02, tauPre: 15, tauPost: 15, tauEligibility: 25 });
  mstdpet.register(layer2.cell('connection', 'neuron'));
  net.addTrainer('stdp', stdp);
  net.addTrainer('mstdpet', mstdpet, (t, info) => t.step(info.reward ?? 0));
  const adam = net.addOptimizer('adam', new Adam({ learningRate: 1e-3 }));
  const rng = net.addRng('input', new Rng('input'));
  // a recording of the output voltage (capacity below the run length: the ring wraps)
  const rec = net.addMonitor('voltage', new Recorder(() => layer2.neuron.voltage, { capacity }));
  layer2.attach(rec);
  return { net, layer1, layer2, adam, rng, rec };
}

type Built = ReturnType<typeof build>;

/** One step of the test protocol: rng-drawn input (incl. a normal draw), a network step, an Adam step on the hidden weights. */
function protocolStep(b: Built, t: number): Float32Array {
  const x = tf.tensor2d(Array.from({ length: B * N_IN }, () => (b.rng.uniform() < 0.35 ? 1 : 0)), [B, N_IN]);
  const reward = b.rng.normal() < 0 ? -1 : 1; // a normal draw: the cached second value is part of the state
  const y = b.net.step(x, { reward });
  const w = b.layer1.connection.weightParameter.variable;
  const g = tf.tidy(() => tf.sub(tf.mul(w, 0.1), tf.scalar(0.05 * Math.sin(t))));
  b.adam.apply([{ variable: w, gradient: g }]);
  const out = tf.tidy(() => tf.concat([tf.reshape(y, [-1]), tf.reshape(b.layer2.neuron.voltage, [-1]), tf.reshape(b.layer2.connection.weight, [-1]), tf.reshape(w, [-1])]));
  const data = out.dataSync() as Float32Array;
  tf.dispose([x, y, g, out]);
  return Float32Array.from(data);
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

describe('Network', () => {
  it('save after N steps, load into a fresh build, M more steps: bit-identical to N+M uninterrupted (traces, eligibility, Adam, RNG)', async () => {
    const N = 40;
    const M = 60;
    const ref = build(1);
    const refOut: Float32Array[] = [];
    for (let t = 0; t < N + M; t++) refOut.push(protocolStep(ref, t));

    const a = build(1);
    for (let t = 0; t < N; t++) protocolStep(a, t);
    const dir = join(root, 'save');
    await a.net.save(dir, { progress: { step: N } });
    a.net.dispose();

    // a different init seed: every weight must come from the save
    const { network: _n, metadata } = await Network.load(dir, () => (loaded = build(2)).net);
    expect(metadata).toEqual({ progress: { step: N } });
    expect(loaded!.net.steps).toBe(N);
    expect(loaded!.adam.iterations).toBe(N);
    let before = 0;
    let spikes = 0;
    for (let t = N; t < N + M; t++) {
      if (t === N + 5) before = tf.memory().numTensors; // after the first steps' cached constants (rewards ±1)
      const o = protocolStep(loaded!, t);
      expect(bits(o), `step ${t}`).toEqual(bits(refOut[t]!));
      spikes += o.subarray(0, B * 3).reduce((s, v) => s + v, 0);
    }
    expect(spikes).toBeGreaterThan(0); // the continuation is not silent
    // the recording made before the save continues as in the uninterrupted run
    expect(loaded!.rec.recordedSteps()).toEqual(ref.rec.recordedSteps());
    expect(bits(loaded!.rec.toArray().data)).toEqual(bits(ref.rec.toArray().data));
    expect(tf.memory().numTensors).toBe(before); // flat
    for (const b of [ref, loaded!]) {
      b.rec.dispose();
      b.net.dispose();
    }
  });

  it('run(): steps with onStep, stops on abort, keeps the tensor count flat', async () => {
    const b = build(1);
    const x = tf.tensor2d(Array.from({ length: B * N_IN }, (_, i) => (i % 3 === 0 ? 1 : 0)), [B, N_IN]);
    await b.net.run(x, { steps: 3, reward: 1 });
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const ac = new AbortController();
    const done = await b.net.run(x, { steps: 50, reward: 1, signal: ac.signal, onStep: (t) => (seen.push(t), t === 9 && ac.abort()) });
    expect(done).toBe(10);
    expect(seen).toEqual([...Array(10).keys()]);
    expect(b.net.steps).toBe(13);
    expect(tf.memory().numTensors).toBe(before);
    b.net.clear();
    expect(b.net.steps).toBe(0);
    x.dispose();
    b.net.dispose();
  });

  it('run(): a second run while one is in progress is refused and does not step; the first completes and the network can run again', async () => {
    const b = build(1);
    const x = tf.tensor2d(Array.from({ length: B * N_IN }, (_, i) => (i % 3 === 0 ? 1 : 0)), [B, N_IN]);
    const first = b.net.run(x, { steps: 30, reward: 1, yieldEveryMs: 0 });
    await expect(b.net.run(x, { steps: 5, reward: 1 })).rejects.toThrow(/invalid call of run\(\): got "while another run\(\) of this network is in progress", expected the pending run awaited/);
    expect(await first).toBe(30);
    expect(b.net.steps).toBe(30); // only the first run stepped
    expect(await b.net.run(x, { steps: 2, reward: 1 })).toBe(2);
    // a run that throws frees the network for the next one
    await expect(b.net.run(() => { throw new Error('input failed'); }, { steps: 3 })).rejects.toThrow('input failed');
    expect(await b.net.run(x, { steps: 1, reward: 1 })).toBe(1);
    expect(b.net.steps).toBe(33);
    x.dispose();
    b.rec.dispose();
    b.net.dispose();
  });

  it('train(false) freezes learning: weights stay, states advance', async () => {
    const b = build(1);
    const x = tf.ones([B, N_IN]);
    b.net.train(false);
    const w0 = Array.from(b.layer1.connection.weight.dataSync());
    await b.net.run(x, { steps: 20, reward: 1 });
    expect(Array.from(b.layer1.connection.weight.dataSync())).toEqual(w0);
    expect(b.net.steps).toBe(20);
    x.dispose();
    b.net.dispose();
  });

  it('a save streams: each tensor is downloaded only once the bytes of the tensors before it are on disk (one in host memory at a time)', async () => {
    const a = build(1);
    for (let t = 0; t < 5; t++) protocolStep(a, t);
    const dir = join(root, 'stream');
    const onDisk = (): number => {
      let sum = 0;
      try {
        for (const f of readdirSync(dir)) if (f !== MANIFEST_FILE && f !== '.save.lock') sum += statSync(join(dir, f)).size;
      } catch {
        // not created yet
      }
      return sum;
    };
    const seen: number[] = [];
    const data = tf.Tensor.prototype.data;
    const spy = vi.spyOn(tf.Tensor.prototype, 'data').mockImplementation(function (this: tf.Tensor) {
      seen.push(onDisk());
      return data.call(this);
    });
    try {
      await a.net.save(dir);
    } finally {
      spy.mockRestore();
    }
    // the manifest lists the tensors in the order written; at the k-th download, exactly the bytes
    // of tensors 0 … k−1 are on disk (the old code downloaded every tensor first: 0 at each)
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as { weightsManifest: { weights: { shape: number[]; dtype: string }[] }[] };
    const sizes = manifest.weightsManifest.flatMap((g) => g.weights).map((w) => w.shape.reduce((p, d) => p * d, 1) * (w.dtype === 'bool' ? 1 : 4));
    expect(sizes.length).toBeGreaterThan(5);
    expect(seen).toEqual(sizes.map((_, k) => sizes.slice(0, k).reduce((p, q) => p + q, 0)));
    a.net.dispose();
  });

  it('a flipped byte in the save is rejected with a clear error; a mismatched build is rejected before anything changes', async () => {
    const a = build(1);
    for (let t = 0; t < 5; t++) protocolStep(a, t);
    const dir = join(root, 'flip');
    await a.net.save(dir);
    const weights = readdirSync(dir).find((f) => f.startsWith('weights-'))!;
    const bytes = readFileSync(join(dir, weights));
    bytes[17] = bytes[17]! ^ 0x40;
    writeFileSync(join(dir, weights), bytes);
    const c = build(1);
    await expect(c.net.loadFrom(dir)).rejects.toThrow(/weights checksum: got "[0-9a-f]{8}", expected [0-9a-f]{8} as in the manifest/);
    bytes[17] = bytes[17]! ^ 0x40;
    writeFileSync(join(dir, weights), bytes);
    const text = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
    writeFileSync(join(dir, MANIFEST_FILE), text.replace('"steps": 5', '"steps": 6'));
    await expect(c.net.loadFrom(dir)).rejects.toThrow(/model\.json checksum.*the manifest is damaged/);
    writeFileSync(join(dir, MANIFEST_FILE), text);

    const other = new Network();
    other.addLayer('hidden', build(1).layer1);
    const w0 = Array.from(c.layer1.connection.weight.dataSync());
    await expect(other.loadFrom(dir)).rejects.toThrow(/invalid/);
    await c.net.loadFrom(dir);
    expect(Array.from(c.layer1.connection.weight.dataSync())).not.toEqual(w0);
    [a, c].forEach((x) => x.net.dispose());
    other.dispose();
  });

  it('metadata that would not come back as given is refused before anything is written', async () => {
    const a = build(1);
    for (let t = 0; t < 2; t++) protocolStep(a, t);
    // `network` is where the save keeps the network's own state: it used to be overwritten and
    // dropped on load; a string was spread into { 0: 'a', 1: 'b', … }
    const cases: [unknown, RegExp][] = [
      [{ network: 'mine', epoch: 3 }, /invalid metadata key: got "network", expected another key/],
      ['abc', /invalid metadata: got "abc", expected a plain object/],
      [[1, 2], /invalid metadata: got \[1,2\], expected a plain object/],
    ];
    for (const [k, [metadata, message]] of cases.entries()) {
      const dir = join(root, 'meta', String(k));
      await expect(a.net.save(dir, metadata as Record<string, unknown>)).rejects.toThrow(message);
      expect(() => readdirSync(dir), 'nothing written').toThrow(/ENOENT/);
    }
    const dir = join(root, 'meta', 'ok');
    await a.net.save(dir, { epoch: 3, nested: { network: 1 } });
    const c = build(1);
    expect(await c.net.loadFrom(dir)).toEqual({ epoch: 3, nested: { network: 1 } });
    a.net.dispose();
    c.net.dispose();
  });

  it('a layer named "snapshot" (its paths start like the snapshot tensors\') saves and resumes bit-identically', async () => {
    const N = 6;
    const M = 8;
    const ref = build(1, 64, 'snapshot');
    const refOut: Float32Array[] = [];
    for (let t = 0; t < N + M; t++) refOut.push(protocolStep(ref, t));
    const a = build(1, 64, 'snapshot');
    for (let t = 0; t < N; t++) protocolStep(a, t);
    const dir = join(root, 'snapshot-layer');
    await a.net.save(dir);
    let b: Built | undefined;
    await Network.load(dir, () => (b = build(2, 64, 'snapshot')).net); // used to fail: "snapshot.connection.weight" missing
    for (let t = N; t < N + M; t++) expect(bits(protocolStep(b!, t)), `step ${t}`).toEqual(bits(refOut[t]!));
    // a module path equal to a snapshot tensor's stored name is refused, not overwritten
    const st = a.net.exportState();
    const [k, t] = Object.entries(st.snapshot.tensors)[0]!;
    st.tensors[`snapshot.${k}`] = { tensor: t.clone(), group: 'state' };
    await expect(writeNetworkState(join(root, 'clash'), st)).rejects.toThrow(`invalid module path: got "snapshot.${k}", expected a path other than that of the saved snapshot tensor ${k}`);
    expect(() => readdirSync(join(root, 'clash'))).toThrow(/ENOENT/);
    disposeNetworkState(st);
    for (const x of [ref, a, b!]) {
      x.rec.dispose();
      x.net.dispose();
    }
  });

  it('a save refused while capturing the state (Adam holding moments of a variable outside the network) frees its copies', async () => {
    const b = build(1);
    // (Adam's moments of the outside variable come first: Adam refuses them before copying any of
    // its own, so every copy left over would be the network's)
    const outside = tf.variable(tf.zeros([3]));
    const g = tf.ones([3]);
    b.adam.apply([{ variable: outside, gradient: g }]);
    for (let t = 0; t < 3; t++) protocolStep(b, t); // traces, Adam moments of the hidden weights, a recording
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) {
      await expect(b.net.save(join(root, 'refused'))).rejects.toThrow(/invalid Adam variable/);
      expect(() => b.net.exportState()).toThrow(/invalid Adam variable/);
    }
    // each attempt used to keep its clones of every parameter, state and trace
    expect(tf.memory().numTensors).toBe(before);
    expect(() => readdirSync(join(root, 'refused'))).toThrow(/ENOENT/);
    tf.dispose([outside, g]);
    b.rec.dispose();
    b.net.dispose();
  });

  it('a part that refuses its saved values after others were assigned rolls the whole import back (weights, Adam, traces, recorder, rng, steps)', () => {
    const a = build(1);
    for (let t = 0; t < 12; t++) protocolStep(a, t);
    const fingerprint = (b: Built): string => {
      const st = b.net.exportState();
      const out = JSON.stringify({
        tensors: Object.entries(st.tensors).map(([n, { tensor }]) => [n, bits(Float32Array.from(tensor.dataSync()))]),
        snapshot: Object.entries(st.snapshot.tensors).map(([n, t]) => [n, bits(Float32Array.from(t.dataSync()))]),
        values: st.snapshot.values, rngs: st.rngs, steps: st.steps,
      });
      disposeNetworkState(st);
      return out;
    };
    const corrupt: [string, (s: NetworkState) => void, number, RegExp][] = [
      ['an Adam moment of the wrong shape', (s) => {
        const k = Object.keys(s.snapshot.tensors).find((x) => x.startsWith('optimizer.') && x.endsWith('.m'))!;
        s.snapshot.tensors[k]!.dispose();
        s.snapshot.tensors[k] = tf.zeros([3]);
      }, 64, /Adam moments of .*got \[3\]/],
      ['a v moment without its m moment', (s) => {
        const k = Object.keys(s.snapshot.tensors).find((x) => x.startsWith('optimizer.') && x.endsWith('.m'))!;
        s.snapshot.tensors[k]!.dispose();
        delete s.snapshot.tensors[k];
      }, 64, /Adam snapshot moment: got ".*\.v", expected a v moment with its m moment/],
      ['a negative learning rate', (s) => { s.snapshot.values['optimizer.adam.learningRate'] = -1; }, 64, /learningRate: got -1/],
      ['a recording longer than the target recorder holds', () => {}, 4, /at most 4 \(the capacity\)/],
    ];
    for (const [what, damage, capacity, message] of corrupt) {
      const c = build(2, capacity);
      for (let t = 0; t < 3; t++) protocolStep(c, t);
      const before = fingerprint(c);
      const st = a.net.exportState();
      damage(st);
      expect(() => c.net.importState(st), what).toThrow(message);
      disposeNetworkState(st);
      expect(fingerprint(c), what).toBe(before);
      c.net.dispose();
    }
    a.net.dispose();
  });
});

let loaded: Built | undefined;

describe('Network: saved parts the target does not have', () => {
  it('an optimizer of the save that the target lacks (no moments yet, only its counters) is refused, through files too, and nothing changes', async () => {
    const a = build(1);
    a.net.addOptimizer('extra', new Adam({ learningRate: 0.5 })); // never applied: values k, powers, rate; no moment tensors
    for (let t = 0; t < 4; t++) protocolStep(a, t);
    const c = build(2);
    for (let t = 0; t < 2; t++) protocolStep(c, t);
    const w0 = bits(Float32Array.from(c.layer1.connection.weight.dataSync()));
    const before = JSON.stringify([c.net.steps, c.adam.iterations, c.rng.getState()]);
    const st = a.net.exportState();
    expect(Object.keys(st.snapshot.values)).toContain('optimizer.extra.k');
    // the old code accepted it: the saved optimizer's state was dropped without a word
    expect(() => c.net.importState(st)).toThrow('invalid optimizer in the saved state: got "extra", expected an optimizer of the target network (adam)');
    // a snapshot value under no known part (trainer, optimizer, monitor)
    const values: Record<string, unknown> = { ...st.snapshot.values, 'stray.x': 1 };
    for (const k of Object.keys(values)) if (k.startsWith('optimizer.extra.')) delete values[k];
    const stray: NetworkState = { ...st, snapshot: { tensors: st.snapshot.tensors, values } };
    expect(() => c.net.importState(stray)).toThrow('invalid snapshot value in the saved state: got "stray.x", expected a value of a trainer, optimizer or monitor of the target network');
    disposeNetworkState(st);
    const dir = join(root, 'extra-optimizer');
    await a.net.save(dir);
    await expect(c.net.loadFrom(dir)).rejects.toThrow('invalid optimizer in the saved state: got "extra"');
    expect(bits(Float32Array.from(c.layer1.connection.weight.dataSync()))).toEqual(w0);
    expect(JSON.stringify([c.net.steps, c.adam.iterations, c.rng.getState()])).toBe(before);
    for (const b of [a, c]) {
      b.rec.dispose();
      b.net.dispose();
    }
  });
});

describe('Network: malformed states', () => {
  it('a state or file with parts of the wrong kind is refused with a CinderArgumentError naming the part, and nothing changes', async () => {
    const a = build(1);
    for (let t = 0; t < 3; t++) protocolStep(a, t);
    const c = build(2);
    for (let t = 0; t < 2; t++) protocolStep(c, t);
    const w0 = bits(Float32Array.from(c.layer1.connection.weight.dataSync()));
    const before = JSON.stringify([c.net.steps, c.adam.iterations, c.rng.getState(), c.rec.recordedSteps()]);
    const st = a.net.exportState();
    const firstTensor = Object.keys(st.tensors)[0]!;
    // each used to fail with a TypeError ("Cannot read properties of null", "Cannot convert undefined or null to object")
    const cases: [string, NetworkState, RegExp][] = [
      ['snapshot values null', { ...st, snapshot: { tensors: st.snapshot.tensors, values: null as unknown as Record<string, unknown> } }, /^invalid state\.snapshot\.values: got null, expected an object/],
      ['snapshot tensors null', { ...st, snapshot: { tensors: null as unknown as Record<string, tf.Tensor>, values: st.snapshot.values } }, /^invalid state\.snapshot\.tensors: got null, expected an object/],
      ['a generator position null', { ...st, rngs: { ...st.rngs, input: null as unknown as NetworkState['rngs'][string] } }, /^invalid rng "input" in the saved state: got null, expected \{ seed, alea, spareNormal \}/],
      ['a tensor entry without a tensor', { ...st, tensors: { ...st.tensors, [firstTensor]: { tensor: null as unknown as tf.Tensor, group: 'parameter' } } }, new RegExp(`^invalid state\\.tensors\\["${firstTensor.replace(/\./g, '\\.')}"\\]: got an object \\{tensor, group\\}, expected \\{ tensor: a tf\\.Tensor not disposed`)],
    ];
    for (const [what, bad, message] of cases) {
      let err: unknown;
      try {
        c.net.importState(bad);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(CinderArgumentError);
      expect((err as Error).message, what).toMatch(message);
    }
    // through files: a save whose network entry holds null values is refused before its weights are read
    const dir = join(root, 'null-values');
    await writeNetworkState(dir, { ...st, snapshot: { tensors: st.snapshot.tensors, values: null as unknown as Record<string, unknown> } });
    const err = await c.net.loadFrom(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CinderArgumentError);
    expect((err as Error).message).toMatch(/^invalid .*null-values metadata\.network: got an object \{steps, rngs, values\}, expected a network save/);
    disposeNetworkState(st);
    expect(bits(Float32Array.from(c.layer1.connection.weight.dataSync()))).toEqual(w0);
    expect(JSON.stringify([c.net.steps, c.adam.iterations, c.rng.getState(), c.rec.recordedSteps()])).toBe(before);
    for (const b of [a, c]) {
      b.rec.dispose();
      b.net.dispose();
    }
  });
});

describe('Network: dispose', () => {
  it('frees the monitors added with addMonitor: dispose after a run, and a failed Network.load, leave the tensor count where it started', async () => {
    const withEma = (seed: number): Built & { ema: StateMonitor } => {
      const b = build(seed, 8);
      // an EMA monitor holds its two constants (α, 1 − α) from construction on
      const ema = b.net.addMonitor('ema', new StateMonitor(() => b.layer1.neuron.voltage, new EMAReducer({ alpha: 0.25 }), { trainOnly: false }));
      b.layer1.attach(ema);
      return { ...b, ema };
    };
    const x = tf.tensor2d(Array.from({ length: B * N_IN }, (_, i) => (i % 3 === 0 ? 1 : 0)), [B, N_IN]);
    const once = async (): Promise<void> => {
      const b = withEma(1);
      await b.net.run(x, { steps: 12, reward: 1 }); // the recorder's ring (capacity 8) is full and wraps
      b.net.dispose();
    };
    await once(); // cached constants of the first steps
    const start = tf.memory().numTensors;
    await once();
    // old code: the recorder's 8 records and the EMA monitor's value and constants stayed (11 tensors)
    expect(tf.memory().numTensors).toBe(start);

    // a load that fails disposes what build() made: the monitors too (the caller never gets them)
    const a = withEma(1);
    await a.net.run(x, { steps: 3, reward: 1 });
    const dir = join(root, 'dispose-monitors');
    await a.net.save(dir);
    a.net.dispose();
    a.net.dispose(); // twice: nothing more to free, no error
    const weights = readdirSync(dir).find((f) => f.startsWith('weights-'))!;
    const bytes = readFileSync(join(dir, weights));
    bytes[5] = bytes[5]! ^ 1;
    writeFileSync(join(dir, weights), bytes);
    const before = tf.memory().numTensors;
    await expect(Network.load(dir, () => withEma(2).net)).rejects.toThrow(/weights checksum/);
    expect(tf.memory().numTensors).toBe(before); // old code: + 2 (the EMA constants of the built network)
    x.dispose();
  });
});
