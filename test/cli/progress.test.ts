// Progress output with a fake clock: the bar's rate and ETA, plain-mode pacing, quiet mode.
import { describe, expect, it } from 'vitest';
import { detectProgressMode, formatDuration, formatRate, Terminal } from '../../src/cli/progress.js';
import { Sink } from './fixtures/sink.js';
import { CinderArgumentError } from '../../src/core/errors.js';

function setup(mode: 'tty' | 'plain' | 'quiet') {
  let t = 0;
  const out = new Sink();
  const err = new Sink();
  const term = new Terminal({ mode, out, err, now: () => t, barWidth: 10 });
  return { term, out, err, advance: (ms: number) => (t += ms) };
}

describe('detectProgressMode', () => {
  it('quiet > CI/not a TTY > tty', () => {
    expect(detectProgressMode(true, { isTTY: true }, {})).toBe('quiet');
    expect(detectProgressMode(false, { isTTY: true }, { CI: 'true' })).toBe('plain');
    expect(detectProgressMode(false, { isTTY: false }, {})).toBe('plain');
    expect(detectProgressMode(false, { isTTY: true }, { CI: 'false' })).toBe('tty');
    expect(detectProgressMode(false, { isTTY: true }, {})).toBe('tty');
  });
});

describe('formatting', () => {
  it('durations and rates', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatRate(10)).toBe('10.0/s');
    expect(formatRate(250)).toBe('250/s');
    expect(formatRate(0.5)).toBe('2.00 s/it');
  });
});

describe('Terminal', () => {
  it('tty: one updating line with bar, count, rate and ETA', () => {
    const { term, err, advance } = setup('tty');
    const p = term.progress(100, 'train');
    advance(5000);
    p.tick(50, 'loss 0.5');
    // 50 done in 5 s → 10/s, 50 left → ETA 5 s; half of a 10-character bar.
    expect(err.text).toBe('\r\x1b[Ktrain █████░░░░░ 50/100 10.0/s ETA 5s loss 0.5');
    advance(50);
    p.tick(1); // within 100 ms of the last draw: not redrawn
    expect(err.text.split('\r').length).toBe(2);
    advance(4950);
    p.tick(49);
    p.done();
    expect(err.text.endsWith('train ██████████ 100/100 10.0/s 10s loss 0.5\n')).toBe(true);
  });

  it('tty: a log line clears the bar, prints, then redraws it', () => {
    const { term, out, err, advance } = setup('tty');
    const p = term.progress(10, 'x');
    advance(1000);
    p.tick(1);
    const before = err.text;
    term.log('hello');
    expect(out.text).toBe('hello\n');
    expect(err.text).toBe(`${before}\r\x1b[K${before.slice('\r\x1b[K'.length)}`);
  });

  it('plain: a line at every 10 % or after 10 s of silence, and at the end', () => {
    const { term, err, advance } = setup('plain');
    const p = term.progress(1000, 'run');
    for (let i = 0; i < 250; i++) {
      advance(10);
      p.tick();
    }
    // 100 and 200 crossed 10 % and 20 %.
    expect(err.text.trim().split('\n')).toEqual([
      'run: 100/1000 (10 %), 100/s, elapsed 1s, ETA 9s',
      'run: 200/1000 (20 %), 100/s, elapsed 2s, ETA 8s',
    ]);
    advance(10_000); // 251 done in 12.51 s: 20.06/s, 749 left → 37 s
    p.tick();
    expect(err.text.trim().split('\n')[2]).toBe('run: 251/1000 (25 %), 20.1/s, elapsed 13s, ETA 37s');
    p.done(); // the last line already shows 251: nothing new
    expect(err.text.trim().split('\n')).toHaveLength(3);
    const q = setup('plain');
    const r = q.term.progress(1000, 'run');
    q.advance(1000);
    r.tick(5);
    r.done(); // 5 steps not printed yet: the final line
    expect(q.err.text).toBe('run: 5/1000 (1 %), 5.00/s, elapsed 1s, ETA 3m19s\n');
  });

  it('quiet: nothing at all', () => {
    const { term, out, err, advance } = setup('quiet');
    const p = term.progress(10, 'x');
    advance(20_000);
    p.tick(10);
    p.done();
    term.log('hidden');
    expect(out.text + err.text).toBe('');
  });

  it('tick with a negative or non-finite count: the house error in every mode, nothing drawn, the count unchanged', () => {
    for (const mode of ['tty', 'plain', 'quiet'] as const) {
      const { term, err, advance } = setup(mode);
      const p = term.progress(10, 'x');
      advance(1000);
      p.tick(2);
      const before = err.text;
      // tty drew a bar of Math.round(-5/10 · 10) = −5 cells: '█'.repeat(-5) threw a RangeError
      for (const bad of [-5, -0.5, NaN, Infinity, -Infinity]) {
        let caught: unknown;
        try {
          p.tick(bad, 'bad');
        } catch (e) {
          caught = e;
        }
        expect(caught, `${mode} ${bad}`).toBeInstanceOf(CinderArgumentError);
        expect((caught as Error).message).toBe(`invalid tick count of progress "x": got ${Number.isNaN(bad) ? 'NaN' : String(bad)}, expected a finite number >= 0`);
      }
      expect(err.text, mode).toBe(before);
      advance(1000);
      p.tick(3); // 2 + 3 = 5 of 10 done in 2 s: 2.5/s, 5 left → ETA 2 s
      if (mode === 'tty') expect(err.text.endsWith('\r\x1b[Kx █████░░░░░ 5/10 2.50/s ETA 2s')).toBe(true);
      if (mode === 'plain') expect(err.text.trim().split('\n').at(-1)).toBe('x: 5/10 (50 %), 2.50/s, elapsed 2s, ETA 2s');
      if (mode === 'quiet') expect(err.text).toBe('');
    }
  });
});
