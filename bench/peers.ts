/**
 * Peer runs for side-by-side benchmarks: the peer is timed in the same invocation as Cinder, on the
 * same machine, so ratios are comparable (absolute times drift on shared machines).
 *
 * Inferno (PyTorch) is found through `CINDER_PEERS_INFERNO`: a PYTHONPATH-style list of folders
 * that makes `inferno` and `einops` importable (plus the folder of `torchshim.py` on PyTorch 1.13),
 * e.g. `CINDER_PEERS_INFERNO=/work/peers/einops:/work/peers/inferno:/work/shared/peers`.
 * `CINDER_PEERS_PYTHON` picks the interpreter (default `/usr/bin/python3` when present, else
 * `python3`); `CINDER_PEERS_THREADS` the torch thread counts to time (default `1,2`).
 * @module
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One timed peer run. */
export interface PeerTime {
  /** ms per step (wall). */
  msPerStep: number;
  /** CPU ms per step (process time over all threads). */
  cpuMsPerStep: number;
  /** torch threads used. */
  threads: number;
  /** torch version string. */
  version: string;
}

/** Why the Inferno peer is unavailable, or null when it is configured. */
export function infernoUnavailable(): string | null {
  const path = process.env.CINDER_PEERS_INFERNO;
  if (!path) return 'CINDER_PEERS_INFERNO is not set (a PYTHONPATH making inferno and einops importable)';
  const missing = path.split(':').filter((p) => p && !existsSync(p));
  if (missing.length) return `CINDER_PEERS_INFERNO lists missing folders: ${missing.join(', ')}`;
  return null;
}

/** The torch thread counts to time (from `CINDER_PEERS_THREADS`, default 1 and 2). */
export function peerThreads(): number[] {
  const raw = process.env.CINDER_PEERS_THREADS ?? '1,2';
  const t = raw.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
  return t.length ? t : [1, 2];
}

/** Times Inferno's quickstart network with STDP (bench/peers/inferno_quickstart.py). */
export function runInfernoQuickstart(batch: number, steps: number, threads: number, warmup = 20): Promise<PeerTime> {
  const script = fileURLToPath(new URL('./peers/inferno_quickstart.py', import.meta.url));
  const python = process.env.CINDER_PEERS_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const env = { ...process.env, PYTHONPATH: process.env.CINDER_PEERS_INFERNO ?? '' };
  return new Promise((resolve, reject) => {
    execFile(python, [script, String(batch), String(steps), String(threads), String(warmup)], { env, timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`inferno peer failed: ${String(stderr).trim().split('\n').pop() ?? err.message}`));
      const line = String(stdout).trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as { ms_per_step: number; cpu_ms_per_step: number; threads: number; torch: string };
        resolve({ msPerStep: r.ms_per_step, cpuMsPerStep: r.cpu_ms_per_step, threads: r.threads, version: r.torch });
      } catch {
        reject(new Error(`inferno peer printed no result: ${line}`));
      }
    });
  });
}
