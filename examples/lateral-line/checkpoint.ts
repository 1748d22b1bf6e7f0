/**
 * Reading back the uncompressed `.npz` files Cinder writes (`src/io/npy.ts`), for resuming a run
 * from `artifacts/mid_checkpoint.npz`. Only stored (uncompressed) entries of little-endian
 * `<f4`, `<f8`, `<i4` and `|u1` arrays are supported — what {@link encodeNpz} produces.
 * @module
 */
import { readFileSync } from 'node:fs';

/** Decoded arrays by name (without `.npy`). */
export type NpzArrays = Record<string, Float32Array | Float64Array | Int32Array | Uint8Array>;

/**
 * Decodes an uncompressed npz file.
 * @throws Error for anything but stored entries of the supported dtypes
 */
export function readNpz(path: string): NpzArrays {
  const buf = readFileSync(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
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
    if (method !== 0) throw new Error(`${path}: entry ${name} is compressed (only stored entries are read)`);
    out[name.replace(/\.npy$/, '')] = decodeNpy(bytes.subarray(start, start + size), `${path}:${name}`);
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
