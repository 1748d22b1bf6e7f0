// Option names, parsing, validation and the precedence defaults < preset < saved params < flags.
import { describe, expect, it } from 'vitest';
import type { ExampleSpec } from '../../src/cli/example.js';
import { checkExampleSpec, flagOf, kebabCase, parseOptionText, resolveParams } from '../../src/cli/options.js';
import { fakeExample } from './fixtures/fake-example.js';
import { runCli } from '../../src/cli/program.js';
import { Sink } from './fixtures/sink.js';

const opt = (name: string) => fakeExample.options.find((o) => o.name === name)!;

describe('option names', () => {
  it('camelCase → kebab-case flags', () => {
    expect(kebabCase('batchSize')).toBe('batch-size');
    expect(kebabCase('nLif')).toBe('n-lif');
    expect(kebabCase('stdpAPre')).toBe('stdp-a-pre');
    expect(kebabCase('steps')).toBe('steps');
    expect(flagOf({ name: 'delayMs' })).toBe('--delay-ms');
  });
});

describe('parseOptionText', () => {
  it('parses typed values', () => {
    expect(parseOptionText(opt('steps'), '42')).toBe(42);
    expect(parseOptionText(opt('steps'), '1e3')).toBe(1000);
    expect(parseOptionText(opt('gain'), '-2.5e-3')).toBe(-0.0025);
    expect(parseOptionText(opt('label'), 'b')).toBe('b');
    expect(parseOptionText(opt('loud'), 'yes')).toBe(true);
    expect(parseOptionText(opt('loud'), 'FALSE')).toBe(false);
  });

  it('rejects bad values with the flag, the value and the expectation', () => {
    expect(() => parseOptionText(opt('steps'), '2.5')).toThrow('invalid --steps: got "2.5", expected an integer in [1, 100000]');
    expect(() => parseOptionText(opt('steps'), '0')).toThrow(/--steps.*"0".*in \[1, 100000\]/);
    expect(() => parseOptionText(opt('steps'), '12abc')).toThrow(/--steps/);
    expect(() => parseOptionText(opt('gain'), 'NaN')).toThrow(/--gain.*a finite number/);
    expect(() => parseOptionText(opt('gain'), 'Infinity')).toThrow(/--gain/);
    expect(() => parseOptionText(opt('gain'), '')).toThrow(/--gain/);
    expect(() => parseOptionText(opt('label'), 'c')).toThrow(/--label.*one of "a", "b"/);
    expect(() => parseOptionText(opt('loud'), 'maybe')).toThrow(/--loud.*true or false/);
  });

  it('integers beyond 2^53 − 1 are refused, not rounded (1e20 ms, 9007199254740993 → …992)', () => {
    // --delay-ms has no max: before, 1e20 passed as "an integer" and 2^53 + 1 came back as 2^53
    expect(parseOptionText(opt('delayMs'), String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => parseOptionText(opt('delayMs'), '9007199254740993')).toThrow('invalid --delay-ms: got "9007199254740993", expected an integer >= 0 and <= 9007199254740991');
    expect(() => parseOptionText(opt('delayMs'), '1e20')).toThrow(/--delay-ms: got "1e20", expected an integer >= 0 and <= 9007199254740991/);
    expect(() => resolveParams(fakeExample, { mode: 'tiny', saved: { delayMs: 2 ** 60 } })).toThrow(/delayMs: got 1152921504606847000/);
  });
});

describe('float options and float32', () => {
  it("values beyond float32's range are refused (they would be Infinity in a tensor); its largest value passes", () => {
    const max = 3.4028234663852886e38; // (2 − 2^−23)·2^127
    expect(Math.fround(max)).toBe(max);
    expect(Math.fround(1e39)).toBe(Infinity);
    expect(parseOptionText(opt('gain'), String(max))).toBe(max);
    expect(parseOptionText(opt('gain'), String(-max))).toBe(-max);
    expect(() => parseOptionText(opt('gain'), '1e39')).toThrow(`invalid --gain: got "1e39", expected a finite number, within float32's range (|x| <= ${max})`);
    expect(() => parseOptionText(opt('gain'), '-3.5e38')).toThrow(/--gain: got "-3.5e38"/);
    expect(() => resolveParams(fakeExample, { mode: 'tiny', saved: { gain: 1e300 } })).toThrow(/gain: got 1e\+300, expected a finite number, within float32's range/);
  });
});

describe('resolveParams', () => {
  const defaults = { steps: 10, gain: 2, label: 'a', loud: false, delayMs: 0, ignoreSignal: false, resumable: false };

  it('defaults, then the preset, then the flags', () => {
    expect(resolveParams(fakeExample, { mode: 'full' })).toEqual({ ...defaults, steps: 20, gain: 0.5 });
    expect(resolveParams(fakeExample, { mode: 'tiny', flags: { gain: 7 } })).toEqual({ ...defaults, steps: 3, gain: 7 });
  });

  it('saved params replace defaults and preset; an explicit --mode and flags go over them', () => {
    const saved = { ...defaults, steps: 5, gain: 9, label: 'b' };
    expect(resolveParams(fakeExample, { mode: 'full', saved })).toEqual(saved);
    expect(resolveParams(fakeExample, { mode: 'tiny', saved, modeExplicit: true })).toEqual({ ...saved, steps: 3 });
    expect(resolveParams(fakeExample, { mode: 'full', saved, flags: { steps: 4 } })).toEqual({ ...saved, steps: 4 });
  });

  it('rejects unknown modes, unknown keys and invalid saved values', () => {
    expect(() => resolveParams(fakeExample, { mode: 'huge' })).toThrow(/--mode.*"huge".*"tiny", "full"/);
    expect(() => resolveParams(fakeExample, { mode: 'tiny', saved: { nope: 1 } })).toThrow(/key.*"nope"/);
    expect(() => resolveParams(fakeExample, { mode: 'tiny', saved: { steps: 'ten' } })).toThrow(/steps.*"ten"/);
    expect(() => resolveParams(fakeExample, { mode: 'tiny', saved: { steps: 0 } })).toThrow(/steps.*0/);
  });
});

describe('checkExampleSpec', () => {
  const base = (over: Partial<ExampleSpec>): ExampleSpec => ({ ...fakeExample, ...over });
  it('accepts the fake example', () => expect(() => checkExampleSpec(fakeExample)).not.toThrow());
  it('requires a tiny preset and a valid default mode', () => {
    expect(() => checkExampleSpec(base({ presets: { full: {} } }))).toThrow(/tiny/);
    expect(() => checkExampleSpec(base({ defaultMode: 'x' }))).toThrow(/defaultMode/);
  });
  it('rejects clashes with common flags, bad defaults and bad preset values', () => {
    expect(() => checkExampleSpec(base({ options: [{ name: 'seed', type: 'int', description: '', default: 1 }] }))).toThrow(/common flags/);
    expect(() => checkExampleSpec(base({ options: [{ name: 'n', type: 'int', description: '', default: 0.5 }] }))).toThrow(/default of fake --n/);
    expect(() => checkExampleSpec(base({ presets: { tiny: { steps: -1 }, full: {} } }))).toThrow(/preset tiny: steps/);
  });

  it('an option named like --resume or like the --no- form of a bool option is refused by name (commander threw its own error from every command, `cinder list` included)', async () => {
    const resume = base({ options: [...fakeExample.options, { name: 'resume', type: 'int', description: '', default: 1 }] });
    expect(() => checkExampleSpec(resume)).toThrow('invalid fake option name: got "resume", expected a name other than the common flags (out, seed, seeds, backend, quiet, mode, params, resume, check-finite, help, version)');
    const noLoud = base({ options: [...fakeExample.options, { name: 'noLoud', type: 'int', description: '', default: 1 }] });
    expect(() => checkExampleSpec(noLoud)).toThrow('invalid fake option name: got "noLoud", expected a name other than --no-loud, the negation of the bool option loud');
    for (const spec of [resume, noLoud]) {
      const err = new Sink();
      await expect(runCli(['list'], { examples: [spec], out: new Sink(), err, isTTY: false, env: {}, handleSignals: false })).rejects.toThrow(/^invalid fake option name/);
    }
    // a --no-x name is fine when x is not a bool option of the example
    expect(() => checkExampleSpec(base({ options: [...fakeExample.options, { name: 'noDelay', type: 'int', description: '', default: 1 }] }))).not.toThrow();
  });
});
