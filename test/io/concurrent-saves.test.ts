// Saves running at the same time into one tensor folder leave it loadable, holding one of them:
// a save deletes only the weights its own manifest swap replaced, its own orphans, old orphans of
// killed saves, and temporary files of processes that have ended.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { decodeTensors, encodeTensors, readTensorFolder, weightsFileName, writeTensorFolder } from '../../src/io/tensors.js';

const here = dirname(fileURLToPath(import.meta.url));
const temp = (): string => mkdtempSync(join(tmpdir(), 'cinder-concurrent-'));
const save = (v: number, who: string) => encodeTensors({ x: { data: new Float32Array(256).fill(v), shape: [256], dtype: 'float32' } }, { metadata: { who } });

describe('concurrent saves into one tensor folder', () => {
  it('two saves started together, 25 times: the folder loads every time and holds one of the two; no file is left over', async () => {
    const dir = temp();
    for (let i = 0; i < 25; i++) {
      const a = save(i, 'A');
      const b = save(-i - 100, 'B');
      await Promise.all([writeTensorFolder(dir, a), writeTensorFolder(dir, b)]);
      const art = await readTensorFolder(dir); // throws if the weights it names are gone
      const who = (art.manifest.metadata as { who: string }).who;
      expect(['A', 'B']).toContain(who);
      expect(Array.from(decodeTensors(art).x!.data.subarray(0, 2)), `pair ${i}`).toEqual(who === 'A' ? [i, i] : [-i - 100, -i - 100]);
      expect(readdirSync(dir).sort(), `pair ${i}`).toEqual(['model.json', weightsFileName(art.manifest.weightsChecksum)]);
    }
  });

  it("another process's live temporary file and a fresh unnamed weights file stay; a dead process's temporary file and old orphans go", async () => {
    const dir = temp();
    await writeTensorFolder(dir, save(1, 'A'));
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // has exited
    const live = process.ppid;
    const names = {
      deadTmp: `.weights-0000000a.bin.${dead}.1.tmp`,
      liveTmp: `.model.json.${live}.3.tmp`,
      fresh: 'weights-00000001.bin', // a concurrent writer's, about to be named by its manifest
      old: 'weights-00000002.bin', // a killed save's leftover
    };
    for (const n of Object.values(names)) writeFileSync(join(dir, n), 'x');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(join(dir, names.old), hourAgo, hourAgo);
    const next = save(2, 'B');
    await writeTensorFolder(dir, next);
    expect(readdirSync(dir).sort()).toEqual([names.liveTmp, 'model.json', names.fresh, weightsFileName(next.manifest.weightsChecksum)].sort());
  });

  it('two processes saving 60 times each into one folder: both finish, the folder loads as the last save of one of them', async () => {
    const script = join(temp(), 'save-n.mjs');
    await build({ entryPoints: [resolve(here, 'fixtures', 'save-n.ts')], bundle: true, platform: 'node', format: 'esm', outfile: script, logLevel: 'error', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
    const dir = temp();
    const run = (who: number) =>
      new Promise<string>((res) => {
        const child = spawn(process.execPath, [script, dir, String(who), '60'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => res(`exit ${code}${err ? `: ${err.split('\n')[0]}` : ''}`));
      });
    expect(await Promise.all([run(1), run(2)])).toEqual(['exit 0', 'exit 0']);
    const art = await readTensorFolder(dir);
    const { who, k } = art.manifest.metadata as { who: number; k: number };
    expect([who, k]).toSatisfy(([w, n]: number[]) => (w === 1 || w === 2) && n === 60);
    const t = decodeTensors(art);
    expect(t.a!.data.every((v) => v === who * 1000 + 60)).toBe(true);
    expect(t.b!.data.every((v) => v === who * 1000 + 60)).toBe(true);
  }, 60_000);
});
