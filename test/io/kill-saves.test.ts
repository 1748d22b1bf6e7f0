// Acceptance: 50 SIGKILLs at random moments during repeated saves leave, every time, a folder
// that loads (the previous save or the new one, never a mix): the manifest is swapped in by one
// rename after the weights it names are on disk.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeTensors, readTensorFolder } from '../../src/io/tensors.js';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'cinder-kill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runUntilKilled(script: string, dir: string, delayMs: number): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      if (!killed && d.toString().includes('ready')) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? res() : rej(new Error(`child ended with ${code ?? signal}`))));
  });
}

describe('atomic saves under SIGKILL', () => {
  it('50 kills at random moments: every folder loads, consistently (old or new save)', async () => {
    // one bundled child (fast start) instead of a TypeScript loader per kill
    const script = join(tmp, 'save-loop.mjs');
    await build({ entryPoints: [resolve(here, 'fixtures', 'save-loop.ts')], bundle: true, platform: 'node', format: 'esm', outfile: script, logLevel: 'error', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
    const dir = join(tmp, 'save');
    const seen = new Set<number>();
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 50; i++) {
      await runUntilKilled(script, dir, random() * 120);
      const art = await readTensorFolder(dir); // throws on a damaged or inconsistent folder
      const t = decodeTensors(art);
      const k = (art.manifest.metadata as { k: number }).k;
      expect(k).toBeGreaterThanOrEqual(1);
      expect(t.a!.data.every((v) => v === k), `kill ${i}: tensor a holds save ${k} only`).toBe(true);
      expect(t.b!.data.every((v) => v === k), `kill ${i}: tensor b holds save ${k} only`).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBeGreaterThan(1); // kills landed after different numbers of saves
  }, 120_000);
});
