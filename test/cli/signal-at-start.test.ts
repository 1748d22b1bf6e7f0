// A signal that comes while the backend starts (after the run folder was made and locked, before
// the run's own signal handlers were installed): in a real process it killed the command there
// and then (the default action), leaving the folder with only a .lock — then refused as a crashed
// run's, and not resumable (it has no params.json); in process it was lost and the run went on
// to completion (exit 0). It now ends the command before the run starts, with the signal's exit
// code, the lock removed and the folder the command made removed again (nothing else was written).
//
// The signal is sent from the example's validateOnBackend, which runs in that window (right
// after the backend started).
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { ExampleSpec } from '../../src/cli/example.js';
import { Sink } from './fixtures/sink.js';

function example(send: NodeJS.Signals[]): ExampleSpec {
  return {
    name: 'early', description: 'signal while the backend starts', options: [], presets: { tiny: {} }, defaultMode: 'tiny', summaryKeys: ['x'], figures: [],
    validateOnBackend: () => {
      for (const s of send) process.emit(s, s);
    },
    run: async () => ({ x: 1 }),
  };
}

describe('a signal while the backend starts', () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`${sig}: exit ${code}, nothing left of the new folder`, async () => {
      const out = join(mkdtempSync(join(tmpdir(), 'cinder-early-')), 'run');
      const err = new Sink();
      const listeners = process.listenerCount(sig);
      const code_ = await runCli(['early', '--out', out, '--quiet'], { examples: [example([sig])], out: new Sink(), err, isTTY: false, env: {}, handleSignals: true });
      expect(code_).toBe(code);
      expect(existsSync(out)).toBe(false);
      expect(err.text).toContain(`${sig}: stopping before the run starts`);
      expect(process.listenerCount(sig)).toBe(listeners);
    });
  }

  it('an existing empty --out folder stays, without its lock', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cinder-early-')), 'run');
    mkdirSync(out);
    const code = await runCli(['early', '--out', out, '--quiet'], { examples: [example(['SIGINT'])], out: new Sink(), err: new Sink(), isTTY: false, env: {}, handleSignals: true });
    expect(code).toBe(130);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a second signal exits at once, with the first signal’s code and no lock left', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cinder-early-')), 'run');
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      await runCli(['early', '--out', out, '--quiet'], { examples: [example(['SIGTERM', 'SIGINT'])], out: new Sink(), err: new Sink(), isTTY: false, env: {}, handleSignals: true });
      expect(exit).toHaveBeenCalledWith(143);
      expect(existsSync(join(out, '.lock'))).toBe(false);
    } finally {
      exit.mockRestore();
    }
  });
});
