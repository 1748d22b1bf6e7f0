/**
 * The commands `cinder sweep <example> …`, `cinder sweep status DIR` and `cinder worker …`.
 * Every argument is checked before anything runs or is written; bad input exits with code 2 and
 * a message naming the flag, the value and what was expected.
 * @module
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { ExampleSpec, OptionSpec, Params } from '../cli/example.js';
import { flagOf, kebabCase, MAX_RUNS, parseOptionText, resolveParams } from '../cli/options.js';
import { detectProgressMode, Terminal, type TextSink } from '../cli/progress.js';
import { BullmqEngine, checkRedis, DEFAULT_QUEUE, LocalEngine, runWorker } from './engines.js';
import { expandPlan, findOption, gridPoints, parseGrid, parseSeeds, pointName, type GridAxis, type SweepPlan } from './plan.js';
import { BACKEND_NAMES } from '../core/backend.js';
import { parseRedisUrl, type RedisAddress } from './redis.js';
import { readSweepFile, statusCounts } from './store.js';
import { runSweep, sweepLockState, SweepLockLostError } from './sweep.js';
import { unconfirmedLockNote } from '../cli/run-lock.js';

/** Streams and environment of a sweep command (as for `runCli`). */
export interface SweepCliOptions {
  /** Examples offered. */
  examples: readonly ExampleSpec[];
  /** Standard output. */
  out: TextSink;
  /** Standard error. */
  err: TextSink;
  /** Whether stderr is a terminal. */
  isTTY?: boolean;
  /** Environment. */
  env: NodeJS.ProcessEnv;
  /** Install SIGINT/SIGTERM handlers (default true). */
  handleSignals?: boolean;
  /** This host's clock (default `new Date()`): `cinder sweep status` shows a lock's age by it. */
  now?: () => Date;
}

/** The keys of {@link SweepCliOptions}: other keys are refused ("invalid options key"). */
export const SWEEP_CLI_OPTION_KEYS = optionKeys<SweepCliOptions>()(['examples', 'out', 'err', 'isTTY', 'env', 'handleSignals', 'now']);

/** Help text of `cinder sweep` and `cinder worker`. */
export const SWEEP_HELP = `Usage: cinder sweep <example> [example flags] --grid name=v1,v2,… [--grid …] --seeds A..B|K --out DIR [options]
       cinder sweep status [--watch] DIR
       cinder worker --redis URL [--concurrency N] [--queue NAME] [--lock-ms MS]

Runs the example once per grid point × seed, each a run folder DIR/runs/<name>/, and writes
DIR/sweep.json (plan and status per run), DIR/summary.json and DIR/figures/summary.html.
Running the same command again continues: completed runs are skipped, the others redone.
\`cinder sweep status DIR\` counts the runs; running ones of a coordinator on another host are
"unconfirmed" until its lock is judged, which --watch waits for (up to the lock's lease).

Options:
  --grid name=v1,v2,…  an example option and its values (repeat for more axes)
  --seeds A..B | K     seeds A to B, or K seeds from --seed (default: just --seed)
  --seed N             first seed for a count K (default 0)
  --out DIR            sweep folder (required)
  --mode PRESET        the example's preset for every run
  --backend NAME       tfjs backend for every run
  --engine local|bullmq  where runs go (default local)
  --workers N          local engine: parallel processes (default: the number of cores)
  --redis URL          bullmq engine: redis://host:port[/db]
  --queue NAME         bullmq queue (default ${DEFAULT_QUEUE})
  --pack K             examples with seed batches: K seeds per job
  -q, --quiet          no terminal output
  --                   every flag after it is the example's (for example flags named like
                       a sweep flag: lateral-line's --workers)
`;

class Usage extends Error {}

const SWEEP_VALUE_FLAGS = ['grid', 'seeds', 'seed', 'out', 'engine', 'workers', 'redis', 'queue', 'pack', 'mode', 'backend'] as const;
type SweepFlag = (typeof SWEEP_VALUE_FLAGS)[number];
const BOOL_WORDS = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'];

function int(flag: string, text: string, min: number): number {
  const v = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v < min) throw new CinderArgumentError(flag, text, `an integer >= ${min}`);
  return v;
}

/** Parsed `cinder sweep <example> …`. */
export interface SweepRequest {
  /** The example. */
  spec: ExampleSpec;
  /** The plan. */
  plan: SweepPlan;
  /** Sweep folder. */
  outDir: string;
  /** Engine. */
  engine: 'local' | 'bullmq';
  /** Local processes. */
  workers: number;
  /** Redis (bullmq). */
  redis?: RedisAddress;
  /** `--redis` as given. */
  redisUrl?: string;
  /** Queue (bullmq). */
  queue: string;
  /** No output. */
  quiet: boolean;
}

/**
 * Parses and checks the arguments after `cinder sweep`.
 * @throws CinderArgumentError for any bad input
 */
export function parseSweepArgs(args: readonly string[], examples: readonly ExampleSpec[]): SweepRequest {
  const name = args[0];
  const spec = examples.find((e) => e.name === name);
  if (!spec) throw new CinderArgumentError('example', name, `one of ${examples.map((e) => e.name).join(', ')}`);
  const sweep: Partial<Record<SweepFlag, string[]>> = {};
  const flags: Partial<Params> = {};
  let quiet = false;
  // after `--` every flag is the example's, also one named like a sweep flag
  let exampleOnly = false;
  for (let i = 1; i < args.length; i++) {
    const tok = args[i]!;
    if (tok === '--' && !exampleOnly) {
      exampleOnly = true;
      continue;
    }
    if (!exampleOnly && (tok === '-q' || tok === '--quiet')) {
      quiet = true;
      continue;
    }
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(tok);
    if (!m) throw new CinderArgumentError('argument', tok, `a flag (--name value); cinder sweep takes one example (${spec.name})`);
    const key = m[1]!;
    let value = m[2];
    if (!exampleOnly && (SWEEP_VALUE_FLAGS as readonly string[]).includes(key)) {
      if (value === undefined) {
        value = args[++i];
        if (value === undefined) throw new CinderArgumentError(`--${key}`, undefined, 'a value');
      }
      (sweep[key as SweepFlag] ??= []).push(value);
      continue;
    }
    const negated = key.startsWith('no-') ? findOption(spec, key.slice(3)) : undefined;
    if (negated && negated.type === 'bool' && value === undefined) {
      flags[negated.name] = false;
      continue;
    }
    const o: OptionSpec | undefined = findOption(spec, key);
    if (!o) {
      throw new CinderArgumentError('flag', `--${key}`, exampleOnly
        ? `a flag of ${spec.name} after -- (${spec.options.map((x) => flagOf(x)).join(', ')})`
        : `a flag of cinder sweep (${SWEEP_VALUE_FLAGS.map((f) => `--${f}`).join(', ')}) or of ${spec.name} (${spec.options.map((x) => flagOf(x)).join(', ')})`);
    }
    if (value === undefined) {
      if (o.type === 'bool') {
        const next = args[i + 1];
        value = next !== undefined && BOOL_WORDS.includes(next.toLowerCase()) ? args[++i]! : 'true';
      } else {
        value = args[++i];
        if (value === undefined) throw new CinderArgumentError(flagOf(o), undefined, 'a value');
      }
    }
    flags[o.name] = parseOptionText(o, value);
  }
  const one = (k: SweepFlag): string | undefined => {
    const v = sweep[k];
    if (v && v.length > 1 && k !== 'grid') throw new CinderArgumentError(`--${k}`, v, 'one value');
    return v?.[0];
  };
  const grid: GridAxis[] = (sweep.grid ?? []).map((g) => parseGrid(spec, g));
  const names = new Set<string>();
  for (const g of grid) {
    if (names.has(g.name)) throw new CinderArgumentError('--grid', kebabCase(g.name), 'each option in one --grid only');
    names.add(g.name);
    if (g.name in flags) throw new CinderArgumentError('--grid', kebabCase(g.name), `an option not also given as ${flagOf(g)}`);
  }
  if (spec.seedBatch && grid.some((g) => g.name === spec.seedBatch!.option)) throw new CinderArgumentError('--grid', spec.seedBatch.option, 'not the seed-batch option (use --pack)');
  const mode = one('mode') ?? spec.defaultMode;
  if (!spec.presets[mode]) throw new CinderArgumentError('--mode', mode, `one of ${Object.keys(spec.presets).join(', ')}`);
  if (spec.seedBatch && spec.seedBatch.option in flags) {
    throw new CinderArgumentError(flagOf({ name: spec.seedBatch.option }), flags[spec.seedBatch.option], 'not given to cinder sweep (each run is one seed; use --pack K to simulate K seeds per process)');
  }
  const first = one('seed') === undefined ? 0 : int('--seed', one('seed')!, 0);
  const seeds = one('seeds') === undefined ? [first] : parseSeeds(one('seeds')!, first);
  const points = gridPoints(grid);
  if (points.length * seeds.length > MAX_RUNS) {
    throw new CinderArgumentError('--grid × --seeds', `${points.length} points × ${seeds.length} seeds`, `at most ${MAX_RUNS} runs in one sweep (split it into several sweep folders)`);
  }
  const pack = one('pack') === undefined ? 1 : int('--pack', one('pack')!, 1);
  if (pack > 1 && !spec.seedBatch) throw new CinderArgumentError('--pack', pack, `1 (${spec.name} does not simulate several seeds in one run)`);
  if (pack > 1 && spec.seedBatch) {
    const o = spec.options.find((x) => x.name === spec.seedBatch!.option);
    if (!o || o.type !== 'int') throw new CinderArgumentError(`${spec.name} seedBatch.option`, spec.seedBatch.option, 'an int option of the example');
    if (o.max !== undefined && pack > o.max) throw new CinderArgumentError('--pack', pack, `at most ${o.max} (${flagOf(o)} accepts no more)`);
  }
  // the seed counts its jobs will pass to the seed-batch option (with --pack: K, and shorter groups
  // at gaps and at the end), so that example flags checked against it (lateral-line's --workers,
  // --batch-lanes) are checked as each job will run
  const batchSizes: (number | undefined)[] = pack > 1 && spec.seedBatch ? [...new Set(expandPlan(spec, { example: spec.name, mode, flags: {}, grid: [], seeds, pack }).jobs.map((j) => j.seeds.length))] : [undefined];
  // every grid point as a run would resolve and check it (single values and the example's
  // combined checks), and one run name per point, before anything is written
  const pointNames = new Map<string, Partial<Params>>();
  for (const point of points) {
    for (const k of batchSizes) spec.validate?.(resolveParams(spec, { mode, flags: { ...flags, ...point, ...(k === undefined ? {} : { [spec.seedBatch!.option]: k }) } }));
    const pn = pointName(point);
    const other = pointNames.get(pn);
    if (other) throw new CinderArgumentError('--grid', `${JSON.stringify(other)} and ${JSON.stringify(point)}`, `values with distinct run names (both are named "${pn}")`);
    pointNames.set(pn, point);
  }
  const out = one('out');
  if (out === undefined) throw new CinderArgumentError('--out', undefined, 'the sweep folder (a new folder, or an earlier sweep folder to continue)');
  const engine = one('engine') ?? 'local';
  if (engine !== 'local' && engine !== 'bullmq') throw new CinderArgumentError('--engine', engine, '"local" or "bullmq"');
  const workers = one('workers') === undefined ? availableParallelism() : int('--workers', one('workers')!, 1);
  const redisText = one('redis');
  if (engine === 'bullmq' && redisText === undefined) throw new CinderArgumentError('--redis', undefined, 'a Redis URL with --engine bullmq');
  if (engine === 'local' && redisText !== undefined) throw new CinderArgumentError('--redis', redisText, 'no value with --engine local (add --engine bullmq)');
  const redis = redisText === undefined ? undefined : parseRedisUrl(redisText);
  const backend = one('backend');
  if (backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(backend)) throw new CinderArgumentError('--backend', backend, `one of ${BACKEND_NAMES.join(', ')}`);
  const plan: SweepPlan = { example: spec.name, mode, flags, grid, seeds, pack };
  if (backend !== undefined) plan.backend = backend;
  return { spec, plan, outDir: resolve(out), engine, workers, redis, redisUrl: redisText, queue: one('queue') ?? DEFAULT_QUEUE, quiet };
}

function installSignals(options: SweepCliOptions, onFirst: (sig: NodeJS.Signals) => void): { code: () => number; remove: () => void } {
  let first: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals): void => {
    if (first === null) {
      first = sig;
      onFirst(sig);
    } else process.exit(sig === 'SIGTERM' ? 143 : 130);
  };
  const handle = options.handleSignals ?? true;
  if (handle) {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  }
  return {
    code: () => (first === 'SIGTERM' ? 143 : first ? 130 : 0),
    remove: () => {
      if (handle) {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      }
    },
  };
}

async function statusCommand(args: readonly string[], o: SweepCliOptions): Promise<number> {
  const watch = args.includes('--watch');
  const rest = args.filter((a) => a !== '--watch');
  const flag = rest.find((a) => a.startsWith('-'));
  if (flag !== undefined) throw new CinderArgumentError('flag', flag, 'only --watch (cinder sweep status [--watch] DIR)');
  if (rest.length !== 1) throw new Usage('cinder sweep status: expected one sweep folder (cinder sweep status [--watch] DIR)');
  const dir = resolve(rest[0]!);
  const file = readSweepFile(dir);
  if (!file) throw new CinderArgumentError('sweep folder', rest[0], 'a folder with a sweep.json');
  const c = statusCounts(file);
  // runs recorded as running with no live `cinder sweep` holding the folder were interrupted (its
  // coordinator was killed): they wait for the sweep to be continued. A lease lock one look cannot
  // judge (another host's coordinator) is reported unconfirmed, as `cinder status` does, unless
  // --watch watches it until it can
  let note = '';
  let running = `${c.running}`;
  if (c.running > 0) {
    const lock = sweepLockState(dir, { watchLease: watch });
    if (!lock.held) {
      c.interrupted += c.running;
      c.running = 0;
      running = '0';
      note = '; no cinder sweep holds the folder (its process is gone): continue it with the same command';
    } else if (lock.owner && lock.leasePendingMs !== undefined) {
      running = `${c.running} (unconfirmed)`;
      note = `; its cinder sweep: ${unconfirmedLockNote(join(dir, '.sweep.lock'), lock.owner, (o.now ?? (() => new Date()))().getTime())}`;
    }
  }
  o.out.write(`${file.plan.example}: ${file.runs.length} runs — done ${c.completed}, running ${running}, failed ${c.failed}, waiting ${c.waiting + c.interrupted}${c.interrupted ? ` (${c.interrupted} interrupted)` : ''}${note}\n`);
  for (const r of file.runs) if (r.status === 'failed') o.out.write(`  failed: ${r.name}${r.error ? ` — ${r.error}` : ''}\n`);
  return 0;
}

async function workerCommand(args: readonly string[], o: SweepCliOptions): Promise<number> {
  let redis: string | undefined;
  let concurrency = 1;
  let queue = DEFAULT_QUEUE;
  let lockMs = 30_000;
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]!);
    const key = m?.[1];
    if (key === 'help') {
      o.out.write(SWEEP_HELP);
      return 0;
    }
    if (!m || !['redis', 'concurrency', 'queue', 'lock-ms'].includes(key!)) throw new CinderArgumentError('flag', args[i], 'one of --redis, --concurrency, --queue, --lock-ms');
    const v = m[2] ?? args[++i];
    if (v === undefined) throw new CinderArgumentError(`--${key}`, undefined, 'a value');
    if (key === 'redis') redis = v;
    else if (key === 'concurrency') concurrency = int('--concurrency', v, 1);
    else if (key === 'queue') queue = v;
    else lockMs = int('--lock-ms', v, 500);
  }
  if (redis === undefined) throw new CinderArgumentError('--redis', undefined, 'a Redis URL (redis://host:port)');
  const address = parseRedisUrl(redis);
  const problem = await checkRedis(address);
  if (problem) throw new CinderArgumentError('--redis', redis, `a reachable Redis server (${problem})`);
  const controller = new AbortController();
  const log = (line: string): void => void o.out.write(`${new Date().toISOString()} ${line}\n`);
  const sig = installSignals(o, (s) => {
    log(`${s}: finishing the running jobs, then exiting (send it again to exit at once)`);
    controller.abort();
  });
  log(`cinder worker: queue ${queue} on ${redis}, concurrency ${concurrency}, lock ${lockMs} ms`);
  try {
    const n = await runWorker({ address, queueName: queue, concurrency, lockMs, signal: controller.signal, log });
    log(`stopped after ${n} jobs`);
  } finally {
    sig.remove();
  }
  return 0;
}

async function sweepCommand(args: readonly string[], o: SweepCliOptions): Promise<number> {
  const req = parseSweepArgs(args, o.examples);
  if (req.redis) {
    const problem = await checkRedis(req.redis);
    if (problem) throw new CinderArgumentError('--redis', req.redisUrl, `a reachable Redis server (${problem})`);
  }
  const terminal = new Terminal({ mode: detectProgressMode(req.quiet, { isTTY: o.isTTY ?? process.stderr.isTTY }, o.env), out: o.out, err: o.err });
  const controller = new AbortController();
  const sig = installSignals(o, (s) => {
    terminal.error(`\n${s}: stopping; running jobs end at their next checkpoint and are redone next time (send it again to exit at once)`);
    controller.abort();
  });
  try {
    const outcome = await runSweep({
      spec: req.spec, plan: req.plan, outDir: req.outDir, terminal, signal: controller.signal,
      engine: (id) => (req.engine === 'local' ? new LocalEngine(req.workers) : new BullmqEngine(req.redis!, id, req.queue)),
    });
    if (sig.code() !== 0) return sig.code();
    if (outcome.interrupted) return 130;
    return outcome.counts.failed > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof SweepLockLostError) {
      // another cinder sweep took the folder over: it is that one's now (nothing was written)
      terminal.error(`cinder sweep stopped: ${e.message}`);
      return 1;
    }
    // the engine failed (Redis gone for good, sweep.json not writable): sweep.json marks the
    // running runs interrupted and summary.json holds the recorded runs, as far as they could be
    // written; the same command continues the sweep later
    if (e instanceof CinderArgumentError) throw e;
    terminal.error(`cinder sweep: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    sig.remove();
  }
}

/**
 * Runs `cinder sweep …` or `cinder worker …` (`args` starts with `sweep` or `worker`) and returns
 * the exit code: 0 all runs completed, 1 some failed (or the engine failed, or the sweep folder's
 * lock was taken over by another `cinder sweep`: this one stopped), 2 bad input (nothing ran),
 * 130/143 interrupted.
 */
export async function sweepCli(args: readonly string[], o: SweepCliOptions): Promise<number> {
  checkOptionKeys('options', o, SWEEP_CLI_OPTION_KEYS);
  const [cmd, ...rest] = args;
  try {
    if (rest.includes('--help') || rest.includes('-h') || (cmd === 'sweep' && rest.length === 0)) {
      o.out.write(SWEEP_HELP);
      const spec = cmd === 'sweep' ? o.examples.find((e) => e.name === rest[0]) : undefined;
      if (spec) {
        o.out.write(`\nFlags of ${spec.name} (each usable in --grid without the dashes):\n`);
        for (const x of spec.options) o.out.write(`  ${flagOf(x).padEnd(22)} ${x.description} (${x.type}; default ${String(x.default)})\n`);
        if (spec.seedBatch) o.out.write(`${spec.name} simulates several seeds in one run: --pack K sets ${flagOf({ name: spec.seedBatch.option })}.\n`);
        const shadowed = spec.options.filter((x) => (SWEEP_VALUE_FLAGS as readonly string[]).includes(kebabCase(x.name)));
        if (shadowed.length) o.out.write(`${shadowed.map((x) => flagOf(x)).join(', ')} before -- set${shadowed.length === 1 ? 's' : ''} cinder sweep's flag; give ${spec.name}'s after --, or in --grid.\n`);
      }
      return rest.length === 0 ? 2 : 0;
    }
    if (cmd === 'worker') return await workerCommand(rest, o);
    if (rest[0] === 'status') return await statusCommand(rest.slice(1), o);
    return await sweepCommand(rest, o);
  } catch (e) {
    if (e instanceof CinderArgumentError || e instanceof Usage) {
      o.err.write(`cinder ${cmd}: ${e.message}\n(add --help for the options)\n`);
      return 2;
    }
    throw e;
  }
}
