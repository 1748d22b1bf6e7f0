/**
 * A small deterministic uniform stream for tests' own reference data (mulberry32: 32-bit state,
 * values k/2^32 in [0, 1)); independent of the library's Rng, so a reference built from it shares
 * no code with what it checks.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
