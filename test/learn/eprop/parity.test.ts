// Acceptance: NEST 3.9's e-prop losses on the evidence-accumulation task (batch 1, 5 iterations)
// are reproduced from the fixture's inputs and initial weights.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixtureBatch, loadEPropFixture } from '../../../examples/eprop-evidence/nest-fixture.js';
import { runFixtureParity } from '../../../examples/eprop-evidence/training.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixturePath = resolve(repoRoot, 'test', 'fixtures', 'eprop-nest-b1-i5.json');

describe('NEST e-prop parity (eprop-nest-b1-i5.json)', () => {
  it('the fixture is present', () => {
    expect(existsSync(fixturePath)).toBe(true);
  });

  for (const kernel of ['js', 'tf'] as const) {
    it(`${kernel} kernel: every loss within relative 1e-4 of NEST's`, async () => {
      const f = loadEPropFixture(fixturePath);
      expect(f.loss).toHaveLength(5);
      const r = await runFixtureParity(f, { kernel });
      expect(r.loss).toHaveLength(f.nIter);
      const rel = r.loss.map((l, i) => Math.abs(l - f.loss[i]!) / f.loss[i]!);
      if (process.env.EPROP_VERBOSE) console.log(kernel, rel);
      for (const e of rel) expect(e).toBeLessThan(1e-4);
    });
  }

  it('fixture batches: inputs land on the right sequence and step; step 0 carries none', () => {
    const f = loadEPropFixture(fixturePath);
    const b = fixtureBatch(f, 2);
    const x = b.inputs.dataSync();
    let count = 0;
    for (let i = 0; i < f.nIn; i++) count += f.inputSpikes[i]!.filter((t) => t >= 2 * 2250 && t < 3 * 2250).length;
    expect(Array.from(x).reduce((s, v) => s + v, 0)).toBe(count);
    for (let i = 0; i < f.nIn; i++) expect(x[i]).toBe(0);
    expect(Array.from(b.labels)).toEqual([f.targetCues[2]]);
    b.inputs.dispose();
    expect(() => fixtureBatch(f, 5)).toThrow(/iteration/);
    expect(() => loadEPropFixture('/nonexistent.json')).toThrow(/fixture/);
  });
});
