// docs/examples.md describes the shipped examples: its table has one row per registered example
// (and no other), the figures it names in backticks are that example's figures, and the lists of
// presets and summary keys written in its sections are the specs' own.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../examples/index.js';
import { registeredExamples } from '../../src/cli/registry.js';

const text = readFileSync('docs/examples.md', 'utf8');
const specs = registeredExamples();

describe('docs/examples.md and the registered examples', () => {
  it('the examples table has one row per example, and names only its figures', () => {
    const table = /\| example \| what it does \| figures \|\n\|[-| ]+\|\n((?:\|.*\|\n)+)/.exec(text)?.[1];
    expect(table).toBeTruthy();
    const rows = table!.trim().split('\n').map((r) => r.split('|').map((c) => c.trim()));
    const names = rows.map((r) => /^`([^`]+)`$/.exec(r[1]!)?.[1]);
    expect(names.slice().sort()).toEqual(specs.map((s) => s.name).sort());
    for (const r of rows) {
      const spec = specs.find((s) => `\`${s.name}\`` === r[1])!;
      const figures = [...r[3]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      for (const f of figures) expect(spec.figures, `${spec.name}: figure ${f}`).toContain(f);
    }
  });

  it('every example has the tiny preset the docs promise, and the presets the sections name exist', () => {
    for (const s of specs) expect(Object.keys(s.presets), s.name).toContain('tiny');
    // each `--mode X` in the prose is a preset of some example
    const modes = [...text.matchAll(/`--mode ([a-z_]+)`/g)].map((m) => m[1]!);
    expect(modes.length).toBeGreaterThan(3);
    for (const m of modes) expect(specs.some((s) => m in s.presets), `--mode ${m}`).toBe(true);
  });

  it('lif-demo\'s summary keys are listed as its spec declares them', () => {
    const section = text.slice(text.indexOf('### lif-demo'));
    const listed = /Summary keys: ((?:`[a-z_]+`,?\s*)+)/.exec(section)?.[1];
    expect(listed).toBeTruthy();
    const keys = [...listed!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(keys).toEqual(specs.find((s) => s.name === 'lif-demo')!.summaryKeys);
  });
});
