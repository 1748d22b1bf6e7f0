// Property-based fuzzing of the public API (fast-check, fixed seed): every case of cases.ts draws
// invalid values for one argument of one constructor or method. Each call runs in a worker under a
// watchdog (a call that does not return within CALL_TIMEOUT_MS is a hang: the worker is terminated
// and the run resumes behind it). Acceptance (issue 11): ≥ 300 bad argument sets, 0 hangs, 0 errors
// whose message does not name the argument (TypeError, RangeError, …), 0 silent acceptances.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { allCases } from './cases.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

// Fixed by default; CINDER_FUZZ_SEED / CINDER_FUZZ_RUNS explore further (e.g. before a release).
const SEED = Number(process.env.CINDER_FUZZ_SEED ?? 20261128);
const RUNS = Number(process.env.CINDER_FUZZ_RUNS ?? 8); // draws per case
const CALL_TIMEOUT_MS = 5000;

interface Finding {
  id: string;
  value: string;
  kind: 'hang' | 'unnamed' | 'accepted' | 'slow';
  detail: string;
}

function runWorker(input: WorkerInput, onMessage: (m: WorkerMessage) => void): Promise<{ hung: { caseIndex: number; draw: number; value: string } | null }> {
  return new Promise((resolvePromise, reject) => {
    const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: input });
    let current: { caseIndex: number; draw: number; value: string } | null = null;
    let timer: NodeJS.Timeout | null = null;
    let finished = false;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        finished = true;
        void w.terminate().then(() => resolvePromise({ hung: current }));
      }, current ? CALL_TIMEOUT_MS : 60_000); // the first message waits for the backend to start
    };
    arm();
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'start') current = { caseIndex: m.caseIndex, draw: m.draw, value: m.value };
      onMessage(m);
      if (m.type === 'done') {
        finished = true;
        if (timer) clearTimeout(timer);
        void w.terminate().then(() => resolvePromise({ hung: null }));
        return;
      }
      arm();
    });
    w.on('error', (e) => {
      if (timer) clearTimeout(timer);
      if (!finished) reject(e);
    });
  });
}

describe('fuzz: bad arguments across the public API', () => {
  it('the watchdog reports a call that never returns and resumes behind it', async () => {
    const seen: string[] = [];
    const first = await runWorker({ seed: 1, runs: 1, from: { caseIndex: 0, draw: 0 }, selfTest: true }, (m) => {
      if (m.type === 'result') seen.push(`${m.caseIndex}:${m.outcome}`);
    });
    expect(first.hung).toEqual({ caseIndex: 0, draw: 0, value: '1' });
    const second = await runWorker({ seed: 1, runs: 1, from: { caseIndex: 0, draw: 1 }, selfTest: true }, (m) => {
      if (m.type === 'result') seen.push(`${m.caseIndex}:${m.outcome}`);
    });
    expect(second.hung).toBeNull();
    expect(seen).toEqual(['1:accepted']);
  }, 60_000);

  it('≥ 300 bad argument sets: no hang, every error names its argument, nothing silently accepted', async () => {
    const cases = allCases();
    const findings: Finding[] = [];
    let calls = 0;
    let from = { caseIndex: 0, draw: 0 };
    let maxMs = 0;
    for (;;) {
      const { hung } = await runWorker({ seed: SEED, runs: RUNS, from }, (m) => {
        if (m.type !== 'result') return;
        calls++;
        maxMs = Math.max(maxMs, m.ms);
        const id = cases[m.caseIndex]!.id;
        if (m.outcome === 'accepted') findings.push({ id, value: m.value, kind: 'accepted', detail: '' });
        else if (m.outcome === 'unnamed') findings.push({ id, value: m.value, kind: 'unnamed', detail: `${m.errorName}: ${m.message}` });
        else if (m.ms > 2000) findings.push({ id, value: m.value, kind: 'slow', detail: `${m.ms.toFixed(0)} ms` });
      });
      if (!hung) break;
      calls++;
      findings.push({ id: cases[hung.caseIndex]!.id, value: hung.value, kind: 'hang', detail: `no return within ${CALL_TIMEOUT_MS} ms` });
      from = { caseIndex: hung.caseIndex, draw: hung.draw + 1 };
    }
    const report = findings.map((f) => `${f.kind.padEnd(8)} ${f.id} ← ${f.value}${f.detail ? `: ${f.detail}` : ''}`);
    expect(report, `fuzz findings (${calls} calls, ${cases.length} cases)`).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(300);
    expect(cases.length).toBeGreaterThanOrEqual(100);
    expect(maxMs).toBeLessThan(2000);
  }, 180_000);
});
