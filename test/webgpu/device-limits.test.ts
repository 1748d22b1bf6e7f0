// Buffers over the adapter's limit (src/kernels/webgpu/limits.ts) and errors the device reports on
// the side (src/core/device-errors.ts). WebGPU does not throw for either: the failed work is
// skipped and reads as zeros. Cinder's programs check their sizes first; anything else the device
// reports makes the next read reject — on webgpu, SwiftShader in CI (1 GiB per buffer).
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildEvidenceNetwork } from '../../examples/eprop-evidence/training.js';
import { EvidenceTask } from '../../examples/eprop-evidence/task.js';
import { runCli } from '../../src/cli/program.js';
import { EXAMPLES } from '../../examples/index.js';
import { epropEvidenceExample } from '../../examples/eprop-evidence/index.js';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import { DeviceError, watchDeviceErrors } from '../../src/core/device-errors.js';
import { maxBindingBytes } from '../../src/kernels/webgpu/limits.js';
import { dispatchListeners } from '../../src/kernels/webgpu/step-dispatch.js';
import { runElementwise } from '../../src/kernels/webgpu/step-program.js';
import { runProgram } from '../../src/kernels/webgpu/eprop.js';
import { webgpuMaxBatch, type EPropBatch } from '../../src/learn/eprop/index.js';
import { onBackend, webgpuForTests } from './gpu.js';
import { initBackend } from '../../src/core/backend.js';

const gpu = await webgpuForTests();

describe.skipIf(!gpu.ok)(`device limits and device errors on webgpu (${gpu.detail})`, () => {
  it("the limit is the adapter's min(maxStorageBufferBindingSize, maxBufferSize); none off webgpu", async () => {
    const limits = await onBackend('webgpu', () => (tf.backend() as unknown as { device: { limits: { maxStorageBufferBindingSize: number; maxBufferSize: number } } }).device.limits);
    const limit = await onBackend('webgpu', () => maxBindingBytes());
    expect(limit).toBe(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize));
    expect(limit).toBeGreaterThanOrEqual(128 * 2 ** 20); // WebGPU's guaranteed minimum
    expect(await onBackend('cpu', () => maxBindingBytes())).toBe(Infinity);
    expect(await onBackend('cpu', () => webgpuMaxBatch(2250, 100, 40, 2))).toBe(Infinity);
    expect(await onBackend('cpu', () => watchDeviceErrors(tf.backend()))).toBe(false);
  });

  it('an error the device reports makes the next read reject with its message; later reads work', async () => {
    await onBackend('webgpu', async () => {
      const floats = maxBindingBytes() / 4 + 1;
      const big = tf.fill([floats], 1);
      const sum = tf.sum(big);
      const err = await sum.data().catch((e: unknown) => e);
      tf.dispose([big, sum]);
      expect(err).toBeInstanceOf(DeviceError);
      expect((err as DeviceError).message).toMatch(/^webgpu device error: .*(exceeds|size)/i);
      expect((err as DeviceError).messages.join(' ')).toContain(String(floats * 4));
      // Without the watch this read gave 0 (the sum of a buffer that was never made).
      const ok = tf.tidy(() => tf.sum(tf.ones([10])));
      expect(Array.from(await ok.data())).toEqual([10]);
      ok.dispose();
    });
  });

  it('a program whose output would not fit one buffer throws, naming it, before it dispatches', async () => {
    await onBackend('webgpu', () => {
      const floats = maxBindingBytes() / 4 + 1;
      const before = tf.memory().numTensors;
      const program = {
        outputShape: [floats], shaderKey: 'test-big', dispatchLayout: { x: [0] }, dispatch: [1, 1, 1] as [number, number, number],
        variableNames: [], workgroupSize: [64, 1, 1] as [number, number, number], getUserCode: () => 'fn main(index: i32) { }',
      };
      expect(() => runProgram(program, [])).toThrow(new RegExp(`^invalid test-big output: got "?shape \\[${floats}\\]"?, expected .*at most ${maxBindingBytes()} bytes`));
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('a step program whose input would not fit one buffer throws, naming it, before it dispatches', async () => {
    await onBackend('webgpu', () => {
      const floats = maxBindingBytes() / 4 + 1;
      // only its size is read before the check: no gigabyte is allocated
      const fake = { size: floats, shape: [floats], dataId: {} } as unknown as tf.Tensor;
      const before = tf.memory().numTensors;
      let dispatched = 0;
      const count = () => void dispatched++;
      dispatchListeners.add(count);
      try {
        expect(() => runElementwise('test-big-input:1', [1], 1, ['x'], [fake], () => ({ decls: '', body: 'result[index] = x[0];' }))).toThrow(
          new RegExp(`^invalid test-big-input input x: got "?\\[${floats}\\]"?, expected .*at most ${maxBindingBytes()} bytes`),
        );
      } finally {
        dispatchListeners.delete(count);
      }
      expect(dispatched).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('e-prop: a batch over the device limit fails with the largest batch that fits, before anything runs', async () => {
    await onBackend('webgpu', async () => {
      const net = buildEvidenceNetwork({ kernel: 'webgpu', nIn: 1, nLif: 50, nAlif: 50, learningWindow: 5 });
      const n = 100;
      const limit = maxBindingBytes();
      // The scan's ψ and z (2·T·n float32 per sequence) are the largest buffer: T such that 2.5
      // sequences would fill one buffer, so 2 fit and 3 do not.
      const T = Math.floor(limit / (8 * n * 2.5));
      expect(webgpuMaxBatch(T, n, 1, 2)).toBe(Math.floor(limit / (8 * T * n)));
      expect(webgpuMaxBatch(T, n, 1, 2)).toBe(2);
      const b: EPropBatch = { inputs: tf.zeros([3, T, 1]), labels: [0, 1, 0] };
      try {
        const wRec = Float32Array.from(await net.recurrent.wRec.value.data());
        const before = tf.memory().numTensors;
        const err = await net.trainer.stepAsync(b).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CinderArgumentError);
        expect((err as Error).message).toMatch(new RegExp(`^invalid batch size: got 3, expected at most 2 sequences of ${T} steps with 100 neurons on this adapter`));
        expect(net.trainer.iterations).toBe(0);
        expect(tf.memory().numTensors).toBe(before);
        expect(Array.from(await net.recurrent.wRec.value.data())).toEqual(Array.from(wRec));
      } finally {
        b.inputs.dispose();
        net.dispose();
      }
    });
  });

  it('cinder eprop-evidence refuses such a batch size before the run folder is written', async () => {
    // tiny: 10 LIF + 10 ALIF, 40 inputs; the scan's 2·T·20 floats per sequence are the largest
    // buffer. Sequences long enough (through --delay-steps) that 2 fit and 3 do not.
    const limit = await onBackend('webgpu', () => maxBindingBytes());
    const base = new EvidenceTask({ cueSteps: 20, spacingSteps: 10, delaySteps: 0, recallSteps: 30 }).steps;
    const T = Math.floor(limit / (8 * 20 * 2.5));
    const dir = mkdtempSync(join(tmpdir(), 'cinder-limits-'));
    const out = join(dir, 'run');
    let text = '';
    const sink = { write: (s: string) => ((text += s), true) };
    const args = ['eprop-evidence', '--mode', 'tiny', '--backend', 'webgpu', '--quiet', '--delay-steps', String(T - base), '--out', out];
    const code = await runCli([...args, '--batch-size', '3'], { examples: EXAMPLES, out: sink, err: sink, isTTY: false, env: {}, handleSignals: false } as never);
    expect(code).toBe(2);
    expect(text).toMatch(new RegExp(`invalid --batch-size: got 3, expected at most 2 sequences of ${T} steps with 20 neurons on this adapter`));
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    // The same run on the js kernel keeps everything on the host: no such limit (checked, not run).
    const params = { kernel: 'js', fixture: '', batchSize: 3, nLif: 10, nAlif: 10, cueSteps: 20, spacingSteps: 10, delaySteps: T - base, recallSteps: 30 };
    const backend = await onBackend('webgpu', () => initBackend({ backend: 'webgpu' }));
    expect(() => epropEvidenceExample.validateOnBackend!(params, backend)).not.toThrow();
    expect(() => epropEvidenceExample.validateOnBackend!({ ...params, kernel: 'auto' }, backend)).toThrow(/invalid --batch-size: got 3/);
    expect(() => epropEvidenceExample.validateOnBackend!({ ...params, kernel: 'auto', batchSize: 2 }, backend)).not.toThrow();
  });
});
