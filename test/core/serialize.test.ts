import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { Module } from '../../src/core/module.js';
import type { Parameter, State } from '../../src/core/state.js';
import {
  loadModule,
  MANIFEST_FILE,
  moduleFromArtifacts,
  moduleTensors,
  moduleToArtifacts,
  restoreModuleTensors,
  saveModule,
  type ModuleManifest,
} from '../../src/io/serialize.js';
import { weightsFileName } from '../../src/io/tensors.js';
import { ALIF, LIF } from '../../src/neural/neurons/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cinder-serialize-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

class Net extends Module {
  readonly w: Parameter;
  readonly count: State;
  readonly lif: LIF;
  constructor(readonly n: number, readonly tag = 'a') {
    super();
    this.w = this.addParameter('w', tf.randomNormal([n, 2], 0, 1, 'float32', 7));
    this.count = this.addState('count', () => tf.zeros([n], 'int32'));
    this.lif = this.addModule('lif', new LIF(n, 1, { restV: -65, resetV: -70, threshV: -50, refracT: 2, tauM: 20 }));
  }
  override extras(): Record<string, unknown> {
    return { n: this.n, tag: this.tag };
  }
}

const alifOptions = { restV: -65, resetV: -70, threshV: -50, refracT: 2, tauM: 20, tauAdapt: [30, 150], adaptIncrement: [2, 0.5], batchSize: 3 };

function bits(t: tf.Tensor): number[] {
  return Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));
}

describe('saveModule / loadModule', () => {
  it('ALIF saved mid-simulation and loaded into a fresh group continues bit-identically for 50 steps', async () => {
    const seeded = (t: number) => tf.tidy(() => tf.mul(tf.randomUniform([3, 4], 0, 60, 'float32', 100 + t), 1));
    const a = new ALIF(4, 1, alifOptions);
    for (let t = 0; t < 37; t++) tf.tidy(() => a.forward(seeded(t)));
    expect(Array.from(a.adaptation.dataSync()).some((x) => x > 0)).toBe(true);
    const dir = await tempDir();
    await saveModule(a, dir);
    const b = new ALIF(4, 1, alifOptions);
    await loadModule(b, dir);
    for (const [name, s] of a.namedStates()) {
      expect(bits(b.namedStates().find(([n]) => n === name)![1].value)).toEqual(bits(s.value));
    }
    for (let t = 37; t < 87; t++) {
      const x = seeded(t);
      const sa = a.forward(x);
      const sb = b.forward(x);
      expect(bits(sb)).toEqual(bits(sa));
      expect(bits(b.voltage)).toEqual(bits(a.voltage));
      expect(bits(b.adaptation)).toEqual(bits(a.adaptation));
      expect(bits(b.refrac)).toEqual(bits(a.refrac));
      [x, sa, sb].forEach((u) => u.dispose());
    }
    a.dispose();
    b.dispose();
  });

  it('writes a manifest with format, version, extras per module and a weights manifest; weights little-endian', async () => {
    const net = new Net(3);
    net.count.assign(tf.tensor1d([1, -2, 70000], 'int32'));
    const dir = await tempDir();
    await saveModule(net, dir);
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ModuleManifest;
    const WEIGHTS_FILE = weightsFileName(manifest.weightsChecksum);
    const files = (await readdir(dir)).sort();
    expect(files).toEqual([MANIFEST_FILE, WEIGHTS_FILE].sort()); // no temp files left behind
    expect(manifest.format).toBe('cinder-tensors');
    expect(manifest.version).toBe(2);
    expect(manifest.extras['']).toEqual({ n: 3, tag: 'a' });
    expect(manifest.extras['lif']).toMatchObject({ model: 'LIF', dt: 1, batchSize: 1, tauM: 20 });
    expect(manifest.weightsManifest[0]!.paths).toEqual([WEIGHTS_FILE]);
    expect(manifest.weightsManifest[0]!.weights).toEqual([
      { name: 'w', shape: [3, 2], dtype: 'float32', group: 'parameter' },
      { name: 'count', shape: [3], dtype: 'int32', group: 'state' },
      { name: 'lif.voltage', shape: [1, 3], dtype: 'float32', group: 'state' },
      { name: 'lif.refrac', shape: [1, 3], dtype: 'float32', group: 'state' },
      { name: 'lif.spike', shape: [1, 3], dtype: 'float32', group: 'state' },
    ]);
    const bin = await readFile(join(dir, WEIGHTS_FILE));
    expect(bin.byteLength).toBe(4 * (6 + 3 + 9));
    const w = net.w.value.dataSync();
    expect(bin.readFloatLE(0)).toBe(w[0]);
    expect(bin.readFloatLE(20)).toBe(w[5]);
    expect([bin.readInt32LE(24), bin.readInt32LE(28), bin.readInt32LE(32)]).toEqual([1, -2, 70000]);
    expect(bin.readFloatLE(36)).toBe(-65);

    const other = new Net(3);
    other.w.assign(tf.zeros([3, 2]));
    await loadModule(other, dir);
    expect(bits(other.w.value)).toEqual(bits(net.w.value));
    expect(Array.from(other.count.value.dataSync())).toEqual([1, -2, 70000]);
    net.dispose();
    other.dispose();
  });

  it('overwrites an existing save atomically (rename over the old files)', async () => {
    const net = new Net(2);
    const dir = await tempDir();
    await saveModule(net, dir);
    net.w.assign(tf.fill([2, 2], 3));
    await saveModule(net, dir);
    expect((await readdir(dir)).length).toBe(2);
    const fresh = new Net(2);
    await loadModule(fresh, dir);
    expect(Array.from(fresh.w.value.dataSync())).toEqual([3, 3, 3, 3]);
    net.dispose();
    fresh.dispose();
  });

  it('in-memory artifacts round trip (NaN, -0, subnormals and infinities bit-exact)', async () => {
    const net = new Net(2);
    const special = new Float32Array([NaN, -0, 1e-45, -Infinity]);
    net.w.assign(tf.tensor2d(special, [2, 2]));
    const art = await moduleToArtifacts(net);
    const other = new Net(2);
    moduleFromArtifacts(other, art);
    expect(bits(other.w.value)).toEqual(Array.from(new Uint32Array(special.buffer)));
    net.dispose();
    other.dispose();
  });

  it('rejects mismatches with clear errors and leaves the target unchanged', async () => {
    const net = new Net(3);
    const art = await moduleToArtifacts(net);
    const target = new Net(3);
    target.w.assign(tf.fill([3, 2], 9));
    const clone = (): { manifest: ModuleManifest; weightData: Uint8Array } => ({
      manifest: JSON.parse(JSON.stringify(art.manifest)) as ModuleManifest,
      weightData: art.weightData.slice(),
    });

    // extras differ (root and child)
    expect(() => moduleFromArtifacts(new Net(3, 'b'), art)).toThrow(/extras\.tag of the module in the file: got "a", expected "b" as in the target module/);
    const lif2 = new Net(3);
    const c1 = clone();
    (c1.manifest.extras['lif'] as Record<string, unknown>)['tauM'] = 10;
    expect(() => moduleFromArtifacts(lif2, c1)).toThrow(/extras\.tauM of module "lif" in the file: got 10, expected 20/);
    // shape
    const c2 = clone();
    c2.manifest.weightsManifest[0]!.weights[0]!.shape = [2, 3];
    expect(() => moduleFromArtifacts(target, c2)).toThrow(/shape of parameter "w": got \[2,3\]/);
    // dtype
    const c3 = clone();
    c3.manifest.weightsManifest[0]!.weights[1]!.dtype = 'float32';
    expect(() => moduleFromArtifacts(target, c3)).toThrow(/dtype of state "count": got "float32", expected "int32"/);
    // unknown name / missing name
    const c4 = clone();
    c4.manifest.weightsManifest[0]!.weights[0]!.name = 'v';
    expect(() => moduleFromArtifacts(target, c4)).toThrow(/invalid parameter name in the file: got "v", expected a parameter of the target module \(w\)/);
    const c5 = clone();
    c5.manifest.weightsManifest[0]!.weights.pop();
    expect(() => moduleFromArtifacts(target, c5)).toThrow(/invalid state "lif.spike" in the file: got undefined/);
    // corrupted weights (checksum) and truncated weights
    const c6 = clone();
    c6.weightData[5] = c6.weightData[5]! ^ 1;
    expect(() => moduleFromArtifacts(target, c6)).toThrow(/weights checksum/);
    const c7 = clone();
    c7.weightData = c7.weightData.slice(0, 10);
    expect(() => moduleFromArtifacts(target, c7)).toThrow(/weights byte length: got 10/);
    // wrong format / version
    const c8 = clone();
    c8.manifest.format = 'tfjs';
    expect(() => moduleFromArtifacts(target, c8)).toThrow(/manifest\.format: got "tfjs"/);
    const c9 = clone();
    c9.manifest.version = 4;
    expect(() => moduleFromArtifacts(target, c9)).toThrow(/manifest\.version: got 4, expected 2 or 3/);
    // batch size is part of a neuron's extras
    const a = new ALIF(4, 1, alifOptions);
    const b = new ALIF(4, 1, { ...alifOptions, batchSize: 2 });
    const artA = await moduleToArtifacts(a);
    expect(() => moduleFromArtifacts(b, artA)).toThrow(/extras\.batchSize of the module in the file: got 3, expected 2/);

    expect(Array.from(target.w.value.dataSync())).toEqual(new Array(6).fill(9));
    [net, target, lif2, a, b].forEach((m) => m.dispose());
  });

  it('restoreModuleTensors: data that does not fill its shape is refused before any tensor changes', async () => {
    const target = new Net(3);
    const before = await moduleTensors(target);
    const saved = await moduleTensors(new Net(3));
    // every value 7, then the last entry (a state of the LIF child) one value short
    for (const h of Object.values(saved)) h.data.fill(7);
    const last = Object.keys(saved).at(-1)!;
    saved[last] = { ...saved[last]!, data: saved[last]!.data.slice(1) };
    const shape = saved[last]!.shape;
    const n = shape.reduce((a, b) => a * b, 1);
    expect(() => restoreModuleTensors(target, saved)).toThrow(`invalid data length of saved tensor "${last}": got ${n - 1}, expected ${n} values for shape [${shape.join(', ')}]`);
    // a plain array instead of a typed array is refused too
    expect(() => restoreModuleTensors(target, { ...saved, [last]: { ...saved[last]!, data: [1, 2, 3] as unknown as Float32Array } })).toThrow(/invalid saved tensor/);
    const after = await moduleTensors(target);
    for (const [n, h] of Object.entries(before)) expect(Array.from(after[n]!.data), n).toEqual(Array.from(h.data));
    target.dispose();
  });

  it('loadModule reports a missing directory or a malformed manifest', async () => {
    const net = new Net(2);
    const dir = await tempDir();
    await expect(loadModule(net, join(dir, 'nope'))).rejects.toThrow(/invalid dir: .*nope.*model\.json and its weights file/);
    await saveModule(net, dir);
    await writeFile(join(dir, MANIFEST_FILE), '{not json');
    await expect(loadModule(net, dir)).rejects.toThrow(/model\.json.*valid JSON/);
    net.dispose();
  });

  it('does not leak tensors on save and load', async () => {
    const a = new ALIF(4, 1, alifOptions);
    const dir = await tempDir();
    await saveModule(a, dir);
    await loadModule(a, dir);
    const before = tf.memory().numTensors;
    await saveModule(a, dir);
    await loadModule(a, dir);
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });
});
