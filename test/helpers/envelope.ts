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


/**
 * The indices a min/max envelope of `full` keeps under a cap of `cap` points, by the rule
 * docs/figures.md states, computed here with plain loops (independent of src/viz): all of them
 * when `full.length <= cap`; else B buckets of consecutive values, bucket b = [⌊b·n/B⌋,
 * ⌊(b+1)·n/B⌋) with B = ⌊(cap − 2)/2⌋ (⌊(cap − 2)/3⌋ when some value is not finite), keeping
 * index 0, index n − 1, and per bucket the first index of its smallest and of its largest finite
 * value and the first index of a non-finite one; increasing, each once.
 */
export function envelopeIndices(full: ArrayLike<number>, cap: number): { indices: number[]; buckets: number } {
  const n = full.length;
  if (n <= cap) return { indices: Array.from({ length: n }, (_, i) => i), buckets: 0 };
  let gaps = false;
  for (let i = 0; i < n; i++) if (!Number.isFinite(full[i]!)) gaps = true;
  const B = Math.floor((cap - 2) / (gaps ? 3 : 2));
  const kept = new Set<number>([0, n - 1]);
  for (let b = 0; b < B; b++) {
    const lo = Math.floor((b * n) / B);
    const hi = Math.floor(((b + 1) * n) / B);
    const finite: number[] = [];
    for (let i = lo; i < hi; i++) if (Number.isFinite(full[i]!)) finite.push(i);
    if (finite.length > 0) {
      const vals = finite.map((i) => full[i]!);
      kept.add(finite[vals.indexOf(Math.min(...vals))]!);
      kept.add(finite[vals.indexOf(Math.max(...vals))]!);
    }
    for (let i = lo; i < hi; i++) {
      if (!Number.isFinite(full[i]!)) {
        kept.add(i);
        break;
      }
    }
  }
  return { indices: [...kept].sort((a, c) => a - c), buckets: B };
}
