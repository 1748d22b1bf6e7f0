// Rasters of more than maxSpikes spikes are drawn as spike-count heatmaps per (time bin, neuron
// row). Counts are checked against a reference binning by bin edges written here, against
// closed-form counts (uniform firing) and against the spike count; below the cap the figure is the
// same as with maxSpikes: Infinity.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_SPIKES, densityTimeBins, MAX_DENSITY_CELLS, figureHtml, gridTimeBins, neuronRows, panelFigure, placeColorbars, rasterFromRecordings, SpikeCountGrid, spikeCountPanel, spikeRaster, spikeRasterPanels, type Figure, type SpikeEvents } from '../../src/node.js';
import { mulberry32 as rng } from '../helpers/random.js';

/** The page of a figure (plotly loaded from a relative file). */
const html = (f: Figure): string => figureHtml(f, { plotly: 'relative' });

/** Spikes of `neurons` neurons; neuron j spikes at step k (time k·dt) with probability p. */
function randomSpikes(steps: number, neurons: number, dt: number, p: number, seed: number, name?: string): SpikeEvents {
  const r = rng(seed);
  const times: number[] = [];
  const idx: number[] = [];
  for (let k = 1; k <= steps; k++) {
    for (let j = 0; j < neurons; j++) {
      if (r() < p) {
        times.push(k * dt);
        idx.push(j);
      }
    }
  }
  return { times: Float64Array.from(times), neurons: Int32Array.from(idx), name };
}

type Heatmap = { type: string; name: string; x: Float64Array; y: Float64Array; z: number[][]; zmin: number; zmax: number; hovertemplate: string };

/** Reference counts: a spike goes to the bin whose edges [c − w/2, c + w/2) hold it and the row whose neuron range holds it. */
function referenceCounts(e: SpikeEvents, h: Heatmap, size: number, range?: [number, number]): number[][] {
  const w = h.x[1]! - h.x[0]!;
  const edges = Array.from(h.x, (c) => c - w / 2);
  const z = Array.from(h.y, () => new Array<number>(h.x.length).fill(0));
  const rows = Array.from(h.y, (c) => [c - (size - 1) / 2, c + (size - 1) / 2]);
  for (let i = 0; i < e.times.length; i++) {
    const t = e.times[i]!;
    const n = e.neurons[i]!;
    if (!Number.isFinite(t) || !Number.isFinite(n) || (range && (t < range[0] || t > range[1]))) continue;
    let k = edges.length - 1;
    while (k > 0 && t < edges[k]!) k--;
    const r = rows.findIndex(([a, b]) => n >= a! && n <= b!);
    z[r]![k]!++;
  }
  return z;
}

describe('spikeRaster: a density above maxSpikes', () => {
  it('uniform firing on a 0.1 ms grid: whole-step bins, equal counts in every full bin (no aliasing stripes)', () => {
    // 50 neurons spike at every step k·0.1, k = 1 … 3001: span 300 ms, bins of ⌈300.1/(1000·0.1)⌉ = 4 steps,
    // ⌈300.1/0.4⌉ = 751 bins; bins 0 … 749 hold 4 steps each, the last one step (3001 = 750·4 + 1)
    const times: number[] = [];
    const neurons: number[] = [];
    for (let k = 1; k <= 3001; k++) for (let j = 0; j < 50; j++) { times.push(k * 0.1); neurons.push(j); }
    const f = spikeRaster('uniform', { times, neurons, name: 'exc' }, { maxSpikes: 150_049 });
    expect(f.title).toBe('uniform (spike counts per time bin of 0.4: 150050 spikes, more than maxSpikes = 150049)');
    const h = f.data[0] as unknown as Heatmap;
    expect(h.type).toBe('heatmap');
    expect(h.z.length).toBe(50);
    for (const row of h.z) expect(row).toEqual([...new Array<number>(750).fill(4), 1]);
    expect(h.x[0]).toBeCloseTo(0.05 + 0.2, 12);
    expect(h.x[1]! - h.x[0]!).toBeCloseTo(0.4, 12);
    expect(Array.from(h.y)).toEqual(Array.from({ length: 50 }, (_, j) => j));
    // at the cap: dots, exactly as with maxSpikes: Infinity
    const dots = spikeRaster('uniform', { times, neurons, name: 'exc' }, { maxSpikes: 150_050 });
    expect(dots.data[0]!.type).toBe('scattergl');
    expect(html(dots)).toBe(html(spikeRaster('uniform', { times, neurons, name: 'exc' }, { maxSpikes: Infinity })));
  });

  it('10^5 steps of 0.1 ms (times up to 10^4): bins of exactly 100 steps, though rounding makes the smallest time gap a little under dt', () => {
    // one neuron spiking at every step k·0.1, k = 1 … 100 000: S = 100 000 steps, 1000 bins of 100 steps
    const times = Float64Array.from({ length: 100_000 }, (_, k) => (k + 1) * 0.1);
    let gap = Infinity;
    for (let k = 1; k < times.length; k++) gap = Math.min(gap, times[k]! - times[k - 1]!);
    expect(gap).toBeLessThan(0.1 * (1 - 1e-12)); // the rounding the binning must forgive
    const f = spikeRaster('long', { times, neurons: new Int32Array(100_000) }, { maxSpikes: 1000 });
    expect(f.title).toBe('long (spike counts per time bin of 10: 100000 spikes, more than maxSpikes = 1000)');
    expect((f.data[0] as unknown as Heatmap).z).toEqual([new Array<number>(1000).fill(100)]);
  });

  it('float32 spike times (e.g. read from a float32 file): bins of whole steps all the same, though the gaps are off dt by float32 rounding', () => {
    // one neuron spiking at every step k·0.1 held as float32, k = 1 … S: the gaps are 0.1 ± ulp32(t)
    // (6e-5 at t = 1000: 0.06 % of a step); the bins must still be ⌈S/1000⌉ whole steps, each full
    // bin holding that many spikes, the last one the rest
    for (const steps of [10_000, 100_000, 250_000]) {
      const times = Float32Array.from({ length: steps }, (_, k) => (k + 1) * 0.1);
      const perBin = Math.ceil(steps / 1000);
      const count = Math.ceil(steps / perBin);
      const f = spikeRaster('f32', { times, neurons: new Int32Array(steps) }, { maxSpikes: 10 });
      const h = f.data[0] as unknown as Heatmap;
      expect(h.z).toEqual([Array.from({ length: count }, (_, k) => (k < count - 1 ? perBin : steps - (count - 1) * perBin))]);
      expect((h.x[1]! - h.x[0]!) / 0.1).toBeCloseTo(perBin, 3);
    }
  });

  it('random populations (one of 1000 neurons in rows of 5): counts equal the reference binning and sum to the spike count', () => {
    const exc = randomSpikes(5000, 1000, 0.1, 0.05, 11, 'exc'); // about 250 000 spikes
    const inh = randomSpikes(5000, 40, 0.1, 0.2, 12, 'inh');
    const total = exc.times.length + inh.times.length;
    expect(total).toBeGreaterThan(DEFAULT_MAX_SPIKES);
    for (const separatePanels of [true, false]) {
      const f = spikeRaster('coba', [exc, inh], { separatePanels });
      expect(f.title).toBe(`coba (spike counts per time bin of 0.5: ${total} spikes, more than maxSpikes = 200000)`);
      expect(f.panels).toBe(2);
      const [he, hi] = f.data as unknown as Heatmap[];
      expect([he!.z.length, he!.z[0]!.length, hi!.z.length]).toEqual([200, 1000, 40]);
      expect(he!.x).toEqual(hi!.x); // shared time bins
      for (const [e, h, size] of [[exc, he!, 5], [inh, hi!, 1]] as const) {
        expect(h.z.flat().reduce((a, b) => a + b, 0)).toBe(e.times.length);
        // white is zero: the colour range is [0, largest count] (a lone zmin is ignored by plotly, and 1 spike drew white)
        expect([h.zmin, h.zmax]).toEqual([0, h.z.flat().reduce((a, b) => Math.max(a, b), 1)]);
        expect(h.z).toEqual(referenceCounts(e, h, size));
      }
      expect((f.layout.annotations as { text: string }[]).map((a) => a.text)).toEqual([
        `<b>exc: ${exc.times.length} spikes, 5 neurons per row</b>`, `<b>inh: ${inh.times.length} spikes, 1 neuron per row</b>`,
      ]);
      // the page stays small: under 2.5 MB for about 290 000 spikes
      expect(html(f).length).toBeLessThan(2_500_000);
    }
  });

  it('maxTimeBins and maxRows set the density grid (rows of ⌈span/maxRows⌉ neurons, bins of ⌈steps/maxTimeBins⌉ steps); bad values refused before anything is drawn', () => {
    const exc = randomSpikes(5000, 1000, 0.1, 0.05, 11, 'exc');
    const f = spikeRaster('fine', exc, { maxSpikes: 1000, maxTimeBins: 2500, maxRows: 400 });
    const [h] = f.data as unknown as Heatmap[];
    // 5000 steps in bins of ⌈5000/2500⌉ = 2 steps (0.2 ms): 2500 bins; 1000 neurons in rows of ⌈1000/400⌉ = 3: 334 rows
    expect([h!.z.length, h!.z[0]!.length]).toEqual([334, 2500]);
    expect(f.title).toMatch(/spike counts per time bin of 0\.2: /);
    expect(h!.z).toEqual(referenceCounts(exc, h!, 3));
    for (const [key, bad] of [['maxTimeBins', 0], ['maxRows', 1.5], ['maxRows', 10_001], ['maxTimeBins', Number.NaN]] as const) {
      expect(() => spikeRaster('r', exc, { [key]: bad })).toThrow(`invalid ${key}: got ${bad}, expected an integer from 1 to 10000`);
    }
  });

  it('maxTimeBins · maxRows is at most MAX_DENSITY_CELLS = 4·10^6 per panel (10^8 was accepted: a page of 200–400 MB); a panel at the cap is about 2 bytes of HTML per cell', () => {
    const few = { times: [1, 2, 3], neurons: [0, 5, 9] };
    for (const [maxTimeBins, maxRows] of [[10_000, 10_000], [10_000, 401], [2001, 2000], [undefined, 10_000]] as const) {
      const product = (maxTimeBins ?? 1000) * (maxRows ?? 200);
      expect(product).toBeGreaterThan(4_000_000);
      expect(() => spikeRaster('r', few, { maxSpikes: 0, maxTimeBins, maxRows })).toThrow(
        `invalid maxTimeBins · maxRows: got ${product}, expected at most 4000000 cells per density panel (maxTimeBins ${maxTimeBins ?? 1000} · maxRows ${maxRows ?? 200}; lower either)`,
      );
    }
    expect(MAX_DENSITY_CELLS).toBe(4_000_000);
    expect(spikeRaster('r', few, { maxSpikes: 0, maxTimeBins: 10_000, maxRows: 400 }).data[0]!.type).toBe('heatmap');
    // spikeCountPanel: grids of more cells are refused before the counts are looked at
    const rows = neuronRows(0, 399, 400);
    expect(() => spikeCountPanel([], gridTimeBins(1, 10_001, 1, 10_001), rows)).toThrow(
      'invalid rows.count · bins.count: got 4000400, expected at most 4000000 cells per panel (rows.count 400 · bins.count 10001; fewer rows or bins)',
    );
    // at the cap, counts below 10: each cell is written as a digit and a comma, 2 bytes, plus a small overhead
    const bins = gridTimeBins(1, 10_000, 1, 10_000);
    expect(rows.count * bins.count).toBe(MAX_DENSITY_CELLS);
    const r = rng(9);
    const counts = Float64Array.from({ length: MAX_DENSITY_CELLS }, () => Math.floor(10 * r()));
    const page = html(placeColorbars(panelFigure('cap', [spikeCountPanel(counts, bins, rows)])));
    expect(page.length).toBeGreaterThan(2 * MAX_DENSITY_CELLS);
    expect(page.length).toBeLessThan(2.05 * MAX_DENSITY_CELLS);
  });

  it('continuous (event-driven) times: at most 1000 bins covering every spike; a single time: one bin', () => {
    const r = rng(5);
    const e = { times: Float64Array.from({ length: 5000 }, () => 1000 * r()), neurons: Int32Array.from({ length: 5000 }, () => Math.floor(7 * r())) };
    const h = spikeRaster('c', e, { maxSpikes: 10 }).data[0] as unknown as Heatmap;
    expect(h.x.length).toBeLessThanOrEqual(1000);
    expect(h.x.length).toBeGreaterThan(900);
    expect(h.z).toEqual(referenceCounts(e, h, 1));
    expect(h.z.flat().reduce((a, b) => a + b, 0)).toBe(5000);
    const one = spikeRaster('c', { times: [5, 5, 5], neurons: [0, 2, 2] }, { maxSpikes: 2 }).data[0] as unknown as Heatmap;
    expect([Array.from(one.x), one.z]).toEqual([[5], [[1], [0], [2]]]);
  });

  it('spikes with a non-finite time or neuron, and spikes outside timeRange, are not counted', () => {
    const e = randomSpikes(400, 30, 0.25, 0.3, 3, 'p');
    const times = Float64Array.from(e.times);
    const neurons = Float64Array.from(e.neurons);
    times[5] = NaN;
    neurons[6] = Infinity;
    times[7] = -Infinity;
    const bad = { times, neurons, name: 'p' };
    const f = spikeRaster('r', bad, { maxSpikes: 100 });
    const h = f.data[0] as unknown as Heatmap;
    expect(h.z.flat().reduce((a, b) => a + b, 0)).toBe(e.times.length - 3);
    expect(h.z).toEqual(referenceCounts(bad, h, 1));
    const range: [number, number] = [20, 60.5];
    const g = spikeRaster('r', bad, { maxSpikes: 100, timeRange: range });
    const hg = g.data[0] as unknown as Heatmap;
    const inRange = Array.from(times).filter((t, i) => t >= 20 && t <= 60.5 && Number.isFinite(neurons[i]!)).length;
    expect(hg.z.flat().reduce((a, b) => a + b, 0)).toBe(inRange);
    expect(hg.z).toEqual(referenceCounts(bad, hg, 1, range));
    expect((g.layout.xaxis as { range: number[] }).range).toEqual(range);
  });

  it('rasterFromRecordings passes maxSpikes; a bad maxSpikes is refused', () => {
    const data = new Float32Array(300 * 1 * 4).fill(1);
    const f = rasterFromRecordings('r', [{ name: 'a', spikes: { data, shape: [300, 1, 4] } }], { maxSpikes: 1000 });
    expect(f.data[0]!.type).toBe('heatmap');
    expect(rasterFromRecordings('r', [{ name: 'a', spikes: { data, shape: [300, 1, 4] } }]).data[0]!.type).toBe('scatter');
    for (const bad of [-1, 1.5, NaN, -Infinity]) {
      expect(() => spikeRaster('r', { times: [1], neurons: [0] }, { maxSpikes: bad })).toThrow(`invalid maxSpikes: got ${bad}, expected an integer >= 0, or Infinity (one dot per spike)`);
    }
    expect(() => rasterFromRecordings('r', [{ name: 'a', spikes: { data, shape: [300, 1, 4] } }], { maxSpikes: -1 })).toThrow(/invalid maxSpikes: got -1/);
  });
});

describe('spikeRasterPanels, spikeCountPanel, SpikeCountGrid: a raster panel among other panels', () => {
  const pops = [randomSpikes(400, 30, 0.1, 0.05, 11, 'E'), randomSpikes(400, 700, 0.1, 0.002, 12, 'I')];

  it('spikeRaster is panelFigure of spikeRasterPanels (title + note, legend, colour bars placed), below and above maxSpikes', () => {
    for (const options of [{}, { maxSpikes: 100 }, { maxSpikes: 100, separatePanels: false, timeRange: [5, 30] as [number, number], xTitle: 's' }, { separatePanels: false }]) {
      const r = spikeRasterPanels(pops, options);
      const fig = panelFigure(r.note === undefined ? 'T' : `T (${r.note})`, r.panels, { showLegend: r.showLegend });
      expect(JSON.stringify(r.density ? placeColorbars(fig) : fig)).toBe(JSON.stringify(spikeRaster('T', pops, options)));
      const total = pops[0]!.times.length + pops[1]!.times.length;
      expect(r.density).toBe(total > (options.maxSpikes ?? Infinity));
    }
    expect(() => spikeRasterPanels(pops, { bogus: 1 } as never)).toThrow(/invalid options key/);
    expect(() => spikeRasterPanels(pops, { maxSpikes: -1 })).toThrow(/invalid maxSpikes: got -1, expected/);
    expect(() => spikeRasterPanels(pops, { yTitle: 3 as never })).toThrow(/invalid yTitle: got 3, expected a string/);
  });

  it('SpikeCountGrid: counts added piece by piece equal the reference binning of all spikes; gridTimeBins equals densityTimeBins of a grid spanning first … last', () => {
    const p = pops[1]!;
    // spikes at steps 1 … 400 of 0.1 ms: a grid from 0.1 to 40 (add the two ends so that the data spans it)
    const times = Float64Array.from([0.1, ...Array.from(p.times), 40]);
    const neurons = Int32Array.from([0, ...Array.from(p.neurons), 699]);
    const bins = gridTimeBins(0.1, 40, 0.1, 150);
    const ref = densityTimeBins([{ times, neurons }], undefined, 150);
    // (densityTimeBins measures dt as the smallest gap: equal up to its rounding)
    expect(bins.start).toBeCloseTo(ref.start, 12);
    expect(bins.width).toBeCloseTo(ref.width, 12);
    expect(bins.count).toBe(ref.count);
    expect(bins.count).toBe(134); // ⌈400 / ⌈400/150⌉⌉, bins of 3 steps
    const rows = neuronRows(0, 699);
    expect(rows).toEqual({ first: 0, size: 4, count: 175, last: 699 }); // ⌈700/200⌉ = 4 per row
    const grid = new SpikeCountGrid(bins, rows);
    for (let k0 = 0; k0 < times.length; k0 += 37) grid.add(times.subarray(k0, k0 + 37), neurons.subarray(k0, k0 + 37));
    const want = new Float64Array(rows.count * bins.count);
    for (let i = 0; i < times.length; i++) want[Math.floor(neurons[i]! / 4) * bins.count + Math.floor((times[i]! - 0.05) / 0.3 + 1e-9)]++;
    expect(Array.from(grid.counts)).toEqual(Array.from(want));
    expect([grid.seen, grid.counted]).toEqual([times.length, times.length]);
    const panel = spikeCountPanel(grid.counts, bins, rows, { name: 'all', yTitle: 'gid' });
    expect(panel.title).toBe(`all: ${times.length} spikes, 4 neurons per row`);
    expect(panel.yTitle).toBe('gid (rows of 4)');
    // the hover text names the axes as titled (a position axis is not 't'); t and neuron by default
    expect(panel.traces[0]!.hovertemplate).toBe('t %{x}<br>gid %{y}<br>%{z} spikes<extra>%{fullData.name}</extra>');
    const byX = spikeCountPanel(grid.counts, bins, rows, { xTitle: 'sphere x (cm) <%{y}>' });
    expect(byX.traces[0]!.hovertemplate).toBe('sphere x (cm) &lt;%\u200b{y}&gt; %{x}<br>neuron %{y}<br>%{z} spikes<extra>%{fullData.name}</extra>');
    expect(() => spikeCountPanel(grid.counts.subarray(1), bins, rows)).toThrow(`invalid counts: got "${grid.counts.length - 1} values", expected rows.count · bins.count = ${grid.counts.length} values`);
    // spikeCountPanel's timeRange is checked as spikeRaster's ([NaN, 5] became [null, 5] in the page)
    for (const bad of [[NaN, 5], [5, 1], [0, Infinity], [2, 2], 'x'] as never[]) {
      expect(() => spikeCountPanel(grid.counts, bins, rows, { timeRange: bad })).toThrow(/^invalid timeRange: got .*, expected \[t0, t1\]: finite numbers with t0 < t1$/);
    }
    expect(spikeCountPanel(grid.counts, bins, rows, { timeRange: [0, 40] }).xaxis).toEqual({ range: [0, 40] });
    expect(() => grid.add([1, 2], [0])).toThrow(/invalid neurons: got "1 indices", expected one per spike time \(2\)/);
    expect(grid.seen).toBe(times.length); // a refused piece counts nothing
    expect(() => gridTimeBins(1, 0, 0.1)).toThrow(/invalid last: got 0, expected a finite time >= first = 1/);
    expect(() => gridTimeBins(0, 1, 0)).toThrow(/invalid dt: got 0, expected/);
    expect(() => neuronRows(5, 2)).toThrow(/invalid hi: got 2, expected/);
  });

  it('runs of 10^6 + 1 steps (a step past a multiple of maxTimeBins): bins cover the last step, whole steps each; SpikeCountGrid counts every spike', () => {
    // one neuron spiking at every step k·0.1, k = 1 … S: bins of ⌈S/1000⌉ steps, ⌈S/⌈S/1000⌉⌉ of them, reckoned in whole steps
    for (const steps of [1_000_001, 2_000_003]) {
      const perBin = Math.ceil(steps / 1000);
      const count = Math.ceil(steps / perBin);
      const bins = gridTimeBins(0.1, steps * 0.1, 0.1);
      expect([bins.width / 0.1, bins.count]).toEqual([expect.closeTo(perBin, 9), count]);
      const times = Float64Array.from({ length: steps }, (_, k) => (k + 1) * 0.1);
      const grid = new SpikeCountGrid(bins, neuronRows(0, 0));
      for (let k0 = 0; k0 < steps; k0 += 100_000) grid.add(times.subarray(k0, k0 + 100_000), new Int32Array(Math.min(100_000, steps - k0)));
      expect([grid.seen, grid.counted]).toEqual([steps, steps]);
      // every bin but the last holds perBin steps, the last the rest
      const want = Array.from({ length: count }, (_, k) => (k < count - 1 ? perBin : steps - (count - 1) * perBin));
      expect(Array.from(grid.counts)).toEqual(want);
      // spikeRaster's own bins: the same whole steps (no last bin of an extra step)
      const h = spikeRaster('long', { times, neurons: new Int32Array(steps) }, { maxSpikes: 10 }).data[0] as unknown as Heatmap;
      expect(h.z).toEqual([want]);
    }
  });

  it('spikeCountPanel refuses a count that is not a finite integer >= 0, naming its index (was drawn: the title read "NaN spikes")', () => {
    const bins = gridTimeBins(1, 4, 1); // 4 bins
    const rows = neuronRows(0, 2); // 3 rows
    const good = Float64Array.from({ length: 12 }, (_, i) => i % 3);
    // a good grid: the title's sum is the sum of the counts, computed here
    let sum = 0;
    for (const c of good) sum += c;
    expect(spikeCountPanel(good, bins, rows).title).toBe(`spikes: ${sum} spikes, 1 neuron per row`);
    for (const [i, bad] of [[0, Number.NaN], [5, -1], [11, Infinity], [7, 0.5], [3, -Infinity]] as const) {
      const counts = Array.from(good);
      counts[i] = bad;
      expect(() => spikeCountPanel(counts, bins, rows)).toThrow(
        `invalid counts[${i}]: got ${bad}, expected a spike count: a finite integer >= 0 (row ${Math.floor(i / 4)}, time bin ${i % 4})`,
      );
    }
  });

  it('a last row only partly filled is centred on the neurons it holds (was the middle of a full row, past the last neuron); neurons past the last are not counted', () => {
    // neurons 0 … 9 in at most 4 rows: rows of 3, the last holding neuron 9 only (middle 9; a full row's middle was 10)
    const r = rng(21);
    const times: number[] = [];
    const ids: number[] = [];
    for (let k = 1; k <= 50; k++) for (let j = 0; j < 10; j++) if (r() < 0.4) { times.push(k); ids.push(j); }
    // reference: each row's middle is the mean of the neuron indices it holds, by a plain loop
    const middles = (first: number, size: number, count: number, last: number): number[] => Array.from({ length: count }, (_, q) => {
      const held: number[] = [];
      for (let n = first + q * size; n < first + (q + 1) * size && n <= last; n++) held.push(n);
      return held.reduce((a, b) => a + b, 0) / held.length;
    });
    expect(middles(0, 3, 4, 9)).toEqual([1, 4, 7, 9]);
    const h = spikeRaster('p', { times, neurons: ids }, { maxSpikes: 0, maxRows: 4 }).data[0] as unknown as Heatmap;
    expect(Array.from(h.y)).toEqual(middles(0, 3, 4, 9));
    expect(neuronRows(0, 9, 4)).toEqual({ first: 0, size: 3, count: 4, last: 9 });
    // the hover text shows the cell's y: no number past the last neuron appears
    expect(h.hovertemplate).toBe('t %{x}<br>neuron %{y}<br>%{z} spikes<extra>%{fullData.name}</extra>');
    // rows starting elsewhere: neurons 5 … ⌊24.7⌋ in 4 rows of 5 (full); 5 … 23: the last row holds 20 … 23
    const grid = new SpikeCountGrid(gridTimeBins(1, 4, 1), neuronRows(5, 24.7, 4));
    expect(grid.rows).toEqual({ first: 5, size: 5, count: 4, last: 24 });
    const g2 = new SpikeCountGrid(gridTimeBins(1, 4, 1), neuronRows(5, 23, 4));
    expect(g2.rows).toEqual({ first: 5, size: 5, count: 4, last: 23 });
    expect(Array.from(spikeCountPanel(g2.counts, g2.bins, g2.rows).traces[0]!.y as Float64Array)).toEqual(middles(5, 5, 4, 23));
    // a spike of neuron 24 lies in the last row's range but past its last neuron: not counted
    g2.add([1, 2, 3], [23, 24, 5]);
    expect([g2.seen, g2.counted]).toEqual([3, 2]);
    expect(Array.from(g2.counts)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    // rows given by hand: last absent means a full last row; a last outside the last row is refused
    expect(Array.from(spikeCountPanel(new Float64Array(8), gridTimeBins(1, 2, 1), { first: 0, size: 3, count: 4 }).traces[0]!.y as Float64Array)).toEqual(middles(0, 3, 4, 11));
    for (const last of [8, 12, 9.5]) {
      expect(() => spikeCountPanel(new Float64Array(8), gridTimeBins(1, 2, 1), { first: 0, size: 3, count: 4, last })).toThrow(`invalid rows.last: got ${last}, expected an integer in [9, 11] (a neuron of the last row)`);
    }
  });

  it('SpikeCountGrid refuses more than MAX_DENSITY_CELLS cells at construction, before allocating (was: a RangeError when allocating, or a refusal only later in spikeCountPanel)', () => {
    const rows = (count: number) => ({ first: 0, size: 1, count });
    const bins = (count: number) => ({ start: 0, width: 1, count, lo: 0, hi: count });
    // at the cap (2000 · 2000 = 4·10^6 cells): made, counts [2000 · 2000], drawable
    const atCap = new SpikeCountGrid(bins(2000), rows(MAX_DENSITY_CELLS / 2000));
    expect(atCap.counts.length).toBe(MAX_DENSITY_CELLS);
    atCap.add([0.5, 1999.5], [0, 1999]);
    expect([atCap.counts[0], atCap.counts[MAX_DENSITY_CELLS - 1], atCap.counted]).toEqual([1, 1, 2]);
    expect(spikeCountPanel(atCap.counts, atCap.bins, atCap.rows).title).toBe('spikes: 2 spikes, 1 neuron per row');
    // one row more, and a grid too large to allocate at all (10^6 · 10^6 cells): refused, naming rows · bins and the cap
    for (const [r, b] of [[2001, 2000], [1_000_000, 1_000_000], [1, MAX_DENSITY_CELLS + 1]] as const) {
      expect(() => new SpikeCountGrid(bins(b), rows(r))).toThrow(
        `invalid rows.count · bins.count: got ${r * b}, expected at most ${MAX_DENSITY_CELLS} cells per grid, the most a spike-count panel draws (rows.count ${r} · bins.count ${b}; fewer rows or bins)`,
      );
    }
  });

  it('placeColorbars: a heatmap in the left column of two gets its colour bar beside its own panel (its y domain, right of its x domain)', () => {
    const grid = new SpikeCountGrid(gridTimeBins(1, 10, 1), neuronRows(0, 3));
    grid.add([1, 2, 10], [0, 3, 3]);
    const fig = placeColorbars(panelFigure('t', [
      { traces: [{ type: 'scatter', x: [0], y: [0] }] },
      { traces: [{ type: 'scatter', x: [0], y: [0] }] },
      spikeCountPanel(grid.counts, grid.bins, grid.rows),
    ], { columns: 2 }));
    const hm = fig.data[2]!;
    const yd = (fig.layout.yaxis3 as { domain: [number, number] }).domain;
    const xd = (fig.layout.xaxis3 as { domain: [number, number] }).domain;
    expect(xd[1]).toBeLessThan(1);
    expect(hm.colorbar).toMatchObject({ y: (yd[0] + yd[1]) / 2, len: yd[1] - yd[0], x: xd[1] + 0.01, xanchor: 'left' });
    expect(hm.z).toEqual([[1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]].map((r, i) => (i === 0 ? [1, 0, 0, 0, 0, 0, 0, 0, 0, 0] : i === 3 ? [0, 1, 0, 0, 0, 0, 0, 0, 0, 1] : r)));
  });
});
