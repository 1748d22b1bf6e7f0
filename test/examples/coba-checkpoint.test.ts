// `cinder coba`: a checkpoint holds O(N) of statistics, not the series that grow with the run (the
// population counts per 1 ms bin and the raster spikes): those go to append-only .npy files of the
// checkpoint folder, one append per chunk. The files hold exactly the series of the run's artifact,
// and entries beyond the lengths a checkpoint records (a run killed between the append and the
// checkpoint) are cut off on resume.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readNpy, readNpzEntries, writeNpz } from '../../src/io/npy.js';
import { NpyAppendWriter } from '../../src/io/npy-append.js';
import { buildCobaEvent } from '../../examples/coba/event-engine.js';
import { expectSameFiles } from '../helpers/files.js';
import { interruptAtCheckpoint, runSummary, startCinder } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'cinder-coba-checkpoint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** The per-neuron spike counts of a run's artifact. */
const art_count = (out: string) => readNpzEntries(join(out, 'artifacts', 'spikes.npz')).count!.data;
const args = ['coba', '--mode', 'tiny', '--engine', 'event', '--model', 'cuba', '--seed', '3'];

it('the checkpoint does not rewrite the growing series: they are appended to checkpoint/*.npy, equal to the artifact', async () => {
  // tiny: 200 neurons, 0.1 s = 1000 steps = 100 bins of 1 ms, chunks of 250 steps
  const out = join(tmp, 'full');
  const a = startCinder([...args, '--out', out], { CINDER_BACKEND: 'cpu' });
  expect(await a.exited, a.err()).toBe(0);
  const npz = readNpzEntries(join(out, 'checkpoint', 'checkpoint.npz'));
  const cp = JSON.parse(new TextDecoder().decode(npz.meta!.data as Uint8Array)) as {
    stats: { popCounts: number[]; rasterStep: number[]; rasterNeuron: number[]; count?: number[] };
    popSaved: number;
    rasterSaved: number;
  };
  const art = readNpzEntries(join(out, 'artifacts', 'spikes.npz'));
  const spikes = art.raster_step!.data.length;
  expect(spikes).toBeGreaterThan(100);
  // in the checkpoint: no bin (1000 steps fill 100 bins exactly), no raster spike, N counts
  expect(cp.stats.popCounts).toEqual([]);
  expect(cp.stats.rasterStep).toEqual([]);
  expect(cp.stats.rasterNeuron).toEqual([]);
  // the O(N) state is binary (the engine's float32 / int32 arrays, the statistics in float64), not JSON
  expect(existsSync(join(out, 'checkpoint', 'checkpoint.json'))).toBe(false);
  expect(cp.stats.count).toBeUndefined();
  for (const k of ['v', 'ge', 'gi']) expect(npz[k]!.data, k).toBeInstanceOf(Float32Array);
  expect(npz.lastSpike!.data).toBeInstanceOf(Int32Array);
  for (const k of ['v', 'ge', 'gi', 'lastSpike', 'count', 'last', 'isiSum', 'isiSq']) expect(npz[k]!.shape, k).toEqual([200]);
  expect(npz.count!.data).toBeInstanceOf(Float64Array);
  expect(Array.from(npz.count!.data)).toEqual(Array.from(art_count(out)));
  // bit for bit the engine's state after the run's 1000 steps (the same network built and run here)
  const net = buildCobaEvent({ model: 'cuba', neurons: 200, p: 20 / 200, dt: 0.1, refractory: 'steps' }, 3);
  for (let k = 0; k < 4; k++) net.run(250);
  expect(Buffer.from((npz.v!.data as Float32Array).buffer).equals(Buffer.from(net.group.v.slice().buffer)), 'v').toBe(true);
  expect(Buffer.from((npz.ge!.data as Float32Array).buffer).equals(Buffer.from(net.group.ge.slice().buffer)), 'ge').toBe(true);
  expect(Buffer.from((npz.gi!.data as Float32Array).buffer).equals(Buffer.from(net.group.gi.slice().buffer)), 'gi').toBe(true);
  expect(Array.from(npz.lastSpike!.data)).toEqual(Array.from(net.group.lastSpike));
  expect(JSON.parse(new TextDecoder().decode(npz.meta!.data as Uint8Array)).step).toBe(1000);
  expect(cp.popSaved).toBe(100);
  expect(cp.rasterSaved).toBe(spikes);
  // in the files: the artifact's series
  const pop = readNpy(join(out, 'checkpoint', 'population_count_1ms.npy'));
  expect(pop.shape).toEqual([100]);
  expect(Array.from(pop.data)).toEqual(Array.from(art.population_count_1ms!.data));
  const ras = readNpy(join(out, 'checkpoint', 'raster.npy'));
  expect(ras.shape).toEqual([spikes, 2]);
  const step = Array.from(ras.data).filter((_, q) => q % 2 === 0);
  const neuron = Array.from(ras.data).filter((_, q) => q % 2 === 1);
  expect(step).toEqual(Array.from(art.raster_step!.data));
  expect(neuron).toEqual(Array.from(art.raster_neuron!.data));
}, 120_000);

it('resume cuts off series entries appended after the last checkpoint (a run killed in between): artifacts as uninterrupted', async () => {
  const full = join(tmp, 'full'); // written by the test above
  const part = join(tmp, 'part');
  const b = startCinder([...args, '--out', part], { CINDER_BACKEND: 'cpu', CINDER_TEST_HOLD_AT_CHECKPOINT: '2' });
  expect(await interruptAtCheckpoint(b, part, 2), b.err()).toBe(130);
  // rows a killed run could have appended before writing its next checkpoint
  for (const [file, rowShape, rows] of [['population_count_1ms.npy', [], Int32Array.of(7, 7, 7)], ['raster.npy', [2], Int32Array.of(5, 1, 6, 2)]] as const) {
    const w = NpyAppendWriter.reopen(join(part, 'checkpoint', file), { dtype: 'int32', rowShape });
    w.append(rows);
    w.close();
  }
  const r = startCinder(['coba', '--resume', part], { CINDER_BACKEND: 'cpu' });
  expect(await r.exited, r.err()).toBe(0);
  expect(runSummary(part).status).toBe('completed');
  expectSameFiles(join(full, 'artifacts'), join(part, 'artifacts'));
}, 180_000);

it('a checkpoint of the older format (checkpoint.json, written when the network was drawn pair by pair) or of another draw method is refused, not continued on today\'s network', async () => {
  const part = join(tmp, 'old-format');
  const b = startCinder([...args, '--out', part], { CINDER_BACKEND: 'cpu', CINDER_TEST_HOLD_AT_CHECKPOINT: '2' });
  expect(await interruptAtCheckpoint(b, part, 2), b.err()).toBe(130);
  // the checkpoint rewritten as the older code wrote it: one JSON file, every array in it
  const file = join(part, 'checkpoint', 'checkpoint.npz');
  const npz = readNpzEntries(file);
  const meta = JSON.parse(new TextDecoder().decode(npz.meta!.data as Uint8Array)) as Record<string, unknown> & { step: number; refractorySteps: number; stats: Record<string, unknown> };
  const arr = (k: string) => Array.from(npz[k]!.data);
  const { step, refractorySteps, stats, ...rest } = meta;
  const old = {
    ...rest,
    stats: { ...stats, count: arr('count'), last: arr('last'), isiSum: arr('isiSum'), isiSq: arr('isiSq') },
    network: { step, refractorySteps, v: arr('v'), ge: arr('ge'), gi: arr('gi'), lastSpike: arr('lastSpike') },
  };
  // an npz checkpoint of a network drawn by another method: refused, nothing changed
  const other = { ...npz, meta: { ...npz.meta!, data: new TextEncoder().encode(JSON.stringify({ ...meta, draws: 'pairs' })) } };
  other.meta.shape = [other.meta.data.length];
  await writeNpz(file, other);
  const before = readFileSync(file);
  const r1 = startCinder(['coba', '--resume', part], { CINDER_BACKEND: 'cpu' });
  expect(await r1.exited).not.toBe(0);
  expect(r1.err()).toMatch(/invalid checkpoint .*checkpoint\.npz draws: got "pairs", expected "jumps" \(the state of a network drawn otherwise would continue on another network: start a new run\)/);
  expect(readFileSync(file).equals(before)).toBe(true);
  // the older JSON checkpoint (only ever written with pairs drawn one by one): refused
  writeFileSync(join(part, 'checkpoint', 'checkpoint.json'), JSON.stringify(old));
  rmSync(file);
  const r2 = startCinder(['coba', '--resume', part], { CINDER_BACKEND: 'cpu' });
  expect(await r2.exited).not.toBe(0);
  expect(r2.err()).toMatch(/invalid checkpoint .*checkpoint\.json: got "a checkpoint of a network drawn pair by pair \(before 2026-11-29\)", expected a checkpoint of this network \(drawn by "jumps"\): start a new run/);
  expect(existsSync(join(part, 'checkpoint', 'checkpoint.json'))).toBe(true);
}, 180_000);
