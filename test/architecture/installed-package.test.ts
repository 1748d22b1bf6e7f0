// The package as `npm publish` would ship it: a copy of the tracked sources is built (`tsc -p
// tsconfig.build.json`, then scripts/bin-mode.mjs, as `prepare` does) and packed (`npm pack`), the
// tarball is unpacked into a consumer folder outside the repository as node_modules/cinder-snn,
// beside links to its DECLARED dependencies only (dependencies, plus the optional ones that are
// installed here), with the `node_modules/.bin/cinder` link npm makes. So a runtime import of a dev
// dependency, a file left out of "files", a worker or child script resolved from the wrong place,
// or a data path that only exists in a checkout fails here. Each installed run is compared with the
// same run from the sources (through tsx): equal numbers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot, runSummary } from '../helpers/cli.js';

interface PackEntry {
  filename: string;
  files: { path: string }[];
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  exports: Record<string, { import: string; types: string }>;
  bin: Record<string, string>;
};
let tmp = '';
let app = '';
let packed: PackEntry;

/** Runs `cmd args` in `cwd`; throws with its output unless it exits 0. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `cinder <args> --quiet` from the installed package (through the .bin link, as `npx cinder` runs it). */
const installed = (args: string[]) => run(join(app, 'node_modules', '.bin', 'cinder'), [...args, '--quiet'], app);
/** The same from the sources. */
const fromSources = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'bin', 'cinder.ts'), ...args, '--quiet'], repoRoot);

/** Keys that differ between any two runs of the same thing: clock times, durations, speeds, paths. */
const VARYING = /_at$|elapsed|seconds$|^seconds|_s$|(^|_)ms(_|$)|per_s(ec)?$|wall|cpu|timing|path|dir/;

/** `x` without the {@link VARYING} keys, at any depth. */
function steady(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(steady);
  if (x === null || typeof x !== 'object') return x;
  return Object.fromEntries(Object.entries(x).filter(([k]) => !VARYING.test(k)).map(([k, v]) => [k, steady(v)]));
}

/** A run summary without what differs between any two runs. */
const numbers = (dir: string) => steady(runSummary(dir)) as Record<string, unknown>;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'cinder-package-'));
  // the tracked sources the build and the pack read (not the checkout's dist/, which may be stale)
  const src = join(tmp, 'src-copy');
  const tracked = run('git', ['ls-files', '-z', 'package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src', 'examples', 'bin', 'docs'], repoRoot).split('\0').filter((f) => f.length > 0);
  for (const f of tracked) {
    mkdirSync(dirname(join(src, f)), { recursive: true });
    cpSync(join(repoRoot, f), join(src, f));
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(src, 'node_modules'), 'dir');
  run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], src);
  run(process.execPath, ['scripts/bin-mode.mjs'], src);
  const npm = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const out = run(npm[0]!, [...npm.slice(1), 'pack', '--ignore-scripts', '--json', '--pack-destination', tmp], src);
  packed = (JSON.parse(out.slice(out.indexOf('['))) as PackEntry[])[0]!;
  // the consumer: the tarball as node_modules/cinder-snn, links to the declared dependencies, the bin link
  app = join(tmp, 'app');
  const home = join(app, 'node_modules', pkg.name);
  mkdirSync(home, { recursive: true });
  run('tar', ['xzf', join(tmp, packed.filename), '-C', home, '--strip-components=1'], tmp);
  const declared = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})];
  for (const d of declared) {
    const real = join(repoRoot, 'node_modules', d);
    if (!existsSync(real)) continue; // an optional dependency npm skipped here (e.g. tfjs-node without internet)
    mkdirSync(dirname(join(app, 'node_modules', d)), { recursive: true });
    symlinkSync(real, join(app, 'node_modules', d), 'dir');
  }
  mkdirSync(join(app, 'node_modules', '.bin'));
  for (const [name, target] of Object.entries(pkg.bin)) symlinkSync(join('..', pkg.name, target), join(app, 'node_modules', '.bin', name));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the published package', () => {
  it('holds every export target, its typings and the bin; none of the tests, benches or build scripts', () => {
    const files = new Set(packed.files.map((f) => f.path));
    const targets = [...Object.values(pkg.exports).flatMap((e) => [e.import, e.types]), ...Object.values(pkg.bin), 'README.md', 'package.json'];
    expect(targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !files.has(t))).toEqual([]);
    // every compiled example and entry that dist/ should hold: one .js per source .ts of src, examples and bin
    const sources = packed.files.map((f) => f.path).filter((p) => /^(src|examples|bin)\/.*\.ts$/.test(p) && !p.endsWith('.d.ts'));
    expect(sources.length).toBeGreaterThan(200);
    expect(sources.map((p) => `dist/${p.replace(/\.ts$/, '.js')}`).filter((p) => !files.has(p))).toEqual([]);
    expect([...files].filter((p) => /^(test|bench|scripts|\.ci|\.gpu|test-output|node_modules)\//.test(p))).toEqual([]);
  });

  it('imports from a folder outside the repository with only its declared dependencies: both entries export what the sources export', async () => {
    writeFileSync(join(app, 'keys.mjs'), "const a = await import('cinder-snn'); const b = await import('cinder-snn/node');\nconsole.log(JSON.stringify([Object.keys(a).sort(), Object.keys(b).sort()]));\n");
    const [main, node] = JSON.parse(run(process.execPath, ['keys.mjs'], app).trim().split('\n').pop()!) as [string[], string[]];
    const wantMain = Object.keys(await import('../../src/index.js')).sort();
    const wantNode = Object.keys(await import('../../src/node.js')).sort();
    expect(main).toEqual(wantMain);
    expect(node).toEqual(wantNode);
    expect(main.length).toBeGreaterThan(100);
  });

  it("compiles a strict TypeScript consumer against its typings (both entries), and its types refuse a wrong argument", () => {
    const consumer = [
      "import { initBackend, tf, Rng, LIF, LinearDense, DeltaCurrent, Serial, uniformInit, STDP, Network } from 'cinder-snn';",
      "import { writeNpz } from 'cinder-snn/node';",
      'const info = await initBackend();',
      'const rng = new Rng(1);',
      'const layer = new Serial(',
      '  new LinearDense([4], [3], 1.0, { synapse: DeltaCurrent.factory({ charge: 5 }), batchSize: 2, weightInit: uniformInit(rng, 0, 0.3) }),',
      '  new LIF([3], 1.0, { restV: -65, resetV: -65, threshV: -52, refracT: 5, tauM: TAU, batchSize: 2 }),',
      ');',
      'new STDP({ lrPost: 5e-4, lrPre: -5e-6, tauPost: 30, tauPre: 30 }).register(layer.cell(layer.connection, layer.neuron));',
      'const n: number = info.name.length;',
      'const t: tf.Tensor = tf.zeros([2, 4]);',
      'void writeNpz; void new Network(); void n; void t;',
    ].join('\n');
    // skipLibCheck: tfjs-core's own typings name a type they do not declare ('Long'), as in any project using tfjs
    const tsconfig = { compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(repoRoot, 'node_modules', '@types')] }, files: ['consumer.ts'] };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = (tau: string) => {
      writeFileSync(join(app, 'consumer.ts'), consumer.replace('TAU', tau));
      return spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: app, encoding: 'utf8' });
    };
    const ok = tsc('20');
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const bad = tsc("'20'");
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/consumer\.ts\(7,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  });

  it('its cinder command computes what the sources compute: florian, quickstart (MNIST from its dependency) and lateral-line on 2 worker threads', () => {
    const cases: [string, string[]][] = [
      ['florian', ['florian', '--mode', 'tiny', '--seed', '3']],
      ['quickstart', ['quickstart', '--mode', 'tiny', '--seed', '2']],
      ['lateral-line', ['lateral-line', '--mode', 'tiny', '--multi-seed', '2', '--workers', '2']],
    ];
    for (const [name, args] of cases) {
      const a = join(tmp, 'runs', `${name}-installed`);
      const b = join(tmp, 'runs', `${name}-sources`);
      installed([...args, '--out', a]);
      fromSources([...args, '--out', b]);
      const got = numbers(a);
      expect(got.status, name).toBe('completed');
      expect(Object.keys(got).length, name).toBeGreaterThan(4);
      expect(got, name).toEqual(numbers(b));
    }
  });

  it('its sweep runs its children with the installed command: each seed equals the installed run of that seed', () => {
    const out = join(tmp, 'runs', 'sweep');
    run(join(app, 'node_modules', '.bin', 'cinder'), ['sweep', 'lif-demo', '--mode', 'tiny', '--seeds', '1..2', '--out', out], app);
    const sweep = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { runs: { seed: number; status: string; dir: string }[] };
    expect(sweep.runs.map((r) => [r.seed, r.status])).toEqual([[1, 'completed'], [2, 'completed']]);
    const alone = sweep.runs.map((r) => {
      const one = join(tmp, 'runs', `lif-demo-seed-${r.seed}`);
      installed(['lif-demo', '--mode', 'tiny', '--seed', String(r.seed), '--out', one]);
      const want = numbers(one);
      expect(numbers(join(out, r.dir))).toEqual(want);
      return want;
    });
    expect(alone[0]!.input_spikes).not.toEqual(alone[1]!.input_spikes); // the comparison sees the seed
  });
});
