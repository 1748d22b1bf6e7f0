// The repository paths the docs point a reader to (`src/…`, `test/…`, `examples/…`, `bench/…`,
// `scripts/…`, `docs/…`, `bin/…`) exist: a moved or renamed file must take its mentions along.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { docFiles } from './markdown.js';

/** Paths built by `npm run build` / `npm run docs`, not in a checkout. */
const GENERATED = ['docs/api/'];

describe('paths named in the docs', () => {
  it('exist in the repository', () => {
    const missing: string[] = [];
    let count = 0;
    for (const file of docFiles()) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        for (const m of line.matchAll(/(?<![\w./-])(?:src|test|examples|bench|scripts|docs|bin)\/[A-Za-z0-9_./-]*/g)) {
          const p = m[0].replace(/[.,;:]+$/, '');
          // patterns (`step-*.ts`, `examples/<name>/`) name no one file
          if (/[*<{]/.test(line[m.index! + m[0].length] ?? '')) continue;
          if (GENERATED.some((g) => p.startsWith(g))) continue;
          count++;
          // TypeScript imports name the emitted .js of a .ts file
          if (!existsSync(p) && !(p.endsWith('.js') && existsSync(p.replace(/\.js$/, '.ts')))) missing.push(`${file}:${i + 1}: ${p}`);
        }
      });
    }
    expect(count).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });
});
