// Acceptance: NEST 3.9's e-prop losses on the evidence-accumulation task (batch 1, 5 iterations)
// are reproduced from the fixture's inputs and initial weights.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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

  it('a fixture whose spikes, targets, losses or dt would be silently misread is refused, naming the field', () => {
    const raw = JSON.parse(readFileSync(fixturePath, 'utf8')) as Record<string, unknown>;
    const dir = mkdtempSync(join(tmpdir(), 'cinder-fixture-'));
    const load = (change: (r: Record<string, any>) => void) => {
      const r = structuredClone(raw) as Record<string, any>;
      change(r);
      const p = join(dir, 'f.json');
      writeFileSync(p, JSON.stringify(r));
      return () => loadEPropFixture(p);
    };
    try {
      // a fractional step was stored as a property of the Float32Array (no spike), one past the
      // 5·2250 steps of the run landed in no batch: both silently dropped before
      expect(load((r) => (r.input_spikes[3][1] = 83.5))).toThrow('invalid fixture.input_spikes[3][1]: got 83.5, expected an integer step in [0, 11250)');
      expect(load((r) => r.input_spikes[0].push(11250))).toThrow(/invalid fixture\.input_spikes\[0\]\[\d+\]: got 11250, expected an integer step in \[0, 11250\)/);
      expect(load((r) => (r.input_spikes[2][0] = -1))).toThrow(/input_spikes\[2\]\[0\]: got -1/);
      // a dt other than 1 ms was ignored (the network simulates dt = 1)
      expect(load((r) => (r.dt_ms = 0.5))).toThrow('invalid fixture.dt_ms: got 0.5, expected 1');
      // missing or short targets failed later with a TypeError or a batch of the wrong size
      expect(load((r) => delete r.target_cues)).toThrow(/invalid fixture\.target_cues: got undefined, expected 5 readout indices/);
      expect(load((r) => (r.target_cues[4] = 2))).toThrow('invalid fixture.target_cues[4]: got 2, expected an integer in [0, 2)');
      expect(load((r) => (r.loss = [0.7, 0.7]))).toThrow(/invalid fixture\.loss: .*expected 5 losses/);
      expect(load((r) => (r.loss[1] = 'x'))).toThrow(/invalid fixture\.loss\[1\]: got "?x"?/);
      // the unchanged fixture still loads
      expect(load(() => {})().loss).toEqual(raw.loss);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
