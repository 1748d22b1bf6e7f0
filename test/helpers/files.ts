// Test helper: every file under a folder, by relative path, with its bytes (base64), for
// byte-identity comparisons of run folders.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** Relative path → base64 content of every file under `dir`. */
export function folderBytes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name), `${rel}${f.name}/`);
      else out.set(`${rel}${f.name}`, readFileSync(join(d, f.name)).toString('base64'));
    }
  };
  walk(dir, '');
  return out;
}

/** Asserts that folders `want` and `got` hold the same files with the same bytes (`label` names them in failures). */
export function expectSameFiles(want: string, got: string, label = 'artifacts'): void {
  const fa = folderBytes(want);
  const fb = folderBytes(got);
  expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
  for (const [k, v] of fa) expect(fb.get(k) === v, `${label}/${k} byte-identical`).toBe(true);
}

/** {@link folderBytes} as a plain object (relative path → base64 bytes), for `toEqual` snapshots of a folder. */
export function folderSnapshot(dir: string): Record<string, string> {
  return Object.fromEntries(folderBytes(dir));
}
