/**
 * The contract between the `cinder` command and an example. An example declares typed options with
 * defaults and named presets; the CLI parses and validates flags, resolves the parameters
 * (defaults < preset < flags), creates the run folder and hands the example a {@link RunContext}.
 * Examples register themselves in `src/cli/registry.ts`.
 * @module
 */
import type { BackendInfo } from '../core/backend.js';
import type { Figure } from '../viz/figure.js';
import type { FiniteChecker } from '../core/finite.js';

/** A typed command-line option of an example. The flag is `--<name>` (kebab-case). */
export interface OptionSpec {
  /** Parameter key (camelCase); the flag is its kebab-case form. */
  name: string;
  /** Value type: integer, finite float, string, or boolean (`--flag`, `--flag false`, `--no-flag`). */
  type: 'int' | 'float' | 'string' | 'bool';
  /** One line for `--help`. */
  description: string;
  /** Default value (must be valid for the type and bounds). */
  default: number | string | boolean;
  /** Smallest accepted value (numbers). */
  min?: number;
  /** Largest accepted value (numbers). */
  max?: number;
  /** The accepted values (strings). */
  choices?: readonly string[];
  /**
   * The library's own check of the value (throws a `CinderArgumentError`), run by the CLI on every
   * value so that a flag is refused with exit 2 before anything is written, by the same rule the
   * library applies (one definition of each bound).
   */
  check?: (value: number | string | boolean) => void;
}

/** Resolved parameters: option name → value. */
export type Params = Record<string, number | string | boolean>;

/** Progress reporter for a loop of known length. */
export interface Progress {
  /**
   * Counts `n` (default 1; a finite number >= 0, else a CinderArgumentError) more units done;
   * `info` is shown next to the bar (e.g. the loss).
   */
  tick(n?: number, info?: string): void;
  /** Ends the report (draws the final state). */
  done(): void;
}

/** What an example may do with its run folder. All writes are atomic (temporary file + rename). */
export interface RunContext {
  /** Absolute path of the run folder. */
  readonly outDir: string;
  /** Resolved parameters (defaults < preset < saved params < flags). */
  readonly params: Params;
  /** Seed of this run: derive every random stream from it. */
  readonly seed: number;
  /** The tfjs backend in use. */
  readonly backend: BackendInfo;
  /** True with `--quiet` (no terminal output). */
  readonly quiet: boolean;
  /**
   * Aborted on SIGINT/SIGTERM: stop at the next checkpoint; what was written stays valid. Also
   * aborted (reason: a `RunLockLostError`) when the run folder's lock was taken over by another
   * process: the folder is no longer this run's, and every write through this context throws.
   */
  readonly signal: AbortSignal;
  /** A line to log.txt (and the terminal unless quiet). */
  log(message: string): void;
  /** Progress bar (TTY), periodic lines (no TTY / CI), or nothing (quiet). */
  progress(total: number, label: string): Progress;
  /**
   * Writes/updates run_summary.json (merged with what was written before). Call at checkpoints.
   * Unless `--check-finite off`, first checks the metrics and every watched module for NaN/Inf and
   * rejects with a `NonFiniteError` (the run then fails with exit code 3).
   */
  checkpoint(summary: Record<string, unknown>): Promise<void>;
  /**
   * The run's finite checker (`--check-finite off|checkpoint|step`, default checkpoint; always set
   * by the CLI, optional for hand-made contexts). Examples
   * `watch(name, module)` their modules once and call `finite.step(i)` after every step (it does
   * work only in `step` mode and never reads synchronously).
   */
  readonly finite?: FiniteChecker;
  /**
   * Writes `figures/<name>.html`: a page that opens offline (plotly.js is shipped once per parent
   * folder of run folders as `<out>/../plotly.min.js`, loaded relatively).
   */
  figure(name: string, figure: Figure): Promise<void>;
  /** Writes `artifacts/<name>` as JSON. */
  artifactJson(name: string, value: unknown): Promise<void>;
  /** Writes `artifacts/<name>.npy` from a typed array with the given shape. */
  artifactNpy(name: string, data: Float32Array | Int32Array | Uint8Array, shape: number[]): Promise<void>;
  /** Absolute path for a file under artifacts/ (for module saves and other formats). */
  artifactPath(name: string): string;
  /**
   * True when this run continues an interrupted or crashed one (`cinder <example> --resume DIR`):
   * restore the state saved in {@link checkpointDir} (if there is one) and carry on from there.
   */
  readonly resumed: boolean;
  /**
   * Folder of the run's checkpoint (`<out>/checkpoint`): save model, progress and RNG positions
   * there (e.g. `network.save(ctx.checkpointDir, { progress })`, atomic as a whole) at checkpoints
   * and when interrupted; a resumed run loads it.
   */
  readonly checkpointDir: string;
  /**
   * Yields to the event loop when more than ~0.25 s of wall time passed since the last yield, so
   * SIGINT/SIGTERM handlers run (awaiting a wasm read alone does not let them). Call it in every
   * simulation loop.
   */
  keepResponsive(): Promise<void>;
}

/** How an example computes several seeds in one run (see {@link ExampleSpec.seedBatch}). */
export interface SeedBatch {
  /** Name of the example's integer option holding the number of seeds in the batch (e.g. `multiSeed`). */
  option: string;
  /**
   * Splits the summary of a run made with the option set to K = `seeds.length` into one summary per
   * seed (`seeds` lists them in order). Called for every job of a packed sweep, also a leftover job
   * of K = 1.
   */
  splitSummary(summary: Record<string, unknown>, seeds: readonly number[]): Record<string, unknown>[];
}

/** An example runnable as `cinder <name>`. */
export interface ExampleSpec {
  /** Command name (`cinder <name>`): lower-case letters, digits, dashes. */
  name: string;
  /** One line for `cinder list`. */
  description: string;
  /** The example's typed options (flags `--<kebab-name>`). */
  options: readonly OptionSpec[];
  /** Named presets selected with `--mode`; each must include a smallest one named `tiny`. */
  presets: Record<string, Partial<Params>>;
  /** Preset used when `--mode` is not given. */
  defaultMode: string;
  /**
   * Optional check of the resolved parameters as a whole (combinations single options cannot
   * express); throws a CinderArgumentError naming the flag. Runs before anything is written.
   */
  validate?(params: Params): void;
  /**
   * Optional check that depends on the selected backend (e.g. whether the batch fits the GPU's
   * buffers); throws a CinderArgumentError naming the flag. Runs after the backend is initialised,
   * before anything is written to the run folder.
   */
  validateOnBackend?(params: Params, backend: BackendInfo): void;
  /** Keys `run_summary.json` is documented to contain at the end of a run. */
  summaryKeys: readonly string[];
  /**
   * Summary keys whose values depend on timing or the machine (e.g. seconds per iteration); they
   * are left out when checking that re-running a saved params.json reproduces a run.
   */
  volatileKeys?: readonly string[];
  /**
   * Summary keys that describe a run rather than measure it (lateral-line's `seed_start` and
   * `multi_seed`): kept in every summary, never averaged across seeds (`across_seeds` of a
   * multi-seed run, a sweep's summary.json).
   */
  labelKeys?: readonly string[];
  /** Figure names (without .html) the run writes. */
  figures: readonly string[];
  /**
   * Set when one run can simulate several consecutive seeds as a batch (`cinder sweep --pack K`):
   * with `--seed s` and `--<option> K` the run computes seeds s, s+1, …, s+K−1 in one simulation,
   * and `splitSummary` turns its run_summary.json into one summary per seed (in seed order).
   * Each per-seed summary must hold the same numbers as a run of that seed alone would.
   */
  seedBatch?: SeedBatch;
  /** Runs the example; returns the final metrics merged into run_summary.json. */
  run(ctx: RunContext): Promise<Record<string, unknown>>;
}
