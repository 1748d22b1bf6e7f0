/**
 * NumPy file formats for Python users: `.npy` (one array, format version 1.0) and `.npz` (a zip
 * archive of `.npy` files, stored uncompressed), readable with `numpy.load`; and the checked
 * readers of both (`numpy.savez`/`savez_compressed` output included).
 * @module
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { inflateRawSync } from 'node:zlib';
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

const ZIP_LOCAL = 0x04034b50;
const ZIP_CENTRAL = 0x02014b50;
const ZIP_END = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;

/**
 * Reads an npz file: a zip of `.npy` entries as `numpy.savez` (stored) or `numpy.savez_compressed`
 * (deflate) writes them, or as {@link encodeNpz} does. Returns each array in C (row-major) order,
 * keyed by its entry name without `.npy`; see {@link decodeNpzEntries} for what is checked and
 * which dtypes are read.
 * @throws CinderArgumentError naming the file (and entry) for an unreadable, damaged or unsupported file
 */
export function readNpz(path: string): NpzArrays {
  if (typeof path !== 'string' || path === '') throw new CinderArgumentError('npz path', path, 'a file path');
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new CinderArgumentError('npz path', path, `a readable file (${(err as Error).message})`);
  }
  return decodeNpz(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
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
 * @throws CinderArgumentError naming `where` (and the entry) for anything damaged or unsupported
 */
export function decodeNpzEntries(bytes: Uint8Array, where = 'npz'): Record<string, NpyEntry> {
  if (!(bytes instanceof Uint8Array)) throw new CinderArgumentError('npz bytes', bytes, 'a Uint8Array');
  const file = (value: unknown, expected: string): CinderArgumentError => new CinderArgumentError(`npz file ${where}`, value, expected);
  const n = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (p: number): number => view.getUint16(p, true);
  const u32 = (p: number): number => view.getUint32(p, true);
  if (n < 22) throw file(`${n} bytes`, 'a zip archive (numpy.savez output; the file is empty or truncated)');
  // the end record: the last 22 bytes, or earlier when a comment follows it (as zipfile searches)
  let end = -1;
  for (let p = n - 22; p >= Math.max(0, n - 22 - 0xffff); p--) {
    if (u32(p) === ZIP_END && p + 22 + u16(p + 20) === n) {
      end = p;
      break;
    }
  }
  if (end < 0) throw file(`${n} bytes without a zip end record`, 'a zip archive (numpy.savez output; the file is truncated or not a zip)');
  if (end >= 20 && u32(end - 20) === ZIP64_LOCATOR) throw file('a zip64 archive', 'an archive under 4 GiB with fewer than 65535 entries (zip64 is not read)');
  const entries = u16(end + 10);
  const cdSize = u32(end + 12);
  const cdStart = u32(end + 16);
  if (u16(end + 4) !== 0 || u16(end + 6) !== 0 || u16(end + 8) !== entries) throw file('a multi-disk archive', 'a single-file zip archive');
  if (cdStart + cdSize !== end) {
    throw file(`a central directory at ${cdStart} of ${cdSize} bytes before an end record at ${end}`, 'a central directory that ends where the end record starts (the file is truncated or damaged)');
  }
  if (entries === 0) throw file('an archive without entries', 'an npz archive holding at least one array');
  const out: Record<string, NpyEntry> = {};
  let q = cdStart;
  for (let k = 0; k < entries; k++) {
    if (q + 46 > end || u32(q) !== ZIP_CENTRAL) throw file(`central directory entry ${k + 1} of ${entries} missing at byte ${q}`, 'every entry the end record counts (the file is damaged)');
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
    if (next > end) throw file(`central directory entry ${k + 1} running past the directory`, 'a well-formed central directory (the file is damaged)');
    const nameBytes = bytes.subarray(q + 46, q + 46 + nameLen);
    const name = new TextDecoder().decode(nameBytes);
    // zip64 extra field (numpy writes it for entries of 4 GiB or more): the full sizes and offset
    for (let x = q + 46 + nameLen; x + 4 <= q + 46 + nameLen + extraLen; ) {
      const id = u16(x);
      const len = u16(x + 2);
      if (id === 0x0001) {
        let y = x + 4;
        const big = (): number => {
          if (y + 8 > x + 4 + len) throw file(`a short zip64 field in entry ${name}`, 'a well-formed central directory (the file is damaged)');
          const v = Number(view.getBigUint64(y, true));
          y += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = big();
        if (csize === 0xffffffff) csize = big();
        if (local === 0xffffffff) local = big();
      }
      x += 4 + len;
    }
    const entry = (value: unknown, expected: string): CinderArgumentError => new CinderArgumentError(`${where} entry ${name}`, value, expected);
    if (flags & 1) throw entry('an encrypted entry', 'an unencrypted entry');
    if (method !== 0 && method !== 8) throw entry(`compression method ${method}`, 'a stored or deflate-compressed entry (as numpy.savez and numpy.savez_compressed write)');
    const key = name.replace(/\.npy$/, '');
    if (Object.hasOwn(out, key)) throw entry('a second entry of this name', 'each array name once');
    // the local header must agree with the central directory
    if (local + 30 > cdStart || u32(local) !== ZIP_LOCAL) throw entry(`no local header at byte ${local}`, 'the entry the central directory lists (the file is truncated or damaged)');
    const lflags = u16(local + 6);
    const lNameLen = u16(local + 26);
    const lExtraLen = u16(local + 28);
    const lName = bytes.subarray(local + 30, local + 30 + lNameLen);
    if (local + 30 + lNameLen > cdStart || lName.length !== nameBytes.length || lName.some((b, i) => b !== nameBytes[i])) {
      throw entry(`a local header named ${JSON.stringify(new TextDecoder().decode(lName))}`, 'a local header of the same name (the file is damaged)');
    }
    if (u16(local + 8) !== method) throw entry(`local compression method ${u16(local + 8)}`, `${method} as in the central directory (the file is damaged)`);
    if (!(lflags & 8)) {
      const lcrc = u32(local + 14);
      const lcs = u32(local + 18);
      const lus = u32(local + 22);
      if (lcrc !== crc || (lcs !== 0xffffffff && lcs !== csize) || (lus !== 0xffffffff && lus !== usize)) {
        throw entry(`local header CRC-32 ${hex8(lcrc)} and sizes ${lcs}/${lus}`, `CRC-32 ${hex8(crc)} and sizes ${csize}/${usize} as in the central directory (the file is damaged)`);
      }
    }
    const start = local + 30 + lNameLen + lExtraLen;
    if (start + csize > cdStart) throw entry(`${csize} bytes of data from byte ${start}`, `data that ends before the central directory at byte ${cdStart} (the file is truncated or damaged)`);
    const raw = bytes.subarray(start, start + csize);
    let content: Uint8Array;
    if (method === 0) {
      if (csize !== usize) throw entry(`a stored entry of ${csize} bytes listed as ${usize}`, 'equal stored and listed sizes (the file is damaged)');
      content = raw;
    } else {
      try {
        content = inflateRawSync(raw);
      } catch (err) {
        throw entry('a deflate stream that does not decompress', `a valid deflate stream (${(err as Error).message}; the file is damaged)`);
      }
      if (content.length !== usize) throw entry(`${content.length} bytes after decompression`, `${usize} bytes as listed (the file is damaged)`);
    }
    const sum = crc32(content);
    if (sum !== crc) throw entry(`CRC-32 ${hex8(sum)}`, `CRC-32 ${hex8(crc)} as listed in the archive (the entry is damaged)`);
    setOwn(out, key, decodeNpy(content, `${where} entry ${name}`));
    q = next;
  }
  if (q !== end) throw file(`${end - q} bytes after the last central directory entry`, 'a central directory of exactly the listed entries (the file is damaged)');
  return out;
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
  const bad = (value: unknown, expected: string): CinderArgumentError => new CinderArgumentError(where, value, expected);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) {
    throw bad(`${bytes.length} bytes starting ${JSON.stringify(Buffer.from(bytes.subarray(0, 6)).toString('latin1'))}`, 'a .npy array (starting \\x93NUMPY)');
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) throw new CinderArgumentError(`.npy format version of ${where}`, `${major}.${minor}`, '1.0, 2.0 or 3.0');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) throw bad(`${bytes.length} bytes`, 'a complete .npy preamble (the array is truncated)');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw bad(`${bytes.length} bytes`, `a header of ${headerLen} bytes after the preamble (the array is truncated)`);
  const header = Buffer.from(bytes.subarray(headerStart, dataStart)).toString(major === 3 ? 'utf8' : 'latin1');
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
  const have = bytes.length - dataStart;
  if (have !== count * size) throw bad(`${have} data bytes`, `${count * size} bytes for shape [${dims.join(', ')}] of ${descr as string} (the array is truncated or damaged)`);
  // raw copy (no trip through JS numbers: NaN payloads stay as they are), then host byte order
  let raw: Uint8Array = new Uint8Array(have); // a copy with its own buffer (Buffer#slice would share one)
  raw.set(bytes.subarray(dataStart));
  const fileLE = dm[1] === '<' || (dm[1] === '=' && LITTLE_ENDIAN_HOST);
  if (size > 1 && fileLE !== LITTLE_ENDIAN_HOST) {
    for (let p = 0; p < raw.length; p += size) raw.subarray(p, p + size).reverse();
  }
  if (d!.fortran_order && dims.length > 1 && count > 0) raw = fortranToC(raw, dims, size);
  let data: NpyArray;
  switch (dm[2]) {
    case 'f4':
      data = new Float32Array(raw.buffer, 0, count);
      break;
    case 'f8':
      data = new Float64Array(raw.buffer, 0, count);
      break;
    case 'i4':
      data = new Int32Array(raw.buffer, 0, count);
      break;
    case 'f2': {
      const half = new Uint16Array(raw.buffer, 0, count);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = halfToFloat32Bits(half[i]!);
      data = new Float32Array(bits.buffer); // the bits as they are (no trip through JS numbers)
      break;
    }
    case 'i1':
      data = Int32Array.from(new Int8Array(raw.buffer, 0, count));
      break;
    case 'i2':
      data = Int32Array.from(new Int16Array(raw.buffer, 0, count));
      break;
    case 'u2':
      data = Int32Array.from(new Uint16Array(raw.buffer, 0, count));
      break;
    case 'u4':
      data = toInt32(new Uint32Array(raw.buffer, 0, count), 'uint32', bad);
      break;
    case 'i8':
      data = toInt32(new BigInt64Array(raw.buffer, 0, count), 'int64', bad);
      break;
    case 'u8':
      data = toInt32(new BigUint64Array(raw.buffer, 0, count), 'uint64', bad);
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
