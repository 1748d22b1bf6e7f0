/**
 * A worker thread running one of the project's own modules, from `dist/` (compiled `.js`) or from
 * source (`.ts`, through tsx's loader registered inside the thread). Node only.
 * @module
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on the module `path` (relative to `callerUrl`, without extension): its
 * `.js` file when the caller itself is compiled `.js`, else its `.ts` file through tsx. A module that
 * fails to load posts `{ type: 'error', message }` to the parent.
 *
 * @param callerUrl the calling module's `import.meta.url`
 * @param path the worker module, e.g. `./worker`
 * @param options the Worker's options (`workerData`, …; `eval` is set here)
 */
export function moduleWorker(callerUrl: string, path: string, options: WorkerOptions = {}): Worker {
  const compiled = callerUrl.endsWith('.js');
  const url = new URL(`${path}${compiled ? '.js' : '.ts'}`, callerUrl).href;
  const load = compiled ? `await import(${JSON.stringify(url)});` : `const { register } = await import('tsx/esm/api'); register(); await import(${JSON.stringify(url)});`;
  const boot = `(async () => { ${load} })().catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }); });`;
  return new Worker(boot, { ...options, eval: true });
}
