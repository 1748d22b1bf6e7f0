/** A minimal reader of stored (uncompressed) `.npz` archives for tests: name → { data, shape }. */
export function readNpz(bytes: Uint8Array): Record<string, { data: Float32Array | Float64Array | Int32Array; shape: number[] }> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, { data: Float32Array | Float64Array | Int32Array; shape: number[] }> = {};
  let p = 0;
  while (p + 4 <= bytes.length && v.getUint32(p, true) === 0x04034b50) {
    if (v.getUint16(p + 8, true) !== 0) throw new Error('compressed entry');
    const size = v.getUint32(p + 18, true);
    const nameLen = v.getUint16(p + 26, true);
    const extra = v.getUint16(p + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 30, p + 30 + nameLen)).replace(/\.npy$/, '');
    const body = Uint8Array.from(bytes.subarray(p + 30 + nameLen + extra, p + 30 + nameLen + extra + size));
    out[name] = readNpy(body);
    p += 30 + nameLen + extra + size;
  }
  return out;
}

function readNpy(b: Uint8Array): { data: Float32Array | Float64Array | Int32Array; shape: number[] } {
  if (b[0] !== 0x93 || new TextDecoder().decode(b.subarray(1, 6)) !== 'NUMPY') throw new Error('not npy');
  const hl = b[8]! | (b[9]! << 8);
  const header = new TextDecoder().decode(b.subarray(10, 10 + hl));
  const descr = /'descr': '([^']+)'/.exec(header)![1]!;
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const raw = b.slice(10 + hl).buffer;
  const data = descr === '<f4' ? new Float32Array(raw) : descr === '<f8' ? new Float64Array(raw) : descr === '<i4' ? new Int32Array(raw) : null;
  if (!data) throw new Error(`dtype ${descr}`);
  return { data, shape };
}
