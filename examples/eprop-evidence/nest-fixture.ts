/**
 * Reading NEST e-prop reference fixtures (`eprop-nest-*.json`, see test/fixtures/README.md):
 * inputs, initial weights and NEST's per-iteration losses of the evidence-accumulation task.
 * @module
 */
import { readFileSync } from 'node:fs';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError, checkInteger } from '../../src/core/errors.js';

/** The contents of a NEST e-prop fixture. */
export interface EPropFixture {
  /** Sequences per batch. */
  batchSize: number;
  /** Training iterations. */
  nIter: number;
  /** Steps per sequence. */
  steps: number;
  /** Learning window (steps). */
  learningWindow: number;
  /** Time step (ms). */
  dt: number;
  /** Inputs. */
  nIn: number;
  /** LIF neurons. */
  nLif: number;
  /** ALIF neurons. */
  nAlif: number;
  /** Readouts. */
  nOut: number;
  /** Spike steps per input neuron over the whole run. */
  inputSpikes: number[][];
  /** Correct readout per sequence. */
  targetCues: number[];
  /** Initial W_in [n·nIn] row-major. */
  wIn: Float32Array;
  /** Initial W_rec [n·n] row-major. */
  wRec: Float32Array;
  /** Initial W_out [nOut·n] row-major. */
  wOut: Float32Array;
  /** Feedback B [n·nOut] row-major. */
  feedback: Float32Array;
  /** NEST's loss per iteration. */
  loss: number[];
}

function flat(name: string, rows: unknown, nRows: number, nCols: number): Float32Array {
  if (!Array.isArray(rows) || rows.length !== nRows) throw new CinderArgumentError(`fixture.${name}`, rows, `${nRows} rows`);
  const out = new Float32Array(nRows * nCols);
  rows.forEach((r: unknown, i) => {
    if (!Array.isArray(r) || r.length !== nCols) throw new CinderArgumentError(`fixture.${name}[${i}]`, r, `${nCols} numbers`);
    for (let j = 0; j < nCols; j++) out[i * nCols + j] = Number(r[j]);
  });
  return out;
}

/**
 * Reads and validates a fixture file: counts are integers, `dt_ms` is 1, every input spike step
 * is an integer in [0, n_iter·batch_size·steps_per_sequence), `target_cues` holds one readout index
 * per sequence, `loss` one finite positive loss per iteration, the weight matrices have their
 * shapes. A CinderArgumentError names the first offending field.
 */
export function loadEPropFixture(path: string): EPropFixture {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new CinderArgumentError('fixture', path, `a readable JSON fixture file (${(err as Error).message.split('\n')[0]})`);
  }
  const num = (k: string) => {
    const v = raw[k];
    if (typeof v !== 'number') throw new CinderArgumentError(`fixture.${k}`, v, 'a number');
    return v;
  };
  const nIn = checkInteger('fixture.n_in', num('n_in'), 1);
  const nLif = checkInteger('fixture.n_rec_lif', num('n_rec_lif'), 0);
  const nAlif = checkInteger('fixture.n_rec_alif', num('n_rec_alif'), 0);
  const nOut = checkInteger('fixture.n_out', num('n_out'), 2);
  const n = nLif + nAlif;
  const batchSize = checkInteger('fixture.batch_size', num('batch_size'), 1);
  const nIter = checkInteger('fixture.n_iter', num('n_iter'), 1);
  const steps = checkInteger('fixture.steps_per_sequence', num('steps_per_sequence'), 1);
  const learningWindow = checkInteger('fixture.learning_window', num('learning_window'), 1);
  // the parity run simulates NEST's task at dt = 1 ms (the network's default dt); another step
  // would silently run different dynamics
  const dt = num('dt_ms');
  if (dt !== 1) throw new CinderArgumentError('fixture.dt_ms', dt, '1 (the parity run simulates dt = 1 ms)');
  // every spike step must land on a step of the run: a fractional step would be written to no
  // array element and a step past the run to no batch, both silently dropped
  const total = nIter * batchSize * steps;
  const inputSpikes = raw.input_spikes as number[][];
  if (!Array.isArray(inputSpikes) || inputSpikes.length !== nIn) throw new CinderArgumentError('fixture.input_spikes', inputSpikes, `${nIn} lists`);
  inputSpikes.forEach((list: unknown, i) => {
    if (!Array.isArray(list)) throw new CinderArgumentError(`fixture.input_spikes[${i}]`, list, 'a list of spike steps');
    list.forEach((t: unknown, k) => {
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= total) {
        throw new CinderArgumentError(`fixture.input_spikes[${i}][${k}]`, t, `an integer step in [0, ${total}) (n_iter·batch_size·steps_per_sequence)`);
      }
    });
  });
  const targetCues = raw.target_cues as number[];
  if (!Array.isArray(targetCues) || targetCues.length !== nIter * batchSize) {
    throw new CinderArgumentError('fixture.target_cues', targetCues, `${nIter * batchSize} readout indices (one per sequence)`);
  }
  targetCues.forEach((c: unknown, k) => {
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= nOut) throw new CinderArgumentError(`fixture.target_cues[${k}]`, c, `an integer in [0, ${nOut})`);
  });
  const loss = raw.loss as number[];
  if (!Array.isArray(loss) || loss.length !== nIter) throw new CinderArgumentError('fixture.loss', loss, `${nIter} losses (one per iteration)`);
  loss.forEach((l: unknown, k) => {
    if (typeof l !== 'number' || !Number.isFinite(l) || l <= 0) throw new CinderArgumentError(`fixture.loss[${k}]`, l, 'a finite number > 0 (a cross-entropy)');
  });
  return {
    batchSize, nIter, steps, learningWindow, dt,
    nIn, nLif, nAlif, nOut,
    inputSpikes,
    targetCues,
    wIn: flat('W_in', raw.W_in, n, nIn),
    wRec: flat('W_rec', raw.W_rec, n, n),
    wOut: flat('W_out', raw.W_out, nOut, n),
    feedback: flat('B', raw.B, n, nOut),
    loss,
  };
}

/** One batch of a fixture. */
export interface FixtureBatch {
  /** Input spikes [B, T, nIn] (caller disposes). */
  inputs: tf.Tensor3D;
  /** Correct readout per sequence. */
  labels: Int32Array;
}

/** Input spikes [B, T, nIn] and labels of training iteration `iteration` (0-based) of a fixture. */
export function fixtureBatch(f: EPropFixture, iteration: number): FixtureBatch {
  checkInteger('iteration', iteration, 0);
  if (iteration >= f.nIter) throw new CinderArgumentError('iteration', iteration, `< n_iter ${f.nIter}`);
  const B = f.batchSize;
  const T = f.steps;
  const start = iteration * B * T;
  const data = new Float32Array(B * T * f.nIn);
  for (let i = 0; i < f.nIn; i++) {
    for (const step of f.inputSpikes[i]!) {
      const rel = step - start;
      if (rel < 0 || rel >= B * T) continue;
      const b = Math.floor(rel / T);
      const t = rel % T;
      data[(b * T + t) * f.nIn + i] = 1;
    }
  }
  const labels = Int32Array.from(f.targetCues.slice(iteration * B, (iteration + 1) * B));
  return { inputs: tf.tensor3d(data, [B, T, f.nIn]), labels };
}
