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
});
