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
 * The indices a min/max envelope of `y` keeps under a cap of `maxPoints` points, by the rule
 * docs/figures.md states, computed with plain loops (independent of src/viz): bucket b = [⌊b·n/B⌋, ⌊(b+1)·n/B⌋); kept are
 * 0, n − 1 and each bucket's first minimum and maximum, then after each of them with a finite value
 * the first non-finite index before the next; B = ⌊(maxPoints − 2)/2⌋ without gaps, else
 * ⌊(maxPoints − 2)/3⌋ when that keeps at most maxPoints points, else ⌊(maxPoints − 3)/4⌋.
 */
export function envelopeIndices(y: ArrayLike<number>, maxPoints: number): { indices: number[]; buckets: number } {
  const n = y.length;
  if (n <= maxPoints) return { indices: Array.from({ length: n }, (_, i) => i), buckets: 0 };
  const values = Array.from(y);
  const envelope = (B: number, gaps: boolean): number[] => {
    const keep = new Set<number>([0, n - 1]);
    for (let b = 0; b < B; b++) {
      const lo = Math.floor((b * n) / B);
      const hi = Math.floor(((b + 1) * n) / B);
      let mn = Infinity;
      let mx = -Infinity;
      let any = false;
      for (let i = lo; i < hi; i++) {
        const v = values[i]!;
        if (!Number.isFinite(v)) continue;
        any = true;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      if (!any) continue;
      // first index whose value equals the extreme (=== makes −0 and 0 equal)
      for (let i = lo; i < hi; i++) if (values[i] === mn) { keep.add(i); break; }
      for (let i = lo; i < hi; i++) if (values[i] === mx) { keep.add(i); break; }
    }
    const kept = [...keep].sort((a, b) => a - b);
    if (!gaps) return kept;
    const out = [...kept];
    for (let k = 0; k + 1 < kept.length; k++) {
      if (!Number.isFinite(values[kept[k]!]!)) continue;
      for (let i = kept[k]! + 1; i < kept[k + 1]!; i++) if (!Number.isFinite(values[i]!)) { out.push(i); break; }
    }
    return out.sort((a, b) => a - b);
  };
  if (values.every(Number.isFinite)) return { indices: envelope(Math.floor((maxPoints - 2) / 2), false), buckets: Math.floor((maxPoints - 2) / 2) };
  const fine = envelope(Math.floor((maxPoints - 2) / 3), true);
  if (fine.length <= maxPoints) return { indices: fine, buckets: Math.floor((maxPoints - 2) / 3) };
  return { indices: envelope(Math.floor((maxPoints - 3) / 4), true), buckets: Math.floor((maxPoints - 3) / 4) };
}
