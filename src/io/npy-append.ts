/**
 * A `.npy` file written row block by row block, for recordings too long to hold in memory.
 * @module
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CinderArgumentError, checkInteger, checkOptionKeys, optionKeys } from '../core/errors.js';
import { startGuardedWrite, type GuardedWrite } from './atomic.js';
import { littleEndianBytes, type NpyArray } from './npy.js';

/** Element types of {@link NpyAppendWriter} (NumPy `<f4`, `<f8`, `<i4`, `|u1`). */
export type NpyAppendDtype = 'float32' | 'float64' | 'int32' | 'uint8';

/** Options of {@link NpyAppendWriter.open}. */
export interface NpyAppendOptions {
  /** Element type; appended data must be the matching typed array. */
  dtype: NpyAppendDtype;
  /** Shape of one row (the array's shape without its leading dimension); `[]` makes a 1-D array. Every dimension at least 1. */
  rowShape: readonly number[];
}

/** The keys of {@link NpyAppendOptions}: other keys are refused ("invalid options key"). */
export const NPY_APPEND_OPTION_KEYS = optionKeys<NpyAppendOptions>()(['dtype', 'rowShape']);

const DTYPES: Record<NpyAppendDtype, { descr: string; type: { new (n: number): NpyArray; name: string }; bytes: number }> = {
  float32: { descr: '<f4', type: Float32Array, bytes: 4 },
  float64: { descr: '<f8', type: Float64Array, bytes: 8 },
  int32: { descr: '<i4', type: Int32Array, bytes: 4 },
  uint8: { descr: '|u1', type: Uint8Array, bytes: 1 },
};

/** Digits reserved in the header for the leading dimension (2^64 has 20). */
const ROW_DIGITS = 20;

/**
 * Writes one `.npy` array (format 1.0, C order, little-endian) of shape `[rows, ...rowShape]` a
 * block of rows at a time, so that a recording of millions of steps never has to be in memory.
 *
 * The header is written at {@link NpyAppendWriter.open} with room for a 20-digit leading
 * dimension (padded with spaces so the data starts at a multiple of 64 bytes, as NumPy pads), and
 * is rewritten in place after every {@link NpyAppendWriter.append}: the data is written first, at
 * its place after the rows already written, then the header with the new row count. So whenever
 * no append is running the file is a complete `.npy` that `numpy.load` and `readNpy` read
 * with every row appended so far, including after the process is killed. {@link NpyAppendWriter.flush}
 * additionally makes them durable (fsync): after a power loss or a crash of the machine only the
 * rows appended before the last flush are certain (later ones may be missing, and the header may
 * count rows whose data did not reach the disk: short data or zeros). A process killed
 * in the middle of an append leaves the rows before it and some bytes after them: `numpy.load`
 * reads those rows (it reads as many bytes as the header asks), `readNpy` refuses the file
 * (its data length is not rows × row size).
 *
 * A refused call (closed writer, wrong typed array, a length that is not a whole number of rows)
 * writes nothing; a failed write (a full disk) truncates the file back to its previous rows and
 * rethrows. The writer is synchronous (no event-loop turns between the data and the header).
 *
 * Write guards (`registerWriteGuard`, see `atomic.ts`: e.g. a run folder whose lock was lost): the
 * guards of the file's folders are asked right before every change of the file — {@link open}
 * (before the file is created or truncated), {@link reopen} (before it is opened), {@link append}
 * and {@link truncate} (after their arguments are checked, before the first byte is written). A
 * guard that throws refuses the call: the file is left exactly as it was (the writer's row count
 * too) and the guard's error is passed on. A guard that follows writes (`WriteGuardHooks`, e.g. a
 * run folder's) and was registered when the writer was opened keeps being asked at every later
 * change, also once unregistered (a run folder's refuses once its run has ended).
 */
export class NpyAppendWriter {
  /** Rows written (the leading dimension). */
  private count = 0;
  private fd: number | null;
  private readonly dataStart: number;
  private readonly rowBytes: number;
  private readonly rowSize: number;
  private readonly headerLength: number;
  /** The file's absolute path when opened (what the write guards are asked about, whatever the working folder is later). */
  private readonly absPath: string;

  private constructor(
    /** The file written. */
    readonly path: string,
    /** Element type. */
    readonly dtype: NpyAppendDtype,
    /** Shape of one row. */
    readonly rowShape: readonly number[],
    fd: number,
    headerLength: number,
    /** The writer as the write guards see it (asked before every change of the file; see the class notes). */
    private readonly guard: GuardedWrite,
  ) {
    this.fd = fd;
    this.absPath = resolve(path);
    this.headerLength = headerLength;
    this.dataStart = 10 + headerLength;
    this.rowSize = rowShape.reduce((a, b) => a * b, 1);
    this.rowBytes = this.rowSize * DTYPES[dtype].bytes;
  }

  /**
   * Creates (or truncates) `path` and writes the header of an array of 0 rows.
   * @throws CinderArgumentError for a bad path, dtype or row shape, or a file that cannot be created
   */
  static open(path: string, options: NpyAppendOptions): NpyAppendWriter {
    const { dtype, rowShape: shape, headerLength } = NpyAppendWriter.checkOptions(path, options);
    const guard = startGuardedWrite(path, false);
    let fd: number;
    try {
      fd = openSync(path, 'w+'); // read too: readRows
    } catch (err) {
      throw new CinderArgumentError('npy path', path, `a writable file (${(err as Error).message})`);
    }
    const writer = new NpyAppendWriter(path, dtype, shape, fd, headerLength, guard);
    try {
      // preamble and header in one write: a process killed during open leaves 0 bytes or a complete empty array
      const head = Buffer.concat([
        Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, headerLength & 0xff, headerLength >> 8),
        Buffer.from(headerText(dtype, shape, '0', headerLength), 'latin1'),
      ]);
      writeAll(fd, head, 0);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return writer;
  }

  /**
   * Opens a file written by {@link NpyAppendWriter} (of this dtype and row shape) to append to it
   * again — to continue a recording after a restart. Its rows are the header's count; bytes after
   * them (an append cut short by a killed process) are cut off. Nothing else is changed.
   * @throws CinderArgumentError for a missing file, or one that is not a `.npy` written by this
   * writer with this dtype and row shape (nothing is changed then)
   */
  static reopen(path: string, options: NpyAppendOptions): NpyAppendWriter {
    // the header this writer would write: the same length, and the same text up to the row count
    const probe = NpyAppendWriter.checkOptions(path, options);
    const guard = startGuardedWrite(path, false); // (it may cut off the bytes of an append cut short)
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (err) {
      throw new CinderArgumentError('npy path', path, `an existing .npy written by NpyAppendWriter (${(err as Error).message})`);
    }
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(Math.min(size, 10 + probe.headerLength));
      readAll(fd, head, 0);
      const want = headerText(probe.dtype, probe.rowShape, '0', probe.headerLength);
      const prefix = want.slice(0, want.indexOf("'shape': (") + 10);
      const text = head.subarray(10).toString('latin1');
      const m = /^(\d+)[,)]/.exec(text.slice(prefix.length));
      const ok = head.length === 10 + probe.headerLength && head[0] === 0x93 && head.subarray(1, 6).toString('latin1') === 'NUMPY' && head[6] === 1 && (head[8]! | (head[9]! << 8)) === probe.headerLength && text.startsWith(prefix) && m !== null;
      if (!ok) throw new CinderArgumentError('npy path', path, `a .npy written by NpyAppendWriter with dtype ${probe.dtype} and rows of shape [${probe.rowShape.join(', ')}]`);
      const rows = Number(m[1]);
      if (headerText(probe.dtype, probe.rowShape, String(rows), probe.headerLength) !== text) {
        throw new CinderArgumentError('npy path', path, `a .npy written by NpyAppendWriter with dtype ${probe.dtype} and rows of shape [${probe.rowShape.join(', ')}]`);
      }
      const writer = new NpyAppendWriter(path, probe.dtype, probe.rowShape, fd, probe.headerLength, guard);
      const end = writer.dataStart + rows * writer.rowBytes;
      if (size < end) throw new CinderArgumentError('npy path', path, `${rows} rows of data (the header's count; the file holds ${size - writer.dataStart} data bytes)`);
      if (size > end) ftruncateSync(fd, end);
      writer.count = rows;
      return writer;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Checks the options of {@link open} / {@link reopen}; returns the normalised ones and the header length. */
  private static checkOptions(path: string, options: NpyAppendOptions): { dtype: NpyAppendDtype; rowShape: readonly number[]; headerLength: number } {
    if (typeof path !== 'string' || path === '') throw new CinderArgumentError('npy path', path, 'a file path');
    if (options === null || typeof options !== 'object') throw new CinderArgumentError('npy writer options', options, '{ dtype, rowShape }');
    checkOptionKeys('options', options, NPY_APPEND_OPTION_KEYS);
    const { dtype, rowShape } = options;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) throw new CinderArgumentError('npy dtype', dtype, "'float32', 'float64', 'int32' or 'uint8'");
    if (!Array.isArray(rowShape) || rowShape.some((d) => !Number.isSafeInteger(d) || d < 1)) throw new CinderArgumentError('npy rowShape', rowShape, 'an array of positive integers ([] for a 1-D array)');
    const shape = Object.freeze([...rowShape] as number[]);
    const rowBytes = shape.reduce((a, b) => a * b, 1) * DTYPES[dtype as NpyAppendDtype].bytes;
    if (!Number.isSafeInteger(rowBytes)) throw new CinderArgumentError('npy rowShape', rowShape, 'a row that fits in memory');
    const headerLength = headerText(dtype as NpyAppendDtype, shape, '9'.repeat(ROW_DIGITS)).length;
    if (headerLength > 0xffff) throw new CinderArgumentError('npy rowShape', rowShape, 'a shape whose .npy header fits in 65535 bytes');
    return { dtype: dtype as NpyAppendDtype, rowShape: shape, headerLength };
  }

  /**
   * Rows `first … first + count − 1` as a typed array of the writer's dtype (read from the file).
   * @throws CinderArgumentError for a closed writer or rows beyond {@link rows}
   */
  readRows(first: number, count: number): NpyArray {
    const fd = this.openFd('readRows');
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 0 || count < 0 || first + count > this.count) {
      throw new CinderArgumentError(`rows read from ${this.path}`, `${first} … ${first + count - 1}`, `rows within 0 … ${this.count - 1}`);
    }
    const bytes = new Uint8Array(count * this.rowBytes);
    readAll(fd, bytes, this.dataStart + first * this.rowBytes);
    const T = DTYPES[this.dtype].type as unknown as { new (b: ArrayBuffer): NpyArray };
    if (LITTLE_ENDIAN || DTYPES[this.dtype].bytes === 1) return new T(bytes.buffer);
    const view = new DataView(bytes.buffer);
    const out = new (DTYPES[this.dtype].type)(count * this.rowSize);
    for (let i = 0; i < out.length; i++) {
      out[i] = this.dtype === 'float32' ? view.getFloat32(4 * i, true) : this.dtype === 'float64' ? view.getFloat64(8 * i, true) : view.getInt32(4 * i, true);
    }
    return out;
  }

  /**
   * Rows `0 … rows − 1` (default: all rows) in pieces of at most `block` rows, each read from the
   * file when the generator is asked for it ({@link readRows}), so a long series is never in memory
   * at once; with `column`, only that element of each row (rows of shape [c]: a `block`-long typed
   * array of column `column`). Each call reads the file anew.
   * @throws CinderArgumentError for a `block` that is not an integer >= 1, a `column` outside the row
   * or `rows` beyond {@link rows}, when the first piece is asked for (before anything is read)
   */
  *readPieces(block: number, options: { column?: number; rows?: number } = {}): Generator<NpyArray> {
    checkInteger('block', block, 1);
    const rows = options.rows ?? this.count;
    if (!Number.isSafeInteger(rows) || rows < 0 || rows > this.count) throw new CinderArgumentError('rows', rows, `an integer from 0 to ${this.count} (the rows written)`);
    const column = options.column;
    if (column !== undefined && !(this.rowShape.length === 1 && Number.isInteger(column) && column >= 0 && column < this.rowSize)) {
      throw new CinderArgumentError('column', column, `an index in [0, ${this.rowSize}) of rows of shape [c] (rows here: [${this.rowShape.join(', ')}])`);
    }
    for (let r0 = 0; r0 < rows; r0 += block) {
      const n = Math.min(block, rows - r0);
      const data = this.readRows(r0, n);
      if (column === undefined) {
        yield data;
        continue;
      }
      const out = new (DTYPES[this.dtype].type)(n);
      for (let q = 0; q < n; q++) out[q] = data[q * this.rowSize + column]!;
      yield out;
    }
  }

  /**
   * Keeps the first `rows` rows and drops the rest (header first, then the data cut off, so the
   * file is complete at every moment).
   * @throws CinderArgumentError for a closed writer or more rows than written; a write guard's
   * error (see the class notes) — nothing is changed in either case
   */
  truncate(rows: number): void {
    const fd = this.openFd('truncate');
    if (!Number.isSafeInteger(rows) || rows < 0 || rows > this.count) throw new CinderArgumentError(`rows kept in ${this.path}`, rows, `an integer within 0 … ${this.count}`);
    if (rows === this.count) return;
    this.guard.check(this.absPath);
    this.writeHeader(rows);
    ftruncateSync(fd, this.dataStart + rows * this.rowBytes);
    this.count = rows;
  }

  /** Rows written so far (the array's leading dimension). */
  get rows(): number {
    return this.count;
  }

  /** Whether {@link close} has been called. */
  get closed(): boolean {
    return this.fd === null;
  }

  /**
   * Appends `data`, a whole number of rows in C order (`data.length` a multiple of the row size
   * prod(rowShape)), of the writer's dtype (a Float32Array for `'float32'`, and so on); an empty
   * array appends nothing. The file then holds them and its header counts them.
   * @throws CinderArgumentError for a closed writer, another typed array or a partial row; a write
   * guard's error (see the class notes) — nothing is written in either case
   */
  append(data: NpyArray): void {
    const fd = this.openFd('append');
    const want = DTYPES[this.dtype].type;
    if (!(data instanceof want)) {
      const got = ArrayBuffer.isView(data) ? `a ${data.constructor.name}` : typeof data;
      throw new CinderArgumentError(`data appended to ${this.path}`, got, `a ${want.name} (dtype ${this.dtype})`);
    }
    if (data.length % this.rowSize !== 0) {
      throw new CinderArgumentError(`data appended to ${this.path}`, `${data.length} values`, `a multiple of ${this.rowSize} (whole rows of shape [${this.rowShape.join(', ')}])`);
    }
    const added = data.length / this.rowSize;
    if (added === 0) return;
    const end = this.dataStart + this.count * this.rowBytes;
    if (!Number.isSafeInteger(end + data.byteLength)) throw new CinderArgumentError(`data appended to ${this.path}`, `${added} rows more`, 'a file below 2^53 bytes');
    this.guard.check(this.absPath);
    try {
      writeAll(fd, littleEndianBytes(data), end);
      this.writeHeader(this.count + added);
    } catch (err) {
      // back to the rows before this append (header first: it may already count the new rows)
      try {
        this.writeHeader(this.count);
        ftruncateSync(fd, end);
      } catch {
        // the original error is the one to report
      }
      throw err;
    }
    this.count += added;
  }

  /**
   * Makes the rows appended so far durable (fsync of the file).
   * @throws CinderArgumentError for a closed writer
   */
  flush(): void {
    fsyncSync(this.openFd('flush'));
  }

  /** Flushes and closes the file; closing a closed writer does nothing. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private openFd(what: string): number {
    if (this.fd === null) throw new CinderArgumentError(`npy writer of ${this.path}`, `${what} after close`, 'an open writer');
    return this.fd;
  }

  /** Writes the header dict (after the 10-byte preamble) for `rows` rows, padded to its fixed length. */
  private writeHeader(rows: number): void {
    const text = headerText(this.dtype, this.rowShape, String(rows), this.headerLength);
    writeAll(this.fd!, Buffer.from(text, 'latin1'), 10);
  }
}

/**
 * The header dict of a `[rows, ...rowShape]` array, padded with spaces and ended by a newline to
 * `length` characters, or (without `length`) so that 10 + its length is a multiple of 64.
 */
function headerText(dtype: NpyAppendDtype, rowShape: readonly number[], rows: string, length?: number): string {
  const dims = [rows, ...rowShape.map(String)];
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  const dict = `{'descr': '${DTYPES[dtype].descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = length ?? dict.length + 1 + ((64 - ((10 + dict.length + 1) % 64)) % 64);
  return dict + ' '.repeat(total - dict.length - 1) + '\n';
}

/** Fills `bytes` from file position `pos` (readSync may read less than asked). */
function readAll(fd: number, bytes: Uint8Array, pos: number): void {
  for (let done = 0; done < bytes.length; ) {
    const n = readSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30), pos + done);
    if (n === 0) throw new CinderArgumentError('npy file', `${pos + done} bytes`, `${pos + bytes.length} bytes (the file is shorter)`);
    done += n;
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Writes all of `bytes` at file position `pos` (writeSync may write less than asked). */
function writeAll(fd: number, bytes: Uint8Array, pos: number): void {
  for (let done = 0; done < bytes.length; ) {
    done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30), pos + done);
  }
}

/** One file of {@link openCheckpointSeries}: its name in the folder and its row layout. */
export interface CheckpointSeriesSpec extends NpyAppendOptions {
  /** File name inside the folder (e.g. `raster.npy`). */
  file: string;
}

/**
 * Opens the append-only series files a run keeps in its checkpoint folder `dir` (created if
 * missing), one writer per spec in spec order. A run's growing series (spikes, recorded rows) are
 * appended and flushed before each checkpoint, which records the files' lengths, so a checkpoint
 * costs O(new rows), not O(rows so far). `keep` null (a fresh run): every file is created empty.
 * `keep` given (a resume): every file is reopened and, only once all of them were checked to hold
 * at least `keep[file]` rows (a missing key: 0), cut back to that many — the rows a run killed
 * after appending, before its checkpoint, left behind. A file that is missing while the checkpoint
 * records rows, or holds fewer, refuses the resume before any file is cut; a missing file with 0
 * rows kept is created. On any error the writers opened so far are closed.
 * @throws CinderArgumentError for a file shorter than its checkpoint records (or missing), bad specs
 */
export function openCheckpointSeries(dir: string, specs: readonly CheckpointSeriesSpec[], keep: Readonly<Record<string, number>> | null): NpyAppendWriter[] {
  mkdirSync(dir, { recursive: true });
  const writers: NpyAppendWriter[] = [];
  try {
    for (const { file, dtype, rowShape } of specs) {
      const path = join(dir, file);
      const rows = keep?.[file] ?? 0;
      if (keep === null || (rows === 0 && !existsSync(path))) {
        writers.push(NpyAppendWriter.open(path, { dtype, rowShape }));
        continue;
      }
      if (!existsSync(path)) throw new CinderArgumentError(`checkpoint file ${path}`, 'none', `a file with the ${rows} rows the checkpoint records`);
      const w = NpyAppendWriter.reopen(path, { dtype, rowShape });
      writers.push(w);
      if (w.rows < rows) throw new CinderArgumentError(`checkpoint file ${path}`, `${w.rows} rows`, `at least the ${rows} rows the checkpoint records`);
    }
  } catch (err) {
    for (const w of writers) w.close();
    throw err;
  }
  // all checked: cut off what a run killed after appending (before its checkpoint) left behind
  if (keep !== null) specs.forEach((s, k) => writers[k]!.truncate(keep[s.file] ?? 0));
  return writers;
}
