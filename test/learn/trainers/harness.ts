// Test harness: real connections (LinearDirect / LinearDense, so the real receptive contract is
// exercised) driven by a minimal layer whose neurons' spikes are set directly.
import { tf } from '../../../src/core/tf.js';
import type { Observer } from '../../../src/neural/types.js';
import { LinearDense, LinearDirect, type Connection } from '../../../src/neural/connections/index.js';
import type { ObserverHost, TrainableCell } from '../../../src/learn/index.js';

/** Neurons whose spikes the test dictates. */
export class ForcedNeurons {
  training = true;
  private s: tf.Variable;
  constructor(readonly shape: number[], batch: number) {
    this.s = tf.variable(tf.zeros([batch, ...shape]), false);
  }
  get spike(): tf.Tensor {
    return this.s;
  }
  set(values: number[]): void {
    tf.tidy(() => this.s.assign(tf.tensor(values, this.s.shape)));
  }
  dispose(): void {
    this.s.dispose();
  }
}

/** A layer: connection forward, forced neuron spikes, then observers (training-only ones only in training). */
export class TestLayer implements ObserverHost {
  training = true;
  readonly observers = new Set<Observer>();
  constructor(
    readonly connection: Connection,
    readonly neuron: ForcedNeurons,
  ) {
    this.cell = { connection, neuron, layer: this };
  }
  attach(o: Observer): void {
    this.observers.add(o);
  }
  detach(o: Observer): void {
    this.observers.delete(o);
  }
  /** One step with presynaptic spikes `pre` and postsynaptic spikes `post` (flat, batch-major). */
  step(pre: number[], post: number[]): void {
    tf.tidy(() => {
      const x = tf.tensor(pre, [this.connection.batchSize, ...this.connection.inShape]);
      this.connection.forward(x);
    });
    this.neuron.set(post);
    for (const o of this.observers) if (this.training || o.trainOnly === false) o.observe();
  }
  /** The cell (one object, registered by identity). */
  readonly cell: TrainableCell;
  dispose(): void {
    this.connection.dispose();
    this.neuron.dispose();
  }
}

/** float64 reference of the pair terms for a dense weight [O, I] over a batch (independent of Cinder). */
export class PairReference {
  xpre: number[][];
  xpost: number[][];
  constructor(
    readonly B: number,
    readonly I: number,
    readonly O: number,
    readonly tauPre: number,
    readonly tauPost: number,
    readonly ampPre: number,
    readonly ampPost: number,
    readonly mode: 'cumulative' | 'nearest' = 'cumulative',
  ) {
    this.xpre = Array.from({ length: B }, () => new Array(I).fill(0));
    this.xpost = Array.from({ length: B }, () => new Array(O).fill(0));
  }
  /** Folds spikes; returns per-sample dpost[b][j][i] = post_bj·xpre_bi and dpre[b][j][i] = pre_bi·xpost_bj. */
  step(pre: number[][], post: number[][]): { dpost: number[][][]; dpre: number[][][] } {
    const ap = Math.exp(-1 / this.tauPre);
    const aq = Math.exp(-1 / this.tauPost);
    for (let b = 0; b < this.B; b++) {
      for (let i = 0; i < this.I; i++) this.xpre[b]![i] = this.fold(this.xpre[b]![i]!, ap, this.ampPre, pre[b]![i]!);
      for (let j = 0; j < this.O; j++) this.xpost[b]![j] = this.fold(this.xpost[b]![j]!, aq, this.ampPost, post[b]![j]!);
    }
    const dpost = [];
    const dpre = [];
    for (let b = 0; b < this.B; b++) {
      dpost.push(Array.from({ length: this.O }, (_, j) => Array.from({ length: this.I }, (_, i) => post[b]![j]! * this.xpre[b]![i]!)));
      dpre.push(Array.from({ length: this.O }, (_, j) => Array.from({ length: this.I }, (_, i) => pre[b]![i]! * this.xpost[b]![j]!)));
    }
    return { dpost, dpre };
  }
  private fold(x: number, a: number, amp: number, s: number): number {
    if (this.mode === 'nearest') return s ? amp : a * x;
    return a * x + amp * s;
  }
}

/** Sum (or mean) over the batch of per-sample [B][O][I] arrays, optionally weighted per sample. */
export function reduceBatch(d: number[][][], how: 'sum' | 'mean', w?: number[]): number[][] {
  const B = d.length;
  return d[0]!.map((row, j) => row.map((_, i) => {
    let s = 0;
    for (let b = 0; b < B; b++) s += (w ? w[b]! : 1) * d[b]![j]![i]!;
    return how === 'mean' ? s / B : s;
  }));
}

/** Values of a tensor as a flat array. */
export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/**
 * Builds test layers (a real connection feeding ForcedNeurons) and disposes them all at once:
 * `const pool = new LayerPool(); afterEach(() => pool.disposeAll());`.
 */
export class LayerPool {
  private readonly layers: TestLayer[] = [];

  /** One-to-one connection of `n` synapses with weights `w` (a number fills all). */
  direct(n: number, w: number | number[], batch = 1): TestLayer {
    const init = (s: readonly number[]) => (typeof w === 'number' ? tf.fill(s as number[], w) : tf.tensor(w, s as number[]));
    return this.add(new LinearDirect([n], 1, { weightInit: init, batchSize: batch }), [n], batch);
  }

  /** All-to-all connection `i → o` with zero weights. */
  dense(i: number, o: number, batch: number): TestLayer {
    return this.add(new LinearDense([i], [o], 1, { weightInit: (s) => tf.zeros(s as number[]), batchSize: batch }), [o], batch);
  }

  /** Disposes every layer built so far. */
  disposeAll(): void {
    for (const l of this.layers.splice(0)) l.dispose();
  }

  private add(c: Connection, shape: number[], batch: number): TestLayer {
    const l = new TestLayer(c, new ForcedNeurons(shape, batch));
    this.layers.push(l);
    return l;
  }
}
