/**
 * Typed example options: flag names, parsing and validation of values, checks of an
 * {@link ExampleSpec}, and the resolution of parameters (defaults < preset < saved params < flags).
 * @module
 */
import { CinderArgumentError, describe } from '../core/errors.js';
import type { ExampleSpec, OptionSpec, Params } from './example.js';

/**
 * Most runs one command starts: the seeds of `cinder <example> --seeds K`, the grid points × seeds
 * of `cinder sweep`. Each run has its own folder and a record in a file rewritten as runs end.
 */
export const MAX_RUNS = 100_000;

/** Names of the flags every example command has; example options may not use them. */
export const COMMON_OPTION_NAMES = ['out', 'seed', 'seeds', 'backend', 'quiet', 'mode', 'params', 'resume', 'check-finite', 'help', 'version'] as const;

/** camelCase → kebab-case (`batchSize` → `batch-size`). */
export function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
}

/** The flag of an option (`--batch-size`). */
export function flagOf(option: Pick<OptionSpec, 'name'>): string {
  return `--${kebabCase(option.name)}`;
}

/** Text describing the values an option accepts (`an integer >= 1`, `one of "a", "b"`, …). */
export function expectedText(option: OptionSpec): string {
  if (option.choices) return `one of ${option.choices.map((c) => JSON.stringify(c)).join(', ')}`;
  if (option.type === 'bool') return 'true or false';
  if (option.type === 'string') return 'a string';
  const kind = option.type === 'int' ? 'an integer' : 'a finite number';
  if (option.min !== undefined && option.max !== undefined) return `${kind} in [${option.min}, ${option.max}]`;
  if (option.min !== undefined) return `${kind} >= ${option.min}`;
  if (option.max !== undefined) return `${kind} <= ${option.max}`;
  return kind;
}

/** What an `int` option accepts when a value is beyond ±(2^53 − 1): its bounds clipped to the safe integers. */
function safeIntegerText(option: OptionSpec): string {
  const lo = Math.max(option.min ?? -Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER);
  const hi = Math.min(option.max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  return option.min === undefined ? `an integer in [${lo}, ${hi}]` : `an integer >= ${lo} and <= ${hi}`;
}

/** The largest finite float32, (2 − 2^−23)·2^127. */
const FLOAT32_MAX = 3.4028234663852886e38;

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/**
 * Checks a value (from a preset, a saved params file or a parsed flag) against its option and
 * returns it. `param` names the value's origin in the error (default: the flag).
 * @throws CinderArgumentError naming the flag, the value and the accepted values
 */
export function checkOptionValue(option: OptionSpec, value: unknown, param = flagOf(option)): number | string | boolean {
  const fail = (): never => {
    throw new CinderArgumentError(param, value, expectedText(option));
  };
  switch (option.type) {
    case 'bool':
      if (typeof value !== 'boolean') fail();
      return value as boolean;
    case 'string':
      if (typeof value !== 'string') fail();
      if (option.choices && !option.choices.includes(value as string)) fail();
      return libraryCheck(option, value as string, param);
    case 'int':
    case 'float': {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail();
      const v = value as number;
      if (option.type === 'int' && !Number.isInteger(v)) fail();
      // 1e20 is an integer to JS, but not one a count, seed or size can hold exactly (2^53 + 1 reads as 2^53)
      if (option.type === 'int' && !Number.isSafeInteger(v)) throw new CinderArgumentError(param, value, safeIntegerText(option));
      // a float option ends up in float32 tensors (float32 only): 1e39 would be a finite flag and an Infinity there
      if (option.type === 'float' && Math.abs(v) > FLOAT32_MAX) throw new CinderArgumentError(param, value, `${expectedText(option)}, within float32's range (|x| <= ${FLOAT32_MAX})`);
      if (option.min !== undefined && v < option.min) fail();
      if (option.max !== undefined && v > option.max) fail();
      if (option.choices && !option.choices.includes(String(v))) fail();
      return libraryCheck(option, v, param);
    }
    default:
      throw new CinderArgumentError(`type of option ${option.name}`, (option as OptionSpec).type, '"int", "float", "string" or "bool"');
  }
}

/** Runs the option's library check, reporting a failure under the flag's name. */
function libraryCheck<V extends number | string | boolean>(option: OptionSpec, value: V, param: string): V {
  if (!option.check) return value;
  try {
    option.check(value);
  } catch (e) {
    if (e instanceof CinderArgumentError) throw new CinderArgumentError(param, value, e.expected);
    throw e;
  }
  return value;
}

/**
 * Parses the command-line text of an option into its typed value and validates it.
 * Integers accept plain or exponent notation with an integral value (`1000`, `1e3`) up to
 * ±(2^53 − 1), the integers a double holds exactly; booleans
 * accept true/false, 1/0, yes/no, on/off.
 * @throws CinderArgumentError naming the flag, the text and the accepted values
 */
export function parseOptionText(option: OptionSpec, text: string): number | string | boolean {
  const param = flagOf(option);
  if (option.type === 'bool') {
    const t = text.trim().toLowerCase();
    if (TRUE_WORDS.includes(t)) return true;
    if (FALSE_WORDS.includes(t)) return false;
    throw new CinderArgumentError(param, text, expectedText(option));
  }
  if (option.type === 'string') return checkOptionValue(option, text, param);
  const t = text.trim();
  const num = t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? NaN : Number(t);
  if (!Number.isFinite(num)) throw new CinderArgumentError(param, text, expectedText(option));
  try {
    return checkOptionValue(option, num, param);
  } catch (e) {
    throw new CinderArgumentError(param, text, e instanceof CinderArgumentError ? e.expected : expectedText(option));
  }
}

/**
 * Checks that an example is well formed: option names are unique identifiers that do not clash
 * with the common flags or with the `--no-x` flag of a bool option `x`, defaults are valid,
 * presets name known options with valid values, a `tiny` preset exists, `defaultMode` names a
 * preset.
 * @throws CinderArgumentError describing the first problem
 */
export function checkExampleSpec(spec: ExampleSpec): void {
  if (!/^[a-z][a-z0-9-]*$/.test(spec.name)) throw new CinderArgumentError('example name', spec.name, 'lower-case letters, digits and dashes');
  const seen = new Set<string>();
  for (const o of spec.options) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(o.name)) throw new CinderArgumentError(`${spec.name} option name`, o.name, 'a camelCase identifier');
    const flag = kebabCase(o.name);
    if ((COMMON_OPTION_NAMES as readonly string[]).includes(flag)) {
      throw new CinderArgumentError(`${spec.name} option name`, o.name, `a name other than the common flags (${COMMON_OPTION_NAMES.join(', ')})`);
    }
    if (seen.has(flag)) throw new CinderArgumentError(`${spec.name} option name`, o.name, 'a unique name');
    seen.add(flag);
    checkOptionValue(o, o.default, `default of ${spec.name} ${flagOf(o)}`);
  }
  // a bool option x also has the flag --no-x: no other option may be named so
  for (const o of spec.options) {
    const negated = spec.options.find((b) => b.type === 'bool' && `no-${kebabCase(b.name)}` === kebabCase(o.name));
    if (negated) throw new CinderArgumentError(`${spec.name} option name`, o.name, `a name other than --no-${kebabCase(negated.name)}, the negation of the bool option ${negated.name}`);
  }
  if (!spec.presets.tiny) throw new CinderArgumentError(`${spec.name} presets`, Object.keys(spec.presets), 'a list including "tiny"');
  if (!spec.presets[spec.defaultMode]) throw new CinderArgumentError(`${spec.name} defaultMode`, spec.defaultMode, `one of the presets ${Object.keys(spec.presets).join(', ')}`);
  for (const [mode, preset] of Object.entries(spec.presets)) checkPartialParams(spec, preset, `preset ${mode}`);
}

/**
 * Checks a partial parameter set (a preset or a saved params file) against the example's options
 * and returns it with only known keys.
 * @throws CinderArgumentError for an unknown key or an invalid value
 */
export function checkPartialParams(spec: ExampleSpec, values: Partial<Params>, origin: string): Partial<Params> {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new CinderArgumentError(origin, values, 'an object of option values');
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const out: Partial<Params> = {};
  for (const [k, v] of Object.entries(values)) {
    const o = byName.get(k);
    if (!o) throw new CinderArgumentError(`${origin}: key`, k, `an option of ${spec.name} (${[...byName.keys()].join(', ') || 'none'})`);
    out[k] = checkOptionValue(o, v, `${origin}: ${k}`);
  }
  return out;
}

/** Where the resolved parameters come from, lowest precedence first. */
export interface ParamLayers {
  /** Preset name (`--mode`) whose values are applied over the defaults. */
  mode: string;
  /** Values of a saved params.json (`--params FILE`); they replace the defaults and the preset. */
  saved?: Partial<Params>;
  /** True when `--mode` was given explicitly: its preset is then applied over `saved` too. */
  modeExplicit?: boolean;
  /** Values given as flags (highest precedence). */
  flags?: Partial<Params>;
}

/**
 * Resolves the full parameter set of a run: the defaults, then the preset `mode`, then saved params
 * (if any; with an explicit `--mode` the preset is applied again over them), then the flags.
 * Every value is validated.
 * @throws CinderArgumentError for an unknown mode, unknown keys or invalid values
 */
export function resolveParams(spec: ExampleSpec, layers: ParamLayers): Params {
  const preset = spec.presets[layers.mode];
  if (!preset) throw new CinderArgumentError('--mode', layers.mode, `one of ${Object.keys(spec.presets).map((m) => JSON.stringify(m)).join(', ')}`);
  const params: Params = {};
  for (const o of spec.options) params[o.name] = o.default;
  Object.assign(params, checkPartialParams(spec, preset, `preset ${layers.mode}`));
  if (layers.saved) {
    Object.assign(params, checkPartialParams(spec, layers.saved, 'params file'));
    if (layers.modeExplicit) Object.assign(params, checkPartialParams(spec, preset, `preset ${layers.mode}`));
  }
  if (layers.flags) Object.assign(params, checkPartialParams(spec, layers.flags, 'flag'));
  return params;
}

/** One line per preset for help texts: `tiny: batchSize=2, iterations=2`. */
export function describePresets(spec: ExampleSpec): string[] {
  return Object.entries(spec.presets).map(([mode, p]) => {
    const vals = Object.entries(p).map(([k, v]) => `${k}=${describe(v)}`);
    const tag = mode === spec.defaultMode ? ' (default)' : '';
    return `${mode}${tag}: ${vals.length ? vals.join(', ') : 'the defaults'}`;
  });
}
