/**
 * The sweep folder: `sweep.json` (the plan and one record per run with its status and scalar
 * results), `summary.json` (every numeric metric per grid point: mean, sample std, min, max over
 * the completed seeds) and `figures/summary.html` (each metric against each grid parameter, mean ±
 * std with the single seeds as dots). Only the sweep's coordinator writes these files, atomically.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CinderArgumentError } from '../core/errors.js';
import { writeJsonAtomic, type AtomicWriteOptions } from '../io/atomic.js';
import type { ExampleSpec, Params } from '../cli/example.js';
import { aggregateSeeds, type SeedStats } from '../cli/runner.js';
import { BOOKKEEPING_KEYS } from '../cli/run-folder.js';
import { panelFigure, type Panel } from '../viz/panels.js';
import type { Figure, Trace } from '../viz/figure.js';
import { writeFigureHtml } from '../viz/html.js';
import { kebabCase } from '../cli/options.js';
import { pointName, type PlannedRun, type SweepPlan } from './plan.js';

/** Status of one run of a sweep. */
export type SweepRunStatus = 'waiting' | 'running' | 'completed' | 'failed' | 'interrupted';

/** One run's record in sweep.json. */
export interface SweepRunRecord extends PlannedRun {
  /** Current status. */
  status: SweepRunStatus;
  /** Run folder relative to the sweep folder (`runs/<job>`). */
  dir: string;
  /** How many times a job for it was started. */
  attempts: number;
  /** Exit code of the last attempt's process (null when killed by a signal). */
  exit_code?: number | null;
  /** Scalar results of the run (numbers, strings, booleans from run_summary.json). */
  summary?: Record<string, unknown>;
  /** Error text of a failed run. */
  error?: string;
  /** Wall time of the last attempt's process, in ms. */
  ms?: number;
  /** Where it ran (host:pid of the worker, or `local`). */
  worker?: string;
}

/** Content of sweep.json. */
export interface SweepFile {
  /** Format tag. */
  format: 'cinder-sweep/1';
  /** Identifier of this sweep (job ids in Redis start with it). */
  id: string;
  /** What is swept. */
  plan: SweepPlan;
  /** One record per run, in plan order. */
  runs: SweepRunRecord[];
  /** When the sweep was first started. */
  created_at: string;
  /** Last write. */
  updated_at: string;
}

/** Reads `DIR/sweep.json`, or undefined when there is none. */
export function readSweepFile(dir: string): SweepFile | undefined {
  const path = join(dir, 'sweep.json');
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CinderArgumentError('sweep folder', dir, `a readable sweep.json (${e instanceof Error ? e.message : String(e)})`);
  }
  const f = raw as SweepFile;
  if (typeof f !== 'object' || f === null || f.format !== 'cinder-sweep/1' || !Array.isArray(f.runs)) {
    throw new CinderArgumentError('sweep folder', dir, 'a sweep.json written by cinder sweep');
  }
  return f;
}

/** Writes sweep.json atomically (`options.commit`: see `AtomicWriteOptions`). */
export async function writeSweepFile(dir: string, file: SweepFile, options: AtomicWriteOptions = {}): Promise<void> {
  file.updated_at = new Date().toISOString();
  await writeJsonAtomic(join(dir, 'sweep.json'), file, options);
}

/** Counts of runs by status. */
export function statusCounts(file: SweepFile): Record<SweepRunStatus, number> {
  const c: Record<SweepRunStatus, number> = { waiting: 0, running: 0, completed: 0, failed: 0, interrupted: 0 };
  for (const r of file.runs) c[r.status]++;
  return c;
}

/** Keys never aggregated: a run summary's bookkeeping (resumptions and crash records included) and timing. */
const NOT_METRICS: readonly string[] = [...BOOKKEEPING_KEYS, 'steps_done_at'];

/** The metrics of one grid point across its completed seeds. */
export interface PointSummary {
  /** Grid point (option name → value). */
  params: Partial<Params>;
  /** Name of the point (`drive=10`). */
  name: string;
  /** Seeds that completed. */
  seeds: number[];
  /** Per metric: mean, sample std (n − 1), min, max, n over the completed seeds. */
  metrics: Record<string, SeedStats>;
}

/** Content of summary.json: deterministic (no timings), so equal seeds give equal files. */
export interface SweepSummary {
  /** Format tag. */
  format: 'cinder-sweep-summary/1';
  /** Example name. */
  example: string;
  /** Preset. */
  mode: string;
  /** Grid axes. */
  grid: SweepPlan['grid'];
  /** All seeds of the plan. */
  seeds: number[];
  /** Runs in the plan. */
  runs_total: number;
  /** Runs completed. */
  runs_completed: number;
  /** Runs failed. */
  runs_failed: number;
  /** One entry per grid point, in plan order. */
  points: PointSummary[];
}

/** Builds summary.json's content from the run records (volatile and label keys of the example left out). */
export function summarize(spec: Pick<ExampleSpec, 'volatileKeys' | 'labelKeys'>, file: SweepFile): SweepSummary {
  const skip = [...NOT_METRICS, ...(spec.volatileKeys ?? []), ...(spec.labelKeys ?? [])];
  const byPoint = new Map<string, SweepRunRecord[]>();
  for (const r of file.runs) {
    const key = pointName(r.point);
    if (!byPoint.has(key)) byPoint.set(key, []);
    byPoint.get(key)!.push(r);
  }
  const points: PointSummary[] = [];
  for (const [name, runs] of byPoint) {
    const done = runs.filter((r) => r.status === 'completed').sort((a, b) => a.seed - b.seed);
    // a key is left out when it or the object it was flattened from (`timing.train_s` → `timing`) is skipped
    const kept = done.map((r) => Object.fromEntries(Object.entries(r.summary ?? {}).filter(([k]) => !skip.includes(k) && !skip.includes(k.split('.')[0]!))));
    points.push({ params: runs[0]!.point, name, seeds: done.map((r) => r.seed), metrics: aggregateSeeds(kept) });
  }
  const c = statusCounts(file);
  return {
    format: 'cinder-sweep-summary/1', example: file.plan.example, mode: file.plan.mode, grid: file.plan.grid, seeds: file.plan.seeds,
    runs_total: file.runs.length, runs_completed: c.completed, runs_failed: c.failed, points,
  };
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

/**
 * The summary figure: one panel per (metric, grid parameter): the metric's mean ± sample std over
 * seeds against the parameter's values (one line per combination of the other parameters) and
 * every seed's value as a dot. For a sweep over seeds only, one panel per metric over the seeds.
 */
export function summaryFigure(file: SweepFile, summary: SweepSummary): Figure {
  const metrics = [...new Set(summary.points.flatMap((p) => Object.keys(p.metrics)))];
  const panels: Panel[] = [];
  const grid = file.plan.grid;
  const done = file.runs.filter((r) => r.status === 'completed');
  for (const m of metrics) {
    if (grid.length === 0) {
      panels.push({
        title: m, xTitle: 'seed', yTitle: m,
        traces: [{ type: 'scatter', mode: 'markers', name: m, x: done.map((r) => r.seed), y: done.map((r) => r.summary?.[m] ?? null), showlegend: false }],
      });
      continue;
    }
    for (const axis of grid) {
      const others = grid.filter((g) => g !== axis);
      const groups = new Map<string, typeof summary.points>();
      for (const p of summary.points) {
        const key = others.map((o) => `${kebabCase(o.name)}=${String(p.params[o.name])}`).join(', ');
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key)!.push(p);
      }
      const traces: Trace[] = [];
      let gi = 0;
      for (const [key, pts] of groups) {
        const color = COLORS[gi++ % COLORS.length]!;
        const withM = pts.filter((p) => p.metrics[m]);
        traces.push({
          type: 'scatter', mode: 'lines+markers', name: key || 'mean ± std', legendgroup: key, showlegend: panels.length === 0,
          x: withM.map((p) => p.params[axis.name]), y: withM.map((p) => p.metrics[m]!.mean),
          error_y: { type: 'data', array: withM.map((p) => p.metrics[m]!.std), visible: true },
          line: { color }, marker: { color },
        });
        const seedRuns = done.filter((r) => others.every((o) => r.point[o.name] === pts[0]!.params[o.name]) && typeof r.summary?.[m] === 'number');
        traces.push({
          type: 'scatter', mode: 'markers', name: `${key ? `${key}: ` : ''}seeds`, legendgroup: key, showlegend: false,
          x: seedRuns.map((r) => r.point[axis.name]), y: seedRuns.map((r) => r.summary![m]), text: seedRuns.map((r) => `seed ${r.seed}`),
          marker: { color, size: 5, opacity: 0.45 },
        });
      }
      panels.push({ title: `${m} vs ${kebabCase(axis.name)}`, xTitle: kebabCase(axis.name), yTitle: m, traces });
    }
  }
  if (panels.length === 0) panels.push({ title: 'no completed runs yet', traces: [] });
  return panelFigure(`${summary.example} sweep: ${summary.runs_completed}/${summary.runs_total} runs (mean ± std over seeds)`, panels, {
    columns: Math.max(1, grid.length), sharedX: false,
  });
}

/** Writes summary.json and figures/summary.html. */
export async function writeSummary(dir: string, spec: Pick<ExampleSpec, 'volatileKeys' | 'labelKeys'>, file: SweepFile): Promise<SweepSummary> {
  const summary = summarize(spec, file);
  await writeJsonAtomic(join(dir, 'summary.json'), summary);
  await writeFigureHtml(join(dir, 'figures', 'summary.html'), summaryFigure(file, summary), { plotly: 'relative' });
  return summary;
}
