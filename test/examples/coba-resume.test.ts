// `cinder coba --mode tiny` (both engines): SIGINT at a held checkpoint, then --resume, gives artifacts (every spike
// of the raster subset, the per-neuron counts, the population counts) byte-identical to an
// uninterrupted run, as test/examples/resume.test.ts does for the other long examples.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { expectSameFiles } from '../helpers/files.js';
import { interruptAtCheckpoint, runSummary, startCinder } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-coba-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

for (const [engine, model] of [['tfjs', 'coba'], ['tfjs', 'cuba'], ['event', 'coba'], ['event', 'cuba']] as const) {
  it(`coba --engine ${engine} --model ${model} --mode tiny: interrupted and resumed = uninterrupted`, async () => {
    const args = ['coba', '--mode', 'tiny', '--engine', engine, '--model', model, '--seed', '3'];
    const full = join(tmp, `${engine}-${model}-full`);
    const a = startCinder([...args, '--out', full], { CINDER_BACKEND: 'cpu' });
    expect(await a.exited, a.err()).toBe(0);
    const part = join(tmp, `${engine}-${model}-part`);
    const b = startCinder([...args, '--out', part], { CINDER_BACKEND: 'cpu', CINDER_TEST_HOLD_AT_CHECKPOINT: '2' });
    expect(await interruptAtCheckpoint(b, part, 2), b.err()).toBe(130);
    expect(runSummary(part).status).toBe('interrupted');
    expect(Number(runSummary(part).steps_done)).toBeLessThan(1000);
    expect(readdirSync(join(part, 'checkpoint')).length).toBeGreaterThan(0);
    const r = startCinder(['coba', '--resume', part], { CINDER_BACKEND: 'cpu' });
    expect(await r.exited, r.err()).toBe(0);
    expect(runSummary(part).status).toBe('completed');
    expect(runSummary(part).rate_exc_hz).toBe(runSummary(full).rate_exc_hz);
    expect(runSummary(part).engine).toBe(engine);
    expectSameFiles(join(full, 'artifacts'), join(part, 'artifacts'));
  }, 180_000);
}
