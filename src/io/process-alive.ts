/**
 * Whether a process still runs, for the files that name their writer by pid (run-folder and sweep
 * locks, tensor-folder save locks, temporary files of saves; see `lock.ts`). Node only.
 * @module
 */

/** True when process `pid` exists on this host (also when it belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
