/**
 * Terminal output of a run: log lines and progress reporting in one of three modes.
 *
 * - `tty`: a single updating line on stderr with a bar, the rate and the ETA (redrawn at most ~10
 *   times a second); log lines are printed above it.
 * - `plain` (stderr not a terminal, or `CI` set): a plain progress line at most every 10 s or every
 *   10 % of the total, plus the last one.
 * - `quiet`: nothing at all.
 * @module
 */
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { Progress } from './example.js';

/** How progress is shown. */
export type ProgressMode = 'tty' | 'plain' | 'quiet';

/** A writable text stream (process.stdout, process.stderr or a test double). */
export interface TextSink {
  /** Writes text as is. */
  write(text: string): unknown;
}

/**
 * The mode for this process: `quiet` when asked, `plain` under CI (`CI` set to anything but
 * `false`/`0`) or when `stream` is not a terminal, else `tty`.
 */
export function detectProgressMode(quiet: boolean, stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  if (quiet) return 'quiet';
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  if (ci || !stream.isTTY) return 'plain';
  return 'tty';
}

/** Seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A rate as `12.3/s`, or `1.5 s/it` when slower than one per second. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '?/s';
  if (perSecond < 1) return `${(1 / perSecond).toPrecision(3)} s/it`;
  return `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toPrecision(3)}/s`;
}

/** Options of {@link Terminal}. */
export interface TerminalOptions {
  /** Output mode (see {@link detectProgressMode}). */
  mode: ProgressMode;
  /** Where log lines go (default process.stdout). */
  out?: TextSink;
  /** Where progress goes (default process.stderr). */
  err?: TextSink;
  /** Clock in milliseconds (default `Date.now`; tests pass a fake one). */
  now?: () => number;
  /** Width of the bar in characters (default 30). */
  barWidth?: number;
  /** Plain mode: the longest silence between progress lines, in ms (default 10 000). */
  plainIntervalMs?: number;
}

/** The keys of {@link TerminalOptions}: other keys are refused ("invalid options key"). */
export const TERMINAL_OPTION_KEYS = optionKeys<TerminalOptions>()(['mode', 'out', 'err', 'now', 'barWidth', 'plainIntervalMs']);

/**
 * Terminal output of one process: log lines and progress reporters that share the screen (a log
 * line clears the progress bar, prints, and redraws it).
 */
export class Terminal {
  /** Output mode. */
  readonly mode: ProgressMode;
  private readonly out: TextSink;
  private readonly err: TextSink;
  private readonly now: () => number;
  private readonly barWidth: number;
  private readonly plainIntervalMs: number;
  private barLine = '';

  /** @param options mode, streams and clock */
  constructor(options: TerminalOptions) {
    if (new.target === Terminal) checkOptionKeys('options', options, TERMINAL_OPTION_KEYS);
    this.mode = options.mode;
    this.out = options.out ?? process.stdout;
    this.err = options.err ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.barWidth = options.barWidth ?? 30;
    this.plainIntervalMs = options.plainIntervalMs ?? 10_000;
  }

  /** Prints a line (nothing in quiet mode). */
  log(line: string): void {
    if (this.mode === 'quiet') return;
    if (this.mode === 'tty' && this.barLine) {
      this.err.write('\r\x1b[K');
      this.out.write(`${line}\n`);
      this.err.write(this.barLine);
    } else {
      this.out.write(`${line}\n`);
    }
  }

  /** Prints an error line on stderr (also in quiet mode). */
  error(line: string): void {
    if (this.mode === 'tty' && this.barLine) this.err.write('\r\x1b[K');
    this.err.write(`${line}\n`);
    if (this.mode === 'tty' && this.barLine) this.err.write(this.barLine);
  }

  /**
   * A progress reporter for `total` units of work labelled `label` (a `total` that is not a finite
   * number > 0 shows no bar fill, percentage or ETA). `tick(k)` counts `k` more units; `k` must be a
   * finite number >= 0 in every mode (a CinderArgumentError otherwise, before anything changes).
   */
  progress(total: number, label: string): Progress {
    const n = Number.isFinite(total) && total > 0 ? total : 0;
    const checkTick = (k: number): void => {
      if (typeof k !== 'number' || !Number.isFinite(k) || k < 0) throw new CinderArgumentError(`tick count of progress ${JSON.stringify(label)}`, k, 'a finite number >= 0');
    };
    if (this.mode === 'quiet') return { tick: (k = 1) => checkTick(k), done: () => {} };
    const start = this.now();
    let count = 0;
    let info = '';
    let finished = false;
    let lastDraw = -Infinity;
    let lastPlain = start;
    let lastDecile = 0;
    let printedCount = -1;
    const stats = (): { pct: number; rate: number; eta: number; elapsed: number } => {
      const elapsed = (this.now() - start) / 1000;
      const rate = elapsed > 0 ? count / elapsed : NaN;
      const eta = rate > 0 && n > 0 ? (n - count) / rate : NaN;
      return { pct: n > 0 ? Math.min(1, count / n) : 0, rate, eta, elapsed };
    };
    const plainLine = (): string => {
      const s = stats();
      const total = n > 0 ? `/${n} (${(100 * s.pct).toFixed(0)} %)` : '';
      const eta = count < n ? `, ETA ${formatDuration(s.eta)}` : '';
      return `${label}: ${count}${total}, ${formatRate(s.rate)}, elapsed ${formatDuration(s.elapsed)}${eta}${info ? ` — ${info}` : ''}`;
    };
    const ttyLine = (): string => {
      const s = stats();
      const filled = Math.round(s.pct * this.barWidth);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(this.barWidth - filled)}`;
      const eta = count < n ? ` ETA ${formatDuration(s.eta)}` : ` ${formatDuration(s.elapsed)}`;
      return `${label} ${bar} ${count}/${n} ${formatRate(s.rate)}${eta}${info ? ` ${info}` : ''}`;
    };
    const draw = (force: boolean): void => {
      const t = this.now();
      if (this.mode === 'tty') {
        if (!force && t - lastDraw < 100) return;
        lastDraw = t;
        this.barLine = ttyLine();
        this.err.write(`\r\x1b[K${this.barLine}`);
      } else {
        const decile = n > 0 ? Math.floor((10 * count) / n) : 0;
        if (!force && decile <= lastDecile && t - lastPlain < this.plainIntervalMs) return;
        lastDecile = decile;
        lastPlain = t;
        printedCount = count;
        this.err.write(`${plainLine()}\n`);
      }
    };
    return {
      tick: (k = 1, i?: string) => {
        checkTick(k);
        if (finished) return;
        count += k;
        if (i !== undefined) info = i;
        draw(false);
      },
      done: () => {
        if (finished) return;
        finished = true;
        if (this.mode === 'tty') {
          draw(true);
          this.err.write('\n');
          this.barLine = '';
        } else if (printedCount !== count) {
          draw(true);
        }
      },
    };
  }
}
