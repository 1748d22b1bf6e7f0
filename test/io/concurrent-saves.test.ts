// Saves running at the same time into one tensor folder take turns through the folder's lock file
// (.save.lock) and leave it loadable, holding the last of them and no other weights file; a lock
// of an ended process is taken over, a live one waited for; readers meanwhile always read one
// complete save.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { decodeTensors, encodeTensors, readTensorFolder, SAVE_LOCK_FILE, weightsFileName, writeTensorFolder, type TensorsArtifacts } from '../../src/io/tensors.js';
import { version, versionOf } from './fixtures/save-versions.js';

const here = dirname(fileURLToPath(import.meta.url));
const temp = (): string => mkdtempSync(join(tmpdir(), 'cinder-concurrent-'));
/** The fixture `name` bundled into one script (fast child start). */
async function bundle(name: string): Promise<string> {
  const script = join(temp(), `${name}.mjs`);
  await build({ entryPoints: [resolve(here, 'fixtures', `${name}.ts`)], bundle: true, platform: 'node', format: 'esm', outfile: script, logLevel: 'error', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  return script;
}
/** Runs `node script ...args` to its end: 'exit <code>' and the first line of its stderr. */
const runNode = (script: string, args: string[]) =>
  new Promise<string>((res) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => res(`exit ${code}${err ? `: ${err.split('\n')[0]}` : ''}`));
  });
/** Pid of a process that has ended. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;
/** True when `got` is `want` byte for byte: manifest (checksum included) and weights. */
const sameSave = (got: TensorsArtifacts, want: TensorsArtifacts): boolean =>
  got.manifest.weightsChecksum === want.manifest.weightsChecksum && Buffer.compare(Buffer.from(got.weightData), Buffer.from(want.weightData)) === 0 && JSON.stringify(got.manifest.metadata) === JSON.stringify(want.manifest.metadata);
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

  it("leftovers: every weights file the manifest does not name goes at once, and a dead process's temporary file; a live process's stays", async () => {
    const dir = temp();
    await writeTensorFolder(dir, save(1, 'A'));
    const names = {
      deadTmp: `.weights-0000000a.bin.${deadPid()}.1.tmp`,
      liveTmp: `.model.json.${process.ppid}.3.tmp`,
      fresh: 'weights-00000001.bin', // a killed save's, just written
      lockNew: `${SAVE_LOCK_FILE}.new-${deadPid()}-${hostname()}`, // a save killed while taking the lock
      // the same with a thread id after the pid (worker threads share the pid)
      deadTmpThread: `.model.json.${deadPid()}.2.7.tmp`,
      liveTmpThread: `.weights-0000000b.bin.${process.ppid}.1.4.tmp`,
      lockNewThread: `${SAVE_LOCK_FILE}.new-${deadPid()}.3-${hostname()}`,
    };
    for (const n of Object.values(names)) writeFileSync(join(dir, n), 'x');
    const next = save(2, 'B');
    await writeTensorFolder(dir, next);
    expect(readdirSync(dir).sort()).toEqual([names.liveTmp, names.liveTmpThread, 'model.json', weightsFileName(next.manifest.weightsChecksum)].sort());
  });

  it("a lock of an ended process is taken over; a live process's lock makes a save wait, then it saves once the lock is released", async () => {
    const dir = temp();
    const lock = join(dir, SAVE_LOCK_FILE);
    writeFileSync(lock, `${hostname()} ${deadPid()}`);
    await writeTensorFolder(dir, save(1, 'A'));
    expect((await readTensorFolder(dir)).manifest.metadata).toEqual({ who: 'A' });
    expect(readdirSync(dir).sort()).toEqual(['model.json', weightsFileName(save(1, 'A').manifest.weightsChecksum)]);
    // a live holder: a child process that takes the lock as a save does, and removes it when told
    const holder = spawn(process.execPath, ['-e', `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(lock)}, require('os').hostname() + ' ' + process.pid, { flag: 'wx' }); console.log('held'); process.stdin.once('data', () => { fs.rmSync(${JSON.stringify(lock)}); console.log('released'); setTimeout(() => {}, 60000); });`], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise((r) => holder.stdout.once('data', r));
      const started = Date.now();
      let doneAt = 0;
      const saving = writeTensorFolder(dir, save(2, 'B')).then(() => (doneAt = Date.now()));
      await new Promise((r) => setTimeout(r, 400));
      expect(doneAt).toBe(0); // still waiting
      expect((await readTensorFolder(dir)).manifest.metadata).toEqual({ who: 'A' });
      expect(() => writeFileSync(lock, 'x', { flag: 'wx' })).toThrow(/EEXIST/); // the holder's lock is untouched
      expect(readFileSync(lock, 'utf8')).toBe(`${hostname()} ${holder.pid}`);
      holder.stdin.write('go\n');
      await saving;
      expect(doneAt - started).toBeGreaterThanOrEqual(400);
      expect(doneAt - started).toBeLessThan(5000);
      expect((await readTensorFolder(dir)).manifest.metadata).toEqual({ who: 'B' });
      expect(existsSync(lock)).toBe(false);
    } finally {
      holder.kill();
    }
  });

  it('a live lock held past lockTimeoutMs: the save gives up with an error naming the folder and the holder, and changes nothing', async () => {
    const dir = temp();
    await writeTensorFolder(dir, save(1, 'A'));
    const lock = join(dir, SAVE_LOCK_FILE);
    writeFileSync(lock, `${hostname()} ${process.ppid}`);
    const t0 = Date.now();
    await expect(writeTensorFolder(dir, save(2, 'B'), { lockTimeoutMs: 150 })).rejects.toThrow(
      `invalid dir: got ${JSON.stringify(dir)}, expected a tensor folder no other save is writing (process ${process.ppid} on ${hostname()} has held ${lock} for the 150 ms waited; remove the lock if no save is running)`,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(readFileSync(lock, 'utf8')).toBe(`${hostname()} ${process.ppid}`);
    expect((await readTensorFolder(dir)).manifest.metadata).toEqual({ who: 'A' });
    await expect(writeTensorFolder(dir, save(2, 'B'), { lockTimeoutMs: -1 })).rejects.toThrow('invalid lockTimeoutMs: got -1, expected a finite number of milliseconds >= 0');
    rmSync(lock);
  });

  it('three processes saving 45 times each, two of every three saves identical across them, while this one reads: every read is one save; the end is the last save of one of them, alone', async () => {
    const script = await bundle('save-mix');
    const dir = temp();
    await writeTensorFolder(dir, version(0, 3));
    let finished = false;
    const done = Promise.all([1, 2, 3].map((who) => runNode(script, [dir, String(who), '45']))).finally(() => (finished = true));
    let reads = 0;
    const bad: string[] = [];
    while (!finished) {
      try {
        const art = await readTensorFolder(dir);
        if (!sameSave(art, versionOf(art.manifest.metadata))) bad.push(`read ${reads}: ${JSON.stringify(art.manifest.metadata)} is not that save`);
      } catch (err) {
        bad.push(`read ${reads}: ${(err as Error).message}`);
      }
      reads++;
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await done).toEqual(['exit 0', 'exit 0', 'exit 0']);
    expect(bad).toEqual([]);
    expect(reads).toBeGreaterThan(10);
    const art = await readTensorFolder(dir);
    const { who, k } = art.manifest.metadata as { who: number; k: number };
    expect([1, 2, 3]).toContain(who);
    expect(k).toBe(45);
    expect(sameSave(art, version(who, 45))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['model.json', weightsFileName(art.manifest.weightsChecksum)]);
  }, 120_000);

  it('two processes saving 60 times each into one folder: both finish, the folder loads as the last save of one of them', async () => {
    const script = await bundle('save-n');
    const dir = temp();
    expect(await Promise.all([1, 2].map((who) => runNode(script, [dir, String(who), '60'])))).toEqual(['exit 0', 'exit 0']);
    const art = await readTensorFolder(dir);
    const { who, k } = art.manifest.metadata as { who: number; k: number };
    expect([who, k]).toSatisfy(([w, n]: number[]) => (w === 1 || w === 2) && n === 60);
    const t = decodeTensors(art);
    expect(t.a!.data.every((v) => v === who * 1000 + 60)).toBe(true);
    expect(t.b!.data.every((v) => v === who * 1000 + 60)).toBe(true);
  }, 60_000);
});
