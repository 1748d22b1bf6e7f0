#!/usr/bin/env node
// `npm test`: the whole suite on the default backend, then the core tests again on the other
// JavaScript backend (wasm <-> cpu), so both JS backends are checked on every run.
import { spawnSync } from 'node:child_process';

const vitest = ['node_modules/vitest/vitest.mjs', 'run'];

function run(args, env = {}) {
  console.log(`\n$ ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}vitest ${args.slice(2).join(' ')}`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const probe = spawnSync(process.execPath, ['--import', 'tsx', '-e', "const {initBackend}=await import('./src/core/backend.ts'); const b=await initBackend(); console.log(b.name)"], { encoding: 'utf8' });
const main = (probe.stdout || '').trim().split('\n').pop() || 'unknown';
console.log(`default backend: ${main}`);
run([...vitest]);
const other = main === 'cpu' ? 'wasm' : 'cpu';
run([...vitest, 'test/core'], { CINDER_BACKEND: other });
