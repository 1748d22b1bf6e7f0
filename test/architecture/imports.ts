// Reads the import graph of src/ (static imports, re-exports and dynamic imports of relative paths)
// for the structure test. Type-only imports are kept apart: they do not run.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Every .ts file under `dir`, relative to `root`, with forward slashes. */
export function listTs(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(path.relative(root, p).split(path.sep).join('/'));
    }
  };
  walk(path.join(root, dir));
  return out.sort();
}

const STATIC = /^\s*(import|export)\s+(type\s+)?([^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative imports of `file` (resolved to repository paths) and its bare package imports. */
export function importsOf(root: string, file: string): { edges: ImportEdge[]; packages: string[] } {
  const src = readFileSync(path.join(root, file), 'utf8');
  const edges: ImportEdge[] = [];
  const packages: string[] = [];
  const add = (spec: string, typeOnly: boolean): void => {
    if (!spec.startsWith('.')) {
      packages.push(spec);
      return;
    }
    let to = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
    if (to.endsWith('.js')) to = `${to.slice(0, -3)}.ts`;
    edges.push({ from: file, to, typeOnly });
  };
  for (const m of src.matchAll(STATIC)) {
    const clause = m[3] ?? '';
    const typeOnly = m[2] !== undefined || /^\s*\{[^}]*\}\s+from\s+$/.test(clause) && /^\s*\{\s*(type\s+[^,}]+,?\s*)+\}/.test(clause);
    add(m[4]!, typeOnly);
  }
  for (const m of src.matchAll(DYNAMIC)) add(m[1]!, false);
  return { edges, packages };
}

/** Strongly connected components with more than one file (Tarjan), i.e. the runtime cycles. */
export function cycles(nodes: readonly string[], edges: readonly ImportEdge[]): string[][] {
  const adj = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const e of edges) if (!e.typeOnly && adj.has(e.to)) adj.get(e.from)!.push(e.to);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of adj.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}
