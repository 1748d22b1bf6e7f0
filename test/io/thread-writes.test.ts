// Worker threads of one process share its pid: atomic writes, lock files and tensor-folder saves
// running at the same moment in several threads must not share a temporary or private file
// (names carry the thread id too). Each round starts the threads at the same instant.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTensors, readTensorFolder, weightsFileName } from '../../src/io/tensors.js';

const here = dirname(fileURLToPath(import.meta.url));
const temp = (): string => mkdtempSync(join(tmpdir(), 'cinder-threads-'));
const THREADS = 3;
let workers: Worker[] = [];

beforeAll(async () => {
  const script = join(temp(), 'thread-writes.mjs');
  await build({ entryPoints: [resolve(here, 'fixtures', 'thread-writes.ts')], bundle: true, platform: 'node', format: 'esm', outfile: script, logLevel: 'error', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  workers = Array.from({ length: THREADS }, () => new Worker(script));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
}, 60_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

/** One round: thread k does `kind` on `path` with content `contents[k]`, all starting together; their answers. */
const round = (kind: string, path: string, contents: string[]): Promise<string[]> => {
  const at = Date.now() + 20;
  return Promise.all(workers.map((w, k) => new Promise<string>((r) => { w.once('message', (m) => r(String(m))); w.postMessage({ kind, path, at, content: contents[k] }); })));
};

describe('worker threads of one process writing at the same moment', () => {
  it('atomic writes to one file, 40 rounds: every write succeeds and the file holds one of them whole; no temporary file is left', async () => {
    const dir = temp();
    const path = join(dir, 'x.txt');
    const bad: string[] = [];
    for (let i = 0; i < 40; i++) {
      // different lengths, so that a mix of two writes is never one of them
      const contents = workers.map((_, k) => `${i}:${k}:`.padEnd(1000 * (k + 1) + i, String.fromCharCode(97 + k)));
      const res = await round('atomic', path, contents);
      if (res.some((r) => r !== 'ok')) bad.push(`round ${i}: ${res.join(' | ')}`);
      const got = readFileSync(path, 'utf8');
      if (!contents.includes(got)) bad.push(`round ${i}: the file holds ${got.length} chars, none of the writes`);
      const left = readdirSync(dir).filter((n) => n !== 'x.txt');
      if (left.length > 0) bad.push(`round ${i}: left ${left.join(', ')}`);
    }
    expect(bad).toEqual([]);
  }, 60_000);

  it('lock creation, 200 rounds: exactly one thread gets each lock, holding its own text; no error, no private file left', async () => {
    const dir = temp();
    const bad: string[] = [];
    for (let i = 0; i < 200; i++) {
      const path = join(dir, `l${i}`);
      const contents = workers.map((_, k) => `thread ${k} round ${i}`);
      const res = await round('lock', path, contents);
      const winners = res.flatMap((r, k) => (r === 'got' ? [k] : []));
      if (winners.length !== 1 || res.some((r) => r !== 'got' && r !== 'refused')) bad.push(`round ${i}: ${res.join(' | ')}`);
      else if (readFileSync(path, 'utf8') !== contents[winners[0]!]) bad.push(`round ${i}: thread ${winners[0]} got it, the lock holds ${JSON.stringify(readFileSync(path, 'utf8'))}`);
    }
    expect(bad).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.includes('.'))).toEqual([]);
  }, 60_000);

  it('tensor-folder saves into one folder, 30 rounds: every save succeeds, the folder loads as one of them and holds nothing else', async () => {
    const dir = temp();
    const bad: string[] = [];
    for (let i = 0; i < 30; i++) {
      const contents = workers.map((_, k) => String(i * 10 + k));
      const res = await round('save', dir, contents);
      if (res.some((r) => r !== 'ok')) bad.push(`round ${i}: ${res.join(' | ')}`);
      const art = await readTensorFolder(dir);
      const who = (art.manifest.metadata as { who: string }).who;
      if (!contents.includes(who) || !decodeTensors(art).x!.data.every((v) => v === Number(who))) bad.push(`round ${i}: loaded ${who}`);
      const names = readdirSync(dir).sort();
      if (JSON.stringify(names) !== JSON.stringify(['model.json', weightsFileName(art.manifest.weightsChecksum)])) bad.push(`round ${i}: ${names.join(', ')}`);
    }
    expect(bad).toEqual([]);
  }, 60_000);
});
