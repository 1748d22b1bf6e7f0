// Figure builders: panel layout, data conversion (spike matrices, recordings), bins, matrices, bars.
import { describe, expect, it } from 'vitest';
import {
  axisIds, beforeAfterHistogram, commonBins, figureHtml, heatmapFigure, histogramFigure, learningCurves, panelFigure, rasterFromRecordings,
  seriesFromRecording, spikeEventsFromMatrix, spikeRaster, spikesFromRecording, synapseChangeBars, timeSeriesFigure, toRows, tracesFromRecordings,
} from '../../src/node.js';

describe('panelFigure', () => {
  it('stacks panels top to bottom on one shared x axis', () => {
    const f = panelFigure('t', [{ traces: [{ type: 'scatter', y: [1] }] }, { traces: [{ type: 'scatter', y: [2] }, { type: 'scatter', y: [3] }] }, { traces: [] }]);
    expect(f.panels).toBe(3);
    expect(f.data.map((d) => [d.xaxis, d.yaxis])).toEqual([['x3', 'y'], ['x3', 'y2'], ['x3', 'y2']]);
    const l = f.layout as Record<string, { domain: number[]; anchor: string }>;
    // three rows with gap 0.06: height (1 − 0.12)/3 each
    expect(l.yaxis!.domain[1]).toBe(1);
    expect(l.yaxis!.domain[0]).toBeCloseTo(1 - 0.88 / 3, 6);
    expect(l.yaxis3!.domain).toEqual([0, expect.closeTo(0.88 / 3, 6)]);
    expect(l.xaxis3!.anchor).toBe('y3');
    expect(l.xaxis).toBeUndefined();
  });

  it('tiles independent panels in columns', () => {
    const f = panelFigure('t', [{ traces: [] }, { traces: [] }, { traces: [] }], { columns: 2 });
    const l = f.layout as Record<string, { domain: number[] }>;
    expect(l.xaxis!.domain).toEqual([0, 0.46]);
    expect(l.xaxis2!.domain).toEqual([0.54, 1]);
    expect(l.yaxis3!.domain[1]).toBeCloseTo(0.47, 6);
    expect(axisIds(4)).toEqual({ x: 'x5', y: 'y5', xKey: 'xaxis5', yKey: 'yaxis5' });
  });

  it('rejects no panels', () => expect(() => panelFigure('t', [])).toThrow(/panels/));

  it('rejects a gap that leaves no room for the panels (zero or negative heights, overlaps)', () => {
    const three = [{ traces: [] }, { traces: [] }, { traces: [] }];
    // 3 rows with gap g: row height (1 − 2g)/3, so g must stay below 1/2
    expect(() => panelFigure('t', three, { gap: 0.6 })).toThrow('invalid gap: got 0.6, expected a number in [0, 0.5) (3 rows, 1 column)');
    expect(() => panelFigure('t', three, { gap: 0.5 })).toThrow(/invalid gap: got 0.5/);
    expect(() => panelFigure('t', three.slice(0, 2), { gap: -0.5 })).toThrow(/invalid gap: got -0.5, expected a number in \[0, 1\)/);
    expect(() => panelFigure('t', three, { gap: NaN })).toThrow(/invalid gap: got NaN/);
    // 2 × 2 grid: rows and columns share the gap, the stricter bound is 1/(2 − 1) = 1
    expect(() => panelFigure('t', [...three, { traces: [] }], { columns: 2, gap: 1 })).toThrow(/\[0, 1\) \(2 rows, 2 columns\)/);
    const ok = panelFigure('t', three, { gap: 0.3 });
    const l = ok.layout as Record<string, { domain: number[] }>;
    for (const k of ['yaxis', 'yaxis2', 'yaxis3']) expect(l[k]!.domain[1] - l[k]!.domain[0]).toBeCloseTo((1 - 2 * 0.3) / 3, 5);
  });
});

describe('labels are plain text', () => {
  // plotly reads titles, axis titles and trace names as pseudo-HTML: "E<I>" drew as "E" (the tag
  // <I> swallowed) and "a<b & c>d" as "ad"; the builders pass them escaped (&lt; &gt; &amp;, which
  // plotly decodes), so the figure shows the label it was given
  const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  it('titles, panel titles, axis titles and trace names reach plotly without markup', () => {
    const labels = ['E<I>', 'a<b & c>d', 'x &amp; y', '</script>'];
    const f = spikeRaster(labels[0]!, labels.map((name, i) => ({ times: [i], neurons: [0], name })), { xTitle: labels[1] });
    const layout = f.layout as { title: { text: string }; annotations: { text: string }[]; xaxis4: { title: { text: string } } };
    const texts = [layout.title.text, ...layout.annotations.map((a) => a.text.replace(/^<b>(.*)<\/b>$/, '$1')), layout.xaxis4.title.text, ...f.data.map((d) => d.name as string)];
    for (const t of texts) expect(t).not.toMatch(/<|>|&(?!(lt|gt|amp);)/);
    expect(texts.map(unescape)).toEqual([labels[0], ...labels, labels[1], ...labels]);
    expect(f.title).toBe(labels[0]); // the page's own <title> is escaped as HTML by figureHtml
  });
});

describe('rasters', () => {
  it('spike matrix → events at t0 + k·dt', () => {
    const m = [0, 1, 1, 0, 0, 1]; // 3 steps × 2 neurons
    const e = spikeEventsFromMatrix(m, 3, 2, { dt: 0.5 });
    expect(Array.from(e.times)).toEqual([0.5, 1, 1.5]);
    expect(Array.from(e.neurons)).toEqual([1, 0, 1]);
    expect(() => spikeEventsFromMatrix(m, 2, 2)).toThrow(/data/);
    // spikeEventsFromMatrix's t0 must be finite (NaN gave every spike the time NaN)
    expect(() => spikeEventsFromMatrix([1, 0], 1, 2, { t0: NaN })).toThrow(/^invalid t0: got NaN, expected a finite number$/);
    expect(Array.from(spikeEventsFromMatrix([1, 0, 0, 1], 2, 2, { t0: -0.5, dt: 0.25 }).times)).toEqual([-0.5, -0.25]);
  });

  it('WebGL above the threshold, SVG below; one panel per population', () => {
    const big = { times: new Float64Array(3000), neurons: new Int32Array(3000), name: 'big' };
    const small = { times: [1, 2], neurons: [0, 1], name: 'small' };
    const f = spikeRaster('r', [big, small]);
    expect(f.panels).toBe(2);
    expect(f.data.map((d) => d.type)).toEqual(['scattergl', 'scatter']);
    expect(spikeRaster('r', [big, small], { separatePanels: false }).panels).toBe(1);
    expect(() => spikeRaster('r', { times: [1], neurons: [] })).toThrow(/neurons/);
    // a time range that is not two finite, increasing numbers ([NaN, 5] became [null, 5] in the page)
    for (const bad of [[5, 1], [NaN, 5], [0, Infinity], [2, 2]] as [number, number][]) {
      expect(() => spikeRaster('r', small, { timeRange: bad })).toThrow(/invalid timeRange: got .*, expected \[t0, t1\]: finite numbers with t0 < t1/);
    }
    expect((spikeRaster('r', small, { timeRange: [0, 3] }).layout.xaxis as { range: number[] }).range).toEqual([0, 3]);
  });

  it('the dots\' hover text names the axes by their titles, as the heatmaps do (a position axis is not \'t\'); t and neuron untitled', () => {
    const e = { times: [1, 2], neurons: [0, 1], name: 'TS' };
    const tail = { [Infinity]: '<extra>%{fullData.name}</extra>', 1: '<br>%{z} spikes<extra>%{fullData.name}</extra>' };
    for (const maxSpikes of [Infinity, 1]) {
      const titled = spikeRaster('r', e, { xTitle: 'sphere x (cm) <%{y}>', yTitle: 'TS cell', maxSpikes }).data[0]!;
      expect([titled.type, titled.hovertemplate]).toEqual([maxSpikes === 1 ? 'heatmap' : 'scatter', `sphere x (cm) &lt;%\u200b{y}&gt; %{x}<br>TS cell %{y}${tail[maxSpikes]}`]);
      expect(spikeRaster('r', e, { maxSpikes }).data[0]!.hovertemplate).toBe(`t %{x}<br>neuron %{y}${tail[maxSpikes]}`);
    }
  });

  it('recordings [T, B, N]: the chosen batch entry, times from recorded steps', () => {
    // T = 2, B = 2, N = 3; batch 1 spikes: step 1 neuron 2, step 2 neurons 0 and 1
    const rec = { data: [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0], shape: [2, 2, 3], steps: [5, 10] };
    const s = spikesFromRecording(rec, { batch: 1, dt: 0.1 });
    expect(Array.from(s.times)).toEqual([0.5, 1, 1]);
    expect(Array.from(s.neurons)).toEqual([2, 0, 1]);
    const r = seriesFromRecording({ toArray: () => rec, recordedSteps: () => [1, 2] }, [0, 2], { batch: 0 });
    expect(Array.from(r.time)).toEqual([1, 2]);
    expect(r.series.map((x) => Array.from(x.values))).toEqual([[0, 1], [0, 0]]);
    expect(() => spikesFromRecording(rec, { batch: 2 })).toThrow(/batch/);
    expect(() => seriesFromRecording(rec, [3])).toThrow(/neuron/);
    expect(rasterFromRecordings('x', [{ name: 'a', spikes: rec }, { name: 'b', spikes: rec }]).panels).toBe(2);
    const tr = tracesFromRecordings('v', [{ recording: rec, neurons: [0, 1], reference: { name: 'θ', value: 1 } }, { recording: rec, neurons: [2], reference: { name: 'θ', value: 1 } }]);
    expect(tr.panels).toBe(2);
    expect(tr.data.length).toBe(5);
    expect(tr.data.filter((d) => d.name === 'θ').map((d) => d.showlegend)).toEqual([true, false]);
    // a panel that is not an object is named, not a TypeError
    expect(() => tracesFromRecordings('v', [{ recording: rec, neurons: [0] }, null as never])).toThrow(/^invalid panels\[1\]: got null, expected an object \{recording, neurons/);
  });
});

describe('recording shapes', () => {
  it('a shape with a fractional, negative or NaN size is refused instead of read as garbage', () => {
    const zeros = (n: number) => new Array<number>(n).fill(0);
    // 3 · 2.5 · 4 = 30 values: before, batch 0 of "2.5" was read at offsets 0, 10, 20
    expect(() => spikesFromRecording({ data: zeros(30), shape: [3, 2.5, 4] })).toThrow('invalid recording.shape: got [3,2.5,4], expected [T, B, ...neuronShape]: integers >= 0');
    expect(() => seriesFromRecording({ data: zeros(6), shape: [2, -1, -3] }, [0])).toThrow(/recording\.shape: got \[2,-1,-3\]/);
    expect(() => spikesFromRecording({ data: zeros(0), shape: [NaN, 1] })).toThrow(/recording\.shape/);
    // step numbers that are not integers >= 0 (a NaN step gave the time NaN: a spike drawn nowhere)
    for (const steps of [[NaN, 2], [1, 2.5], [-1, 2], ['1', 2]] as never[]) {
      expect(() => spikesFromRecording({ data: [1, 1], shape: [2, 1, 1], steps })).toThrow(/^invalid recording\.steps: got .*, expected integers >= 0 \(step numbers\)$/);
    }
    // a reference line's value that is not a finite number (it was drawn as nothing: a line of nulls)
    for (const value of [NaN, Infinity, '-50'] as never[]) {
      expect(() => tracesFromRecordings('v', [{ recording: { data: [0, 1], shape: [2, 1, 1] }, neurons: [0], reference: { name: 'θ', value } }])).toThrow(/^invalid panels\[0\]\.reference\.value: got .*, expected a finite number$/);
    }
    // no records yet (T = 0) is a valid, empty recording
    expect(spikesFromRecording({ data: [], shape: [0, 1, 3] }).times.length).toBe(0);
  });
});

describe('other builders', () => {
  it('time series check lengths', () => {
    expect(() => timeSeriesFigure('t', [1, 2], [{ series: [{ name: 'a', values: [1] }] }])).toThrow(/values/);
    // webglThreshold is checked as spikeRaster's (-1 drew every panel with WebGL, NaN none)
    for (const bad of [-1, NaN, '5'] as never[]) {
      expect(() => timeSeriesFigure('t', [1, 2], [{ series: [{ name: 'a', values: [1, 2] }] }], { webglThreshold: bad })).toThrow(/^invalid webglThreshold: got .*, expected a finite number >= 0$/);
    }
  });

  it('histograms share bins that cover all samples', () => {
    expect(commonBins([[0, 1], [2, 4]], 4)).toEqual({ start: 0, end: 4, size: 1 });
    expect(commonBins([[3, 3]], 2)).toEqual({ start: 2.85, end: 3.15, size: expect.closeTo(0.15, 12) });
    const f = beforeAfterHistogram('h', [1, NaN, 2], [3]);
    expect(f.data.map((d) => d.name)).toEqual(['before', 'after']);
    expect(f.data[0]!.x).toEqual(f.data[1]!.x);
  });

  it('histograms hold exactly `bins` counts; bin k = [lo + k·size, lo + (k+1)·size), the last one includes hi', () => {
    // data range [0, 4], 4 bins of width 1: the maximum 4 belongs to the last bin [3, 4]
    const f = histogramFigure('h', [{ name: 'a', values: [0, 1, 2, 4, 3.5, NaN] }, { name: 'b', values: [4, 4, 0.5] }], { bins: 4 });
    expect(f.data.map((d) => d.x)).toEqual([[0.5, 1.5, 2.5, 3.5], [0.5, 1.5, 2.5, 3.5]]);
    expect(f.data.map((d) => d.y)).toEqual([[1, 1, 1, 2], [1, 0, 0, 2]]);
    expect(f.data[0]!.width).toBe(1);
    // song2000's weights: range [0, 1] and 40 bins; w = gmax lands in bin 40, samples outside the range are not counted
    const w = [0, 0.01, 0.5, 0.975, 0.99, 1, 1, 1.001, -0.001];
    const g = beforeAfterHistogram('w', w, [1], { bins: 40, range: [0, 1] });
    const y = g.data[0]!.y as number[];
    expect(y.length).toBe(40);
    expect([y[0], y[20], y[39]]).toEqual([2, 1, 4]);
    expect(y.reduce((a, b) => a + b, 0)).toBe(7);
    expect((g.data[1]!.y as number[])[39]).toBe(1);
    // no finite samples: a valid empty figure
    expect((histogramFigure('e', [{ name: 'e', values: [NaN] }], { bins: 2 }).data[0]!.y)).toEqual([0, 0]);
    expect(() => histogramFigure('r', [{ name: 'a', values: [1] }], { range: [0, NaN] })).toThrow(/invalid range: got \[0,null\]|invalid range/);
    expect(() => histogramFigure('r', [{ name: 'a', values: [1] }], { range: [1, 0] })).toThrow(/invalid range/);
  });

  it('histograms whose range spans more than the largest double (hi − lo overflows) still bin every sample', () => {
    // [−1e308, 1e308]: hi − lo = Infinity, but the width 5e307 of 4 bins is finite
    const f = histogramFigure('wide', [{ name: 'a', values: [-1e308, -1e307, 1e307, 1e308] }], { bins: 4 });
    expect(f.data[0]!.y).toEqual([1, 1, 1, 1]);
    expect(f.data[0]!.width).toBe(5e307);
    const lo = -1e308;
    const size = 1e308 / 4 - lo / 4;
    expect(f.data[0]!.x).toEqual([0, 1, 2, 3].map((k) => lo + (k + 0.5) * size));
    // a given range: edges −1.5, −0.75, 0, 0.75, 1.5 (·1e308); 0 opens bin 2, 1.5e308 closes bin 3
    const g = histogramFigure('r', [{ name: 'a', values: [0, 0.7e308, 1.5e308, -1.6e308] }], { bins: 4, range: [-1.5e308, 1.5e308] });
    expect(g.data[0]!.y).toEqual([0, 0, 2, 1]);
    expect(commonBins([[-1e308, 1e308]], 4)).toEqual({ start: -1e308, end: 1e308, size: 5e307 });
    // one value near the largest double: its ±5 % bin stays finite and holds it
    const h = histogramFigure('one', [{ name: 'a', values: [1.75e308] }], { bins: 3 });
    expect((h.data[0]!.y as number[]).reduce((a, b) => a + b, 0)).toBe(1);
    expect(commonBins([[1.75e308]], 3)).toEqual({ start: 1.75e308 - 0.05 * 1.75e308, end: Number.MAX_VALUE, size: (Number.MAX_VALUE - (1.75e308 - 0.05 * 1.75e308)) / 3 });
  });

  it('heatmaps: row-major → rows, symmetric range for signed weights', () => {
    expect(toRows({ name: 'm', data: [1, 2, 3, 4, 5, 6], rows: 2, cols: 3 })).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(() => toRows({ name: 'm', data: [1], rows: 2, cols: 3 })).toThrow(/m.data/);
    const f = heatmapFigure('w', [{ name: 'a', data: [-1, 2], rows: 1, cols: 2 }, { name: 'b', data: [0, 3], rows: 1, cols: 2 }]);
    expect(f.panels).toBe(2);
    expect(f.data.map((d) => [d.zmin, d.zmax])).toEqual([[-3, 3], [-3, 3]]);
  });

  it('synapse bars: change = after − before', () => {
    const f = synapseChangeBars('s', [1, 2, 3], [1.5, 1, 3]);
    expect(f.panels).toBe(2);
    expect(f.data[2]!.y).toEqual([0.5, -1, 0]);
    expect(synapseChangeBars('s', [1], [2], { show: 'change' }).panels).toBe(1);
    expect(() => synapseChangeBars('s', [1], [1, 2])).toThrow(/after/);
  });

  it('learning curves default to x = 1..n', () => {
    const f = learningCurves('c', [{ curves: [{ name: 'l', y: [3, 2] }] }, { curves: [{ name: 'e', y: [1] , x: [2] }], logY: true }]);
    expect(f.data[0]!.x).toEqual([1, 2]);
    expect(f.panels).toBe(2);
    expect((f.layout.yaxis2 as { type: string }).type).toBe('log');
  });
});

describe('figureHtml', () => {
  const f = panelFigure('a </script> title', [{ traces: [{ type: 'scatter', name: '<b>', y: Float32Array.from([1, NaN]) }] }]);
  it('embeds the spec safely and references or inlines plotly', () => {
    const rel = figureHtml(f, { plotly: 'relative' });
    expect(rel).toContain('<script src="plotly.min.js"></script>');
    expect(rel).toContain('<title>a &lt;/script&gt; title</title>');
    const spec = /<script type="application\/json" id="figure-spec">(.*)<\/script>/.exec(rel)![1]!;
    expect(spec).not.toContain('<');
    expect(JSON.parse(spec).data[0].y).toEqual([1, null]);
    const inline = figureHtml(f);
    expect(inline.length).toBeGreaterThan(4_000_000);
    expect(inline).not.toContain('src="plotly.min.js"');
    // only the page's own three script elements (plotly, spec, code) close
    expect(inline.match(/<\/script/gi)!.length).toBe(3);
  });
  it('rejects malformed figures', () => {
    expect(() => figureHtml({ ...f, panels: 0 })).toThrow(/panels/);
  });
});
