// Test helper: python3 (with NumPy) as an outside reference.
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

/** Runs `python3 -c code args…`, asserts it succeeded with nothing on stderr, and returns its stdout, trimmed. */
export function python(code: string, ...args: string[]): string {
  const r = spawnSync('python3', ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim();
}
