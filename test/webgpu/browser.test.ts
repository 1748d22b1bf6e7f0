// The browser path: the main entry `cinder-snn` (src/index.ts bundled by esbuild for the browser)
// runs in headless chromium on its native navigator.gpu (SwiftShader, served from a loopback page:
// WebGPU needs a secure context); initBackend picks webgpu there, and an e-prop training step with
// the fused WGSL kernel gives the losses that the JavaScript kernel gives in Node on the cpu backend.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import * as cinder from '../../src/index.js';
import { onBackend } from './gpu.js';

const CHROMIUM = '/usr/bin/chromium';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const runIt = existsSync(CHROMIUM) && !!process.env.VK_DRIVER_FILES;

/**
 * The scenario, run both in Node and in the page (`c` is the cinder module): a 12-neuron e-prop
 * network (6 LIF + 6 ALIF), batch 4, 60 steps, 3 Adam steps; returns the losses and the backend.
 */
async function scenario(c: typeof cinder, backend: string, kernel: 'auto' | 'js'): Promise<{ backend: string; kernel: string; loss: number[] }> {
  const info = await c.initBackend({ backend });
  const rng = new c.Rng(7);
  const rec = new c.EPropRecurrent({ nIn: 8, nLif: 6, nAlif: 6, rng });
  const ro = new c.EPropReadout({ nRec: 12, nOut: 2, rng });
  const opt = new c.Adam({ learningRate: 5e-3 });
  const trainer = new c.EProp({ recurrent: rec, readout: ro, optimizer: opt, learningWindow: 10, cReg: 30, averageGradient: true, kernel });
  const B = 4, T = 60;
  const x = new Float32Array(B * T * 8);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.15 ? 1 : 0;
  const inputs = c.tf.tensor3d(x, [B, T, 8]);
  const loss: number[] = [];
  for (let k = 0; k < 3; k++) loss.push((await trainer.stepAsync({ inputs, labels: [0, 1, 1, 0] })).loss);
  inputs.dispose();
  rec.dispose();
  ro.dispose();
  opt.dispose();
  return { backend: info.name, kernel: trainer.kernel, loss };
}

/**
 * A Network run in the page and in Node (`c` is the cinder module): one LinearDense → LIF layer with
 * STDP, 40 steps through `Network.run` yielding to the event loop after every step (a browser has
 * no setImmediate); returns the backend, the steps done, the output spikes per step and the weights.
 */
async function networkScenario(c: typeof cinder, backend: string): Promise<{ backend: string; done: number; spikes: number[]; weight: number[] }> {
  const info = await c.initBackend({ backend });
  const rng = new c.Rng(3);
  const layer = new c.Serial(
    new c.LinearDense([10], [4], 1, { synapse: c.DeltaCurrent.factory({ charge: 30 }), batchSize: 2, weightInit: c.uniformInit(rng, 0, 1) }),
    new c.LIF([4], 1, { restV: -65, resetV: -65, threshV: -55, refracT: 2, tauM: 10, batchSize: 2 }),
  );
  const net = new c.Network();
  net.addLayer('layer', layer);
  const stdp = new c.STDP({ lrPost: 0.01, lrPre: -0.012, tauPre: 20, tauPost: 20 });
  stdp.register(layer.cell('connection', 'neuron'));
  net.addTrainer('stdp', stdp);
  const x = Array.from({ length: 40 }, () => Array.from({ length: 20 }, () => (rng.uniform() < 0.3 ? 1 : 0)));
  const spikes: number[] = [];
  const done = await net.run((t) => c.tf.tensor2d(x[t]!, [2, 10]), { steps: 40, yieldEveryMs: 0, onStep: (_t, y) => spikes.push(c.tf.sum(y).arraySync() as number) });
  const weight = Array.from(await layer.connection.weight.data());
  return { backend: info.name, done, spikes, weight };
}

describe.skipIf(!runIt)(`main entry in a browser on navigator.gpu (chromium, SwiftShader)${runIt ? '' : ' [skipped: needs /usr/bin/chromium and VK_DRIVER_FILES]'}`, () => {
  let server: Server;
  let browser: Browser;
  let url = '';
  beforeAll(async () => {
    const out = await build({
      stdin: { contents: "import * as c from './src/index.ts'; (globalThis as any).cinder = c;", resolveDir: root, loader: 'ts' },
      bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent',
    });
    const js = out.outputFiles[0]!.text;
    const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/cinder.js"></script>';
    server = createServer((req, res) => {
      if (req.url === '/cinder.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader', '--no-sandbox'],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => server?.close(ok));
  });

  it('initBackend({ backend: \'webgpu\' }) on the page; the fused e-prop kernel (auto there) gives the JS kernel\'s losses', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { cinder?: unknown }).cinder !== undefined, undefined, { timeout: 60_000 });
    const adapter = await page.evaluate(async () => {
      const a = await (navigator as unknown as { gpu: { requestAdapter(): Promise<{ info: { vendor: string; architecture: string } } | null> } }).gpu.requestAdapter();
      return a ? `${a.info.vendor} ${a.info.architecture}` : null;
    });
    expect(adapter, 'the page has a WebGPU adapter').not.toBeNull();
    const inPage = await page.evaluate(`(${scenario.toString()})(globalThis.cinder, 'webgpu', 'auto')`) as Awaited<ReturnType<typeof scenario>>;
    expect(errors).toEqual([]);
    expect(inPage.backend).toBe('webgpu');
    expect(inPage.kernel).toBe('webgpu');
    const node = await onBackend('cpu', () => scenario(cinder, 'cpu', 'js'));
    for (let k = 0; k < 3; k++) expect(Math.abs(inPage.loss[k]! - node.loss[k]!) / Math.abs(node.loss[k]!)).toBeLessThan(1e-4);
    expect(node.loss[2], 'training moves the loss').not.toBe(node.loss[0]);
    await page.close();
  }, 180_000);

  it('Network.run in the page (no setImmediate there) equals Node on the cpu backend', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { cinder?: unknown }).cinder !== undefined, undefined, { timeout: 60_000 });
    const inPage = await page.evaluate(`(${networkScenario.toString()})(globalThis.cinder, 'cpu')`) as Awaited<ReturnType<typeof networkScenario>>;
    expect(errors).toEqual([]);
    const node = await onBackend('cpu', () => networkScenario(cinder, 'cpu'));
    expect(inPage.backend).toBe('cpu');
    expect(inPage.done).toBe(40);
    expect(inPage.spikes).toEqual(node.spikes);
    expect(node.spikes.reduce((a, b) => a + b, 0), 'the layer spikes').toBeGreaterThan(0);
    expect(inPage.weight).toEqual(node.weight);
    await page.close();
  }, 180_000);
});
