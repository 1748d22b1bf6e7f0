// Unknown option keys are errors (docs/concepts.md: "unknown option or input keys … are errors"): a
// misspelled option used to be ignored and its default used. Each public constructor / factory is
// built once with every documented key (all accepted) and once with one misspelled key (refused,
// naming the key, before any tensor is made).
import { describe, expect, it } from 'vitest';
import { CinderArgumentError, checkOptionKeys } from '../../src/core/errors.js';

/** Runs `f`, returning what it threw (fails when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('checkOptionKeys', () => {
  it('accepts known keys and non-objects, refuses an unknown key naming it', () => {
    expect(() => checkOptionKeys('options', { a: 1, bc: undefined }, ['a', 'bc'])).not.toThrow();
    expect(() => checkOptionKeys('options', undefined, ['a'])).not.toThrow();
    const e = thrown(() => checkOptionKeys('options', { a: 1, zz: 2 }, ['a', 'bc'])) as CinderArgumentError;
    expect(e).toBeInstanceOf(CinderArgumentError);
    expect(e.param).toBe('options key');
    expect(e.value).toBe('zz');
    expect(e.message).toBe('invalid options key: got "zz", expected one of "a", "bc"');
  });

  it('suggests the closest key within edit distance 2 (case-insensitive), none beyond', () => {
    const known = ['restV', 'resetV', 'resistance', 'tauM'];
    // "resistence" → "resistance": one substitution
    expect((thrown(() => checkOptionKeys('options', { resistence: 2 }, known)) as Error).message).toMatch(/; did you mean "resistance"\?$/);
    // "taum" → "tauM": case only (distance 0 ignoring case)
    expect((thrown(() => checkOptionKeys('options', { taum: 2 }, known)) as Error).message).toMatch(/did you mean "tauM"\?$/);
    // "rstV" → "restV": one deletion (also distance 2 from "resetV": the nearer wins)
    expect((thrown(() => checkOptionKeys('options', { rstV: 2 }, known)) as Error).message).toMatch(/did you mean "restV"\?$/);
    // "resistXXXX" is 4 edits from "resistance": no suggestion
    expect((thrown(() => checkOptionKeys('options', { resistXXXX: 2 }, known)) as Error).message).not.toMatch(/did you mean/);
  });
});
