// Run summaries hold measurements only: no example declares or writes a constant taken from another
// tool (such as Brian2's published time per simulated second) as if it had been measured.
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../examples/index.js';

describe('run summaries', () => {
  it('no example declares a summary key holding another tool\'s numbers', () => {
    for (const spec of EXAMPLES) {
      for (const k of spec.summaryKeys) expect(k, `${spec.name}: ${k}`).not.toMatch(/brian|nest|inferno|reference|published/i);
    }
  });
});
