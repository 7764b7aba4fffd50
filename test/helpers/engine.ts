// Shared set-up for tests that run against the real Docker engine with gVisor.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine } from '../../main/sandbox/docker-engine';
import { LABEL_MANAGED, LABEL_OWNER, ownerId } from '../../main/sandbox/labels';
import { createServices, type Services, type ServicesOptions } from '../../main/services';
import type { RunRecord, RunRequest } from '../../shared/types';

/** Why engine tests cannot run here (no engine, or no gVisor runtime), or null when they can. */
export async function engineUnavailableReason(): Promise<string | null> {
  const engine = new DockerEngine();
  const s = await engine.refresh();
  if (!s.connected) return `Docker engine not reachable (${s.error}); run \`bash scripts/setup.sh --test\``;
  if (!s.gvisorRuntime) return 'Docker engine has no gVisor runtime; run `bash scripts/setup.sh --test`';
  return null;
}

/** Whether the CI variable is set (CI=true by convention; empty, "0" and "false" count as unset). */
export function inCI(): boolean {
  const v = (process.env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

/**
 * The `skip` option for tests whose prerequisite (`reason` says what is missing; null: nothing is)
 * may be missing: locally the reason, printed so that a skip is never silent; under CI an error,
 * because a suite that passes by skipping proves nothing. `what` names the tests in the messages.
 * Only what needs the Electron binary, which these machines cannot download, skips under CI too;
 * it does not use this.
 */
export function skipUnlessReady(reason: string, what: string): string;
export function skipUnlessReady(reason: string | null, what: string): string | false;
export function skipUnlessReady(reason: string | null, what: string): string | false {
  if (reason === null) return false;
  if (inCI()) throw new Error(`CI=${process.env.CI}: ${what} must run, not skip, but cannot: ${reason}`);
  console.log(`# skipping ${what}: ${reason}`);
  return reason;
}

export function tempDir(prefix = 'moat-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export async function startServices(
  opts: Partial<ServicesOptions> = {},
): Promise<Services & { dataDir: string; dispose(): Promise<void> }> {
  const dir = tempDir();
  const services = await createServices({ dataDir: dir.path, pool: false, log: () => {}, ...opts });
  return Object.assign(services, {
    dataDir: dir.path,
    async dispose() {
      await services.close();
      dir.cleanup();
    },
  });
}

/** Runs to completion and returns the final record plus the output text per stream. */
export async function runToEnd(services: Services, req: RunRequest): Promise<{ run: RunRecord; stdout: string; stderr: string }> {
  const rec = await services.sandboxes.run(req);
  const run = (await services.sandboxes.whenDone(rec.id))!;
  const detail = await services.handlers['runs.get']({ id: rec.id });
  const stdout = detail.output
    .filter((c) => c.stream === 'stdout')
    .map((c) => c.data)
    .join('');
  const stderr = detail.output
    .filter((c) => c.stream === 'stderr')
    .map((c) => c.data)
    .join('');
  return { run, stdout, stderr };
}

/** Containers this test process created that still exist (warm pool included unless excluded). */
export async function myContainers(opts: { includePool?: boolean } = {}): Promise<string[]> {
  // Every engine's (local and SSH hosts that are this machine), so nothing is missed.
  const engine = new DockerEngine();
  const all = await engine.docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] } });
  return all
    .filter((c) => c.Labels?.[LABEL_OWNER] === ownerId())
    .filter((c) => opts.includePool || !c.Labels?.['moat.pool'])
    .map((c) => c.Id);
}
