/**
 * The contract between the `cinder` command and an example. An example declares typed options with
 * defaults and named presets; the CLI parses and validates flags, resolves the parameters
 * (defaults < preset < flags), creates the run folder and hands the example a {@link RunContext}.
 * Examples register themselves in `src/cli/registry.ts`.
 * @module
 */
import type { BackendInfo } from '../core/backend.js';
import type { Figure } from '../viz/figure.js';

/** A typed command-line option of an example. The flag is `--<name>` (kebab-case). */
export interface OptionSpec {
  /** Parameter key (camelCase); the flag is its kebab-case form. */
  name: string;
  type: 'int' | 'float' | 'string' | 'bool';
  description: string;
  default: number | string | boolean;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

/** Resolved parameters: option name → value. */
export type Params = Record<string, number | string | boolean>;

/** Progress reporter for a loop of known length. */
export interface Progress {
  tick(n?: number, info?: string): void;
  done(): void;
}

/** What an example may do with its run folder. All writes are atomic (temporary file + rename). */
export interface RunContext {
  /** Absolute path of the run folder. */
  readonly outDir: string;
  readonly params: Params;
  readonly seed: number;
  readonly backend: BackendInfo;
  readonly quiet: boolean;
  /** Aborted on SIGINT/SIGTERM: stop at the next checkpoint; what was written stays valid. */
  readonly signal: AbortSignal;
  /** A line to log.txt (and the terminal unless quiet). */
  log(message: string): void;
  /** Progress bar (TTY), periodic lines (no TTY / CI), or nothing (quiet). */
  progress(total: number, label: string): Progress;
  /** Writes/updates run_summary.json (merged with what was written before). Call at checkpoints. */
  checkpoint(summary: Record<string, unknown>): Promise<void>;
  /**
   * Writes `figures/<name>.html`: a page that opens offline (plotly.js is shipped with the run as
   * `figures/plotly.min.js`, loaded relatively).
   */
  figure(name: string, figure: Figure): Promise<void>;
  /** Writes `artifacts/<name>` as JSON. */
  artifactJson(name: string, value: unknown): Promise<void>;
  /** Writes `artifacts/<name>.npy` from a typed array with the given shape. */
  artifactNpy(name: string, data: Float32Array | Int32Array | Uint8Array, shape: number[]): Promise<void>;
  /** Absolute path for a file under artifacts/ (for module saves and other formats). */
  artifactPath(name: string): string;
}

/** An example runnable as `cinder <name>`. */
export interface ExampleSpec {
  name: string;
  /** One line for `cinder list`. */
  description: string;
  options: readonly OptionSpec[];
  /** Named presets selected with `--mode`; each must include a smallest one named `tiny`. */
  presets: Record<string, Partial<Params>>;
  /** Preset used when `--mode` is not given. */
  defaultMode: string;
  /** Keys `run_summary.json` is documented to contain at the end of a run. */
  summaryKeys: readonly string[];
  /**
   * Summary keys whose values depend on timing or the machine (e.g. seconds per iteration); they
   * are left out when checking that re-running a saved params.json reproduces a run.
   */
  volatileKeys?: readonly string[];
  /** Figure names (without .html) the run writes. */
  figures: readonly string[];
  /** Runs the example; returns the final metrics merged into run_summary.json. */
  run(ctx: RunContext): Promise<Record<string, unknown>>;
}
