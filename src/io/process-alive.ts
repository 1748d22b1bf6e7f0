/**
 * Whether a process still runs, for the files that name their writer by pid (run-folder and sweep
 * locks, tensor-folder save locks, temporary files of saves; see `lock.ts`). Node only.
 * @module
 */
import { readFileSync } from 'node:fs';

/**
 * True when process `pid` exists on this host (also when it belongs to another user). False for a
 * pid that is not a positive integer (a damaged lock's): `kill(0, 0)` and `kill(-1, 0)` would
 * signal this process's group or every process, and succeed; `kill(-n, 0)` probes a process group.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * True when process `pid` exists on this host and is stopped (SIGSTOP, SIGTSTP, a debugger's
 * stop): state `T` or `t` in `/proc/<pid>/stat` (the field after the parenthesised command name,
 * which may itself hold spaces and parentheses). Linux only: false where there is no `/proc`, and
 * for a process that does not exist.
 */
export function processStopped(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 1).trim()[0];
  return state === 'T' || state === 't';
}
