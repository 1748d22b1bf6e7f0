/**
 * The receptive contraction shared by pair-based rules: for a postsynaptic quantity `y`
 * (`[B, ...outShape]`) and a presynaptic one `x` (shaped like `connection.synspike`, or one value per
 * presynaptic unit: see the contraction's `form`),
 * `Σ_R postsynReceptive(y) · presynReceptive(x)`, per sample (`[B, ...W]`) or summed over the batch
 * (`[...W]`), W being the weight's shape.
 *
 * When the receptive shapes are an outer product (dense: post `[B,O,1,1]`, pre `[B,1,I,1]`), the
 * batch sum Σ_b post_b ⊗ pre_b is computed as one matrix product `postᵀ·pre`; other topologies use
 * the broadcast formula.
 * @module
 */
import { tf } from '../../core/tf.js';
import { CinderArgumentError } from '../../core/errors.js';
import type { PresynapticForm, Receptive } from '../../neural/types.js';
import { ScalarCache } from '../../core/scalars.js';

/** How per-sample updates `[B, ...W]` are reduced over the batch: mean, sum, or a function `[B, ...W] → [...W]`. */
export type TrainerBatchReduction = 'mean' | 'sum' | ((perSample: tf.Tensor) => tf.Tensor);

/**
 * Reduces per-sample updates `[B, ...W]` over the batch with a {@link TrainerBatchReduction}: `[...W]`
 * (a new tensor; call inside `tf.tidy`). A custom function must return the shape `[...W]`.
 */
export function reduceOverBatch(perSample: tf.Tensor, reduction: TrainerBatchReduction): tf.Tensor {
  if ((reduction === 'sum' || reduction === 'mean') && perSample.shape[0] === 1) return tf.reshape(perSample, perSample.shape.slice(1));
  if (reduction === 'sum') return tf.sum(perSample, 0);
  if (reduction === 'mean') return tf.mean(perSample, 0);
  const r = reduction(perSample);
  const want = perSample.shape.slice(1);
  if (!(r instanceof tf.Tensor) || r.rank !== want.length || want.some((d, i) => r.shape[i] !== d)) {
    throw new CinderArgumentError('batchReduction', r, `a tensor of shape [${want.join(', ')}] (dimension 0 reduced)`);
  }
  return r;
}

/** Throws unless `r` is a {@link TrainerBatchReduction}. */
export function checkBatchReduction(param: string, r: unknown): TrainerBatchReduction {
  if (r === 'mean' || r === 'sum' || typeof r === 'function') return r as TrainerBatchReduction;
  throw new CinderArgumentError(param, r, '"mean", "sum" or a function reducing dimension 0');
}

interface Plan {
  /** Shape of the result per sample (W). */
  w: number[];
  /** Receptive axis length (both 1 for the fast path). */
  r: number;
  /** Outer-product split: post covers P entries, pre Q entries; null when not an outer product. */
  outer: { p: number; q: number } | null;
}

/** A dense outer-product contraction planned on the raw (un-reshaped) tensor shapes. */
interface DirectPlan {
  /** Post elements per sample. */
  p: number;
  /** Pre elements per sample. */
  q: number;
  /** Weight shape. */
  w: number[];
}

/** The two factors of a batched outer product `Σ_b post_b ⊗ pre_b / divisor` (see `outerFactors`). */
export interface OuterFactors {
  /** Postsynaptic factor `[B, O]`. */
  post: tf.Tensor;
  /** Presynaptic factor `[B, I]`. */
  pre: tf.Tensor;
  /** Divisor of the batch sum (B for `mean`, 1 for `sum`). */
  divisor: number;
}

/** Computes `Σ_R post·pre` for one connection's receptive contract. */
export class ReceptiveContraction {
  private readonly plans = new Map<string, Plan>();
  private readonly direct = new Map<string, DirectPlan | null>();
  private readonly scalars = new ScalarCache(16);

  /**
   * Creates the contraction of one connection.
   * @param receptive the connection (its `presynReceptive` / `postsynReceptive`)
   * @param form the form of every presynaptic tensor given to this contraction, passed on to
   * `presynReceptive(x, form)`: `'synaptic'` (shaped like `synspike`: per edge with delays, as the
   * pair-trace rules' traces), `'presynaptic'` (one value per presynaptic unit, e.g. of
   * `synapse.spike`: each edge reads its unit), or omitted (the connection tells them by shape,
   * which it cannot where both share one: a `SparseLinear` with delays and `inShape = [S]` then
   * reads `[B, S]` per synapse)
   */
  constructor(
    readonly receptive: Receptive,
    /** The presynaptic form passed to `presynReceptive` (undefined: recognised by shape). */
    readonly form?: PresynapticForm,
  ) {
    if (form !== undefined && form !== 'synaptic' && form !== 'presynaptic') throw new CinderArgumentError('form', form, '"synaptic", "presynaptic" or undefined');
  }

  /** The direct plan for these raw shapes, or null when the receptive maps must be applied. */
  private directPlan(post: tf.Tensor, pre: tf.Tensor): DirectPlan | null {
    if (!this.receptive.receptiveIsReshape) return null;
    const key = `${post.shape.join(',')}|${pre.shape.join(',')}`;
    let d = this.direct.get(key);
    if (d !== undefined) return d;
    const postR = this.receptive.postsynReceptive(post);
    const preR = this.receptive.presynReceptive(pre, this.form);
    const plan = this.plan(postR, preR);
    if (postR !== post) postR.dispose();
    if (preR !== pre) preR.dispose();
    const batch = post.shape[0]!;
    d = plan.outer && post.size === batch * plan.outer.p && pre.size === batch * plan.outer.q ? { p: plan.outer.p, q: plan.outer.q, w: plan.w } : null;
    this.direct.set(key, d);
    return d;
  }

  private plan(post: tf.Tensor, pre: tf.Tensor): Plan {
    const b = post.shape;
    const a = pre.shape;
    const key = `${b.join(',')}|${a.join(',')}`;
    let plan = this.plans.get(key);
    if (plan) return plan;
    if (a.length !== b.length || a.length < 3) {
      throw new CinderArgumentError('receptive shapes', `post [${b.join(', ')}], pre [${a.join(', ')}]`, 'tensors of equal rank [B, ...W, R]');
    }
    const n = a.length - 2;
    const w: number[] = [];
    for (let i = 0; i <= n; i++) {
      if (a[i] !== b[i] && a[i] !== 1 && b[i] !== 1) {
        throw new CinderArgumentError('receptive shapes', `post [${b.join(', ')}], pre [${a.join(', ')}]`, 'shapes that broadcast against each other');
      }
      if (i > 0) w.push(Math.max(a[i]!, b[i]!));
    }
    if (a[0] !== b[0]) throw new CinderArgumentError('batch size', `post ${b[0]}, pre ${a[0]}`, 'equal batch sizes');
    const r = Math.max(a[n + 1]!, b[n + 1]!);
    let outer: Plan['outer'] = null;
    if (a[n + 1] === 1 && b[n + 1] === 1) {
      for (let j = n; j >= 0 && !outer; j--) {
        const postOk = b.slice(j + 1, n + 1).every((d) => d === 1);
        const preOk = a.slice(1, j + 1).every((d) => d === 1);
        if (postOk && preOk) {
          const p = b.slice(1, j + 1).reduce((x, y) => x * y, 1);
          const q = a.slice(j + 1, n + 1).reduce((x, y) => x * y, 1);
          outer = { p, q };
        }
      }
    }
    plan = { w, r, outer };
    this.plans.set(key, plan);
    return plan;
  }

  /** `Σ_R post_rec(post)·pre_rec(pre)` per sample: `[B, ...W]` (new tensor; call inside `tf.tidy`). */
  perSample(post: tf.Tensor, pre: tf.Tensor): tf.Tensor {
    const postR = this.receptive.postsynReceptive(post);
    const preR = this.receptive.presynReceptive(pre, this.form);
    const plan = this.plan(postR, preR);
    const prod = tf.mul(preR, postR);
    const batch = Math.max(prod.shape[0]!, 1);
    return plan.r === 1 ? tf.reshape(prod, [batch, ...plan.w]) : tf.sum(prod, -1);
  }

  /**
   * `Σ_b weight_b · Σ_R post_rec(post_b)·pre_rec(pre_b)`: `[...W]` (new tensor; call inside `tf.tidy`).
   * `weights` `[B]` scales each sample (omit for a plain sum).
   */
  batchSum(post: tf.Tensor, pre: tf.Tensor, weights?: tf.Tensor | null): tf.Tensor {
    const d = this.directPlan(post, pre);
    if (d) {
      // Receptive maps are plain reshapes: one matrix product on the raw tensors, fewest reshapes.
      const batch = post.shape[0]!;
      if (weights && (weights.shape.length !== 1 || weights.shape[0] !== batch)) {
        throw new CinderArgumentError('weights', weights, `shape [${batch}] (one per sample)`);
      }
      let postM = post.shape.length === 2 ? post : tf.reshape(post, [batch, d.p]);
      if (weights) postM = tf.mul(postM, tf.reshape(weights, [batch, 1]));
      const postT = batch === 1 ? tf.reshape(postM, [d.p, 1]) : tf.transpose(postM);
      const preM = pre.shape.length === 2 ? pre : tf.reshape(pre, [batch, d.q]);
      const out = tf.matMul(postT, preM);
      return d.w.length === 2 && d.w[0] === d.p && d.w[1] === d.q ? out : tf.reshape(out, d.w);
    }
    const postR = this.receptive.postsynReceptive(post);
    const preR = this.receptive.presynReceptive(pre, this.form);
    const plan = this.plan(postR, preR);
    const batch = postR.shape[0]!;
    if (weights && (weights.shape.length !== 1 || weights.shape[0] !== batch)) {
      throw new CinderArgumentError('weights', weights, `shape [${batch}] (one per sample)`);
    }
    if (plan.outer) {
      const { p, q } = plan.outer;
      let postM = tf.reshape(postR, [batch, p]);
      if (weights) postM = tf.mul(postM, tf.reshape(weights, [batch, 1]));
      const postT = batch === 1 ? tf.reshape(postM, [p, 1]) : tf.transpose(postM);
      return tf.reshape(tf.matMul(postT, tf.reshape(preR, [batch, q])), plan.w);
    }
    let per = tf.mul(preR, postR);
    per = plan.r === 1 ? tf.reshape(per, [batch, ...plan.w]) : tf.sum(per, -1);
    if (weights) per = tf.mul(per, tf.reshape(weights, [batch, ...plan.w.map(() => 1)]));
    return batch === 1 ? tf.reshape(per, plan.w) : tf.sum(per, 0);
  }

  /**
   * The factors of `reduce_b Σ_R post·pre` as an outer product, unevaluated, when the receptive
   * maps are plain reshapes onto a 2-D weight and the reduction is `mean` or `sum`: the result is
   * `(Σ_b post[b]ᵀ ⊗ pre[b]) / divisor` (`post`, `pre` returned as given). Null otherwise.
   */
  outerFactors(post: tf.Tensor, pre: tf.Tensor, reduction: TrainerBatchReduction): OuterFactors | null {
    if (reduction !== 'mean' && reduction !== 'sum') return null;
    const d = this.directPlan(post, pre);
    if (!d || d.w.length !== 2 || d.w[0] !== d.p || d.w[1] !== d.q) return null;
    return { post, pre, divisor: reduction === 'mean' ? post.shape[0]! : 1 };
  }

  /**
   * `reduce_b Σ_R post·pre` with the given batch reduction: `[...W]` (new tensor; inside `tf.tidy`).
   * `mean` divides the batch sum by B.
   */
  reduce(post: tf.Tensor, pre: tf.Tensor, reduction: TrainerBatchReduction): tf.Tensor {
    if (typeof reduction === 'function') return reduceOverBatch(this.perSample(post, pre), reduction);
    const s = this.batchSum(post, pre);
    const batch = post.shape[0]!;
    return reduction === 'sum' || batch === 1 ? s : tf.div(s, this.scalars.get(batch));
  }

  /** Frees cached constants. */
  dispose(): void {
    this.scalars.dispose();
  }
}
