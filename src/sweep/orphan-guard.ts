/**
 * Preloaded (`node --import`) into every run process a sweep starts: when the process that started
 * it dies (a worker killed with SIGKILL), the run stops too instead of running on as an orphan. It
 * checks its parent every 500 ms; on a change it sends itself SIGTERM (the run ends at its next
 * checkpoint, status `interrupted`) and exits after 10 s at the latest.
 * @module
 */
const parent = Number(process.env.CINDER_SWEEP_PARENT);
if (Number.isInteger(parent) && parent > 0) {
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(143), 10_000).unref();
  }, 500);
  timer.unref();
}
export {};
