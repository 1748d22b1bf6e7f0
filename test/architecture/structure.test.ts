// The house's floors (docs/architecture.md): a file in src/ imports only from its own floor or
// below, never from examples/, and the runtime import graph (type-only imports aside) has no cycle.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cycles, importsOf, listTs, type ImportEdge } from './imports.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Floor of each top-level folder of src/ (higher may import lower, never the reverse). */
export const FLOORS: Record<string, number> = {
  core: 0,
  io: 1,
  neural: 2,
  kernels: 2,
  observe: 3,
  learn: 4,
  network: 5,
  viz: 6,
  cli: 7,
  sweep: 7,
};

function floorOf(file: string): { area: string; floor: number } | null {
  const parts = file.split('/');
  if (parts[0] !== 'src') return null;
  if (parts.length === 2) return { area: 'entry', floor: 99 }; // src/index.ts, src/node.ts
  const area = parts[1]!;
  const floor = FLOORS[area];
  if (floor === undefined) throw new Error(`src/${area} is not a known floor: add it to FLOORS and docs/architecture.md`);
  return { area, floor };
}

describe('structure of src/', () => {
  const files = listTs(root, 'src');
  const edges: ImportEdge[] = files.flatMap((f) => importsOf(root, f).edges);

  it('reads a non-trivial graph (the parser sees the imports)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(files.length);
    expect(edges.some((e) => e.from === 'src/neural/neurons/lif.ts' && e.to === 'src/core/tf.ts')).toBe(true);
  });

  it('imports only from its own floor or below', () => {
    const up = edges
      .filter((e) => e.to.startsWith('src/'))
      .filter((e) => floorOf(e.from)!.floor < floorOf(e.to)!.floor)
      .map((e) => `${e.from} -> ${e.to}`);
    expect(up).toEqual([]);
  });

  it('never imports examples/ or anything outside src/', () => {
    const out = edges.filter((e) => !e.to.startsWith('src/')).map((e) => `${e.from} -> ${e.to}`);
    expect(out).toEqual([]);
  });

  it('has no runtime import cycle', () => {
    expect(cycles(files, edges)).toEqual([]);
  });

  it('keeps Node built-ins out of the floors the main entry reaches (io, cli, sweep, viz/html and *.node.ts files are Node-only)', () => {
    const nodeOnly = (f: string): boolean => /^src\/(io|cli|sweep)\//.test(f) || /\.node\.ts$/.test(f) || f === 'src/viz/html.ts' || f === 'src/node.ts';
    const bad = files.filter((f) => !nodeOnly(f)).flatMap((f) => importsOf(root, f).packages.filter((p) => p.startsWith('node:')).map((p) => `${f}: ${p}`));
    expect(bad).toEqual([]);
  });
});
