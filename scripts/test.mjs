#!/usr/bin/env node
// `npm test`: the whole suite on the default backend, then the core tests again on the other
// JavaScript backend (wasm <-> cpu), so both JS backends are checked on every run, then the webgpu
// suite (test/webgpu) on a WebGPU adapter — in CI SwiftShader, the software Vulkan driver that
// Debian's chromium package ships (its Vulkan loader too). Ends with one plain summary line
// "Tests: N passed, N failed" over all runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const vitest = ['node_modules/vitest/vitest.mjs', 'run'];
const outDir = 'test-output';
mkdirSync(outDir, { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = []; // "label: file > test: first line of the message", printed again at the very end

/** The failed tests of one vitest JSON report (file, full name, first message line). */
function failuresOf(label, j) {
  const out = [];
  for (const file of j.testResults ?? []) {
    const rel = String(file.name ?? '').replace(`${process.cwd()}/`, '');
    const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failed) {
      const msg = String((a.failureMessages ?? [])[0] ?? '').split('\n')[0].slice(0, 300);
      out.push(`${label}: ${rel} > ${a.fullName ?? a.title}: ${msg}`);
    }
    if (failed.length === 0 && file.status === 'failed') {
      out.push(`${label}: ${rel}: ${String(file.message ?? 'the file failed outside its tests').split('\n')[0].slice(0, 300)}`);
    }
  }
  return out;
}

function run(label, args, env = {}) {
  const report = `${outDir}/vitest-${label}.json`;
  rmSync(report, { force: true });
  console.log(`\n$ ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}vitest ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [...vitest, ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  try {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += j.numPassedTests;
    totals.failed += j.numFailedTests + (j.numTotalTestSuites > 0 && j.success === false && j.numFailedTests === 0 ? 1 : 0);
    totals.skipped += j.numPendingTests + j.numTodoTests;
    failures.push(...failuresOf(label, j));
  } catch {
    totals.failed += 1; // no report: the run itself broke
    failures.push(`${label}: no JSON report (the run itself broke, exit ${r.status ?? r.signal})`);
  }
  return r.status ?? 1;
}

const probe = spawnSync(process.execPath, ['--import', 'tsx', '-e', "const {initBackend}=await import('./src/core/backend.ts'); const b=await initBackend(); console.log(b.name)"], { encoding: 'utf8' });
const main = (probe.stdout || '').trim().split('\n').pop() || 'unknown';
console.log(`default backend: ${main}`);
const s1 = run('default', ['--exclude', 'test/webgpu/**']);
const other = main === 'cpu' ? 'wasm' : 'cpu';
const s2 = run(other, ['test/core', 'test/integration/save-load.test.ts'], { CINDER_BACKEND: other });

// The webgpu run. Without a GPU: SwiftShader from chromium (set VK_DRIVER_FILES yourself to use
// another driver, e.g. NVIDIA's ICD). Dawn loads libvulkan.so.1 through the library path, so the
// directory that holds chromium's copy is added to LD_LIBRARY_PATH when the system has none.
const webgpuEnv = { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR || '/tmp' };
const chromiumLib = '/usr/lib/chromium';
if (!process.env.VK_DRIVER_FILES && existsSync(`${chromiumLib}/vk_swiftshader_icd.json`)) {
  webgpuEnv.VK_DRIVER_FILES = `${chromiumLib}/vk_swiftshader_icd.json`;
}
if (existsSync(`${chromiumLib}/libvulkan.so.1`)) {
  webgpuEnv.LD_LIBRARY_PATH = [process.env.LD_LIBRARY_PATH, chromiumLib].filter(Boolean).join(':');
}
if (!webgpuEnv.VK_DRIVER_FILES && !process.env.VK_DRIVER_FILES) {
  console.log('\nwebgpu suite: no Vulkan driver named (VK_DRIVER_FILES) and no chromium SwiftShader found; the suite reports its own skip reason');
}
const s3 = run('webgpu', ['test/webgpu'], webgpuEnv);
if (failures.length > 0) console.log(`\nFailed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
console.log(`\nTests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(s1 !== 0 ? s1 : s2 !== 0 ? s2 : s3);
