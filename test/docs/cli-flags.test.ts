// Every `cinder …` command line in README.md and docs/*.md (in code blocks and in inline code) names
// only flags its command has, as the command itself lists them in its --help; every `--flag` in the
// prose of an example's section (docs/examples.md `### song2000`, docs/livn.md `## cinder
// livn-stdp`, …) is a flag of that example; and every other `--flag` anywhere in the docs is a flag
// of some cinder command or one of the few non-cinder flags listed below (node's, npm's, esbuild's,
// Chromium's, placeholders).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../examples/index.js';
import { runCli } from '../../src/cli/program.js';
import { registeredExamples } from '../../src/cli/registry.js';
import { flagOf, parseOptionText } from '../../src/cli/options.js';
import { BACKEND_NAMES } from '../../src/core/backend.js';
import { FINITE_CHECK_MODES } from '../../src/core/finite.js';
import { SWEEP_HELP } from '../../src/sweep/cli.js';
import { codeBlocks, docFiles } from './markdown.js';

/** Flags in docs that belong to other programs than `cinder`, or stand for any flag. */
const NOT_CINDER: Record<string, string> = {
  '--import': 'node --import tsx',
  '--ignore-scripts': 'npm install --ignore-scripts',
  '--omit': 'npm install --omit',
  '--bundle': 'esbuild', '--platform': 'esbuild', '--format': 'esbuild', '--outfile': 'esbuild', '--external': 'esbuild', '--banner': 'esbuild',
  '--enable-unsafe-webgpu': 'Chromium', '--enable-features': 'Chromium', '--use-webgpu-adapter': 'Chromium', '--no-sandbox': 'Chromium',
  '--flag': 'placeholder', '--no-flag': 'placeholder', '--no-x': 'placeholder',
};

async function helpText(args: string[]): Promise<string> {
  let text = '';
  const sink = { write: (s: string) => ((text += s), true) };
  const code = await runCli(args, { out: sink, err: sink, handleSignals: false, isTTY: false });
  expect(code, `cinder ${args.join(' ')}`).toBe(0);
  return text;
}

/** The long flags listed in the Options section of a commander help text. */
function helpFlags(text: string): Set<string> {
  const flags = new Set<string>();
  for (const m of text.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)) flags.add(m[1]!);
  return flags;
}

/** command name → its flags; `<example>` → the flags every example has. */
const flagsOf = new Map<string, Set<string>>();
const exampleNames = registeredExamples().map((e) => e.name);

beforeAll(async () => {
  flagsOf.set('', new Set(['--help', '--version']));
  for (const c of ['list', 'status', 'info', ...exampleNames]) flagsOf.set(c, helpFlags(await helpText([c, '--help'])));
  flagsOf.set('<example>', new Set([...flagsOf.get(exampleNames[0]!)!].filter((f) => exampleNames.every((n) => flagsOf.get(n)!.has(f)))));
  const sweepHelp = await helpText(['sweep', '--help']);
  expect(sweepHelp).toBe(SWEEP_HELP);
  flagsOf.set('sweep', new Set([...helpFlags(SWEEP_HELP), '--help']));
  const workerLine = /^ *cinder worker (.*)$/m.exec(SWEEP_HELP)![1]!;
  flagsOf.set('worker', new Set([...workerLine.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]).concat('--help')));
});

/** One `cinder …` command as written in the docs. */
interface CommandUse {
  where: string;
  text: string;
  /** The code block it is in (its shown output), if any. */
  block?: string;
}

/** A value written as a placeholder (`N`, `DIR`, `<dir>`, `$OUT/x`, `…`), not checked. */
function placeholder(v: string): boolean {
  return /^[A-Z][A-Z_]*$|[<$…"]/.test(v);
}

/**
 * Why `value` is not accepted by `flag` of `example` (its presets for --mode, the backends, the
 * finite-check modes, the example option's own parser), or null.
 */
function valueProblem(example: string, flag: string, value: string | undefined): string | null {
  if (value === undefined || value.startsWith('-') || placeholder(value)) return null;
  const spec = registeredExamples().find((e) => e.name === example);
  if (!spec) return null;
  const choice = (list: readonly string[]) => (list.includes(value) ? null : `${flag} ${value}: expected one of ${list.join(', ')}`);
  if (flag === '--mode') return choice(Object.keys(spec.presets));
  if (flag === '--backend') return choice(BACKEND_NAMES);
  if (flag === '--check-finite') return choice(FINITE_CHECK_MODES);
  const option = spec.options.find((o) => flagOf(o) === flag);
  if (!option) return null;
  try {
    parseOptionText(option, value);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** `cinder …` commands of a markdown file: lines of code blocks, and inline code spans. */
function commandUses(file: string): CommandUse[] {
  const uses: CommandUse[] = [];
  const start = /(?:^|[\s$`(])(?:npx |node (?:--import tsx )?(?:bin\/cinder\.ts|dist\/bin\/cinder\.js) |)(cinder (?:[a-z<][a-z0-9<>-]*)(?=[\s`]|$).*)$/;
  for (const b of codeBlocks(file)) {
    if (b.lang === 'ts' || b.lang === 'json' || b.lang === 'python') continue;
    b.code.split('\n').forEach((line, i) => {
      const l = line.replace(/bin\/cinder\.ts|dist\/bin\/cinder\.js/, 'cinder');
      const m = /(?:^|\s|\$ )(?:npx )?(cinder [a-z<][a-z0-9<>-]*(?=\s|$).*)$/.exec(l);
      if (m) uses.push({ where: `${file}:${b.line + 1 + i}`, text: m[1]!.replace(/\s#.*$/, ''), block: b.code });
    });
  }
  const lines = readFileSync(file, 'utf8').split('\n');
  let inFence = false;
  lines.forEach((line, i) => {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) return;
    for (const span of line.matchAll(/`([^`]+)`/g)) {
      const m = start.exec(span[1]!.replace(/bin\/cinder\.ts|dist\/bin\/cinder\.js/, 'cinder'));
      if (m && /^cinder /.test(m[1]!)) uses.push({ where: `${file}:${i + 1}`, text: m[1]! });
    }
  });
  return uses;
}

/** Problems of one command use: flags its command does not have, grid names that are not options. */
function problems(use: CommandUse): string[] {
  const tokens = use.text.replace(/[[\]]/g, ' ').split(/\s+/).filter(Boolean);
  let cmd = tokens[1] ?? '';
  let rest = tokens.slice(2);
  if (cmd.startsWith('-')) {
    rest = tokens.slice(1);
    cmd = '';
  }
  const out: string[] = [];
  const check = (command: string, flags: Set<string> | undefined, list: string[]) => {
    if (!flags) {
      out.push(`${use.where}: \`${use.text}\`: no command "${command}"`);
      return;
    }
    list.forEach((t, i) => {
      const flag = /^(--[a-z][a-z0-9-]*)/.exec(t)?.[1];
      if (flag && !flags.has(flag)) out.push(`${use.where}: \`${use.text}\`: cinder ${command} has no ${flag}`);
      const value = t.includes('=') ? t.slice(t.indexOf('=') + 1) : list[i + 1];
      const bad = flag && value !== undefined ? valueProblem(command.replace(/^sweep /, ''), flag, value) : null;
      // a value shown with the error it gets (`$ cinder lif-demo --steps 2.5` and its output) is meant
      if (bad && !use.block?.includes(`invalid ${flag}: got ${JSON.stringify(value)}`)) out.push(`${use.where}: \`${use.text}\`: ${bad}`);
    });
  };
  if (cmd === 'sweep') {
    if (rest[0] === 'status') return out;
    const example = rest[0];
    const exampleFlags = example ? flagsOf.get(example) : undefined;
    if (!example || example.startsWith('-')) {
      check('sweep', flagsOf.get('sweep'), rest); // `cinder sweep --pack K` in prose
      return out;
    }
    if (!exampleFlags) return [`${use.where}: \`${use.text}\`: no example "${example}"`];
    const dash = rest.indexOf('--');
    const before = dash < 0 ? rest.slice(1) : rest.slice(1, dash);
    const after = dash < 0 ? [] : rest.slice(dash + 1);
    check(`sweep ${example}`, new Set([...flagsOf.get('sweep')!, ...exampleFlags]), before);
    check(example, exampleFlags, after);
    before.forEach((t, i) => {
      if (t !== '--grid') return;
      const name = /^([^=]+)=/.exec(before[i + 1] ?? '')?.[1];
      const spec = registeredExamples().find((e) => e.name === example)!;
      if (!name || !spec.options.some((o) => o.name === name || flagOf(o) === `--${name}`)) out.push(`${use.where}: \`${use.text}\`: --grid ${name} is not an option of ${example}`);
    });
    return out;
  }
  check(cmd, flagsOf.get(cmd), rest);
  return out;
}

/** Sections of a file that are about one example: heading naming it → the flags in its prose. */
interface Section {
  where: string;
  example: string;
  /** Every --flag in its text. */
  flags: string[];
  /** Inline code spans of the form `--flag value`, with their line. */
  pairs: { where: string; flag: string; value: string }[];
}

function exampleSections(file: string): Section[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Section[] = [];
  let current: (Section & { level: number }) | null = null;
  lines.forEach((line, i) => {
    const h = /^(#{2,6})\s+(.*)$/.exec(line);
    if (h) {
      const level = h[1]!.length;
      if (current && level <= current.level) {
        out.push(current);
        current = null;
      }
      const title = h[2]!.replace(/`/g, '');
      const name = exampleNames.find((n) => new RegExp(`^(?:cinder )?${n}\\b`).test(title));
      if (name && !current) current = { level, example: name, where: `${file}:${i + 1}`, flags: [], pairs: [] };
      return;
    }
    if (!current) return;
    for (const m of line.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) current.flags.push(m[0]);
    for (const m of line.matchAll(/`(--[a-z][a-z0-9-]*) ([^`\s]+)`/g)) current.pairs.push({ where: `${file}:${i + 1}`, flag: m[1]!, value: m[2]! });
  });
  if (current) out.push(current);
  return out;
}

describe('cinder flags named in the docs', () => {
  it('every `cinder <command> --flag` in README.md and docs/*.md is a flag of that command', () => {
    const uses = docFiles().flatMap(commandUses);
    expect(uses.length).toBeGreaterThan(20);
    expect(uses.flatMap(problems)).toEqual([]);
  });

  it('every flag in the prose of an example\'s section is a flag of that example', () => {
    const sections = docFiles().flatMap(exampleSections);
    expect(sections.map((s) => s.example)).toEqual(expect.arrayContaining(['florian', 'song2000', 'lateral-line', 'quickstart', 'lif-demo', 'livn-stdp']));
    const bad = sections.flatMap((s) => s.flags.filter((f) => !flagsOf.get(s.example)!.has(f)).map((f) => `${s.where} (${s.example}): ${f}`));
    expect(bad).toEqual([]);
    // and `--flag value` written in its prose is a value the flag accepts (`--engine tfjs`, `--mode paper`)
    const pairs = sections.flatMap((s) => s.pairs.map((p) => ({ ...p, example: s.example })));
    expect(pairs.length).toBeGreaterThan(5);
    expect(pairs.map((p) => valueProblem(p.example, p.flag, p.value) && `${p.where} (${p.example}): ${valueProblem(p.example, p.flag, p.value)}`).filter(Boolean)).toEqual([]);
  });

  it('every other --flag in the docs is a cinder flag or a listed non-cinder one', () => {
    const known = new Set([...flagsOf.values()].flatMap((s) => [...s]));
    const bad: string[] = [];
    for (const file of docFiles()) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        for (const m of line.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) if (!known.has(m[0]) && !(m[0] in NOT_CINDER)) bad.push(`${file}:${i + 1}: ${m[0]}`);
      });
    }
    expect(bad).toEqual([]);
  });

  it('docs/examples.md\'s table of common flags lists every flag each example has, and every backend', () => {
    const text = readFileSync('docs/examples.md', 'utf8');
    const table = /## Flags\n[\s\S]*?\n((?:\|.*\|\n)+)/.exec(text)?.[1];
    expect(table).toBeTruthy();
    const rows = table!.split('\n').filter((r) => /^\| `-/.test(r));
    const listed = new Set(rows.flatMap((r) => [...r.split('|')[1]!.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0])));
    const common = [...flagsOf.get('<example>')!].filter((f) => f !== '--help');
    expect([...listed].sort()).toEqual(common.sort());
    const backendRow = rows.find((r) => r.startsWith('| `--backend'))!;
    const named = [...backendRow.split('|')[2]!.matchAll(/`([a-z]+)`/g)].map((m) => m[1]);
    expect(named.sort()).toEqual([...BACKEND_NAMES].sort());
  });

  it('README\'s "--backend on …" names only commands that take --backend', () => {
    const claim = /`--backend` on ([^;]*?)(?:, or |;)/.exec(readFileSync('README.md', 'utf8').replace(/\n/g, ' '))?.[1];
    expect(claim).toBeTruthy();
    const commands = new Set<string>();
    if (/every `cinder` command/.test(claim!)) for (const c of flagsOf.keys()) if (c !== '' && c !== '<example>') commands.add(c);
    if (/every example command/.test(claim!)) for (const n of exampleNames) commands.add(n);
    for (const m of claim!.matchAll(/`cinder ([a-z-]+)`/g)) commands.add(m[1]!);
    expect(commands.size).toBeGreaterThan(0);
    expect([...commands].filter((c) => !flagsOf.get(c)!.has('--backend'))).toEqual([]);
  });

  it('the checks catch a flag a command does not have', () => {
    expect(problems({ where: 'probe', text: 'cinder lif-demo --mode tiny --no-such-flag 3' })).toEqual(['probe: `cinder lif-demo --mode tiny --no-such-flag 3`: cinder lif-demo has no --no-such-flag']);
    expect(problems({ where: 'probe', text: 'cinder sweep lif-demo --grid tau=1,2 --seeds 3 --out s' })).toHaveLength(1);
    expect(problems({ where: 'probe', text: 'cinder sweep lateral-line --seeds 3 --out s -- --workers 4 --pack 2' })).toHaveLength(1);
    expect(problems({ where: 'probe', text: 'cinder florian --drive 3' })).toHaveLength(1);
    expect(problems({ where: 'probe', text: 'cinder song2000 --mode huge --engine gpu --backend webgl' })).toHaveLength(3);
    expect(valueProblem('song2000', '--engine', 'tfjs')).toBeNull();
  });
});
