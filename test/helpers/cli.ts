// The real `moat` CLI as a child process for test fixtures: run with this process's environment
// (its keyring session, its fake provider URLs), output collected, every run kept in `runs` so
// the fixture can hand all of it back for the parent's checks and leak greps.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface CliRun {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A runner whose calls put `prefix` before their arguments (e.g. ['firewall']). */
export function cliRunner(prefix: string[] = []): { runs: CliRun[]; run(args: string[]): Promise<CliRun> } {
  const runs: CliRun[] = [];
  const run = (args: string[]): Promise<CliRun> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'app', 'cli', 'main.ts'), ...prefix, ...args], {
        cwd: ROOT,
        env: process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (status) => {
        const r = { args, status, stdout, stderr };
        runs.push(r);
        resolve(r);
      });
    });
  return { runs, run };
}
