// webgpu in Node has no synchronous reads: tfjs's own `dataSync` of a GPU result dies deep inside
// tfjs with "ReferenceError: OffscreenCanvas is not defined". Cinder's public methods that read
// synchronously refuse webgpu first, with an error naming their asynchronous form, and change
// nothing; on the cpu backend the same methods read as before (the numbers checked against the
// host's own count).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { tf } from '../../src/core/tf.js';
import { checkSyncReads } from '../../src/core/backend.js';
import { MaskedLinear } from '../../src/neural/connections/masked-linear.js';
import { Recorder } from '../../src/observe/index.js';
import { rasterFromRecordings } from '../../src/viz/index.js';
import { onBackend, webgpuForTests, type WebgpuStatus } from './gpu.js';

let gpu: WebgpuStatus = { ok: false, detail: 'not probed' };
beforeAll(async () => {
  gpu = await webgpuForTests();
});
afterAll(async () => {
  if (gpu.ok) await onBackend('cpu', () => undefined);
});

/** A 0/1 mask [O, I] with edges where (o·7 + i·3) % 5 < 2, and its edge count on the host. */
function mask(O: number, I: number): { rows: number[][]; edges: number } {
  const rows = Array.from({ length: O }, (_, o) => Array.from({ length: I }, (_, i) => ((o * 7 + i * 3) % 5 < 2 ? 1 : 0)));
  return { rows, edges: rows.flat().reduce((a: number, b: number) => a + b, 0) };
}

describe('webgpu: synchronous reads are refused by name, before anything changes', () => {
  it("tfjs's own dataSync of a GPU result fails obscurely here (the reason for the guard)", async (ctx) => {
    if (!gpu.ok) return ctx.skip();
    await onBackend('webgpu', () => {
      const t = tf.ones([100_000]);
      const u = tf.add(t, 1);
      expect(() => u.dataSync()).toThrow(/OffscreenCanvas/);
      tf.dispose([t, u]);
    });
  });

  it('checkSyncReads throws on webgpu with the method and its async form, and not on cpu', async (ctx) => {
    if (!gpu.ok) return ctx.skip();
    await onBackend('webgpu', () => {
      expect(() => checkSyncReads('Thing.read', 'await thing.readAsync()')).toThrow(
        'invalid backend: got "webgpu", expected a backend with synchronous reads for Thing.read (webgpu in Node has none): use await thing.readAsync()',
      );
    });
    await onBackend('cpu', () => expect(() => checkSyncReads('Thing.read', 'x')).not.toThrow());
  });

  it('MaskedLinear.edgeCount: refused on webgpu (the mask read with await data() instead); on cpu the host count', async (ctx) => {
    if (!gpu.ok) return ctx.skip();
    const { rows, edges } = mask(300, 400);
    const viaData = await onBackend('webgpu', async () => {
      const c = new MaskedLinear([400], [300], 1, { batchSize: 1, mask: rows });
      const before = tf.memory().numTensors;
      expect(() => c.edgeCount).toThrow(/invalid backend: got "webgpu", expected a backend with synchronous reads for MaskedLinear.edgeCount .*await tf.sum\(connection.mask\).data\(\)/);
      expect(tf.memory().numTensors).toBe(before);
      const s = tf.sum(c.mask);
      const n = (await s.data())[0]!;
      s.dispose();
      c.dispose();
      return n;
    });
    expect(viaData).toBe(edges);
    const onCpu = await onBackend('cpu', () => {
      const c = new MaskedLinear([400], [300], 1, { batchSize: 1, mask: rows });
      const n = c.edgeCount;
      c.dispose();
      return n;
    });
    expect(onCpu).toBe(edges);
  });

  it('Recorder.toArray (and a figure given the Recorder itself): refused on webgpu, nothing lost; toArrayAsync reads the records', async (ctx) => {
    if (!gpu.ok) return ctx.skip();
    const N = 30_000; // large enough that tfjs runs the op on the GPU, not forwarded to its CPU
    const got = await onBackend('webgpu', async () => {
      const base = tf.range(0, N, 1, 'float32');
      let k = 0;
      let cur: tf.Tensor | null = null;
      const rec = new Recorder(() => cur!, { capacity: 4 });
      for (; k < 3; k++) {
        cur?.dispose();
        cur = tf.mod(tf.add(base, k), 7); // computed on the device
        rec.observe();
      }
      const before = tf.memory().numTensors;
      expect(() => rec.toArray()).toThrow(/invalid backend: got "webgpu", expected a backend with synchronous reads for Recorder.toArray .*await recorder.toArrayAsync\(\)/);
      expect(() => rasterFromRecordings('r', [{ name: 'x', spikes: rec }])).toThrow(/synchronous reads for Recorder.toArray/);
      expect(tf.memory().numTensors).toBe(before);
      expect(rec.recordedSteps()).toEqual([1, 2, 3]);
      const a = await rec.toArrayAsync();
      rec.dispose();
      cur?.dispose();
      base.dispose();
      return a;
    });
    expect(got.shape).toEqual([3, N]);
    for (let t = 0; t < 3; t++) for (const i of [0, 1, 6, 12_345, N - 1]) expect(got.data[t * N + i]).toBe((i + t) % 7);
  });
});
