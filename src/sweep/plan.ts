/**
 * Sweep planning: parses `--grid name=v1,v2,…` and `--seeds A..B | K`, checks every value against
 * the example's typed options, and expands grid × seeds into runs (and, with `--pack K`, into jobs
 * of up to K seeds for examples that declare {@link ExampleSpec.seedBatch}).
 * @module
 */
import { CinderArgumentError } from '../core/errors.js';
import type { ExampleSpec, OptionSpec, Params } from '../cli/example.js';
import { COMMON_OPTION_NAMES, flagOf, kebabCase, MAX_RUNS, parseOptionText } from '../cli/options.js';

/** One grid axis: an example option and the values it takes. */
export interface GridAxis {
  /** Option name (camelCase). */
  name: string;
  /** Values, typed and validated, in the order given. */
  values: (number | string | boolean)[];
}

/** What a sweep runs (saved as the `plan` of sweep.json; a continued sweep must match it). */
export interface SweepPlan {
  /** Example name. */
  example: string;
  /** Preset (`--mode`). */
  mode: string;
  /** Example flags common to every run (option name → value). */
  flags: Partial<Params>;
  /** Grid axes (empty: seeds only). */
  grid: GridAxis[];
  /** Seeds, in order. */
  seeds: number[];
  /** Seeds per job (1 unless the example supports seed batches and `--pack` was given). */
  pack: number;
  /** Backend requested for every run (`--backend`), if any. */
  backend?: string;
}

/** One run: a grid point and a seed. */
export interface PlannedRun {
  /** Unique name (`drive=10_seed=3`). */
  name: string;
  /** The grid point (option name → value). */
  point: Partial<Params>;
  /** Seed. */
  seed: number;
  /** Name of the job that computes it (its folder is `runs/<job>/`). */
  job: string;
}

/** One unit of work: one child process, one run folder `runs/<name>/`, one or more seeds. */
export interface PlannedJob {
  /** Unique name; also the run folder's name. */
  name: string;
  /** The grid point. */
  point: Partial<Params>;
  /** Seeds it computes (consecutive; more than one only when packed). */
  seeds: number[];
  /** Arguments of `cinder` for it, without `--out`. */
  args: string[];
}

/** Finds an example option by kebab-case flag (`drive`, `--tau-m`) or camelCase name. */
export function findOption(spec: ExampleSpec, text: string): OptionSpec | undefined {
  const bare = text.replace(/^--/, '');
  return spec.options.find((o) => o.name === bare || kebabCase(o.name) === bare);
}

/**
 * Parses one `--grid` value `name=v1,v2,…` against the example's options.
 * @throws CinderArgumentError for a malformed text, an unknown option or an invalid value
 */
export function parseGrid(spec: ExampleSpec, text: string): GridAxis {
  const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*\S)\s*$/.exec(text);
  if (!m) throw new CinderArgumentError('--grid', text, 'name=v1,v2,… (an example option and one or more comma-separated values)');
  const name = m[1]!;
  const values = m[2]!.split(',').map((v) => v.trim());
  if (values.some((v) => v === '')) throw new CinderArgumentError('--grid', text, 'name=v1,v2,… with no empty values');
  if ((COMMON_OPTION_NAMES as readonly string[]).includes(name)) {
    throw new CinderArgumentError('--grid', text, `an option of ${spec.name} (not a common flag such as --${name}: use --seeds for seeds)`);
  }
  const o = findOption(spec, name);
  if (!o) {
    throw new CinderArgumentError('--grid', text, `a name that is a flag of ${spec.name} (${spec.options.map((x) => kebabCase(x.name)).join(', ') || 'none'})`);
  }
  const parsed = values.map((v) => parseOptionText(o, v));
  if (new Set(parsed.map(String)).size !== parsed.length) throw new CinderArgumentError('--grid', text, 'distinct values');
  return { name: o.name, values: parsed };
}

/**
 * Parses `--seeds`: a range `A..B` (inclusive, A <= B) or a count K >= 1 starting at `first`, of
 * at most {@link MAX_RUNS} seeds.
 * @throws CinderArgumentError for anything else, an empty range or too many seeds
 */
export function parseSeeds(text: string, first = 0): number[] {
  const t = text.trim();
  const range = /^(\d+)\s*\.\.\s*(\d+)$/.exec(t);
  if (range) {
    const a = Number(range[1]);
    const b = Number(range[2]);
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < a) throw new CinderArgumentError('--seeds', text, 'a non-empty range A..B with A <= B, or a count K >= 1');
    if (b - a + 1 > MAX_RUNS) throw new CinderArgumentError('--seeds', text, `at most ${MAX_RUNS} seeds (this range has ${b - a + 1})`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (/^\d+$/.test(t)) {
    const k = Number(t);
    if (!Number.isSafeInteger(k) || k < 1) throw new CinderArgumentError('--seeds', text, 'a count K >= 1 or a non-empty range A..B');
    if (k > MAX_RUNS) throw new CinderArgumentError('--seeds', text, `at most ${MAX_RUNS} seeds`);
    if (k - 1 > Number.MAX_SAFE_INTEGER - first) throw new CinderArgumentError('--seeds', text, `a count whose last seed (--seed ${first} + ${k} − 1) is a safe integer`);
    return Array.from({ length: k }, (_, i) => first + i);
  }
  throw new CinderArgumentError('--seeds', text, 'a range A..B (e.g. 1..10) or a count K >= 1');
}

/** The command-line text of a value (`--name=text` round-trips through the option parser). */
export function valueText(v: number | string | boolean): string {
  return String(v);
}

function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9._+-]/g, '~');
}

/** Name of a grid point (`drive=10_tau-m=20`), empty for no grid. */
export function pointName(point: Partial<Params>): string {
  return Object.entries(point).map(([k, v]) => `${kebabCase(k)}=${safe(valueText(v!))}`).join('_');
}

/** Cartesian product of the axes, first axis slowest. */
export function gridPoints(grid: readonly GridAxis[]): Partial<Params>[] {
  const n = grid.reduce((p, g) => p * g.values.length, 1);
  if (n > MAX_RUNS) throw new CinderArgumentError('--grid', grid.map((g) => `${kebabCase(g.name)} × ${g.values.length}`).join(', '), `at most ${MAX_RUNS} grid points (these make ${n})`);
  let points: Partial<Params>[] = [{}];
  for (const axis of grid) points = points.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.name]: v })));
  return points;
}

/** A plan expanded into runs and the jobs that compute them. */
export interface ExpandedPlan {
  /** Every run (grid point × seed), in plan order. */
  runs: PlannedRun[];
  /** Every job (one process each), in plan order. */
  jobs: PlannedJob[];
}

/**
 * Expands a plan into runs and jobs. Without packing each run is its own job; with `pack` K > 1
 * consecutive seeds of a grid point (up to K, never across a gap) form one job whose command
 * passes K to the example's seed-batch flag.
 */
export function expandPlan(spec: ExampleSpec, plan: SweepPlan): ExpandedPlan {
  const runs: PlannedRun[] = [];
  const jobs: PlannedJob[] = [];
  const base = ['--mode', plan.mode];
  for (const [k, v] of Object.entries(plan.flags)) base.push(`${flagOf({ name: k })}=${valueText(v!)}`);
  if (plan.backend) base.push('--backend', plan.backend);
  for (const point of gridPoints(plan.grid)) {
    const pname = pointName(point);
    const gridArgs = Object.entries(point).map(([k, v]) => `${flagOf({ name: k })}=${valueText(v!)}`);
    const groups: number[][] = [];
    for (const s of plan.seeds) {
      const g = groups[groups.length - 1];
      if (plan.pack > 1 && g && g.length < plan.pack && g[g.length - 1] === s - 1) g.push(s);
      else groups.push([s]);
    }
    for (const seeds of groups) {
      const seedPart = seeds.length === 1 ? `seed=${seeds[0]}` : `seeds=${seeds[0]}-${seeds[seeds.length - 1]}`;
      const job = pname ? `${pname}_${seedPart}` : seedPart;
      const args = [spec.name, ...base, ...gridArgs, '--seed', String(seeds[0])];
      if (plan.pack > 1 && spec.seedBatch) args.push(`${flagOf({ name: spec.seedBatch.option })}=${seeds.length}`);
      jobs.push({ name: job, point, seeds, args });
      for (const s of seeds) runs.push({ name: pname ? `${pname}_seed=${s}` : `seed=${s}`, point, seed: s, job });
    }
  }
  return { runs, jobs };
}
