// Test helper: figures of long runs. An example's figure caps are a settings object (e.g.
// COBA_FIGURE_CAPS) that a test lowers for one run; a decimated line is checked against the full
// series it came from.
import { expect } from 'vitest';

/** Runs `fn` with `settings` patched (its own keys restored after, whatever `fn` does). */
export async function withSettings<S extends object, T>(settings: S, patch: Partial<S>, fn: () => T | Promise<T>): Promise<T> {
  const saved = { ...settings };
  try {
    Object.assign(settings, patch);
    return await fn();
  } finally {
    Object.assign(settings, saved);
  }
}

/**
 * `trace` is the min/max envelope of the finite series `full` (at x = xs[i]): at most `cap` points,
 * first and last kept, each kept point `full`'s value at its own x, each of the ⌊(cap − 2)/2⌋
 * buckets of consecutive values keeping its largest and its smallest; named as an envelope.
 */
export function expectEnvelope(trace: { name?: unknown; x?: unknown; y?: unknown }, name: string, xs: readonly number[], full: readonly number[], cap: number): void {
  const n = full.length;
  const B = Math.floor((cap - 2) / 2);
  expect(trace.name).toBe(`${name} (min/max of ${B} buckets of ${n} points)`);
  const x = Array.from(trace.x as ArrayLike<number>);
  const y = Array.from(trace.y as ArrayLike<number>);
  expect(x.length).toBeLessThanOrEqual(cap);
  const at = x.map((v) => xs.indexOf(v));
  expect(at[0]).toBe(0);
  expect(at[at.length - 1]).toBe(n - 1);
  for (let q = 0; q < at.length; q++) {
    if (q > 0) expect(at[q]!).toBeGreaterThan(at[q - 1]!);
    expect(y[q], `${name} at x = ${x[q]}`).toBe(full[at[q]!]);
  }
  for (let b = 0; b < B; b++) {
    const lo = Math.floor((b * n) / B);
    const hi = Math.floor(((b + 1) * n) / B);
    const kept = at.filter((i) => i >= lo && i < hi).map((i) => full[i]!);
    expect(kept).toContain(Math.max(...full.slice(lo, hi)));
    expect(kept).toContain(Math.min(...full.slice(lo, hi)));
  }
}

