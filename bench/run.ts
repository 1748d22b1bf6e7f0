/**
 * `npm run bench [-- case ...] [--backend <name>]`: runs the benchmark cases and prints one JSON
 * line per result. Cases: lif-dense, quickstart, song2000, sparse-stdp, eprop, livn, lateral-line,
 * sweep, finite-check, webgpu (each a module in bench/ exporting `run()`). `--backend webgpu` (or
 * `--backend=webgpu`, or CINDER_BACKEND=webgpu) without cases runs the `webgpu` case only: matmul
 * rate, quickstart with STDP at B = 1, 20, 256, 1024 and e-prop at B = 32 and 256.
 */
import { initBackend } from '../src/core/backend.js';

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

const args = process.argv.slice(2);
const at = args.indexOf('--backend');
const backend = at >= 0 ? args[at + 1] : args.find((a) => a.startsWith('--backend='))?.split('=')[1];
const wanted = args.filter((a, i) => !a.startsWith('-') && !(at >= 0 && i === at + 1));
const info = await initBackend({ backend });
console.error(`# backend ${info.name}${info.gpu ? ' (GPU)' : ''}${info.adapter ? `, adapter ${info.adapter.vendor} ${info.adapter.architecture} ${info.adapter.device}` : ''}`);
const defaults = info.name === 'webgpu' ? ['webgpu'] : Object.keys(CASES).filter((c) => c !== 'webgpu');
for (const name of wanted.length ? wanted : defaults) {
  const load = CASES[name];
  if (!load) {
    console.error(`unknown bench case "${name}"; known: ${Object.keys(CASES).join(', ')}`);
    process.exit(2);
  }
  let mod: { run: () => Promise<void> };
  try {
    mod = await load();
  } catch (err) {
    console.error(`# ${name}: not available (${(err as Error).message.split('\n')[0]})`);
    continue;
  }
  await mod.run();
}
