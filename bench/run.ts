/**
 * `npm run bench [-- case ...]`: runs the benchmark cases and prints one JSON line per result.
 * Cases: lif-dense, quickstart, song2000, sparse-stdp, eprop, livn, lateral-line, sweep, finite-check (each a module in bench/ exporting `run()`).
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
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const backend = process.argv.find((a) => a.startsWith('--backend='))?.split('=')[1];
const info = await initBackend({ backend });
console.error(`# backend ${info.name}${info.gpu ? ' (GPU)' : ''}`);
for (const name of wanted.length ? wanted : Object.keys(CASES)) {
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
