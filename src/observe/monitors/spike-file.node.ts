/**
 * Spike events streamed to a `.npy` file (Node only, `cinder-snn/node`): the disk sink of a
 * {@link SpikeRecorder} in streaming mode, for recordings too long to keep in memory.
 * @module
 */
import { statSync } from 'node:fs';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../../core/errors.js';
import { NpyAppendWriter } from '../../io/npy-append.js';
import { readNpy } from '../../io/npy.js';
import type { RecordedSpikes, SpikeChunkSteps } from './spike-recorder.js';

/** Options of {@link SpikeFileSink.open}. */
export interface SpikeFileOptions {
  /**
   * `'create'` (default): a new file (an existing one is replaced). `'continue'`: append to a file
   * this sink wrote before (a resumed run; a missing or empty file is created) — rows from a step the
   * recorder hands over again are replaced (see {@link SpikeFileSink}).
   */
  mode?: 'create' | 'continue';
}

/** The keys of {@link SpikeFileOptions}. */
export const SPIKE_FILE_OPTION_KEYS = optionKeys<SpikeFileOptions>()(['mode']);

/**
 * Writes spike events to one `.npy` array of shape `[spikes, 3]`, float64 (exact for step numbers
 * up to 2^53 and for any sample or neuron index), one row `(step, sample, neuron)` per spike in the
 * recorder's order (step, then sample, then neuron). Each chunk is one append of the file (the data,
 * then its header's row count, see `NpyAppendWriter`), so between chunks the file is always a
 * complete `.npy` with every chunk handed over so far — `numpy.load` reads it even after the process
 * was killed.
 *
 * ```ts
 * const sink = SpikeFileSink.open('run/spikes.npy');
 * const rec = new SpikeRecorder(() => lif.spike, { onChunk: sink.onChunk });
 * // … run, await rec.flush() …
 * sink.close();
 * ```
 *
 * Resuming: open with `mode: 'continue'` and restore the recorder from its snapshot. A chunk whose
 * first step is at or below the file's last step (the recorder reads again what it had not read when
 * the snapshot was taken, or what a killed run wrote after it) first cuts the file back to the rows
 * before that step, so the file never holds a step twice and ends as an uninterrupted run's.
 *
 * A failed append (a full disk) leaves the file as before the chunk; the recorder keeps the chunk
 * and hands it over again on its next `flush()`.
 */
export class SpikeFileSink {
  /** The recorder's `onChunk` (bound to this sink). */
  readonly onChunk: (events: RecordedSpikes, steps: SpikeChunkSteps) => void;
  private readonly writer: NpyAppendWriter;

  private constructor(writer: NpyAppendWriter) {
    this.writer = writer;
    this.onChunk = (events, steps) => this.write(events, steps);
  }

  /**
   * Opens the sink's file.
   * @throws CinderArgumentError for a bad path or mode, or (`'continue'`) a file that is not a
   * `[n, 3]` float64 `.npy` written by a sink (nothing is changed then)
   */
  static open(path: string, options: SpikeFileOptions = {}): SpikeFileSink {
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('options', options, "an object { mode?: 'create' | 'continue' }");
    checkOptionKeys('options', options, SPIKE_FILE_OPTION_KEYS);
    const mode = options.mode ?? 'create';
    if (mode !== 'create' && mode !== 'continue') throw new CinderArgumentError('mode', mode, "'create' or 'continue'");
    const spec = { dtype: 'float64', rowShape: [3] } as const;
    // an empty file (a run killed before the header was written) holds nothing to keep: started anew
    let size: number | undefined;
    try {
      size = typeof path === 'string' && path !== '' ? statSync(path, { throwIfNoEntry: false })?.size : undefined;
    } catch {
      size = undefined; // not inspectable (a part of the path is a file): open() reports it
    }
    const writer = mode === 'continue' && size !== undefined && size > 0 ? NpyAppendWriter.reopen(path, spec) : NpyAppendWriter.open(path, spec);
    return new SpikeFileSink(writer);
  }

  /** The file written. */
  get path(): string {
    return this.writer.path;
  }

  /** Spikes in the file. */
  get spikes(): number {
    return this.writer.rows;
  }

  /** Makes the spikes written so far durable (fsync). */
  flush(): void {
    this.writer.flush();
  }

  /** Flushes and closes the file (again: nothing). */
  close(): void {
    this.writer.close();
  }

  private write(ev: RecordedSpikes, steps: SpikeChunkSteps): void {
    const n = ev.step.length;
    if (ev.sample.length !== n || ev.neuron.length !== n) throw new CinderArgumentError('events', `${n} / ${ev.sample.length} / ${ev.neuron.length} entries`, 'step, sample and neuron arrays of one length');
    if (!Number.isSafeInteger(steps?.first) || steps.first < 1) throw new CinderArgumentError('steps.first', steps?.first, 'an integer >= 1 (the chunk\'s first step)');
    const keep = this.rowsBefore(steps.first);
    const rows = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      rows[3 * i] = ev.step[i]!;
      rows[3 * i + 1] = ev.sample[i]!;
      rows[3 * i + 2] = ev.neuron[i]!;
    }
    // cut a replayed tail, then append: a failing append leaves the file at `keep` rows, which is
    // still a prefix of the run (the chunk is handed over again and appended then)
    this.writer.truncate(keep);
    this.writer.append(rows);
  }

  /** Number of rows whose step is below `step` (rows are sorted by step: a binary search on disk). */
  private rowsBefore(step: number): number {
    const n = this.writer.rows;
    if (n === 0 || this.writer.readRows(n - 1, 1)[0]! < step) return n;
    let lo = 0;
    let hi = n - 1; // row hi has step >= `step`
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.writer.readRows(mid, 1)[0]! < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Reads a file written by {@link SpikeFileSink} as {@link RecordedSpikes}.
 * @throws CinderArgumentError unless it is a `[n, 3]` float64 `.npy`
 */
export function readSpikeFile(path: string): RecordedSpikes {
  const a = readNpy(path);
  if (!(a.data instanceof Float64Array) || a.shape.length !== 2 || a.shape[1] !== 3) {
    throw new CinderArgumentError('spike file', path, `a [n, 3] float64 .npy written by SpikeFileSink (got a ${a.data.constructor.name} [${a.shape.join(', ')}])`);
  }
  const n = a.shape[0]!;
  const out: RecordedSpikes = { step: new Float64Array(n), sample: new Int32Array(n), neuron: new Int32Array(n) };
  for (let i = 0; i < n; i++) {
    out.step[i] = a.data[3 * i]!;
    out.sample[i] = a.data[3 * i + 1]!;
    out.neuron[i] = a.data[3 * i + 2]!;
  }
  return out;
}
