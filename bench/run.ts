/**
 * `npm run bench [-- case ...] [--backend <name>] [--help]`: runs the benchmark cases and prints one JSON
 * line per result. Cases: lif-dense, quickstart, song2000, sparse-stdp, eprop, livn, lateral-line,
 * sweep, finite-check, webgpu (each a module in bench/ exporting `run()`). `--backend webgpu` (or
 * `--backend=webgpu`, or CINDER_BACKEND=webgpu) without cases runs the `webgpu` case only: matmul
 * rate, quickstart with STDP at B = 1, 20, 256, 1024 and e-prop at B = 32 and 256.
 */
import { initBackend } from '../src/core/backend.js';
import { CinderArgumentError } from '../src/core/errors.js';
import { whenPipeCloses } from '../src/cli/closed-pipe.js';

const CASES: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  'lif-dense': () => import('./lif-dense.js'),
  quickstart: () => import('./quickstart.js'),
  song2000: () => import('./song2000.js'),
  'sparse-stdp': () => import('./sparse-stdp.js'),
  eprop: () => import('./eprop.js'),
  livn: () => import('./livn.js'),
  'lateral-line': () => import('./lateral-line.js'),
  sweep: () => import('./sweep.js'),
  'finite-check': () => import('./finite-check.js'),

  webgpu: () => import('./webgpu.js'),
};

const USAGE = `usage: npm run bench [-- case ...] [--backend <name>]
  cases: ${Object.keys(CASES).join(', ')} (default: all but webgpu; with --backend webgpu: webgpu)
  prints one JSON line per result on stdout; comments (#) on stderr`;

// A reader that stops early (`npm run bench | head -3`) closes the pipe; the JSON lines that follow
// have nowhere to go, so the bench stops there, quietly and with exit 0 (`cinder` goes on instead,
// because its run folder keeps a run's results; a bench keeps nothing else). Comments sent to a
// closed stderr are dropped.
whenPipeCloses(process.stdout, () => process.exit(0));
whenPipeCloses(process.stderr);

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const at = args.indexOf('--backend');
const backend = at >= 0 ? args[at + 1] : args.find((a) => a.startsWith('--backend='))?.split('=')[1];
const rest = args.filter((a, i) => a !== '--backend' && !a.startsWith('--backend=') && !(at >= 0 && i === at + 1));
const flag = rest.find((a) => a.startsWith('-'));
const wanted = rest.filter((a) => !a.startsWith('-'));
const unknown = wanted.find((c) => !(c in CASES));
// Checked before the backend starts and before any case runs: a typo does not cost a half-run.
if (flag !== undefined || unknown !== undefined || (at >= 0 && !backend)) {
  const what = flag !== undefined ? `invalid option: got ${JSON.stringify(flag)}, expected --backend <name> or --help`
    : unknown !== undefined ? `invalid bench case: got ${JSON.stringify(unknown)}, expected one of ${Object.keys(CASES).join(', ')}`
    : 'invalid --backend: got nothing, expected a backend name';
  console.error(`${what}\n${USAGE}`);
  process.exit(2);
}
let info: Awaited<ReturnType<typeof initBackend>>;
try {
  info = await initBackend({ backend });
} catch (err) {
  // a bad name (exit 2) or a backend that cannot start here (exit 1): its message, not a stack trace
  console.error((err as Error).message);
  process.exit(err instanceof CinderArgumentError ? 2 : 1);
}
console.error(`# backend ${info.name}${info.gpu ? ' (GPU)' : ''}${info.adapter ? `, adapter ${info.adapter.vendor} ${info.adapter.architecture} ${info.adapter.device}` : ''}`);
const defaults = info.name === 'webgpu' ? ['webgpu'] : Object.keys(CASES).filter((c) => c !== 'webgpu');
for (const name of wanted.length ? wanted : defaults) {
  let mod: { run: () => Promise<void> };
  try {
    mod = await CASES[name]!();
  } catch (err) {
    console.error(`# ${name}: not available (${(err as Error).message.split('\n')[0]})`);
    continue;
  }
  await mod.run();
}
