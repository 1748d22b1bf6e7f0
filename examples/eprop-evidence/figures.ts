/**
 * Figure builders of the `eprop-evidence` example (plain plotly data, see src/viz/figure.ts). Every
 * title, axis title and trace name is plain text: `&`, `<`, `>` are escaped with `plotlyText`, as
 * `panelFigure` does (plotly reads labels as pseudo-HTML and would draw `E<I>` as `E`).
 */
import type { Figure, Trace } from '../../src/viz/figure.js';
import { plotlyText } from '../../src/viz/panels.js';
import type { EPropSequenceRecord } from '../../src/learn/eprop/index.js';
import { DEFAULT_MAX_POINTS, decimateLine, decimatedName, decimatedTitle } from '../../src/viz/decimate.js';

/**
 * Cap of the series that grow with the training (the viz default): a per-iteration series (loss,
 * recall error, NEST's losses, validation points, weight time courses) of more than `maxPoints`
 * values is drawn as its min/max envelope ({@link decimateLine}: every extreme kept at its own
 * iteration), named so, and the figure's title says how many were. The sequence figures (one
 * sequence: `T` steps, whatever `--iterations`) are not capped. A setting so that tests can use a
 * small cap.
 */
export const EPROP_FIGURE_CAPS = { maxPoints: DEFAULT_MAX_POINTS };

/** Counts the series {@link capped} decimated, for the title. */
interface CapCount {
  series: number;
  decimated: number;
}

/**
 * The trace `{...head, x, y, ...tail}` of (x, y) through {@link decimateLine} at
 * {@link EPROP_FIGURE_CAPS} (below the cap: x, y themselves and `head.name`).
 */
function capped(count: CapCount, head: Trace & { name: string }, x: number[], y: number[], tail: Record<string, unknown> = {}): Trace {
  const d = decimateLine(x, y, EPROP_FIGURE_CAPS.maxPoints);
  count.series++;
  if (d.buckets === 0) return { ...head, x, y, ...tail };
  count.decimated++;
  return { ...head, name: decimatedName(head.name, d.buckets, y.length), x: Array.from(d.x), y: Array.from(d.y), ...tail };
}

function axis(i: number): { x: string; y: string } {
  return { x: i === 0 ? 'x' : `x${i + 1}`, y: i === 0 ? 'y' : `y${i + 1}` };
}

function stacked(title: string, panels: { title: string; traces: Trace[]; yTitle?: string }[], xTitle: string): Figure {
  // One column of panels sharing the x axis ('x'), each with its own y axis (y, y2, …).
  const data: Trace[] = [];
  const layout: Record<string, unknown> = {
    title: { text: plotlyText(title) },
    grid: { rows: panels.length, columns: 1, pattern: 'coupled', roworder: 'top to bottom' },
    height: Math.max(520, 180 * panels.length),
    showlegend: true,
    xaxis: { title: { text: plotlyText(xTitle) }, anchor: panels.length === 1 ? 'y' : `y${panels.length}` },
  };
  panels.forEach((p, i) => {
    const y = i === 0 ? 'y' : `y${i + 1}`;
    for (const t of p.traces) data.push({ ...t, ...(typeof t.name === 'string' ? { name: plotlyText(t.name) } : {}), xaxis: 'x', yaxis: y });
    layout[`yaxis${i === 0 ? '' : i + 1}`] = { title: { text: plotlyText(p.yTitle ?? p.title) } };
  });
  return { title, data, layout, panels: panels.length };
}

/** Loss and recall error per iteration (training and validation); long series: see {@link EPROP_FIGURE_CAPS}. */
export function learningCurves(r: { loss: number[]; recallError: number[]; validation: { iteration: number; error: number; loss: number }[]; reference?: number[] }): Figure {
  const it = r.loss.map((_, i) => i + 1);
  const count: CapCount = { series: 0, decimated: 0 };
  const vIt = r.validation.map((v) => v.iteration);
  const lossTraces: Trace[] = [capped(count, { type: 'scatter', mode: 'lines', name: 'training loss' }, it, r.loss)];
  if (r.reference) lossTraces.push(capped(count, { type: 'scatter', mode: 'markers', name: 'NEST loss' }, it, r.reference, { marker: { symbol: 'x', size: 10 } }));
  if (r.validation.length) lossTraces.push(capped(count, { type: 'scatter', mode: 'markers', name: 'validation loss' }, vIt, r.validation.map((v) => v.loss)));
  const errTraces: Trace[] = [capped(count, { type: 'scatter', mode: 'lines', name: 'training recall error' }, it, r.recallError)];
  if (r.validation.length) errTraces.push(capped(count, { type: 'scatter', mode: 'markers', name: 'validation error' }, vIt, r.validation.map((v) => v.error)));
  errTraces.push({ type: 'scatter', mode: 'lines', name: '7 % criterion', x: [0, Math.max(1, it.length)], y: [0.07, 0.07], line: { dash: 'dot' } });
  return stacked(decimatedTitle('e-prop on evidence accumulation: learning curves', count.decimated, count.series, EPROP_FIGURE_CAPS.maxPoints), [
    { title: 'loss', traces: lossTraces, yTitle: 'cross-entropy' },
    { title: 'recall error', traces: errTraces, yTitle: 'recall error' },
  ], 'iteration');
}

/** All signals of one sequence: input and recurrent spikes, voltages, thresholds, ψ, L, readouts. */
export function sequenceFigure(title: string, rec: EPropSequenceRecord, input: Float32Array, nIn: number, nLif: number): Figure {
  const { steps: T, n, nOut } = rec;
  const steps = Array.from({ length: T }, (_, t) => t);
  const raster = (get: (t: number, i: number) => number, count: number, name: string): Trace => {
    const x: number[] = [];
    const y: number[] = [];
    for (let t = 0; t < T; t++) for (let i = 0; i < count; i++) if (get(t, i) !== 0) {
      x.push(t);
      y.push(i);
    }
    return { type: 'scattergl', mode: 'markers', name, x, y, marker: { size: 3 } };
  };
  // Two LIF and two ALIF neurons (the most active of each kind).
  const counts = new Array<number>(n).fill(0);
  for (let t = 0; t < T; t++) for (let j = 0; j < n; j++) counts[j] += rec.spikes[t * n + j]!;
  const pick = (lo: number, hi: number) => Array.from({ length: hi - lo }, (_, i) => lo + i).sort((a, b) => counts[b]! - counts[a]!).slice(0, 2);
  const shown = [...pick(0, nLif), ...pick(nLif, n)];
  const lines = (arr: ArrayLike<number>, label: string, which = shown): Trace[] =>
    which.map((j) => ({ type: 'scattergl', mode: 'lines', name: `${label} ${j < nLif ? 'LIF' : 'ALIF'} ${j}`, x: steps, y: steps.map((t) => arr[t * n + j]!) }));
  const outTraces: Trace[] = [];
  for (let k = 0; k < nOut; k++) {
    outTraces.push({ type: 'scattergl', mode: 'lines', name: `readout y${k}`, x: steps, y: steps.map((t) => rec.readout[t * nOut + k]!) });
    outTraces.push({ type: 'scattergl', mode: 'lines', name: `π${k}`, x: steps, y: steps.map((t) => nanToNull(rec.output[t * nOut + k]!)) });
    outTraces.push({ type: 'scattergl', mode: 'lines', name: `target ${k}`, x: steps, y: steps.map((t) => nanToNull(rec.target[t * nOut + k]!)), line: { dash: 'dot' } });
  }
  return stacked(title, [
    { title: 'input spikes', traces: [raster((t, i) => input[t * nIn + i]!, nIn, 'input spikes')], yTitle: 'input' },
    { title: 'recurrent spikes', traces: [raster((t, j) => rec.spikes[t * n + j]!, n, 'recurrent spikes')], yTitle: 'neuron' },
    { title: 'voltages', traces: lines(rec.v, 'v'), yTitle: 'v (rel. rest)' },
    { title: 'adaptive thresholds', traces: lines(rec.threshold, 'A', shown.filter((j) => j >= nLif)), yTitle: 'threshold A' },
    { title: 'surrogate gradients', traces: lines(rec.psi, 'ψ'), yTitle: 'ψ' },
    { title: 'learning signals', traces: lines(rec.learningSignal, 'L'), yTitle: 'L' },
    { title: 'readout', traces: outTraces, yTitle: 'readout / target' },
  ], 'time step (ms)');
}

function nanToNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

/** Heatmaps of the three weight matrices before and after training. */
export function weightsFigure(before: Record<string, { data: Float32Array; rows: number; cols: number }>, after: typeof before): Figure {
  const names = Object.keys(before);
  const data: Trace[] = [];
  const layout: Record<string, unknown> = {
    title: { text: 'weights before (left) and after (right) training' },
    grid: { rows: names.length, columns: 2, pattern: 'independent' },
    height: 330 * names.length,
  };
  let i = 0;
  for (const name of names) {
    for (const [when, m] of [['before', before[name]!], ['after', after[name]!]] as const) {
      const ax = axis(i);
      const z: number[][] = [];
      for (let r = 0; r < m.rows; r++) z.push(Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)));
      data.push({ type: 'heatmap', name: plotlyText(`${name} ${when}`), z, xaxis: ax.x, yaxis: ax.y, colorscale: 'RdBu', zmid: 0, showscale: i === 1 });
      layout[`xaxis${i === 0 ? '' : i + 1}`] = { title: { text: plotlyText(`${name} ${when}: presynaptic`) } };
      layout[`yaxis${i === 0 ? '' : i + 1}`] = { title: { text: 'postsynaptic' } };
      i++;
    }
  }
  return { title: 'weights before and after', data, layout, panels: names.length * 2 };
}

/** Time courses of a few weights over the training iterations; long series: see {@link EPROP_FIGURE_CAPS}. */
export function weightTracesFigure(series: { name: string; values: number[] }[]): Figure {
  const count: CapCount = { series: 0, decimated: 0 };
  const traces: Trace[] = series.map((s) => capped(count, { type: 'scatter', mode: 'lines', name: s.name }, s.values.map((_, i) => i), s.values));
  return stacked(decimatedTitle('weight time courses', count.decimated, count.series, EPROP_FIGURE_CAPS.maxPoints), [{ title: 'weights', traces, yTitle: 'weight' }], 'iteration (0 = initial)');
}
