/**
 * NumPy file formats for Python users: `.npy` (one array, format version 1.0) and `.npz` (a zip
 * archive of `.npy` files, stored uncompressed), readable with `numpy.load`; and the checked
 * readers of both (`numpy.savez`/`savez_compressed` output included).
 * @module
 */
import { kMaxLength } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import * as zlib from 'node:zlib';
import { inflateRawSync } from 'node:zlib';
import { CinderArgumentError, checkOptionKeys, describe, optionKeys } from '../core/errors.js';
import { AtomicFileWriter, startGuardedWrite, type GuardedWrite } from './atomic.js';

/** Typed arrays that can be written as `.npy`. */
export type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** One named array for {@link encodeNpz}. */
export interface NpyEntry {
  /** Row-major data. */
  data: NpyArray;
  /** Shape (row-major, C order); its product must equal `data.length`. `[]` is a scalar. */
  shape: readonly number[];
}

/** Element type of an {@link NpyArray}, named after its typed array (`float32`: Float32Array, … `uint8`: Uint8Array). */
export type NpyDtype = 'float32' | 'float64' | 'int32' | 'uint8';

/**
 * One named array for {@link writeNpz} whose data is produced only when its entry is written: a
 * tensor downloaded then, for example, so that an archive of many arrays holds about one of them
 * in memory at a time. Its dtype and shape are given up front (the archive's layout, and every
 * check, come before anything is written).
 */
export interface NpyLazyEntry {
  /** Element type of the array {@link NpyLazyEntry.data} returns. */
  dtype: NpyDtype;
  /** Shape (row-major, C order); its product is the length of the array {@link NpyLazyEntry.data} returns. `[]` is a scalar. */
  shape: readonly number[];
  /**
   * Produces the row-major data: called once, when this entry is written (after the entries
   * before it are written), its result dropped once written. It must return an array of `dtype`
   * with prod(shape) items; anything else (or a throw) fails the write.
   */
  data: () => NpyArray | Promise<NpyArray>;
}

/**
 * One named array for {@link writeNpz} whose data is read in pieces when its entry is written (a
 * series streamed to an append-only `.npy` file, read back a block of rows at a time), so that
 * writing it holds one piece in memory, never the whole array: an entry larger than the memory,
 * or than `buffer.kMaxLength`, can be written. Its dtype and shape are given up front.
 *
 * The zip format puts an entry's CRC-32 and size in its local header, before its data (no data
 * descriptors, so the bytes are those of the same array given whole): the pieces are read twice,
 * a first pass computing the CRC-32 (crc32 continued from piece to piece), then, after the header,
 * a second pass writing them. {@link NpyPiecesEntry.pieces} is therefore called twice and must
 * yield the same bytes both times; the second pass's CRC-32 is checked against the first.
 */
export interface NpyPiecesEntry {
  /** Element type of every piece {@link NpyPiecesEntry.pieces} yields. */
  dtype: NpyDtype;
  /** Shape (row-major, C order); its product is the total length of the pieces. `[]` is a scalar. */
  shape: readonly number[];
  /**
   * Yields the row-major data in order, in pieces: arrays of `dtype` of any lengths (empty ones
   * allowed) whose concatenation has prod(shape) items. Called twice per write (the CRC-32 pass,
   * then the writing pass, once every entry before it is in the file), each call a fresh iteration
   * yielding the same items; each piece is consumed (its CRC-32 computed, or it is written) before
   * the next is asked for, and not kept, so the producer may reuse one buffer. A piece of another
   * type, a total of another length, a second pass with other bytes (CRC-32 differs), or a throw
   * fails the write.
   */
  pieces: () => AsyncIterable<NpyArray> | Iterable<NpyArray>;
}

/** An entry of {@link writeNpz}: an array, a lazy array, or an array read in pieces. */
export type NpzEntry = NpyEntry | NpyLazyEntry | NpyPiecesEntry;

/** The typed array of each {@link NpyDtype}. */
const NPY_DTYPE_ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array } as const;

/** True on a little-endian host (the byte order of every file format here). */
export const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** NumPy dtype descriptor of a typed array (`<f4`, `<f8`, `<i4`, `|u1`). */
export function npyDescr(data: NpyArray): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Uint8Array) return '|u1';
  throw new CinderArgumentError('data', data, 'a Float32Array, Float64Array, Int32Array or Uint8Array');
}

function checkShape(data: NpyArray, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new CinderArgumentError('shape', shape, 'an array of non-negative integers');
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new CinderArgumentError('shape', shape, `a shape with ${data.length} elements (the data length), not ${n}`);
}

/** The bytes of `data` in little-endian order (a view of it on a little-endian host, a copy otherwise). */
export function littleEndianBytes(data: NpyArray): Uint8Array {
  if (LITTLE_ENDIAN_HOST || data.BYTES_PER_ELEMENT === 1) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(4 * i, data[i]!, true);
    else if (data instanceof Float64Array) view.setFloat64(8 * i, data[i]!, true);
    else view.setInt32(4 * i, data[i]!, true);
  }
  return out;
}

/**
 * Encodes one array as a `.npy` file (format 1.0, C order, little-endian). The header is padded so
 * the data starts at a multiple of 64 bytes, as NumPy itself does.
 * @throws CinderArgumentError when `shape` does not match `data.length`
 */
export function encodeNpy(data: NpyArray, shape: readonly number[]): Uint8Array {
  const head = npyHeader(data, shape);
  const body = littleEndianBytes(data);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** The magic and header of the `.npy` file of `data` (see {@link encodeNpy}): the bytes before the data. */
function npyHeader(data: NpyArray, shape: readonly number[]): Uint8Array {
  const descr = npyDescr(data);
  checkShape(data, shape);
  return npyHeaderOf(descr, shape);
}

/** The magic and header of a `.npy` file of dtype `descr` and shape `shape` (checked by the caller). */
function npyHeaderOf(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new CinderArgumentError('shape', shape, 'a shape whose .npy header fits in 65535 bytes');
  const out = new Uint8Array(10 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY, version 1.0
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Largest piece given to Node's zlib.crc32 at once. */
const NATIVE_CRC_CHUNK = 2 ** 30;
/** Node's native CRC-32 (Node 20.15 and later; about 15x faster than the table loop). */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * CRC-32 (the zip/PNG polynomial 0xEDB88320, reflected, initial and final XOR 0xFFFFFFFF) of
 * `bytes`, continuing from `previous`, the CRC-32 of the bytes before them (0 to start):
 * crc32(b, crc32(a)) = crc32(a ‖ b). Node's zlib.crc32 where it exists, in calls of at most 1 GiB
 * (it takes a 32-bit length: a 4 GiB array would count as 0 bytes), a table loop otherwise.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  if (nativeCrc32 === undefined) return crc32Table(bytes, previous);
  let c = previous;
  for (let off = 0; off === 0 || off < bytes.length; off += NATIVE_CRC_CHUNK) c = nativeCrc32(bytes.subarray(off, off + NATIVE_CRC_CHUNK), c) >>> 0;
  return c;
}

/** `mat` (32 columns over GF(2)) times `vec`. */
function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}

/** `mat` squared into `out`. */
function gf2Square(out: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) out[n] = gf2Times(mat, mat[n]!);
}

/**
 * CRC-32 of `a ‖ b` from `crcA` = crc32(a), `crcB` = crc32(b) and the byte length of `b`, without
 * the bytes: crc32 is affine over GF(2), so appending `lenB` zero bytes to `a` is a 32×32 matrix
 * applied to `crcA` (built by repeated squaring of the one-zero-bit operator, O(log lenB)), and
 * the result is that XOR `crcB` (zlib's crc32_combine). `lenB` is a byte count up to 2^53.
 */
export function crc32Combine(crcA: number, crcB: number, lenB: number): number {
  if (!(Number.isInteger(lenB) && lenB >= 0)) throw new CinderArgumentError('crc32Combine length', lenB, 'a byte count (an integer >= 0)');
  if (lenB === 0) return crcA >>> 0;
  const odd = new Uint32Array(32);
  const even = new Uint32Array(32);
  odd[0] = 0xedb88320; // one zero bit
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row >>> 0;
  gf2Square(even, odd); // two zero bits
  gf2Square(odd, even); // four zero bits
  let c = crcA >>> 0;
  let len = lenB;
  for (;;) {
    gf2Square(even, odd); // first pass: one zero byte
    if (len % 2 === 1) c = gf2Times(even, c);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2Square(odd, even);
    if (len % 2 === 1) c = gf2Times(odd, c);
    len = Math.floor(len / 2);
    if (len === 0) break;
  }
  return (c ^ crcB) >>> 0;
}

/** The table form of {@link crc32} (the one used where Node has no zlib.crc32). */
export function crc32Table(bytes: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** DOS date and time fields of a zip entry (local time, 2-second resolution). */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

const ZIP_LOCAL = 0x04034b50;
const ZIP_CENTRAL = 0x02014b50;
const ZIP_END = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
/** Header id of the zip64 extended information extra field. */
const ZIP64_EXTRA = 0x0001;

/** Options of {@link encodeNpz}. */
export interface NpzEncodeOptions {
  /** Entry time (local time, 2-second resolution); default 1980-01-01 00:00, so identical arrays give identical bytes. */
  date?: Date;
  /**
   * Zip64 records: `'auto'` (default) writes them only where a value does not fit its 16- or
   * 32-bit field (an entry or offset of 0xFFFFFFFF bytes or more, 65535 entries or more);
   * `'always'` writes them for every entry and the archive, as a test of zip64 readers.
   */
  zip64?: 'auto' | 'always';
}

/** The keys of {@link NpzEncodeOptions}: other keys are refused ("invalid options key"). */
export const NPZ_ENCODE_OPTION_KEYS = optionKeys<NpzEncodeOptions>()(['date', 'zip64']);

/** Options of {@link writeNpz}: those of {@link NpzEncodeOptions}, and a commit check. */
export interface NpzWriteOptions extends NpzEncodeOptions {
  /**
   * Asked once the whole archive is in its temporary file (flushed to disk), right before the
   * rename over `path`, as the `commit` option of the atomic writers (`atomic.ts`): returning false
   * drops the write (the temporary file is removed, `path` left as it was, and the call resolves
   * without writing); a throw does the same and rejects with that error (e.g. a run folder whose
   * lock was lost meanwhile).
   */
  commit?: () => boolean;
}

/** The keys of {@link NpzWriteOptions}: other keys are refused ("invalid options key"). */
export const NPZ_WRITE_OPTION_KEYS = optionKeys<NpzWriteOptions>()(['date', 'zip64', 'commit']);

/** Values from which a 32-bit (16-bit) zip field holds the zip64 marker and the value moves to a zip64 record. */
const ZIP64_AT = 0xffffffff;
const ZIP64_COUNT_AT = 0xffff;

/** One entry of an npz archive being written: its `.npy` header and data, and where it goes. */
interface NpzPlanEntry {
  /** `<name>.npy` as UTF-8. */
  name: Uint8Array;
  /** The `.npy` magic and header. */
  header: Uint8Array;
  /** The little-endian data (a view of the array's memory on a little-endian host); none for a lazy entry. */
  data?: Uint8Array;
  /** A lazy entry's producer, its dtype and item count (see {@link NpyLazyEntry}). */
  lazy?: { produce: () => NpyArray | Promise<NpyArray>; dtype: NpyDtype; count: number; label: string };
  /** A pieces entry's producer, its dtype and item count (see {@link NpyPiecesEntry}). */
  pieces?: { produce: () => AsyncIterable<NpyArray> | Iterable<NpyArray>; dtype: NpyDtype; count: number; label: string };
  /** Byte length of the `.npy` file (header + data). */
  size: number;
  /** CRC-32 of the `.npy` file (of a lazy entry: set once its data is produced). */
  crc: number;
  /** Offset of the entry's local header. */
  offset: number;
  /** Whether the local header has a zip64 extra field. */
  local64: boolean;
  /** 64-bit values in the central directory's zip64 field: 0 none, 1 offset, 2 sizes, 3 both. */
  central64: number;
}

/** The layout of an npz archive: entries, directory and end records (see {@link encodeNpz}). */
interface NpzPlan {
  files: NpzPlanEntry[];
  time: number;
  day: number;
  always: boolean;
  cdStart: number;
  cdSize: number;
  end64: boolean;
  /** Byte length of the archive. */
  total: number;
}

/** CRC-32 of `bytes` continuing from `previous`, in calls of at most 1 GiB. */
function crc32Chunked(bytes: Uint8Array, previous = 0): number {
  let c = previous;
  for (let off = 0; off < bytes.length; off += READ_CHUNK) c = crc32(bytes.subarray(off, off + READ_CHUNK), c);
  return c;
}

/**
 * Checks the arrays and options of an npz archive and lays it out (CRC-32s computed, but those of
 * lazy entries, which `lazy` allows: see {@link NpyLazyEntry}); `keys` are the option keys allowed.
 */
function planNpz(arrays: Record<string, NpzEntry>, options: Date | NpzWriteOptions, keys: readonly string[], lazy: boolean): NpzPlan {
  const opts: NpzWriteOptions = options instanceof Date ? { date: options } : options;
  if (opts === null || typeof opts !== 'object') throw new CinderArgumentError('npz options', opts, lazy ? 'a Date or { date?, zip64?, commit? }' : 'a Date or { date?, zip64? }');
  checkOptionKeys('options', opts, keys);
  if (opts.commit !== undefined && typeof opts.commit !== 'function') throw new CinderArgumentError('npz commit', opts.commit, 'a function returning a boolean');
  if (opts.date !== undefined && !(opts.date instanceof Date && Number.isFinite(opts.date.getTime()))) throw new CinderArgumentError('npz date', opts.date, 'a valid Date');
  const mode = opts.zip64 ?? 'auto';
  if (mode !== 'auto' && mode !== 'always') throw new CinderArgumentError('npz zip64', mode, "'auto' or 'always'");
  if (arrays === null || typeof arrays !== 'object') throw new CinderArgumentError('arrays', arrays, 'named arrays ({ name: { data, shape } })');
  const always = mode === 'always';
  // A fixed timestamp (1980-01-01 00:00, the zip epoch) unless one is given: identical arrays give
  // byte-identical archives, so identical runs give identical artifacts.
  const { time, date: day } = opts.date ? dosDateTime(opts.date) : { time: 0, date: (1 << 5) | 1 };
  const files: NpzPlanEntry[] = [];
  let offset = 0;
  let cdSize = 0;
  for (const n of Object.keys(arrays)) {
    if (n === '' || n.includes('/') || n.includes('\\')) throw new CinderArgumentError('array name', n, 'a non-empty name without slashes');
    const entry = arrays[n] as NpzEntry;
    if (entry === null || typeof entry !== 'object') throw new CinderArgumentError(`array "${n}"`, entry, lazy ? '{ data, shape }, { dtype, shape, data: () => array } or { dtype, shape, pieces: () => iterable of arrays }' : '{ data, shape }');
    let header: Uint8Array;
    let byteLength: number;
    let data: Uint8Array | undefined;
    let later: NpzPlanEntry['lazy'];
    let pieces: NpzPlanEntry['pieces'];
    if (lazy && 'pieces' in entry && !('data' in entry)) {
      const { dtype, shape, pieces: produce } = entry;
      if (typeof produce !== 'function') throw new CinderArgumentError(`pieces of array "${n}"`, produce, 'a function returning an iterable of arrays');
      if (typeof dtype !== 'string' || !Object.hasOwn(NPY_DTYPE_ARRAYS, dtype)) throw new CinderArgumentError(`dtype of array "${n}"`, dtype, "'float32', 'float64', 'int32' or 'uint8' (the arrays its pieces() yields)");
      if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new CinderArgumentError(`shape of array "${n}"`, shape, 'an array of non-negative integers');
      const count = shape.reduce((a: number, b: number) => a * b, 1);
      byteLength = count * NPY_DTYPE_ARRAYS[dtype].BYTES_PER_ELEMENT;
      // (never one array in memory: only a byte count that stays exact)
      if (!Number.isSafeInteger(byteLength)) throw new CinderArgumentError(`array "${n}"`, `${byteLength} bytes`, `at most ${Number.MAX_SAFE_INTEGER} bytes`);
      header = npyHeaderOf(npyDescr(new NPY_DTYPE_ARRAYS[dtype](0)), shape);
      pieces = { produce, dtype, count, label: `array "${n}"` };
    } else if (lazy && typeof (entry as NpyLazyEntry).data === 'function') {
      const { dtype, shape } = entry as NpyLazyEntry;
      if (typeof dtype !== 'string' || !Object.hasOwn(NPY_DTYPE_ARRAYS, dtype)) throw new CinderArgumentError(`dtype of array "${n}"`, dtype, "'float32', 'float64', 'int32' or 'uint8' (the array its data() returns)");
      if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new CinderArgumentError(`shape of array "${n}"`, shape, 'an array of non-negative integers');
      const count = shape.reduce((a: number, b: number) => a * b, 1);
      byteLength = count * NPY_DTYPE_ARRAYS[dtype].BYTES_PER_ELEMENT;
      header = npyHeaderOf(npyDescr(new NPY_DTYPE_ARRAYS[dtype](0)), shape);
      later = { produce: (entry as NpyLazyEntry).data, dtype, count, label: `array "${n}"` };
    } else {
      const e = entry as NpyEntry;
      header = npyHeader(e.data, e.shape);
      byteLength = e.data.byteLength;
    }
    // (the bytes are one Uint8Array here, and one array when read back)
    if (pieces === undefined && !(byteLength <= kMaxLength)) throw new CinderArgumentError(`array "${n}"`, `${byteLength} bytes`, `at most ${kMaxLength} bytes (the largest array of bytes of this Node.js; save larger tensors with saveTensors)`);
    if (later === undefined && pieces === undefined) data = littleEndianBytes((entry as NpyEntry).data);
    const size = header.length + byteLength;
    const name = Buffer.from(`${n}.npy`, 'utf8');
    if (name.length > 0xffff) throw new CinderArgumentError('array name', `${name.length} bytes`, 'a name of at most 65531 bytes');
    const local64 = always || size >= ZIP64_AT;
    const central64 = always ? 3 : (size >= ZIP64_AT ? 2 : 0) + (offset >= ZIP64_AT ? 1 : 0);
    files.push({ name, header, data, lazy: later, pieces, size, crc: data ? crc32Chunked(data, crc32(header)) : 0, offset, local64, central64 });
    offset += 30 + name.length + (local64 ? 20 : 0) + size;
    cdSize += 46 + name.length + (central64 > 0 ? 4 + 8 * central64 : 0);
  }
  const cdStart = offset;
  const end64 = always || files.length >= ZIP64_COUNT_AT || cdSize >= ZIP64_AT || cdStart >= ZIP64_AT;
  return { files, time, day, always, cdStart, cdSize, end64, total: cdStart + cdSize + (end64 ? 56 + 20 : 0) + 22 };
}

/** The local header of entry `f` (with its zip64 extra field where planned). */
function npzLocalHeader(f: NpzPlanEntry, plan: NpzPlan): Uint8Array {
  const out = new Uint8Array(30 + f.name.length + (f.local64 ? 20 : 0));
  const v = new DataView(out.buffer);
  const size32 = f.local64 ? ZIP64_AT : f.size;
  v.setUint32(0, ZIP_LOCAL, true);
  v.setUint16(4, f.local64 ? 45 : 20, true); // version needed (4.5: zip64)
  v.setUint16(6, 0x0800, true); // UTF-8 names
  v.setUint16(8, 0, true); // stored
  v.setUint16(10, plan.time, true);
  v.setUint16(12, plan.day, true);
  v.setUint32(14, f.crc, true);
  v.setUint32(18, size32, true);
  v.setUint32(22, size32, true);
  v.setUint16(26, f.name.length, true);
  v.setUint16(28, f.local64 ? 20 : 0, true);
  out.set(f.name, 30);
  if (f.local64) {
    // zip64 extra field of a local header: size, then compressed size
    const p = 30 + f.name.length;
    v.setUint16(p, ZIP64_EXTRA, true);
    v.setUint16(p + 2, 16, true);
    v.setBigUint64(p + 4, BigInt(f.size), true);
    v.setBigUint64(p + 12, BigInt(f.size), true);
  }
  return out;
}

/** The central directory, the zip64 end record and locator where planned, and the end record. */
function npzDirectory(plan: NpzPlan): Uint8Array {
  const { files, time, day, always, cdStart, cdSize, end64 } = plan;
  const out = new Uint8Array(plan.total - cdStart);
  const v = new DataView(out.buffer);
  const setU64 = (at: number, x: number): void => v.setBigUint64(at, BigInt(x), true);
  let p = 0;
  for (const f of files) {
    const sizes64 = f.central64 >= 2;
    const offset64 = f.central64 === 1 || f.central64 === 3;
    v.setUint32(p, ZIP_CENTRAL, true);
    const version = f.central64 > 0 || f.local64 ? 45 : 20; // 4.5: zip64
    v.setUint16(p + 4, version, true); // made by
    v.setUint16(p + 6, version, true); // needed
    v.setUint16(p + 8, 0x0800, true);
    v.setUint16(p + 10, 0, true);
    v.setUint16(p + 12, time, true);
    v.setUint16(p + 14, day, true);
    v.setUint32(p + 16, f.crc, true);
    v.setUint32(p + 20, sizes64 ? ZIP64_AT : f.size, true);
    v.setUint32(p + 24, sizes64 ? ZIP64_AT : f.size, true);
    v.setUint16(p + 28, f.name.length, true);
    v.setUint16(p + 30, f.central64 > 0 ? 4 + 8 * f.central64 : 0, true);
    // comment length, disk, internal attributes, external attributes: all 0
    v.setUint32(p + 42, offset64 ? ZIP64_AT : f.offset, true);
    out.set(f.name, p + 46);
    p += 46 + f.name.length;
    if (f.central64 > 0) {
      // zip64 extra field: the 64-bit values of the fields marked 0xFFFFFFFF, in field order
      v.setUint16(p, ZIP64_EXTRA, true);
      v.setUint16(p + 2, 8 * f.central64, true);
      let y = p + 4;
      if (sizes64) {
        setU64(y, f.size); // size
        setU64(y + 8, f.size); // compressed size
        y += 16;
      }
      if (offset64) setU64(y, f.offset);
      p += 4 + 8 * f.central64;
    }
  }
  const count = files.length;
  if (end64) {
    const z = cdStart + p;
    v.setUint32(p, ZIP64_END, true);
    setU64(p + 4, 44); // length of the rest of the record
    v.setUint16(p + 12, 45, true); // made by
    v.setUint16(p + 14, 45, true); // needed
    // disk numbers (p + 16, p + 20): 0
    setU64(p + 24, count);
    setU64(p + 32, count);
    setU64(p + 40, cdSize);
    setU64(p + 48, cdStart);
    p += 56;
    v.setUint32(p, ZIP64_LOCATOR, true);
    // disk of the zip64 end record (p + 4): 0
    setU64(p + 8, z);
    v.setUint32(p + 16, 1, true); // disks in all
    p += 20;
  }
  v.setUint32(p, ZIP_END, true);
  const count16 = always || count >= ZIP64_COUNT_AT ? ZIP64_COUNT_AT : count;
  v.setUint16(p + 8, count16, true);
  v.setUint16(p + 10, count16, true);
  v.setUint32(p + 12, always || cdSize >= ZIP64_AT ? ZIP64_AT : cdSize, true);
  v.setUint32(p + 16, always || cdStart >= ZIP64_AT ? ZIP64_AT : cdStart, true);
  return out;
}

/**
 * Encodes several named arrays as a `.npz` archive (a zip of `<name>.npy` entries, stored without
 * compression, entry times fixed at 1980-01-01 00:00 unless a date is given). Names must be
 * non-empty and unique; `numpy.load(path)[name]` returns each array. Zip64 records are written
 * where needed (see {@link NpzEncodeOptions.zip64}): a zip64 extra field with the 64-bit sizes in
 * the local header of an entry of 4 GiB or more, one with each 64-bit size or offset that reaches
 * 0xFFFFFFFF in its central directory entry (the 32-bit field then holds 0xFFFFFFFF), and a zip64
 * end record and locator before the end record when there are 65535 entries or more, or the
 * directory's size or offset reaches 0xFFFFFFFF. The whole archive is built in memory, so it is
 * limited to the largest typed array of the Node.js version (4 GiB on Node 20); `writeNpz`
 * (`cinder-snn/node`) writes the same bytes to a file entry by entry, without that limit.
 * @param options the options, or the entry time alone (as before)
 * @throws CinderArgumentError for a bad name, a shape mismatch or an archive over that limit
 */
export function encodeNpz(arrays: Record<string, NpyEntry>, options: Date | NpzEncodeOptions = {}): Uint8Array {
  const plan = planNpz(arrays, options, NPZ_ENCODE_OPTION_KEYS, false);
  if (plan.total > kMaxLength) throw new CinderArgumentError('arrays', `${describe(plan.files.length)} arrays, ${plan.total} bytes`, `an archive of at most ${kMaxLength} bytes (the largest array of this Node.js)`);
  const out = new Uint8Array(plan.total);
  let p = 0;
  for (const f of plan.files) {
    const local = npzLocalHeader(f, plan);
    out.set(local, p);
    out.set(f.header, p + local.length);
    out.set(f.data!, p + local.length + f.header.length);
    p += local.length + f.size;
  }
  out.set(npzDirectory(plan), p);
  return out;
}

/** Decoded arrays by name (without `.npy`). */
export type NpzArrays = Record<string, Float32Array | Float64Array | Int32Array | Uint8Array>;

/** Largest single `readSync` (the file system reads at most 2 GiB − 1 bytes at once). */
const READ_CHUNK = 1 << 30;

/** Entries up to this size are read from a file together with their local header. */
const SMALL_ENTRY = 1 << 20;

/** Random access to the bytes of an archive: an array in memory or an open file. */
interface ByteSource {
  /** Length in bytes. */
  readonly size: number;
  /** Whether {@link read} returns new memory of its own (a file read) rather than a view. */
  readonly fresh: boolean;
  /** `len` bytes from byte `pos` (callers keep `pos + len ≤ size`). */
  read(pos: number, len: number): Uint8Array;
}

function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, fresh: false, read: (pos, len) => bytes.subarray(pos, pos + len) };
}

/** Positioned reads of the open file `fd` of `size` bytes (`path` names it in errors). */
function fileSource(fd: number, size: number, path: string, param: string): ByteSource {
  return {
    size,
    fresh: true,
    read(pos, len) {
      if (len > kMaxLength) throw new CinderArgumentError(`${param} ${path}`, `${len} bytes to read at byte ${pos}`, `at most ${kMaxLength} bytes (the largest array of this Node.js)`);
      const out = new Uint8Array(len);
      for (let got = 0; got < len; ) {
        let n: number;
        try {
          n = readSync(fd, out, got, Math.min(READ_CHUNK, len - got), pos + got);
        } catch (err) {
          throw new CinderArgumentError(`${param} path`, path, `a readable file (${(err as Error).message})`);
        }
        if (n === 0) throw new CinderArgumentError(`${param} ${path}`, `the end of the file at byte ${pos + got}`, `the ${size} bytes it had when opened (the file changed while being read)`);
        got += n;
      }
      return out;
    },
  };
}

/** Opens `path` for reading and runs `use` on its {@link ByteSource}; the file is closed after. */
function withFile<T>(path: string, param: string, use: (src: ByteSource) => T): T {
  if (typeof path !== 'string' || path === '') throw new CinderArgumentError(`${param} path`, path, 'a file path');
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new CinderArgumentError(`${param} path`, path, `a readable file (${(err as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CinderArgumentError(`${param} path`, path, 'a readable file (it is not a regular file)');
    size = st.size;
    return use(fileSource(fd, size, path, param));
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an npz file: a zip of `.npy` entries as `numpy.savez` (stored) or `numpy.savez_compressed`
 * (deflate) writes them, or as {@link encodeNpz} does, zip64 included. Returns each array in C
 * (row-major) order, keyed by its entry name without `.npy`; see {@link decodeNpzEntries} for what
 * is checked and which dtypes are read. The file is read with positioned reads, its central
 * directory first and then one entry at a time, so memory holds the arrays and one entry being
 * read, never the whole file (files over 2 GiB are read; one array may hold up to the largest
 * typed array of the Node.js version, 4 GiB on Node 20).
 * @throws CinderArgumentError naming the file (and entry) for an unreadable, damaged or unsupported file
 */
export function readNpz(path: string): NpzArrays {
  const out: NpzArrays = {};
  for (const [name, e] of Object.entries(readNpzEntries(path))) setOwn(out, name, e.data);
  return out;
}

/**
 * As {@link readNpz}, with each array's shape: `{ name: { data, shape } }`.
 * @throws CinderArgumentError naming the file (and entry) for an unreadable, damaged or unsupported file
 */
export function readNpzEntries(path: string): Record<string, NpyEntry> {
  return withFile(path, 'npz', (src) => decodeZip(src, path));
}

/**
 * Decodes the bytes of an npz archive into its arrays (C order, keyed by entry name without
 * `.npy`); `where` names the source in errors. See {@link decodeNpzEntries}.
 * @throws CinderArgumentError for a damaged, truncated or unsupported archive
 */
export function decodeNpz(bytes: Uint8Array, where = 'npz'): NpzArrays {
  const out: NpzArrays = {};
  for (const [name, e] of Object.entries(decodeNpzEntries(bytes, where))) setOwn(out, name, e.data);
  return out;
}

/**
 * Decodes the bytes of an npz archive into arrays with their shapes, keyed by entry name without
 * `.npy`. The zip is read through its end record and central directory, as `zipfile` does: every
 * listed entry must be present with a matching local header, stored or deflate-compressed, and its
 * CRC-32 must match; each entry must be a `.npy` array (see {@link decodeNpy}). An archive without
 * entries is refused. Nothing is returned unless every entry passes.
 *
 * Zip64 archives are read (numpy writes them for arrays or archives of 2 GiB or more, or more than
 * 65534 entries): the zip64 end record found through its locator right before the end record gives
 * the entry count, directory size and offset (the 16- and 32-bit fields of the end record must be
 * the 0xFFFF…/0xFFFFFFFF markers or the same values); an entry's sizes and offset marked
 * 0xFFFFFFFF come from its zip64 extra field (central directory), and a local header's zip64 sizes,
 * when given, must match them. Values are 64-bit; any above 2^53 − 1 is refused.
 * @throws CinderArgumentError naming `where` (and the entry) for anything damaged or unsupported
 */
export function decodeNpzEntries(bytes: Uint8Array, where = 'npz'): Record<string, NpyEntry> {
  if (!(bytes instanceof Uint8Array)) throw new CinderArgumentError('npz bytes', bytes, 'a Uint8Array');
  return decodeZip(memorySource(bytes), where);
}

function dataView(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The zip reader behind {@link decodeNpzEntries} and {@link readNpzEntries}. */
function decodeZip(src: ByteSource, where: string): Record<string, NpyEntry> {
  const file = (value: unknown, expected: string): CinderArgumentError => new CinderArgumentError(`npz file ${where}`, value, expected);
  /** A 64-bit field as a number, refused above 2^53 − 1. */
  const u64 = (v: DataView, p: number, what: () => string): number => {
    const x = v.getBigUint64(p, true);
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw file(`${what()} ${x}`, 'a value below 2^53 (the file is damaged)');
    return Number(x);
  };
  const n = src.size;
  if (n < 22) throw file(`${n} bytes`, 'a zip archive (numpy.savez output; the file is empty or truncated)');
  // the end record: the last 22 bytes, or earlier when a comment follows it (as zipfile searches);
  // the tail read also holds the 20 bytes of a zip64 locator before the farthest possible end record
  const tailStart = Math.max(0, n - 22 - 0xffff - 20);
  const tail = src.read(tailStart, n - tailStart);
  const tv = dataView(tail);
  let end = -1;
  for (let p = n - 22; p >= Math.max(0, n - 22 - 0xffff); p--) {
    const t = p - tailStart;
    if (tv.getUint32(t, true) === ZIP_END && p + 22 + tv.getUint16(t + 20, true) === n) {
      end = p;
      break;
    }
  }
  if (end < 0) throw file(`${n} bytes without a zip end record`, 'a zip archive (numpy.savez output; the file is truncated or not a zip)');
  const e = end - tailStart;
  let entries = tv.getUint16(e + 10, true);
  let cdSize = tv.getUint32(e + 12, true);
  let cdStart = tv.getUint32(e + 16, true);
  const multiDisk = (): CinderArgumentError => file('a multi-disk archive', 'a single-file zip archive');
  /** Where the central directory must end: at the end record, or at the zip64 end record. */
  let dirEnd = end;
  const zip64 = e >= 20 && tv.getUint32(e - 20, true) === ZIP64_LOCATOR;
  if (zip64) {
    const locator = end - 20;
    if (tv.getUint32(e - 16, true) !== 0 || tv.getUint32(e - 4, true) > 1) throw multiDisk();
    const z = u64(tv, e - 12, () => 'a zip64 end record offset of');
    if (z + 56 > locator) {
      throw file(`a zip64 locator pointing at byte ${z}`, `a zip64 end record of at least 56 bytes before the locator at byte ${locator} (the file is truncated or damaged)`);
    }
    const rv = dataView(src.read(z, 56));
    if (rv.getUint32(0, true) !== ZIP64_END) throw file(`no zip64 end record at byte ${z} (signature ${hex8(rv.getUint32(0, true))})`, 'the zip64 end record its locator points at (the file is damaged)');
    const recordEnd = z + 12 + u64(rv, 4, () => 'a zip64 end record length of');
    if (recordEnd !== locator) throw file(`a zip64 end record at byte ${z} ending at byte ${recordEnd}`, `a zip64 end record ending where its locator starts, at byte ${locator} (the file is damaged)`);
    if (rv.getUint32(16, true) !== 0 || rv.getUint32(20, true) !== 0) throw multiDisk();
    const onDisk = u64(rv, 24, () => 'a zip64 entry count of');
    const count = u64(rv, 32, () => 'a zip64 entry count of');
    const size = u64(rv, 40, () => 'a zip64 central directory size of');
    const start = u64(rv, 48, () => 'a zip64 central directory offset of');
    if (onDisk !== count) throw multiDisk();
    // the end record's own fields: each the zip64 marker, or the same value (as zipfile writes them)
    if ((entries !== 0xffff && entries !== count) || (cdSize !== 0xffffffff && cdSize !== size) || (cdStart !== 0xffffffff && cdStart !== start)) {
      throw file(`an end record of ${entries} entries and a directory of ${cdSize} bytes at ${cdStart} against a zip64 end record of ${count}, ${size} and ${start}`, 'end records that agree (the file is damaged)');
    }
    entries = count;
    cdSize = size;
    cdStart = start;
    dirEnd = z;
  } else {
    if (tv.getUint16(e + 4, true) !== 0 || tv.getUint16(e + 6, true) !== 0 || tv.getUint16(e + 8, true) !== entries) throw multiDisk();
    if (cdSize === 0xffffffff || cdStart === 0xffffffff) {
      throw file('an end record with zip64 markers (0xFFFFFFFF) and no zip64 locator before it', 'a zip64 end record locator right before the end record (the file is truncated or damaged)');
    }
  }
  if (cdStart + cdSize !== dirEnd) {
    throw file(
      `a central directory at ${cdStart} of ${cdSize} bytes before ${zip64 ? 'a zip64' : 'an'} end record at ${dirEnd}`,
      `a central directory that ends where the ${zip64 ? 'zip64 ' : ''}end record starts (the file is truncated or damaged)`,
    );
  }
  if (entries === 0) throw file('an archive without entries', 'an npz archive holding at least one array');
  const cd = src.read(cdStart, cdSize);
  const view = dataView(cd);
  const u16 = (p: number): number => view.getUint16(p, true);
  const u32 = (p: number): number => view.getUint32(p, true);
  const utf8 = new TextDecoder();
  const out: Record<string, NpyEntry> = {};
  let q = 0; // offset in the central directory
  for (let k = 0; k < entries; k++) {
    if (q + 46 > cdSize || u32(q) !== ZIP_CENTRAL) throw file(`central directory entry ${k + 1} of ${entries} missing at byte ${cdStart + q}`, 'every entry the end record counts (the file is damaged)');
    const flags = u16(q + 8);
    const method = u16(q + 10);
    const crc = u32(q + 16);
    let csize = u32(q + 20);
    let usize = u32(q + 24);
    const nameLen = u16(q + 28);
    const extraLen = u16(q + 30);
    const commentLen = u16(q + 32);
    let local = u32(q + 42);
    const next = q + 46 + nameLen + extraLen + commentLen;
    if (next > cdSize) throw file(`central directory entry ${k + 1} running past the directory`, 'a well-formed central directory (the file is damaged)');
    const nameBytes = cd.subarray(q + 46, q + 46 + nameLen);
    const name = utf8.decode(nameBytes);
    const entry = (value: unknown, expected: string): CinderArgumentError => new CinderArgumentError(`${where} entry ${name}`, value, expected);
    // zip64 extra field: the full values of the fields marked 0xFFFFFFFF, in this order
    const wide = [usize === 0xffffffff, csize === 0xffffffff, local === 0xffffffff];
    if (wide.some(Boolean)) {
      const field = findExtra(cd.subarray(q + 46 + nameLen, q + 46 + nameLen + extraLen), ZIP64_EXTRA);
      const need = 8 * wide.filter(Boolean).length;
      if (field === null || field.length < need) {
        throw entry(field === null ? 'sizes or offset marked 0xFFFFFFFF without a zip64 extra field' : `a zip64 extra field of ${field.length} bytes`, `a zip64 extra field holding ${need} bytes of 64-bit values (the file is damaged)`);
      }
      const fv = dataView(field);
      let y = 0;
      const next64 = (what: string): number => u64(fv, (y += 8) - 8, () => `entry ${name}: a zip64 ${what} of`);
      if (wide[0]) usize = next64('size');
      if (wide[1]) csize = next64('compressed size');
      if (wide[2]) local = next64('offset');
    }
    if (flags & 1) throw entry('an encrypted entry', 'an unencrypted entry');
    if (method !== 0 && method !== 8) throw entry(`compression method ${method}`, 'a stored or deflate-compressed entry (as numpy.savez and numpy.savez_compressed write)');
    const key = name.replace(/\.npy$/, '');
    if (Object.hasOwn(out, key)) throw entry('a second entry of this name', 'each array name once');
    // the local header must agree with the central directory
    if (local + 30 > cdStart) throw entry(`no local header at byte ${local}`, 'the entry the central directory lists (the file is truncated or damaged)');
    const fixed = src.read(local, 30);
    const lv = dataView(fixed);
    if (lv.getUint32(0, true) !== ZIP_LOCAL) throw entry(`no local header at byte ${local}`, 'the entry the central directory lists (the file is truncated or damaged)');
    const lflags = lv.getUint16(6, true);
    const lNameLen = lv.getUint16(26, true);
    const lExtraLen = lv.getUint16(28, true);
    const varLen = Math.min(lNameLen + lExtraLen, cdStart - local - 30);
    // name, extra field and (for an entry of up to 1 MiB read from a file) its data in one read
    const whole = src.fresh && csize <= SMALL_ENTRY && local + 30 + varLen + csize <= cdStart;
    const lVar = src.read(local + 30, whole ? varLen + csize : varLen);
    const lName = lVar.subarray(0, lNameLen);
    if (local + 30 + lNameLen > cdStart || lName.length !== nameBytes.length || lName.some((b, i) => b !== nameBytes[i])) {
      throw entry(`a local header named ${JSON.stringify(utf8.decode(lName))}`, 'a local header of the same name (the file is damaged)');
    }
    if (lv.getUint16(8, true) !== method) throw entry(`local compression method ${lv.getUint16(8, true)}`, `${method} as in the central directory (the file is damaged)`);
    if (!(lflags & 8)) {
      const lcrc = lv.getUint32(14, true);
      let lcs = lv.getUint32(18, true);
      let lus = lv.getUint32(22, true);
      // zip64 sizes of a local header (zipfile writes them for every numpy.savez entry)
      const field = lus === 0xffffffff || lcs === 0xffffffff ? findExtra(lVar.subarray(lNameLen, lNameLen + lExtraLen), ZIP64_EXTRA) : null;
      if (field !== null) {
        const fv = dataView(field);
        let y = 0;
        if (lus === 0xffffffff && y + 8 <= field.length) lus = u64(fv, (y += 8) - 8, () => `entry ${name}: a local zip64 size of`);
        if (lcs === 0xffffffff && y + 8 <= field.length) lcs = u64(fv, (y += 8) - 8, () => `entry ${name}: a local zip64 compressed size of`);
      }
      if (lcrc !== crc || (lcs !== 0xffffffff && lcs !== csize) || (lus !== 0xffffffff && lus !== usize)) {
        throw entry(`local header CRC-32 ${hex8(lcrc)} and sizes ${lcs}/${lus}`, `CRC-32 ${hex8(crc)} and sizes ${csize}/${usize} as in the central directory (the file is damaged)`);
      }
    }
    const start = local + 30 + lNameLen + lExtraLen;
    if (start + csize > cdStart) throw entry(`${csize} bytes of data from byte ${start}`, `data that ends before the central directory at byte ${cdStart} (the file is truncated or damaged)`);
    // a stored entry read from a file is read as header and data apart: only its data must fit one
    // array (an array of exactly 4 GiB, e.g. float32 [32768, 32768], is a .npy file of 4 GiB + its header)
    const apart = method === 0 && src.fresh && !whole;
    if (!apart && (usize > kMaxLength || csize > kMaxLength)) throw entry(`an entry of ${Math.max(usize, csize)} bytes`, `at most ${kMaxLength} bytes per array (the largest array of this Node.js)`);
    const at = `${where} entry ${name}`;
    if (method === 0) {
      if (csize !== usize) throw entry(`a stored entry of ${csize} bytes listed as ${usize}`, 'equal stored and listed sizes (the file is damaged)');
      if (apart) {
        // from a file: the .npy preamble and header, then the data into memory of its own
        const head = src.read(start, npyHeadLength(src.read(start, Math.min(csize, 12)), csize));
        if (csize - head.length > kMaxLength) throw entry(`an array of ${csize - head.length} bytes`, `at most ${kMaxLength} bytes per array (the largest array of this Node.js)`);
        const body = src.read(start + head.length, csize - head.length);
        const sum = crc32(body, crc32(head));
        if (sum !== crc) throw entry(`CRC-32 ${hex8(sum)}`, `CRC-32 ${hex8(crc)} as listed in the archive (the entry is damaged)`);
        setOwn(out, key, npyFromRaw(body, npyLayout(head, csize, at), at));
        q = next;
        continue;
      }
      const content = whole ? lVar.subarray(varLen) : src.read(start, csize);
      const sum = crc32(content);
      if (sum !== crc) throw entry(`CRC-32 ${hex8(sum)}`, `CRC-32 ${hex8(crc)} as listed in the archive (the entry is damaged)`);
      setOwn(out, key, decodeNpy(content, at));
    } else {
      let content: Uint8Array;
      try {
        // at most one byte more than listed: a longer stream is refused without inflating it all
        content = inflateRawSync(whole ? lVar.subarray(varLen) : src.read(start, csize), { maxOutputLength: Math.min(kMaxLength, usize + 1) });
      } catch (err) {
        throw entry('a deflate stream that does not decompress', `a valid deflate stream (${(err as Error).message}; the file is damaged)`);
      }
      if (content.length !== usize) throw entry(`${content.length} bytes after decompression`, `${usize} bytes as listed (the file is damaged)`);
      const sum = crc32(content);
      if (sum !== crc) throw entry(`CRC-32 ${hex8(sum)}`, `CRC-32 ${hex8(crc)} as listed in the archive (the entry is damaged)`);
      setOwn(out, key, decodeNpy(content, at));
    }
    q = next;
  }
  if (q !== cdSize) throw file(`${cdSize - q} bytes after the last central directory entry`, 'a central directory of exactly the listed entries (the file is damaged)');
  return out;
}

/** The data of the first extra field with header id `id` in `extra`, or null. */
function findExtra(extra: Uint8Array, id: number): Uint8Array | null {
  const v = dataView(extra);
  for (let x = 0; x + 4 <= extra.length; ) {
    const len = v.getUint16(x + 2, true);
    if (v.getUint16(x, true) === id) return extra.subarray(x + 4, Math.min(extra.length, x + 4 + len));
    x += 4 + len;
  }
  return null;
}

/**
 * Length of the preamble and header of a `.npy` file of `total` bytes starting with `first` (its
 * first 12 bytes or fewer), or `first.length` when they are not a `.npy` preamble (refused then by
 * {@link npyLayout}).
 */
function npyHeadLength(first: Uint8Array, total: number): number {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (first.length < 10 || magic.some((m, i) => first[i] !== m)) return first.length;
  const major = first[6]!;
  if (major === 1) return Math.min(total, 10 + (first[8]! | (first[9]! << 8)));
  if ((major === 2 || major === 3) && first.length >= 12) return Math.min(total, 12 + dataView(first).getUint32(8, true));
  return first.length;
}

/**
 * Reads a `.npy` file (format 1.0, 2.0 or 3.0), checked and converted as {@link decodeNpy} does:
 * C-order data and its shape. The header is read first and then the data, straight into the
 * memory of the returned array (files over 2 GiB are read; one array is limited to the largest
 * typed array of the Node.js version, 4 GiB on Node 20).
 * @throws CinderArgumentError naming the file for an unreadable, damaged or unsupported file
 */
export function readNpy(path: string): NpyEntry {
  return withFile(path, 'npy', (src) => {
    const head = src.read(0, npyHeadLength(src.read(0, Math.min(src.size, 12)), src.size));
    const layout = npyLayout(head, src.size, path);
    return npyFromRaw(src.read(head.length, src.size - head.length), layout, path);
  });
}

/**
 * Sets `obj[key] = value` as an own, enumerable data property, for any key: a plain assignment
 * would call the `__proto__` setter (replacing the prototype instead of adding an entry).
 */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function hex8(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Python literal of a `.npy` header: dict, tuple, list, str, int, True/False/None. */
class PyList {
  constructor(readonly items: unknown[]) {}
}

function parsePyLiteral(text: string): unknown {
  let i = 0;
  const fail = (): never => {
    throw new SyntaxError(`unexpected ${i < text.length ? JSON.stringify(text[i]) : 'end'} at ${i}`);
  };
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const seq = (close: string, depth: number): unknown[] => {
    const items: unknown[] = [];
    for (;;) {
      ws();
      if (text[i] === close) {
        i++;
        return items;
      }
      items.push(value(depth));
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== close) fail();
    }
  };
  const value = (depth: number): unknown => {
    if (depth > 16) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return o;
        }
        const k = value(depth + 1);
        if (typeof k !== 'string' || k in o) fail();
        ws();
        if (text[i++] !== ':') fail();
        o[k as string] = value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail();
      }
    }
    if (c === '(') {
      i++;
      return seq(')', depth + 1);
    }
    if (c === '[') {
      i++;
      return new PyList(seq(']', depth + 1));
    }
    if (c === "'" || c === '"') {
      let s = '';
      for (i++; i < text.length && text[i] !== c; i++) {
        if (text[i] === '\\') i++;
        s += text[i] ?? '';
      }
      if (text[i] !== c) fail();
      i++;
      return s;
    }
    const m = /^(?:True|False|None|-?\d+L?)/.exec(text.slice(i, i + 32));
    if (!m) return fail();
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace(/L$/, ''));
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail();
  return v;
}

const NPY_KINDS: Record<string, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };

/** The dtypes {@link decodeNpy} reads, as the refusal of any other names them. */
const NPY_READ = "one of '<f2', '<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1' (or big-endian '>…'; structured dtypes are not read)";

/**
 * Float32 bit pattern of the IEEE 754 binary16 value with bits `h` (sign 1, exponent 5 biased by
 * 15, fraction 10). Every half is exactly a float32: a normal half (1 ≤ e ≤ 30) is
 * (−1)^s · 2^(e−15) · (1 + f/1024), re-biased to 127; a subnormal (e = 0, f ≠ 0) is
 * (−1)^s · f · 2^−24, which is normal in float32 (its leading bit becomes the implicit one);
 * ±0 and ±inf keep their sign; a NaN keeps its sign and its 10 payload bits as the top fraction
 * bits (quiet stays quiet), as NumPy's `astype(np.float32)` does.
 */
export function halfToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  let f = h & 0x3ff;
  if (e === 0x1f) return (sign | 0x7f800000 | (f << 13)) >>> 0; // inf, NaN
  if (e !== 0) return (sign | ((e + 112) << 23) | (f << 13)) >>> 0; // normal: 127 − 15 = 112
  if (f === 0) return sign >>> 0; // ±0
  // subnormal f · 2^−24: shift the fraction up until its leading one reaches the implicit-bit
  // place (bit 10); each shift lowers the exponent of 2^−14 · (f/1024) by one
  let exp = 113; // float32 biased exponent of 2^−14 (−14 + 127)
  while ((f & 0x400) === 0) {
    f <<= 1;
    exp--;
  }
  return (sign | (exp << 23) | ((f & 0x3ff) << 13)) >>> 0;
}

/**
 * Decodes one `.npy` array (format version 1.0, 2.0 or 3.0) into C-order data and its shape; `where`
 * names the source in errors. The magic, version and header (`descr`, `fortran_order`, `shape`)
 * are checked, and the data must hold exactly `prod(shape)` items. Dtypes read (each multi-byte one
 * little- or big-endian):
 * - `f4` → Float32Array and `f8` → Float64Array, bit for bit (NaN payloads included);
 * - `f2` (IEEE half) → Float32Array, exactly (every half is a float32: subnormals down to
 *   2^−24, ±0, ±inf, NaN with its payload; see {@link halfToFloat32Bits});
 * - `i1`, `i2`, `u2` and `i4` → Int32Array (every value fits);
 * - `u4`, `i8` (NumPy's default integer) and `u8` → Int32Array when every value lies in
 *   [−2^31, 2^31 − 1], refused otherwise (naming the first value outside and its index);
 * - `u1` → Uint8Array and `b1` (bool) → Uint8Array of 0/1.
 *
 * Fortran-order arrays are transposed to C order.
 * @throws CinderArgumentError naming `where` for anything damaged or unsupported
 */
export function decodeNpy(bytes: Uint8Array, where = 'npy'): NpyEntry {
  const layout = npyLayout(bytes, bytes.length, where);
  // a copy with its own buffer (no trip through JS numbers: NaN payloads stay as they are)
  const raw = new Uint8Array(bytes.length - layout.dataStart);
  raw.set(bytes.subarray(layout.dataStart));
  return npyFromRaw(raw, layout, where);
}

/** What a `.npy` header says: where the data starts, its dtype, byte order, order and shape. */
interface NpyLayout {
  /** Byte offset of the data (preamble and header length). */
  dataStart: number;
  /** The dtype code without byte order (`f4`, `i8`, …). */
  kind: string;
  /** Bytes per item. */
  size: number;
  /** Whether multi-byte items are little-endian. */
  fileLE: boolean;
  /** Whether the data is in Fortran (column-major) order. */
  fortran: boolean;
  /** Shape. */
  dims: number[];
  /** Number of items, prod(dims). */
  count: number;
}

/**
 * Checks the preamble and header of a `.npy` file of `total` bytes whose first bytes are `head`
 * (at least the preamble and header, or the whole file), and that the data holds exactly
 * prod(shape) items.
 */
function npyLayout(head: Uint8Array, total: number, where: string): NpyLayout {
  const bad = (value: unknown, expected: string): CinderArgumentError => new CinderArgumentError(where, value, expected);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (total < 10 || head.length < 10 || magic.some((m, i) => head[i] !== m)) {
    throw bad(`${total} bytes starting ${JSON.stringify(Buffer.from(head.subarray(0, 6)).toString('latin1'))}`, 'a .npy array (starting \\x93NUMPY)');
  }
  const major = head[6]!;
  const minor = head[7]!;
  if (major < 1 || major > 3 || minor !== 0) throw new CinderArgumentError(`.npy format version of ${where}`, `${major}.${minor}`, '1.0, 2.0 or 3.0');
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  if (total < headerStart || head.length < headerStart) throw bad(`${total} bytes`, 'a complete .npy preamble (the array is truncated)');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLen;
  if (dataStart > total || dataStart > head.length) throw bad(`${total} bytes`, `a header of ${headerLen} bytes after the preamble (the array is truncated)`);
  const header = Buffer.from(head.subarray(headerStart, dataStart)).toString(major === 3 ? 'utf8' : 'latin1');
  let dict: unknown;
  try {
    dict = parsePyLiteral(header.trim());
  } catch {
    dict = undefined;
  }
  const d = dict as { descr?: unknown; fortran_order?: unknown; shape?: unknown } | undefined;
  const keys = d !== null && typeof d === 'object' && !Array.isArray(d) && !(d instanceof PyList) ? Object.keys(d).sort().join(',') : '';
  if (keys !== 'descr,fortran_order,shape') throw new CinderArgumentError(`header of ${where}`, header.trim().slice(0, 80), "a .npy header dict of 'descr', 'fortran_order' and 'shape' (the array is damaged)");
  const shape = d!.shape;
  if (!Array.isArray(shape) || shape.some((x) => !Number.isSafeInteger(x) || (x as number) < 0)) throw new CinderArgumentError(`shape of ${where}`, shape instanceof PyList ? shape.items : shape, 'a tuple of non-negative integers');
  if (typeof d!.fortran_order !== 'boolean') throw new CinderArgumentError(`fortran_order of ${where}`, d!.fortran_order, 'True or False');
  const descr = d!.descr;
  const dm = typeof descr === 'string' ? /^([<>|=])([a-z]\d+)$/.exec(descr) : null;
  const size = dm ? NPY_KINDS[dm[2]!] : undefined;
  if (!dm || size === undefined || (size > 1 && dm[1] === '|')) {
    throw new CinderArgumentError(`dtype of ${where}`, descr instanceof PyList ? descr.items : descr, NPY_READ);
  }
  const dims = shape as number[];
  const count = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * size)) throw bad(`shape [${dims.join(', ')}]`, 'an array that fits in memory');
  const have = total - dataStart;
  if (have !== count * size) throw bad(`${have} data bytes`, `${count * size} bytes for shape [${dims.join(', ')}] of ${descr as string} (the array is truncated or damaged)`);
  const fileLE = dm[1] === '<' || (dm[1] === '=' && LITTLE_ENDIAN_HOST);
  return { dataStart, kind: dm[2]!, size, fileLE, fortran: d!.fortran_order, dims, count };
}

/**
 * The array of the data bytes `raw` laid out as `layout` says. `raw` is taken over (byte-swapped
 * in place, viewed by the result): it must be memory of its own starting at a multiple of the
 * item size.
 */
function npyFromRaw(raw: Uint8Array, layout: NpyLayout, where: string): NpyEntry {
  const bad = (value: unknown, expected: string): CinderArgumentError => new CinderArgumentError(where, value, expected);
  const { size, dims, count } = layout;
  if (size > 1 && layout.fileLE !== LITTLE_ENDIAN_HOST) {
    for (let p = 0; p < raw.length; p += size) raw.subarray(p, p + size).reverse();
  }
  if (layout.fortran && dims.length > 1 && count > 0) raw = fortranToC(raw, dims, size);
  const buf = raw.buffer;
  const at = raw.byteOffset;
  let data: NpyArray;
  switch (layout.kind) {
    case 'f4':
      data = new Float32Array(buf, at, count);
      break;
    case 'f8':
      data = new Float64Array(buf, at, count);
      break;
    case 'i4':
      data = new Int32Array(buf, at, count);
      break;
    case 'f2': {
      const half = new Uint16Array(buf, at, count);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = halfToFloat32Bits(half[i]!);
      data = new Float32Array(bits.buffer); // the bits as they are (no trip through JS numbers)
      break;
    }
    case 'i1':
      data = Int32Array.from(new Int8Array(buf, at, count));
      break;
    case 'i2':
      data = Int32Array.from(new Int16Array(buf, at, count));
      break;
    case 'u2':
      data = Int32Array.from(new Uint16Array(buf, at, count));
      break;
    case 'u4':
      data = toInt32(new Uint32Array(buf, at, count), 'uint32', bad);
      break;
    case 'i8':
      data = toInt32(new BigInt64Array(buf, at, count), 'int64', bad);
      break;
    case 'u8':
      data = toInt32(new BigUint64Array(buf, at, count), 'uint64', bad);
      break;
    case 'b1':
      data = raw.map((b) => (b ? 1 : 0));
      break;
    default:
      data = raw;
  }
  return { data, shape: dims };
}

/**
 * `wide` as Int32Array when every value lies in the int32 range [−2^31, 2^31 − 1]; otherwise the
 * first value outside is refused with its index (`kind` is its NumPy type name).
 */
function toInt32(wide: Uint32Array | BigInt64Array | BigUint64Array, kind: string, bad: (value: unknown, expected: string) => CinderArgumentError): Int32Array {
  const narrow = new Int32Array(wide.length);
  for (let i = 0; i < wide.length; i++) {
    const v = wide[i]!;
    if (v < -2147483648 || v > 2147483647) throw bad(`${kind} value ${v} at index ${i}`, `${kind} values within the int32 range (read as Int32Array; save with .astype(np.int32) or as float)`);
    narrow[i] = Number(v);
  }
  return narrow;
}

/** Reorders items of `size` bytes from Fortran (column-major) to C (row-major) order. */
function fortranToC(src: Uint8Array, dims: readonly number[], size: number): Uint8Array {
  const k = dims.length;
  const strides = new Array<number>(k);
  for (let j = 0, s = 1; j < k; j++) {
    strides[j] = s;
    s *= dims[j]!;
  }
  const out = new Uint8Array(src.length);
  const idx = new Array<number>(k).fill(0);
  let f = 0;
  for (let c = 0; c < src.length; c += size) {
    for (let b = 0; b < size; b++) out[c + b] = src[f * size + b]!;
    for (let j = k - 1; j >= 0; j--) {
      idx[j]!++;
      f += strides[j]!;
      if (idx[j]! < dims[j]!) break;
      f -= strides[j]! * dims[j]!;
      idx[j] = 0;
    }
  }
  return out;
}

/**
 * Writes several named arrays to the `.npz` file `path` (the bytes {@link encodeNpz} gives, same
 * options), entry by entry: each local header, `.npy` header and data (a view of the array's
 * memory on a little-endian host, written in pieces of at most 1 GiB), then the central directory
 * and end records — zip64 records wherever a size, offset or count needs them, so archives and
 * entries of 4 GiB or more are written (one array given whole or lazily is limited to
 * `buffer.kMaxLength` bytes, 4 GiB on Node 20, which {@link readNpz} reads back; one read in
 * pieces is not).
 *
 * An entry may be lazy ({@link NpyLazyEntry}: dtype, shape and a function producing the data):
 * its function is called when the entry is written, once every entry before it is in the file,
 * and its array dropped once written, so an archive of lazy entries holds about one array in
 * memory at a time, not all of them. The bytes are those of the same arrays given eagerly: the
 * CRC-32 of a lazy entry is computed from its data before its local header is written. A
 * produced array of another type or length than declared, or a function that throws, fails the
 * write (as a write error does).
 *
 * An entry may also be read in pieces ({@link NpyPiecesEntry}: dtype, shape and a function
 * yielding the data in pieces), for an array too large to hold: its pieces are read twice, once
 * for the CRC-32 of the local header, then again to be written, one piece in memory at a time
 * (plus its little-endian copy on a big-endian host), so the memory used is bounded by the
 * largest piece, and the array's size is not limited by `buffer.kMaxLength`. The bytes are again
 * those of the same array given whole. A piece of another type, pieces of another total length,
 * a second pass whose CRC-32 differs from the first's (pieces() yielded other bytes), or a throw
 * fails the write.
 *
 * Atomic (see `atomic.ts`): a temporary file next to `path`, fsynced, renamed over it; on failure
 * the temporary file is removed and `path` left as it was. `options.commit` (see
 * {@link NpzWriteOptions.commit}) is asked right before the rename, then the write guards of `path`
 * (`registerWriteGuard`, see `atomic.ts`; also asked before the temporary file is created): one
 * that throws removes the temporary file and rejects with its error.
 * @throws CinderArgumentError, before anything is created, for a bad path, name, shape, dtype or
 * option, or an array of more than `buffer.kMaxLength` bytes (lazy ones included: their size is
 * known from dtype and shape); CinderArgumentError naming the array, after the temporary file was
 * removed, for a lazy entry whose function returned another array than declared, or a pieces
 * entry whose pieces are not of the declared dtype and length or differ between the two passes
 */
export async function writeNpz(path: string, arrays: Record<string, NpzEntry>, options: Date | NpzWriteOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new CinderArgumentError('path', path, 'a file path');
  const plan = planNpz(arrays, options, NPZ_WRITE_OPTION_KEYS, true);
  const commit = options instanceof Date ? undefined : options.commit;
  // begun with the guards that follow writes (a run folder waits for it at its end) until it has ended
  const guard = startGuardedWrite(path);
  try {
    await writeNpzFile(path, plan, commit, guard);
  } finally {
    guard.end();
  }
}

/** The body of {@link writeNpz}: `plan` written to a temporary file, renamed to `path`. */
async function writeNpzFile(path: string, plan: ReturnType<typeof planNpz>, commit: (() => boolean) | undefined, guard: GuardedWrite): Promise<void> {
  const out = await AtomicFileWriter.open(path, guard);
  try {
    for (const f of plan.files) {
      if (f.pieces) {
        f.crc = await piecesPass(f.pieces, f.header, null);
        await out.write(npzLocalHeader(f, plan));
        await out.write(f.header);
        const again = await piecesPass(f.pieces, f.header, (bytes) => out.write(bytes));
        if (again !== f.crc) throw new CinderArgumentError(`pieces of ${f.pieces.label}`, `a second pass with CRC-32 ${hex8(again)}`, `the bytes of the first pass (CRC-32 ${hex8(f.crc)}): pieces() must yield the same data each time it is called`);
        continue;
      }
      let data = f.data;
      if (f.lazy) {
        data = littleEndianBytes(await producedArray(f.lazy));
        f.crc = crc32Chunked(data, crc32(f.header));
      }
      await out.write(npzLocalHeader(f, plan));
      await out.write(f.header);
      await out.write(data!);
      data = undefined; // (a lazy entry's array is not held past its entry)
    }
    await out.write(npzDirectory(plan));
    if (out.bytesWritten !== plan.total) throw new Error(`internal: ${out.bytesWritten} npz bytes written, ${plan.total} planned`);
  } catch (err) {
    await out.abort();
    throw err;
  }
  await out.commit(path, true, commit);
}

/**
 * One pass over a pieces entry (see {@link NpyPiecesEntry}): each piece checked (type, running
 * item count never past the declared one) before its little-endian bytes go to the CRC-32 (which
 * starts from the `.npy` header's) and to `write` where given; returns the CRC-32 of header and data.
 */
async function piecesPass(pieces: NonNullable<NpzPlanEntry['pieces']>, header: Uint8Array, write: ((bytes: Uint8Array) => Promise<unknown>) | null): Promise<number> {
  const Ctor = NPY_DTYPE_ARRAYS[pieces.dtype];
  const iterable = pieces.produce();
  if (iterable === null || typeof iterable !== 'object' || (typeof (iterable as AsyncIterable<NpyArray>)[Symbol.asyncIterator] !== 'function' && typeof (iterable as Iterable<NpyArray>)[Symbol.iterator] !== 'function')) {
    throw new CinderArgumentError(`pieces of ${pieces.label}`, iterable, 'an iterable or async iterable of arrays');
  }
  let crc = crc32(header);
  let items = 0;
  for await (const piece of iterable) {
    if (!(piece instanceof Ctor)) throw new CinderArgumentError(`a piece of ${pieces.label}`, piece, `a ${Ctor.name} (its declared dtype ${pieces.dtype})`);
    if (items + piece.length > pieces.count) throw new CinderArgumentError(`pieces of ${pieces.label}`, `at least ${items + piece.length} items`, `${pieces.count} items (the product of its shape)`);
    items += piece.length;
    const bytes = littleEndianBytes(piece);
    crc = crc32Chunked(bytes, crc);
    if (write) await write(bytes);
  }
  if (items !== pieces.count) throw new CinderArgumentError(`pieces of ${pieces.label}`, `${items} items`, `${pieces.count} items (the product of its shape)`);
  return crc;
}

/** The array a lazy entry's function produces, checked against its declared dtype and item count. */
async function producedArray(lazy: NonNullable<NpzPlanEntry['lazy']>): Promise<NpyArray> {
  const a = await lazy.produce();
  const Ctor = NPY_DTYPE_ARRAYS[lazy.dtype];
  if (!(a instanceof Ctor)) throw new CinderArgumentError(`data of ${lazy.label}`, a, `a ${Ctor.name} (its declared dtype ${lazy.dtype})`);
  if (a.length !== lazy.count) throw new CinderArgumentError(`data of ${lazy.label}`, `${a.length} items`, `${lazy.count} items (the product of its shape)`);
  return a;
}
