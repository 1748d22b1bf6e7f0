// CellTrainer.register refuses override keys that are not hyperparameters, including names every
// object inherits ('toString', 'constructor', 'hasOwnProperty'), which `in` took for known keys.
import { describe, expect, it } from 'vitest';
import { LinearDense } from '../../../src/neural/connections/index.js';
import { STDP } from '../../../src/learn/trainers/index.js';
import { ForcedNeurons, TestLayer } from '../trainers/harness.js';

describe('CellTrainer.register overrides', () => {
  for (const key of ['toString', 'constructor', 'hasOwnProperty', 'valueOf']) {
    it(`'${key}' is refused before anything is registered`, () => {
      const l = new TestLayer(new LinearDense([3], [2], 1, { batchSize: 1 }), new ForcedNeurons([2], 1));
      const rule = new STDP({ lrPost: 0.1, lrPre: -0.05, tauPost: 10, tauPre: 7 });
      expect(() => rule.register(l.cell, { [key]: 1 } as never)).toThrow(new RegExp(`^invalid overrides: got "${key}", expected one of [a-zA-Z, ]*lrPost, `));
      expect(rule.cells).toEqual([]);
      expect(l.observers.size).toBe(0);
      rule.register(l.cell, { lrPost: 0.2 });
      expect(rule.entry(l.cell).hyper.lrPost).toBe(0.2);
      rule.dispose();
      l.dispose();
    });
  }
});
