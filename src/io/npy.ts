/**
 * NumPy file formats for Python users: `.npy` (one array, format version 1.0) and `.npz` (a zip
 * archive of `.npy` files, stored uncompressed), readable with `numpy.load`.
 * @module
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { CinderArgumentError, describe } from '../core/errors.js';

/** Typed arrays that can be written as `.npy`. */
export type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** One named array for {@link encodeNpz}. */
export interface NpyEntry {
  /** Row-major data. */
  data: NpyArray;
  /** Shape (row-major, C order); its product must equal `data.length`. `[]` is a scalar. */
  shape: readonly number[];
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

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

function littleEndianBytes(data: NpyArray): Uint8Array {
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
  const descr = npyDescr(data);
  checkShape(data, shape);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new CinderArgumentError('shape', shape, 'a shape whose .npy header fits in 65535 bytes');
  const body = littleEndianBytes(data);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY, version 1.0
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
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

/** CRC-32 (the zip/PNG polynomial 0xEDB88320) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
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

/**
 * Encodes several named arrays as a `.npz` archive (a zip of `<name>.npy` entries, stored without
 * compression, entry times fixed at 1980-01-01 00:00 unless `date` is given). Names must be non-empty and unique; `numpy.load(path)[name]` returns each array.
 * @throws CinderArgumentError for a bad name, a shape mismatch or an archive over 4 GiB (no zip64)
 */
export function encodeNpz(arrays: Record<string, NpyEntry>, date?: Date): Uint8Array {
  const names = Object.keys(arrays);
  // A fixed timestamp (1980-01-01 00:00, the zip epoch) unless one is given: identical arrays give
  // byte-identical archives, so identical runs give identical artifacts.
  const { time, date: day } = date ? dosDateTime(date) : { time: 0, date: (1 << 5) | 1 };
  const files: { name: Uint8Array; body: Uint8Array; crc: number; offset: number }[] = [];
  let offset = 0;
  for (const n of names) {
    if (n === '' || n.includes('/') || n.includes('\\')) throw new CinderArgumentError('array name', n, 'a non-empty name without slashes');
    const entry = arrays[n]!;
    const body = encodeNpy(entry.data, entry.shape);
    const name = Buffer.from(`${n}.npy`, 'utf8');
    files.push({ name, body, crc: crc32(body), offset });
    offset += 30 + name.length + body.length;
  }
  const cdSize = files.reduce((s, f) => s + 46 + f.name.length, 0);
  const total = offset + cdSize + 22;
  if (total > 0xffffffff || files.length > 0xffff) throw new CinderArgumentError('arrays', `${describe(names.length)} arrays, ${total} bytes`, 'at most 65535 arrays and 4 GiB');
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let p = 0;
  for (const f of files) {
    v.setUint32(p, 0x04034b50, true);
    v.setUint16(p + 4, 20, true); // version needed
    v.setUint16(p + 6, 0x0800, true); // UTF-8 names
    v.setUint16(p + 8, 0, true); // stored
    v.setUint16(p + 10, time, true);
    v.setUint16(p + 12, day, true);
    v.setUint32(p + 14, f.crc, true);
    v.setUint32(p + 18, f.body.length, true);
    v.setUint32(p + 22, f.body.length, true);
    v.setUint16(p + 26, f.name.length, true);
    v.setUint16(p + 28, 0, true);
    out.set(f.name, p + 30);
    out.set(f.body, p + 30 + f.name.length);
    p += 30 + f.name.length + f.body.length;
  }
  const cdStart = p;
  for (const f of files) {
    v.setUint32(p, 0x02014b50, true);
    v.setUint16(p + 4, 20, true); // made by
    v.setUint16(p + 6, 20, true); // needed
    v.setUint16(p + 8, 0x0800, true);
    v.setUint16(p + 10, 0, true);
    v.setUint16(p + 12, time, true);
    v.setUint16(p + 14, day, true);
    v.setUint32(p + 16, f.crc, true);
    v.setUint32(p + 20, f.body.length, true);
    v.setUint32(p + 24, f.body.length, true);
    v.setUint16(p + 28, f.name.length, true);
    // extra length, comment length, disk, internal attributes, external attributes: all 0
    v.setUint32(p + 42, f.offset, true);
    out.set(f.name, p + 46);
    p += 46 + f.name.length;
  }
  v.setUint32(p, 0x06054b50, true);
  v.setUint16(p + 8, files.length, true);
  v.setUint16(p + 10, files.length, true);
  v.setUint32(p + 12, p - cdStart, true);
  v.setUint32(p + 16, cdStart, true);
  return out;
}

/** Decoded arrays by name (without `.npy`). */
export type NpzArrays = Record<string, Float32Array | Float64Array | Int32Array | Uint8Array>;

/**
 * Reads an uncompressed npz file written by {@link encodeNpz} (stored entries of little-endian
 * `<f4`, `<f8`, `<i4` and `|u1` arrays).
 * @throws Error for anything but stored entries of the supported dtypes
 */
export function readNpz(path: string): NpzArrays {
  const buf = readFileSync(path);
  return decodeNpz(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

/**
 * Decodes the bytes of an uncompressed npz (as {@link encodeNpz} writes them); `where` names the
 * source in errors.
 * @throws Error for anything but stored entries of the supported dtypes
 */
export function decodeNpz(bytes: Uint8Array, where = 'npz'): NpzArrays {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NpzArrays = {};
  let p = 0;
  while (p + 30 <= bytes.length && view.getUint32(p, true) === 0x04034b50) {
    const method = view.getUint16(p + 8, true);
    const size = view.getUint32(p + 18, true);
    const nameLen = view.getUint16(p + 26, true);
    const extraLen = view.getUint16(p + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 30, p + 30 + nameLen));
    const start = p + 30 + nameLen + extraLen;
    if (method !== 0) throw new Error(`${where}: entry ${name} is compressed (only stored entries are read)`);
    out[name.replace(/\.npy$/, '')] = decodeNpy(bytes.subarray(start, start + size), `${where}:${name}`);
    p = start + size;
  }
  return out;
}

function decodeNpy(b: Uint8Array, where: string): Float32Array | Float64Array | Int32Array | Uint8Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const major = b[6]!;
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = (major === 1 ? 10 : 12) + headerLen;
  const header = new TextDecoder().decode(b.subarray(major === 1 ? 10 : 12, dataStart));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const data = b.slice(dataStart);
  switch (descr) {
    case '<f4': return new Float32Array(data.buffer, 0, data.byteLength / 4);
    case '<f8': return new Float64Array(data.buffer, 0, data.byteLength / 8);
    case '<i4': return new Int32Array(data.buffer, 0, data.byteLength / 4);
    case '|u1': return data;
    default: throw new Error(`${where}: unsupported dtype ${descr}`);
  }
}
