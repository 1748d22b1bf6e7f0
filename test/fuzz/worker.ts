// Runs the fuzz calls in a worker thread so that a hang can be stopped from outside (the driver
// terminates the worker when it stops reporting). Posts one message before and one after each call.
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { initBackend } from '../../src/core/backend.js';
import { setWarningHandler } from '../../src/core/errors.js';
import { allCases } from './cases.js';

export interface WorkerInput {
  seed: number;
  runs: number;
  backend?: string;
  /** First case and draw to run (after a hang the driver resumes behind it). */
  from: { caseIndex: number; draw: number };
  /** Run only the watchdog's self-test cases (a call that never returns, then one that accepts). */
  selfTest?: boolean;
}

export type WorkerMessage =
  | { type: 'start'; caseIndex: number; draw: number; value: string }
  | { type: 'result'; caseIndex: number; draw: number; value: string; outcome: 'named' | 'unnamed' | 'accepted'; message: string; errorName: string; ms: number }
  | { type: 'done'; cases: number };

function show(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'number' || v === undefined) return String(v);
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : typeof x === 'function' ? 'fn' : x));
    return s === undefined ? String(v) : s.slice(0, 100);
  } catch {
    return String(v);
  }
}

const input = workerData as WorkerInput;
await initBackend({ backend: input.backend });
setWarningHandler(() => {});
const cases = input.selfTest
  ? [
      { id: 'self-test hang', bad: fc.constant(1), names: /never/, runs: 1, call: () => { for (;;); } },
      { id: 'self-test accepts', bad: fc.constant(2), names: /never/, runs: 1, call: () => undefined },
    ]
  : allCases();
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
for (let i = input.from.caseIndex; i < cases.length; i++) {
  const c = cases[i]!;
  const values = fc.sample(c.bad, { seed: input.seed + i, numRuns: c.runs ?? input.runs });
  for (let j = i === input.from.caseIndex ? input.from.draw : 0; j < values.length; j++) {
    const v = values[j];
    const value = show(v);
    post({ type: 'start', caseIndex: i, draw: j, value });
    const kept: { dispose(): void }[] = [];
    const t0 = performance.now();
    let outcome: 'named' | 'unnamed' | 'accepted' = 'accepted';
    let message = '';
    let errorName = '';
    try {
      c.call(v, (d) => kept.push(d));
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
      errorName = e instanceof Error ? e.name : typeof e;
      outcome = e instanceof Error && c.names.test(message) ? 'named' : 'unnamed';
    }
    const ms = performance.now() - t0;
    for (const d of kept) {
      try {
        d.dispose();
      } catch {
        // already disposed by its owner
      }
    }
    post({ type: 'result', caseIndex: i, draw: j, value, outcome, message: message.slice(0, 300), errorName, ms });
  }
}
post({ type: 'done', cases: cases.length });
