// The examples' option checks as a user meets them: `cinder <example> ...` with a value or a
// combination the example cannot run is refused with `invalid X: got Y, expected Z`, exit 2, and
// nothing is written (no run folder, nothing in its parent). Each case failed (exit 1 with a written
// folder, or a silent change of the value) before the example checked it in `validate`.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { EXAMPLES } from '../../examples/index.js';
import { Sink } from '../cli/fixtures/sink.js';
import { startRun } from '../../src/cli/runner.js';
import { Terminal } from '../../src/cli/progress.js';
import { backendInfo } from '../../src/core/backend.js';
import { tf } from '../../src/core/tf.js';

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const out = new Sink();
  const err = new Sink();
  const code = await runCli(args, { examples: EXAMPLES, out, err, isTTY: false, env: { CINDER_BACKEND: 'cpu' }, handleSignals: false });
  return { code, err: err.text };
}

describe('examples refuse what they cannot run, before writing anything', () => {
  const cases: [string[], RegExp][] = [
    // 0.2000012 s is 2000.012 steps of 0.1 ms: it ran 2000 steps and reported 0.2 s
    [['song2000', '--mode', 'tiny', '--seconds', '0.2000012'], /invalid --seconds: got 0\.2000012, expected a whole number of 0\.1 ms steps/],
    [['song2000', '--mode', 'tiny', '--bin-seconds', '0.00333'], /invalid --bin-seconds: got 0\.00333, expected a whole number of 0\.1 ms steps/],
    // livn's durations: the run used to fail (exit 1) after writing its folder
    [['livn-stdp', '--mode', 'tiny', '--baseline-ms', '0.05'], /invalid --baseline-ms: got 0\.05, expected a whole number of 0\.1 ms steps/],
    [['livn-stdp', '--mode', 'tiny', '--normalize-every-ms', '0.15'], /invalid --normalize-every-ms: got 0\.15, expected a whole number of 0\.1 ms steps/],
    // correlated inputs with fewer inputs than the summary's 20 bins of c_a: a bin without inputs gave
    // NaN and the run failed (exit 1) at its first checkpoint, after writing its folder
    [['song2000', '--mode', 'tiny', '--input', 'correlated', '--inputs', '10'], /invalid --inputs: got 10, expected at least 20 with --input correlated/],
    // 500 Hz inputs at 10 ms steps: the encoder (dead time one step) refused its `refrac` inside the
    // run (exit 1, folder written, 17 tensors left)
    [['lif-demo', '--mode', 'tiny', '--dt', '10', '--max-rate', '500'], /invalid --max-rate: got 500, expected < 1000\/dt = 100 Hz/],
    [['lif-demo', '--mode', 'tiny', '--dt', '10', '--max-rate', '100'], /invalid --max-rate: got 100, expected < 1000\/dt = 100 Hz/],
    // 9,999 + 10 of the 10,000 digits: failed (exit 1) after writing its folder
    [['quickstart', '--mode', 'tiny', '--train-digits', '9999'], /invalid --test-digits: got 10, expected at most 1 \(10000 digits, 9999 for training\)/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cinder-exopt-'));
      const out = join(dir, 'run');
      const r = await cli([...args, '--quiet', '--out', out]);
      expect(r.err).toMatch(message);
      expect(r.code).toBe(2);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('the presets and the boundary values stay valid', async () => {
    for (const spec of EXAMPLES.filter((e) => ['song2000', 'livn-stdp', 'quickstart'].includes(e.name))) {
      for (const preset of Object.values(spec.presets)) {
        const p: Record<string, number | string | boolean> = {};
        for (const o of spec.options) p[o.name] = o.default;
        Object.assign(p, preset);
        expect(() => spec.validate?.(p)).not.toThrow();
      }
    }
    const song = EXAMPLES.find((e) => e.name === 'song2000')!;
    const songP = Object.fromEntries(song.options.map((o) => [o.name, o.default]));
    for (const seconds of [0.0001, 0.3, 0.7, 1.1, 123.4567]) expect(() => song.validate!({ ...songP, seconds, binSeconds: 0.0001 })).not.toThrow();
    const qs = EXAMPLES.find((e) => e.name === 'quickstart')!;
    const qsP = Object.fromEntries(qs.options.map((o) => [o.name, o.default]));
    const lif = EXAMPLES.find((e) => e.name === 'lif-demo')!;
    const lifP = Object.fromEntries(lif.options.map((o) => [o.name, o.default]));
    expect(() => lif.validate!({ ...lifP, dt: 10, maxRate: 99.9 })).not.toThrow();
    expect(() => qs.validate!({ ...qsP, trainDigits: 9000, testDigits: 1000 })).not.toThrow();
    expect(() => qs.validate!({ ...qsP, trainDigits: 9000, testDigits: 1001 })).toThrow(/--test-digits/);
  });

  it('a run started without validate (startRun) refuses the same values naming the flag, leaving no tensors', async () => {
    const cases: [string, Record<string, number | string | boolean>, RegExp][] = [
      ['lif-demo', { dt: 10, maxRate: 500 }, /invalid --max-rate: got 500, expected < 1000\/dt = 100 Hz/],
      ['song2000', { input: 'correlated', inputs: 10, seconds: 0.01, binSeconds: 0.01 }, /invalid --inputs: got 10, expected at least 20 with --input correlated/],
    ];
    for (const [name, values, message] of cases) {
      const spec = EXAMPLES.find((e) => e.name === name)!;
      const params: Record<string, number | string | boolean> = Object.fromEntries(spec.options.map((o) => [o.name, o.default]));
      Object.assign(params, spec.presets.tiny, values);
      const before = tf.memory().numTensors;
      const r = await startRun({
        spec, params, mode: 'tiny', seed: 1, seeds: 1, outDir: join(mkdtempSync(join(tmpdir(), 'cinder-exopt-run-')), 'run'), backend: backendInfo()!, backendRequest: 'auto',
        quiet: true, signal: new AbortController().signal, terminal: new Terminal({ mode: 'quiet' }),
      }).done;
      expect(r.status, name).toBe('failed');
      expect(String(r.summary.error), name).toMatch(message);
      expect(tf.memory().numTensors, name).toBe(before);
    }
  });
});
