/**
 * The evidence-accumulation task of Bellec et al. (2020) in NEST's form: 40 inputs in four groups
 * of 10 (left cue, right cue, recall, background noise). Each sequence shows 7 cues of 100 steps
 * separated by 50 quiet steps, then a delay, then a 150-step recall period; the label is the side
 * that got more cues. Cue probabilities per sequence are (0.3, 0.7) or swapped.
 * @module
 */
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError, checkInteger, checkRange } from '../../src/core/errors.js';
import type { Rng } from '../../src/core/random.js';

/** Options of {@link EvidenceTask}. Defaults are NEST's (T = 2250 steps). */
export interface EvidenceTaskOptions {
  /** Number of cues (odd; default 7). */
  nCues?: number;
  /** Steps a cue lasts (default 100). */
  cueSteps?: number;
  /** Quiet steps before each cue (default 50). */
  spacingSteps?: number;
  /** Delay between the last cue and the recall period (default 1050). */
  delaySteps?: number;
  /** Recall-period length = learning window (default 150). */
  recallSteps?: number;
  /** Inputs per group (default 10; 4 groups). */
  groupSize?: number;
  /** Spike probability per step of an active cue or recall input (default 0.04 = 40 Hz). */
  inputProbability?: number;
  /** Spike probability per step of the noise group (default 0.01 = 10 Hz). */
  noiseProbability?: number;
  /** Probability of the more frequent side (default 0.7). */
  cueProbability?: number;
}

/** One batch of the task. */
export interface EvidenceBatch {
  /** Input spikes [B, T, 4·groupSize], float32 0/1. */
  inputs: tf.Tensor3D;
  /** Label per sequence: 1 if more than half the cues were right, else 0. */
  labels: Int32Array;
  /** Cue sides per sequence, [B, nCues] (0 left, 1 right). */
  cues: Int32Array;
}

/** Generator of evidence-accumulation batches. */
export class EvidenceTask {
  /** Number of cues. */
  readonly nCues: number;
  /** Cue length (steps). */
  readonly cueSteps: number;
  /** Spacing before each cue (steps). */
  readonly spacingSteps: number;
  /** Delay (steps). */
  readonly delaySteps: number;
  /** Recall length (steps). */
  readonly recallSteps: number;
  /** Inputs per group. */
  readonly groupSize: number;
  /** Active-input spike probability per step. */
  readonly inputProbability: number;
  /** Noise spike probability per step. */
  readonly noiseProbability: number;
  /** Probability of the frequent side. */
  readonly cueProbability: number;

  constructor(options: EvidenceTaskOptions = {}) {
    this.nCues = checkInteger('nCues', options.nCues ?? 7, 1);
    if (this.nCues % 2 === 0) throw new CinderArgumentError('nCues', this.nCues, 'an odd number (so the label is never a tie)');
    this.cueSteps = checkInteger('cueSteps', options.cueSteps ?? 100, 1);
    this.spacingSteps = checkInteger('spacingSteps', options.spacingSteps ?? 50, 0);
    this.delaySteps = checkInteger('delaySteps', options.delaySteps ?? 1050, 0);
    this.recallSteps = checkInteger('recallSteps', options.recallSteps ?? 150, 1);
    this.groupSize = checkInteger('groupSize', options.groupSize ?? 10, 1);
    this.inputProbability = checkRange('inputProbability', options.inputProbability ?? 0.04, 0, 1);
    this.noiseProbability = checkRange('noiseProbability', options.noiseProbability ?? 0.01, 0, 1);
    this.cueProbability = checkRange('cueProbability', options.cueProbability ?? 0.7, 0, 1);
  }

  /** Steps per sequence: nCues·(spacing + cue) + delay + recall. */
  get steps(): number {
    return this.nCues * (this.spacingSteps + this.cueSteps) + this.delaySteps + this.recallSteps;
  }

  /** Number of inputs (4 groups). */
  get nIn(): number {
    return 4 * this.groupSize;
  }

  /** Draws a batch of `batchSize` sequences from `rng`. Step 0 carries no input spikes. */
  batch(batchSize: number, rng: Rng): EvidenceBatch {
    checkInteger('batchSize', batchSize, 1);
    const T = this.steps;
    const nIn = this.nIn;
    const g = this.groupSize;
    const data = new Float32Array(batchSize * T * nIn);
    const labels = new Int32Array(batchSize);
    const cues = new Int32Array(batchSize * this.nCues);
    for (let b = 0; b < batchSize; b++) {
      const p = rng.uniform() < 0.5 ? this.cueProbability : 1 - this.cueProbability;
      let right = 0;
      for (let c = 0; c < this.nCues; c++) {
        const side = rng.uniform() < p ? 1 : 0;
        cues[b * this.nCues + c] = side;
        right += side;
      }
      labels[b] = right > this.nCues / 2 ? 1 : 0;
      for (let t = 1; t < T; t++) {
        const o = (b * T + t) * nIn;
        const cycle = this.spacingSteps + this.cueSteps;
        const c = Math.floor(t / cycle);
        const inCue = c < this.nCues && t % cycle >= this.spacingSteps;
        const recall = t >= T - this.recallSteps;
        for (let i = 0; i < nIn; i++) {
          const group = Math.floor(i / g);
          let prob = 0;
          if (group === 3) prob = this.noiseProbability;
          else if (group === 2) prob = recall ? this.inputProbability : 0;
          else if (inCue && cues[b * this.nCues + c] === group) prob = this.inputProbability;
          if (prob > 0 && rng.uniform() < prob) data[o + i] = 1;
        }
      }
    }
    return { inputs: tf.tensor3d(data, [batchSize, T, nIn]), labels, cues };
  }
}
