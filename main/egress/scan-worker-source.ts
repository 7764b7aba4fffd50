// How the scan worker is started. From the sources (tsx), as here: a worker that registers tsx and
// imports scan-worker.ts (tsx is registered in this thread by bin/moat.js or `--import tsx`, and a
// worker does not inherit a loader registered at run time). The bundles (scripts/build.mjs,
// scanWorkerPlugin) replace this module with one that holds the worker bundled into a string and
// starts it with `eval: true`: no file to find next to the bundle, or inside app.asar.
import { Worker } from 'node:worker_threads';

export function startScanWorker(): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./scan-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, {
    eval: true,
  });
}
