// The eprop-evidence example's figures put caller text (titles, weight names, traced-weight names)
// into plotly layouts and trace names, which plotly reads as pseudo-HTML: `E<I>` would draw as `E`.
// Every label must reach the figure JSON with &, < and > escaped (src/viz plotlyText).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EPROP_FIGURE_CAPS, learningCurves, sequenceFigure, weightsFigure, weightTracesFigure } from '../../examples/eprop-evidence/figures.js';
import example from '../../examples/eprop-evidence/index.js';
import { backendInfo } from '../../src/core/backend.js';
import type { Params, RunContext } from '../../src/cli/example.js';
import type { Figure } from '../../src/viz/figure.js';
import { expectEnvelope, withSettings } from '../helpers/envelope.js';

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

/** Runs `fn` with EPROP_FIGURE_CAPS.maxPoints = cap (restored after). */
const withCap = <T>(cap: number, fn: () => T | Promise<T>): Promise<T> => withSettings(EPROP_FIGURE_CAPS, { maxPoints: cap }, fn);

describe('eprop-evidence figures of long trainings', () => {
  it('weightTracesFigure: a weight time course of more than maxPoints values is its min/max envelope, named and titled so; shorter ones are drawn whole', async () => {
    // a wobbling weight (float64 values, a closed form) over 301 values (iterations 0 … 300)
    const long = Array.from({ length: 301 }, (_, i) => Math.sin(i * 0.37) * Math.exp(-i / 200) + 0.001 * i);
    const short = [0.5, 0.25, 0.75];
    const fig = await withCap(20, () => weightTracesFigure([{ name: 'W_in[0, 1]', values: long }, { name: 'W_rec[1, 0]', values: short }]));
    expect(fig.title).toBe('weight time courses (1 of 2 lines decimated to ≤ 20 points: min/max per bucket)');
    expectEnvelope(fig.data[0]!, 'W_in[0, 1]', long.map((_, i) => i), long, 20);
    expect(fig.data[1]).toMatchObject({ name: 'W_rec[1, 0]', x: [0, 1, 2], y: short });
  });

  it('a training of more iterations than maxPoints: loss, recall error and validation points are min/max envelopes of run_summary.json\'s series', async () => {
    const cap = 10;
    const params: Params = {};
    for (const o of example.options) params[o.name] = o.default;
    // 30 iterations, validated after each (31 validations: iteration 0 too), no early stop
    Object.assign(params, example.presets.tiny, { iterations: 30, validateEvery: 1, stopError: 0 });
    const summary: Record<string, unknown> = {};
    const figures = new Map<string, Figure>();
    const dir = mkdtempSync(join(tmpdir(), 'cinder-eprop-long-'));
    const ctx: RunContext = {
      outDir: dir, params, seed: 5, backend: backendInfo()!, quiet: true, signal: new AbortController().signal,
      log: () => {}, progress: () => ({ tick: () => {}, done: () => {} }),
      checkpoint: async (s) => void Object.assign(summary, s),
      figure: async (name, f) => void figures.set(name, f),
      artifactJson: async () => {}, artifactNpy: async () => {}, artifactPath: (n) => join(dir, n),
      resumed: false, checkpointDir: join(dir, 'checkpoint'), keepResponsive: async () => {},
    };
    await withCap(cap, () => example.run(ctx));
    const loss = summary.loss as number[];
    const err = summary.recall_error as number[];
    const val = summary.validation as { iteration: number; error: number; loss: number }[];
    expect(loss).toHaveLength(30);
    expect(val.length).toBeGreaterThan(cap);
    const lc = figures.get('learning-curves')!;
    expect(lc.title).toBe(`e-prop on evidence accumulation: learning curves (4 of 4 lines decimated to ≤ ${cap} points: min/max per bucket)`);
    const byName = (prefix: string) => lc.data.find((t) => String(t.name).startsWith(prefix))!;
    const its = loss.map((_, i) => i + 1);
    const vIts = val.map((v) => v.iteration);
    expectEnvelope(byName('training loss'), 'training loss', its, loss, cap);
    expectEnvelope(byName('training recall error'), 'training recall error', its, err, cap);
    expectEnvelope(byName('validation loss'), 'validation loss', vIts, val.map((v) => v.loss), cap);
    expectEnvelope(byName('validation error'), 'validation error', vIts, val.map((v) => v.error), cap);
    expect(byName('7 % criterion')).toMatchObject({ x: [0, 30], y: [0.07, 0.07] });
    // the weight time courses: 31 values each (iteration 0 … 30), decimated to ≤ cap
    const wt = figures.get('weight-traces')!;
    expect(wt.data.length).toBeGreaterThan(0);
    for (const t of wt.data) {
      expect(String(t.name)).toMatch(/ \(min\/max of 4 buckets of 31 points\)$/);
      expect((t.x as number[]).length).toBeLessThanOrEqual(cap);
      expect((t.x as number[])[0]).toBe(0);
      expect((t.x as number[]).at(-1)).toBe(30);
    }
    // the sequence figures (one sequence of T steps) are not capped
    const seq = figures.get('sequence-late')!.data.find((t) => t.mode === 'lines')!;
    expect((seq.x as number[]).length).toBeGreaterThan(cap);
  }, 300_000);
});
