// SpikeFileSink mode 'continue' on an empty file (a run killed between creating the file and
// writing its .npy header): there is nothing to keep, so it is started as a new file, as a missing
// one is; a file with any byte that is not a sink's .npy is still refused and left as it was.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpikeFileSink, readSpikeFile } from '../../src/observe/monitors/spike-file.node.js';

const dir = mkdtempSync(join(tmpdir(), 'cinder-spike-file-empty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SpikeFileSink mode 'continue'", () => {
  it('an empty file is started anew; the chunks appended are read back exactly', () => {
    const path = join(dir, 'empty.npy');
    writeFileSync(path, new Uint8Array(0));
    const sink = SpikeFileSink.open(path, { mode: 'continue' });
    sink.onChunk({ step: Float64Array.of(3, 3, 4), sample: Int32Array.of(0, 1, 0), neuron: Int32Array.of(2, 0, 5) }, { first: 3, last: 4 });
    sink.close();
    const got = readSpikeFile(path);
    expect(Array.from(got.step)).toEqual([3, 3, 4]);
    expect(Array.from(got.sample)).toEqual([0, 1, 0]);
    expect(Array.from(got.neuron)).toEqual([2, 0, 5]);
  });

  it('a one-byte foreign file is still refused and left unchanged', () => {
    const path = join(dir, 'one.npy');
    writeFileSync(path, 'x');
    expect(() => SpikeFileSink.open(path, { mode: 'continue' })).toThrow(/written by NpyAppendWriter/);
    expect(readFileSync(path, 'utf8')).toBe('x');
  });
});
