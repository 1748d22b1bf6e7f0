// Test helper: a small module tree of every tensor dtype, its values a closed form of a seed (for
// save/stream tests that compare files and downloads).
import { tf } from '../../src/core/tf.js';
import { Module } from '../../src/core/module.js';
import type { Parameter, State } from '../../src/core/state.js';

/** Two parameters and a state: w = (s, −s, s/3) float32, b = (1000·s, −2³¹) int32, mask = (1, 0, 1) bool: 12 + 8 + 3 bytes; extras `{ kind: 'block' }`. */
export class SeededBlock extends Module {
  readonly w: Parameter;
  readonly b: Parameter;
  readonly mask: State;
  constructor(seed: number) {
    super();
    this.w = this.addParameter('w', tf.tensor(Float32Array.of(seed, -seed, seed / 3), [3]));
    this.b = this.addParameter('b', tf.tensor(Int32Array.of(seed * 1000, -2147483648), [2], 'int32'));
    this.mask = this.addState('mask', () => tf.tensor(Uint8Array.of(1, 0, 1), [3], 'bool'));
  }
  override extras(): Record<string, unknown> {
    return { kind: 'block' };
  }
}

/** A parameter head = s + k/7 (k = 0…4, float32: 20 bytes) and a {@link SeededBlock} child `block`. */
export class SeededModel extends Module {
  readonly head: Parameter;
  readonly block: SeededBlock;
  constructor(seed: number) {
    super();
    this.head = this.addParameter('head', tf.tensor(Float32Array.from({ length: 5 }, (_, k) => seed + k / 7), [5]));
    this.block = this.addModule('block', new SeededBlock(seed));
  }
}
