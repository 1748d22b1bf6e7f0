/**
 * The `cinder` command: `cinder list`, `cinder <example> [flags]`, `cinder <example> --help`.
 *
 * Exit codes: 0 completed, 1 the example failed, 2 bad usage or values (nothing is written; also a
 * run folder in use by another run, or one holding a crashed run without `--resume`), 129
 * interrupted by SIGHUP or by the death of the parent process (e.g. `npx` killed), 130 interrupted
 * by SIGINT, 143 interrupted by SIGTERM; 3 a numerical fault (NaN/Inf found by `--check-finite`).
 * A run whose folder's lock was taken over meanwhile by another process (a `--resume` that judged
 * it dead: stopped, or cut off from a shared file system, for longer than its lease) stops writing
 * the folder, leaves its status to the new owner, and exits 1 with a message saying who holds it.
 *
 * `cinder <example> --resume DIR` continues the run in DIR (interrupted or crashed) with its saved
 * parameters, seed(s) and backend, from the example's last checkpoint. `cinder status DIR` prints
 * a run folder's status (a run whose process died is reported, and recorded, as `crashed`).
 * @module
 */
import { registeredExamples } from './registry.js';
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureWritableDirSync } from '../io/atomic.js';
import { acquireLock, inspectRunFolder, LOCK_FILE, releaseLock, RunLockError, RunLockLostError, unconfirmedLockNote } from './run-lock.js';
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_NAMES, initBackend, listBackends, silenceTfjsBanner, type BackendInfo } from '../core/backend.js';
import { FINITE_CHECK_MODES, NonFiniteError, type FiniteCheckMode } from '../core/finite.js';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { ExampleSpec, OptionSpec, Params } from './example.js';
import { checkExampleSpec, describePresets, flagOf, kebabCase, MAX_RUNS, parseOptionText, resolveParams } from './options.js';
import { packageInfo } from './package-info.js';
import { detectProgressMode, Terminal, type TextSink } from './progress.js';
import { rebuildSeedsSummary, startRun, type Run, type RunOutcome } from './runner.js';

/** Exit codes of the `cinder` command. */
export const EXIT = {
  /** The run completed. */
  ok: 0,
  /** The example threw (or the run folder's lock was taken over by another process: the run stopped). */
  failed: 1,
  /** Bad usage or values; nothing was written. */
  usage: 2,
  /**
   * A numerical fault: a NaN/Inf (or a spike other than 0/1) found by the finite checks
   * (`--check-finite`); run_summary.json says `status: "failed"` and names the tensor and step.
   */
  nonFinite: 3,
  /** Interrupted by SIGINT (128 + 2). */
  sigint: 130,
  /** Interrupted by SIGTERM (128 + 15). */
  sigterm: 143,
  /** Interrupted by SIGHUP, or the parent process died (128 + 1). */
  sighup: 129,
} as const;

/** Streams and environment of one CLI invocation (tests substitute their own). */
export interface CliOptions {
  /** Examples offered (default: the registry). */
  examples?: readonly ExampleSpec[];
  /** Standard output (default process.stdout). */
  out?: TextSink;
  /** Standard error (default process.stderr). */
  err?: TextSink;
  /** Whether stderr is a terminal (default `process.stderr.isTTY`). */
  isTTY?: boolean;
  /** Environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Install SIGINT/SIGTERM handlers for the run (default true). */
  handleSignals?: boolean;
  /** After the first signal, how long the example may take to stop before the process exits anyway, in ms (default 20 000). */
  interruptGraceMs?: number;
  /** Clock for default folder names (default `() => new Date()`). */
  now?: () => Date;
}

/** The keys of {@link CliOptions}: other keys are refused ("invalid options key"). */
export const CLI_OPTION_KEYS = optionKeys<CliOptions>()(['examples', 'out', 'err', 'isTTY', 'env', 'handleSignals', 'interruptGraceMs', 'now']);

/** Flags every example command has. */
interface CommonFlags {
  mode?: string;
  out?: string;
  seed?: number;
  seeds?: number;
  backend?: string;
  params?: string;
  quiet?: boolean;
  resume?: string;
  checkFinite?: FiniteCheckMode;
}

/** A saved params.json as read back by `--params`. */
export interface SavedRun {
  /** Example name. */
  example: string;
  /** Preset name. */
  mode: string;
  /** First seed. */
  seed: number;
  /** Number of seeds. */
  seeds: number;
  /** Resolved parameters. */
  params: Partial<Params>;
  /** Backend that ran it. */
  backend?: string;
}

/**
 * Reads a params.json written by a run (for `--params FILE`, or `--resume DIR`'s `DIR/params.json`).
 * `flag` names the flag that gave the file in errors (default `--params`).
 * @throws CinderArgumentError when the file is missing, not JSON, or not a Cinder params file
 */
export function readSavedRun(path: string, flag = '--params'): SavedRun {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CinderArgumentError(flag, path, `a readable JSON file (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  const r = raw as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || typeof r.example !== 'string' || typeof r.params !== 'object' || r.params === null) {
    throw new CinderArgumentError(flag, path, 'a params.json written by a cinder run (with "example" and "params")');
  }
  // absent keys take their defaults; present but invalid ones are refused (a damaged file must not
  // silently run or resume with seed 0)
  const int = (key: 'seed' | 'seeds', d: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = r[key];
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new CinderArgumentError(`"${key}" in ${path}`, v, `an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}`);
    return v;
  };
  if (r.mode !== undefined && typeof r.mode !== 'string') throw new CinderArgumentError(`"mode" in ${path}`, r.mode, 'a preset name');
  const backend = (r.backend as { name?: unknown } | undefined)?.name;
  return {
    example: r.example,
    mode: typeof r.mode === 'string' ? r.mode : '',
    seed: int('seed', 0, 0),
    seeds: int('seeds', 1, 1, MAX_RUNS),
    params: r.params as Partial<Params>,
    backend: typeof backend === 'string' ? backend : undefined,
  };
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Default run folder: `runs/<example>-YYYYMMDD-HHMMSS` (with `-2`, `-3`, … if taken). */
export function defaultOutDir(example: string, now: Date, cwd = process.cwd()): string {
  const stamp = `${now.getFullYear()}${pad2(now.getMonth() + 1)}${pad2(now.getDate())}-${pad2(now.getHours())}${pad2(now.getMinutes())}${pad2(now.getSeconds())}`;
  const base = resolve(cwd, 'runs', `${example}-${stamp}`);
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

class UsageError extends Error {}

/**
 * An option parser for commander whose {@link CinderArgumentError} ends the command as a usage
 * error (exit 2, nothing written) in the house form `cinder <command>: invalid --flag: got "text",
 * expected …` (commander would word an `InvalidArgumentError` its own way).
 */
function houseParser<T>(command: string, parse: (text: string) => T): (text: string) => T {
  return (text: string) => {
    try {
      return parse(text);
    } catch (err) {
      if (err instanceof CinderArgumentError) throw new UsageError(`cinder ${command}: ${err.message}`);
      throw err;
    }
  };
}

/**
 * Commander's own usage error `text` (written for `command`, e.g. `cinder lif-demo`) in the house
 * form `command: invalid X: got Y, expected Z`: an unknown option or command (with commander's
 * suggestion), an option without its value, a missing or an extra argument. Any other text is
 * returned unchanged.
 */
export function houseUsageText(command: string, text: string): string {
  const t = text.replace(/\n$/, '');
  const said = (suggestion: string | undefined) => (suggestion ? ` (did you mean ${suggestion}?)` : '');
  let m = /^error: unknown option '([^']*)'(?:\n\(Did you mean ([^?\n]*)\?\))?$/.exec(t);
  if (m) return `${command}: invalid option: got ${JSON.stringify(m[1])}, expected an option listed by \`${command} --help\`${said(m[2])}\n`;
  m = /^error: unknown command '([^']*)'(?:\n\(Did you mean ([^?\n]*)\?\))?$/.exec(t);
  if (m) return `${command}: invalid command: got ${JSON.stringify(m[1])}, expected a command listed by \`${command} --help\` or an example listed by \`cinder list\`${said(m[2])}\n`;
  m = /^error: option '(-[^' ,]*)[^']*' argument missing$/.exec(t);
  if (m) return `${command}: invalid ${m[1]}: got no value, expected a value after ${m[1]}\n`;
  m = /^error: missing required argument '([^']*)'$/.exec(t);
  if (m) return `${command}: invalid <${m[1]}>: got nothing, expected a value\n`;
  m = /^error: too many arguments[^.]*\. Expected (\d+) arguments? but got (\d+)\.$/.exec(t);
  if (m) return `${command}: invalid arguments: got ${m[2]}, expected at most ${m[1]}\n`;
  return text;
}

/** Parser of a flag taking one of `choices` (shown unquoted, as in the help). */
function choiceParser(command: string, flag: string, choices: readonly string[]): (text: string) => string {
  return houseParser(command, (t: string) => {
    if (!choices.includes(t)) throw new CinderArgumentError(flag, t, `one of ${choices.join(', ')}`);
    return t;
  });
}

function intParser(command: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return houseParser(command, (text: string) => {
    const t = text.trim();
    const v = /^[+-]?\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new CinderArgumentError(flag, text, `an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}`);
    return v;
  });
}

function defaultText(o: OptionSpec): string {
  return typeof o.default === 'string' ? JSON.stringify(o.default) : String(o.default);
}

function exampleCommand(program: Command, spec: ExampleSpec, handler: (spec: ExampleSpec, cmd: Command) => Promise<void>): Command {
  const cmd = program
    .command(spec.name)
    .description(spec.description)
    .addOption(new Option('--mode <preset>', `preset (${Object.keys(spec.presets).join(', ')}; default ${spec.defaultMode})`).argParser(choiceParser(spec.name, '--mode', Object.keys(spec.presets))))
    .option('--out <dir>', 'run folder (default runs/<example>-<timestamp>)')
    .option('--seed <n>', 'seed of the (first) run (default 0)', intParser(spec.name, '--seed', 0))
    .option('--seeds <k>', 'run K consecutive seeds, one sub-folder each, plus a summary across seeds (default 1)', intParser(spec.name, '--seeds', 1, MAX_RUNS))
    .addOption(new Option('--backend <name>', `tfjs backend (${BACKEND_NAMES.join(', ')}; default CINDER_BACKEND or auto)`).argParser(choiceParser(spec.name, '--backend', BACKEND_NAMES)))
    .option('--params <file>', "re-run with a saved run's params.json (flags given as well override it)")
    .option('--resume <dir>', 'continue the interrupted or crashed run in <dir> from its last checkpoint (same parameters, seed and backend)')
    .option('-q, --quiet', 'no terminal output (log.txt is still written)')
    .addOption(new Option('--check-finite <mode>', `check for NaN/Inf: ${FINITE_CHECK_MODES.join(', ')} (default checkpoint; step checks after every step, asynchronously)`).argParser(choiceParser(spec.name, '--check-finite', FINITE_CHECK_MODES)));
  for (const o of spec.options) {
    const flag = flagOf(o);
    const desc = `${o.description} (${o.type}${o.choices ? `: ${o.choices.join(', ')}` : ''}; default ${defaultText(o)})`;
    if (o.type === 'bool') {
      cmd.addOption(new Option(`${flag} [bool]`, desc).argParser(houseParser(spec.name, (t: string) => parseOptionText(o, t))));
      cmd.addOption(new Option(`--no-${flag.slice(2)}`, `set ${flag} to false`));
    } else {
      cmd.addOption(new Option(`${flag} <value>`, desc).argParser(houseParser(spec.name, (t: string) => parseOptionText(o, t))));
    }
  }
  recordFlagUses(cmd);
  cmd.addHelpText('after', [
    '',
    'Presets (--mode):',
    ...describePresets(spec).map((l) => `  ${l}`),
    '',
    'Parameters are resolved as: defaults < preset < --params file < flags.',
    `The run folder gets params.json, run_summary.json (keys: ${spec.summaryKeys.join(', ')}),`,
    `log.txt, figures/ (${spec.figures.join(', ')}) and artifacts/.`,
  ].join('\n'));
  cmd.action(async (_opts: unknown, c: Command) => handler(spec, c));
  return cmd;
}

/** Per example command: option attribute → the flag as given each time (its value, or the flag itself for a switch). */
const flagUses = new WeakMap<Command, Map<string, { flag: string; given: string[] }>>();

/** Notes every use of every option of `cmd` (commander itself keeps only the last value of a repeated flag). */
function recordFlagUses(cmd: Command): void {
  const uses = new Map<string, { flag: string; given: string[] }>();
  flagUses.set(cmd, uses);
  for (const o of cmd.options) {
    const attr = o.attributeName();
    const flag = o.negate ? `--${kebabCase(attr)}` : (o.long ?? o.flags);
    cmd.on(`option:${o.name()}`, (value: unknown) => {
      const u = uses.get(attr) ?? { flag, given: [] };
      if (!o.negate) u.flag = flag;
      u.given.push(typeof value === 'string' ? value : (o.long ?? o.flags));
      uses.set(attr, u);
    });
  }
}

/**
 * The first flag given more than once (`--seed 1 --seed 2`, `--loud --no-loud`, `-q --quiet`), as
 * an error: commander would silently keep the last value.
 */
function repeatedFlag(cmd: Command): CinderArgumentError | null {
  for (const u of flagUses.get(cmd)?.values() ?? []) if (u.given.length > 1) return new CinderArgumentError(u.flag, u.given, 'the flag at most once');
  return null;
}

/** Example flag values given on the command line, keyed by option name. */
function exampleFlags(spec: ExampleSpec, cmd: Command): Partial<Params> {
  const opts = cmd.opts() as Record<string, unknown>;
  const out: Partial<Params> = {};
  for (const o of spec.options) {
    const key = new Option(`${flagOf(o)} <v>`).attributeName();
    const src = cmd.getOptionValueSource(key);
    if (src === 'cli' && opts[key] !== undefined) out[o.name] = opts[key] as number | string | boolean;
  }
  return out;
}

/** What a run will do (resolved from the flags, a saved params.json or a folder to resume). */
interface RunPlan {
  params: Params;
  mode: string;
  seed: number;
  seeds: number;
  outDir: string;
  backendRequest?: string;
  resume?: boolean;
  /** The run made the folder (it did not exist): removed again, if still empty, when the run cannot start. */
  created?: boolean;
}

/** `--resume DIR`: the saved run's parameters, seed(s) and backend; takes the folder's lock (a dead owner's included). */
function resumePlan(spec: ExampleSpec, cmd: Command, resumeDir: string): RunPlan {
  const common = cmd.opts() as CommonFlags;
  const given = ['mode', 'out', 'seed', 'seeds', 'params'].filter((k) => (common as Record<string, unknown>)[k] !== undefined).map((k) => `--${k}`);
  const flags = Object.keys(exampleFlags(spec, cmd)).map((n) => flagOf(spec.options.find((o) => o.name === n)!));
  if (given.length + flags.length > 0) throw new CinderArgumentError('--resume', [...given, ...flags].join(' '), 'no flags that change the run (it continues with its saved parameters)');
  const dir = resolve(resumeDir);
  const saved = readSavedRun(join(dir, 'params.json'), '--resume');
  if (saved.example !== spec.name) throw new CinderArgumentError('--resume', resumeDir, `a run folder of ${spec.name} (this one is of ${saved.example})`);
  if (inspectRunFolder(dir).status === 'completed') throw new CinderArgumentError('--resume', resumeDir, 'an interrupted, failed or crashed run (this one completed)');
  const mode = spec.presets[saved.mode] ? saved.mode : spec.defaultMode;
  const params = resolveParams(spec, { mode, saved: saved.params, modeExplicit: false, flags: {} });
  spec.validate?.(params);
  acquireLock(dir, { takeOverCrashed: true });
  return { params, mode, seed: saved.seed, seeds: saved.seeds, outDir: dir, backendRequest: common.backend ?? saved.backend, resume: true };
}

/**
 * A new run: parameters from defaults < preset < --params < flags; the --out folder is checked
 * (before anything is created), created and locked, and must hold nothing else.
 */
function newPlan(spec: ExampleSpec, cmd: Command, common: CommonFlags, options: CliOptions): RunPlan {
  const saved = common.params !== undefined ? readSavedRun(resolve(common.params)) : undefined;
  if (saved && saved.example !== spec.name) throw new CinderArgumentError('--params', common.params, `a params.json of ${spec.name} (this one is for ${saved.example})`);
  const mode = common.mode ?? (saved && spec.presets[saved.mode] ? saved.mode : spec.defaultMode);
  const params = resolveParams(spec, { mode, saved: saved?.params, modeExplicit: common.mode !== undefined, flags: exampleFlags(spec, cmd) });
  spec.validate?.(params);
  const seed = common.seed ?? saved?.seed ?? 0;
  const seeds = common.seeds ?? saved?.seeds ?? 1;
  // seeds S … S + K − 1 (folder names seed-<n>, the summary's seed list) must all be exact integers
  if (seed + (seeds - 1) > Number.MAX_SAFE_INTEGER) {
    throw new CinderArgumentError('--seeds', seeds, `at most ${Number.MAX_SAFE_INTEGER - seed + 1} with --seed ${seed} (the last seed must stay <= ${Number.MAX_SAFE_INTEGER})`);
  }
  const outDir = common.out !== undefined ? resolve(common.out) : defaultOutDir(spec.name, (options.now ?? (() => new Date()))());
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new CinderArgumentError('--out', outDir, 'a folder (this is a file)');
  const created = !existsSync(outDir);
  if (!created) inspectRunFolder(outDir); // a SIGKILLed run's summary now says crashed
  ensureWritableDirSync(outDir, '--out'); // checks before it creates anything; never recursive on pseudo file systems
  acquireLock(outDir); // exclusive: of two runs into one folder only one gets here
  if (readdirSync(outDir).some((f) => f !== LOCK_FILE)) {
    releaseLock(outDir);
    throw new CinderArgumentError('--out', outDir, 'a new or empty folder (it holds files already)');
  }
  return { params, mode, seed, seeds, outDir, created, backendRequest: common.backend ?? saved?.backend };
}

/** Removes a folder the run made if nothing was written to it (rmdir refuses a non-empty one). */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or gone: keep what is there
  }
}

/**
 * Runs the `cinder` command with the given arguments (without `node` and the script) and returns
 * the exit code. Never calls `process.exit` itself, except on a second SIGINT/SIGTERM (also one
 * while the backend starts) or when the example ignores the first one for longer than the grace
 * period. A first signal while the backend starts ends the command before the run starts, with
 * the signal's exit code: the folder's lock is removed, and the folder itself if the command made it.
 */
export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<number> {
  checkOptionKeys('options', options, CLI_OPTION_KEYS);
  const examples = options.examples ?? registeredExamples();
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const env = options.env ?? process.env;
  const pkg = packageInfo();
  for (const e of examples) checkExampleSpec(e);
  if (args[0] === 'sweep' || args[0] === 'worker') {
    const { sweepCli } = await import('../sweep/cli.js');
    return sweepCli(args, { examples, out, err, env, isTTY: options.isTTY, handleSignals: options.handleSignals, ...(options.now ? { now: options.now } : {}) });
  }
  let exitCode: number = EXIT.ok;

  const program = new Command('cinder')
    .description('Run Cinder examples; each run writes a folder with params, metrics, figures and artifacts.')
    .version(pkg.version, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) })
    .showHelpAfterError('(add --help for the options)')
    .addHelpText('after', '\nRun `cinder list` for the examples, `cinder <example> --help` for their options.\nSweeps: `cinder sweep <example> --grid name=v1,v2 --seeds 1..10 --out DIR`, `cinder sweep status DIR`,\n`cinder worker --redis URL` (see `cinder sweep --help`).');

  program
    .command('status')
    .description("print a run folder's status (running, completed, interrupted, failed, crashed; unconfirmed: running by its summary, its lease lock not judged yet, see --watch)")
    .argument('<dir>', 'run folder')
    .option('--watch', 'watch a lease lock this look cannot judge for up to its lease_ms (waiting), then say running or crashed')
    .action((dir: string, o: { watch?: boolean }) => {
      const st = inspectRunFolder(resolve(dir), { watchLease: o.watch === true });
      if (st.status === null) throw new UsageError(`cinder status: invalid <dir>: got ${JSON.stringify(dir)}, expected a run folder (with run_summary.json)`);
      if (st.status === 'crashed') rebuildSeedsSummary(resolve(dir), examples); // a multi-seed run's top summary, from its seed folders
      if (st.lock && st.leasePendingMs !== undefined) {
        const now = (options.now ?? (() => new Date()))().getTime();
        const owner = { pid: st.lock.pid, host: st.lock.host, ...(st.lock.lease_ms !== undefined ? { leaseMs: st.lock.lease_ms } : {}) };
        out.write(`${st.status === 'running' ? 'unconfirmed' : st.status} (${unconfirmedLockNote(join(resolve(dir), LOCK_FILE), owner, now)})\n`);
      } else out.write(`${st.status}${st.lock ? ` (${st.busy ? 'running as' : 'was'} process ${st.lock.pid} on ${st.lock.host})` : ''}\n`);
    });

  program
    .command('list')
    .description('list the examples with a one-line description')
    .action(() => {
      const w = Math.max(...examples.map((e) => e.name.length), 4);
      for (const e of examples) out.write(`${e.name.padEnd(w)}  ${e.description}\n`);
    });

  program
    .command('info')
    .description('print the backends available here (WebGPU adapter vendor/architecture/device) and the one a run would use')
    .addOption(new Option('--backend <name>', `tfjs backend to select (${BACKEND_NAMES.join(', ')}; default CINDER_BACKEND or auto)`).argParser(choiceParser('info', '--backend', BACKEND_NAMES)))
    .action(async (o: { backend?: string }) => {
      out.write(`cinder ${pkg.version}, node ${process.versions.node}\nbackends (auto order):\n`);
      for (const b of await listBackends()) out.write(`  ${b.available ? '+' : '-'} ${b.name.padEnd(10)} ${b.detail}\n`);
      try {
        const info = await initBackend({ backend: o.backend ?? env.CINDER_BACKEND });
        out.write(`selected: ${info.name}${info.gpu ? ' (GPU)' : ''} via ${info.package} (${info.requestedBy})\n`);
        if (info.adapter) out.write(`adapter: vendor ${info.adapter.vendor}, architecture ${info.adapter.architecture}, device ${info.adapter.device}${info.adapter.software ? ' (software)' : ''}\n`);
        for (const s of info.skipped) out.write(`skipped ${s.name}: ${s.reason}\n`);
      } catch (e) {
        err.write(`${(e as Error).message}\n`);
        exitCode = EXIT.usage;
      }
    });

  const handler = async (spec: ExampleSpec, cmd: Command): Promise<void> => {
    const common = cmd.opts() as CommonFlags;
    const quiet = common.quiet === true;
    const terminal = new Terminal({ mode: detectProgressMode(quiet, { isTTY: options.isTTY ?? process.stderr.isTTY }, env), out, err });
    let plan: RunPlan;
    try {
      const repeated = repeatedFlag(cmd);
      if (repeated) throw repeated;
      plan = common.resume !== undefined ? resumePlan(spec, cmd, common.resume) : newPlan(spec, cmd, common, options);
    } catch (e) {
      if (e instanceof CinderArgumentError || e instanceof RunLockError) throw new UsageError(`cinder ${spec.name}: ${e.message}`);
      throw e;
    }
    // a signal while the backend starts (the folder is made and locked, the run's own handlers are
    // not installed yet) ends the command before the run starts: nothing is written but the lock,
    // which goes, as does a folder made for the run; a second signal ends it at once
    const unmake = (): void => {
      releaseLock(plan.outDir);
      if (plan.created) removeIfEmpty(plan.outDir);
    };
    let early: NodeJS.Signals | null = null;
    const onEarlySignal = (sig: NodeJS.Signals): void => {
      if (early === null) {
        early = sig;
        terminal.error(`\n${sig}: stopping before the run starts (send it again to stop at once)`);
        return;
      }
      try {
        unmake();
      } finally {
        process.exit(exitCodeOf(early));
      }
    };
    const handle = options.handleSignals ?? true;
    if (handle) for (const s of HANDLED_SIGNALS) process.on(s, onEarlySignal);
    let backend: BackendInfo;
    try {
      backend = await initBackend({ backend: plan.backendRequest });
      spec.validateOnBackend?.(plan.params, backend);
    } catch (e) {
      unmake();
      throw new UsageError(`cinder ${spec.name}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (handle) for (const s of HANDLED_SIGNALS) process.off(s, onEarlySignal);
    }
    if (early !== null) {
      unmake();
      exitCode = exitCodeOf(early);
      return;
    }
    if (quiet) silenceTfjsBanner();
    try {
      exitCode = await executeRun(spec, { ...plan, checkFinite: common.checkFinite ?? 'checkpoint' }, backend, quiet, terminal, args, options);
    } finally {
      releaseLock(plan.outDir);
    }
  };
  for (const e of examples) exampleCommand(program, e, handler);
  // commander's own usage errors (unknown option or command, a missing value, extra arguments) in the house form
  for (const c of [program, ...program.commands]) {
    const name = c === program ? 'cinder' : `cinder ${c.name()}`;
    c.configureOutput({ outputError: (text, write) => write(houseUsageText(name, text)) });
  }

  if (args.length === 0) {
    err.write(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version'].includes(e.code)) return EXIT.ok;
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError) {
      err.write(`${e.message}\n(add --help for the options)\n`);
      return EXIT.usage;
    }
    throw e;
  }
  return exitCode;
}

/** The signals a run handles (see {@link EXIT} for their exit codes). */
const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The exit code of a run interrupted by `s` (SIGINT's when none). */
function exitCodeOf(s: NodeJS.Signals | null): number {
  return s === 'SIGTERM' ? EXIT.sigterm : s === 'SIGHUP' ? EXIT.sighup : EXIT.sigint;
}

async function executeRun(
  spec: ExampleSpec,
  plan: RunPlan & { checkFinite?: FiniteCheckMode },
  backend: BackendInfo,
  quiet: boolean,
  terminal: Terminal,
  args: readonly string[],
  options: CliOptions,
): Promise<number> {
  const controller = new AbortController();
  let firstSignal: NodeJS.Signals | null = null;
  let run: Run | null = null;
  let graceTimer: NodeJS.Timeout | null = null;
  const codeOf = exitCodeOf;
  /** Reports `text` on stderr; a stderr that cannot be written (a closed pipe) must not stop the exit. */
  const lastError = (text: string): void => {
    try {
      terminal.error(text);
    } catch {
      // nowhere left to report it
    }
  };
  const forceExit = (): void => {
    // a synchronous last word: what is written stays, the summary says interrupted, the lock goes.
    // Each step runs whatever the one before did: it runs in a signal handler or a timer, where a
    // throw would end the process with an uncaught exception (exit 1), the lock left behind.
    try {
      run?.finishNow('interrupted');
    } catch (e) {
      lastError(`cinder ${spec.name}: the last write of the interrupted run failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      releaseLock(plan.outDir);
    } catch (e) {
      lastError(`cinder ${spec.name}: cannot remove the lock of ${plan.outDir}: ${e instanceof Error ? e.message : String(e)}`);
    }
    process.exit(codeOf(firstSignal));
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (firstSignal === null) {
      firstSignal = sig;
      terminal.error(`\n${sig}: stopping at the next safe point, writing what was computed (send it again to stop at once)`);
      controller.abort(sig);
      graceTimer = setTimeout(() => {
        terminal.error(`the example did not stop within ${(options.interruptGraceMs ?? 20_000) / 1000} s; exiting`);
        forceExit();
      }, options.interruptGraceMs ?? 20_000);
      graceTimer.unref();
    } else {
      forceExit();
    }
  };
  const handle = options.handleSignals ?? true;
  // `npx cinder …`: a SIGTERM to npx ends npx and leaves this process orphaned (its parent changes);
  // treat that like a SIGHUP so the run stops at its next safe point instead of running on unseen.
  const parent = process.ppid;
  const orphanWatch = handle ? setInterval(() => process.ppid !== parent && firstSignal === null && onSignal('SIGHUP'), 500) : null;
  orphanWatch?.unref();
  if (handle) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
  }
  let outcome: RunOutcome;
  try {
    run = startRun({
      spec, params: plan.params, mode: plan.mode, seed: plan.seed, seeds: plan.seeds, outDir: plan.outDir, backend,
      backendRequest: plan.backendRequest ?? 'auto', quiet, signal: controller.signal, terminal, command: ['cinder', ...args], resume: plan.resume,
      checkFinite: plan.checkFinite,
    });
    outcome = await run.done;
  } finally {
    // the run has ended: a grace period still running must not exit the process later
    if (graceTimer) clearTimeout(graceTimer);
    if (orphanWatch) clearInterval(orphanWatch);
    if (handle) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
    }
  }
  if (outcome.status === 'failed') {
    const e = outcome.error;
    if (e instanceof RunLockLostError) {
      // the folder is another process's now: its log is not this run's to point at
      terminal.error(`cinder ${spec.name} stopped: ${e.message}`);
      return EXIT.failed;
    }
    terminal.error(`cinder ${spec.name} failed: ${e instanceof Error ? e.message : String(e)} (see ${outcome.outDir}/log.txt)`);
    return e instanceof NonFiniteError ? EXIT.nonFinite : EXIT.failed;
  }
  terminal.log(`${outcome.status}: ${outcome.outDir}`);
  if (outcome.status === 'interrupted') return codeOf(firstSignal);
  return EXIT.ok;
}
