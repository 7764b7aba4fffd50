// How the scan worker is started: scan-worker.ts bundled into one CommonJS script (Node's
// built-ins only) and run with `new Worker(code, { eval: true })`. The bundles (scripts/build.mjs,
// scanWorkerPlugin) replace this module with one that holds that script, built with them: no file
// to find beside the bundle, or inside app.asar. From the sources, as here, it is bundled when the
// first worker starts (esbuild, which tsx runs on: tens of ms, once per process). Not tsx in the
// worker: its loader costs the process about 40 MB more; esbuild's build (not buildSync, which
// costs 15 MB) about 2 MB.
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

let code: Promise<string> | null = null;

export async function startScanWorker(options: WorkerOptions): Promise<Worker> {
  code ??= import('esbuild').then(async ({ build }) => {
    const r = await build({
      entryPoints: [fileURLToPath(new URL('./scan-worker.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
    });
    return r.outputFiles[0]!.text;
  });
  // A build that failed is tried again by the next worker.
  code.catch(() => (code = null));
  return new Worker(await code, { ...options, eval: true });
}
