// The eprop-evidence example's figures put caller text (titles, weight names, traced-weight names)
// into plotly layouts and trace names, which plotly reads as pseudo-HTML: `E<I>` would draw as `E`.
// Every label must reach the figure JSON with &, < and > escaped (src/viz plotlyText).
import { describe, expect, it } from 'vitest';
import { learningCurves, sequenceFigure, weightsFigure, weightTracesFigure } from '../../examples/eprop-evidence/figures.js';
import type { Figure } from '../../src/viz/figure.js';

const RAW = 'E<I> & <b>x</b>';
const ESCAPED = 'E&lt;I&gt; &amp; &lt;b&gt;x&lt;/b&gt;';

/** Every string in the figure's data and layout (the JSON plotly reads). */
function strings(fig: Figure): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(fig.data);
  walk(fig.layout);
  return out;
}

/** No raw `<`, `>` or unescaped `&` in any string plotly reads; `ESCAPED` present `times` times at least. */
function expectEscaped(fig: Figure, atLeast: number): void {
  const all = strings(fig);
  for (const s of all) {
    expect(s).not.toMatch(/[<>]/);
    expect(s).not.toMatch(/&(?!amp;|lt;|gt;)/);
  }
  expect(all.filter((s) => s.includes(ESCAPED)).length).toBeGreaterThanOrEqual(atLeast);
  expect(JSON.stringify(fig.layout)).toContain(ESCAPED);
}

describe('eprop-evidence figures escape labels for plotly', () => {
  it('sequenceFigure: the caller\'s title in the layout title, escaped', () => {
    const T = 4;
    const n = 2;
    const nOut = 2;
    const rec = {
      steps: T, n, nOut,
      spikes: Uint8Array.from({ length: T * n }, (_, k) => k % 3 === 0 ? 1 : 0),
      v: new Float32Array(T * n), threshold: new Float32Array(T * n), psi: new Float32Array(T * n), learningSignal: new Float32Array(T * n),
      readout: new Float64Array(T * nOut), output: new Float64Array(T * nOut).fill(NaN), target: new Float64Array(T * nOut).fill(NaN),
    };
    const fig = sequenceFigure(RAW, rec, Float32Array.from({ length: T * 3 }, (_, k) => k % 2), 3, 1);
    expect((fig.layout.title as { text: string }).text).toBe(ESCAPED);
    expect(fig.title).toBe(RAW); // the page title stays plain (the HTML writer escapes it)
    expectEscaped(fig, 1);
  });

  it('weightsFigure: matrix names in trace names and axis titles, escaped', () => {
    const m = { data: Float32Array.of(1, -1, 0.5, 2), rows: 2, cols: 2 };
    const fig = weightsFigure({ [RAW]: m }, { [RAW]: m });
    const names = fig.data.map((t) => t.name);
    expect(names).toEqual([`${ESCAPED} before`, `${ESCAPED} after`]);
    expect((fig.layout.xaxis as { title: { text: string } }).title.text).toBe(`${ESCAPED} before: presynaptic`);
    expectEscaped(fig, 4);
  });

  it('weightTracesFigure and learningCurves: trace names escaped', () => {
    const fig = weightTracesFigure([{ name: RAW, values: [0, 1, 2] }, { name: 'W_rec[0, 1]', values: [1, 1, 1] }]);
    expect(fig.data.map((t) => t.name)).toEqual([ESCAPED, 'W_rec[0, 1]']);
    expect(strings(fig).some((s) => s.includes(ESCAPED))).toBe(true);
    for (const s of strings(fig)) expect(s).not.toMatch(/[<>]/);
    const lc = learningCurves({ loss: [1, 0.5], recallError: [0.5, 0.2], validation: [{ iteration: 2, error: 0.1, loss: 0.4 }] });
    for (const s of strings(lc)) expect(s).not.toMatch(/[<>]|&(?!amp;|lt;|gt;)/);
  });
});
