// `moat egress-test [--allow-net DEST ...] [--template T] [--json]`: runs the egress probes in a
// sandbox on this machine with that policy (default: no network) and prints, per probe, what the
// policy declares and what happened. Exit 0 when every probe matches, 1 when one does not, 125
// when the test could not run.
import type { Command } from 'commander';
import { MoatError } from '../../shared/errors';
import type { EgressTestReport } from '../../shared/egress';
import { KeychainVault } from '../../main/credentials/keychain';
import { fileLogger } from '../../main/log';
import { createServices, defaultDataDir, type Services } from '../../main/services';
import { parseAllowNet } from './run-request';

export function reportText(r: EgressTestReport): string {
  const rows = r.probes.map((p) => [p.pass ? 'PASS' : 'FAIL', p.label, p.target, p.declared, p.enforced, p.detail]);
  const head = ['', 'PROBE', 'TARGET', 'DECLARED', 'ENFORCED', 'DETAIL'];
  const widths = head.map((_, i) => Math.min(40, Math.max(head[i]!.length, ...rows.map((row) => row[i]!.length))));
  const line = (cols: string[]): string =>
    cols
      .map((c, i) => (i < cols.length - 1 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd();
  const policy = r.allowNet.length ? `allow ${r.allowNet.join(', ')}` : 'no network (default)';
  return [
    `egress self-test, run ${r.runId}, policy: ${policy}`,
    line(head),
    ...rows.map(line),
    r.pass ? 'every probe as declared' : `${r.probes.filter((p) => !p.pass).length} probe(s) NOT as declared`,
  ].join('\n');
}

export function registerEgressTest(program: Command): void {
  program
    .command('egress-test')
    .description('run the egress probes in a sandbox with a policy; report declared against enforced (exit 1 if any differs)')
    .option('--allow-net <dest...>', 'the policy to test: DOMAIN[:PORT], *.DOMAIN, CIDR[:PORT], @preset (default: none)')
    .option('-t, --template <id>', "also count this template's allowlist (Settings)")
    .option('--json', 'the report as JSON')
    .action(async (o: { allowNet?: string[]; template?: string; json?: boolean }) => {
      let services: Services | null = null;
      try {
        const allowNet = parseAllowNet(o.allowNet ?? []);
        const dataDir = defaultDataDir();
        services = await createServices({ dataDir, pool: false, log: fileLogger(dataDir), vault: new KeychainVault() });
        const report = await services.handlers['egress.test']({ allowNet, ...(o.template ? { template: o.template } : {}) });
        process.stdout.write((o.json ? JSON.stringify(report) : reportText(report)) + '\n');
        process.exitCode = report.pass ? 0 : 1;
      } catch (err) {
        const e = err as Error & { fix?: string };
        process.stderr.write(`moat: ${e.message}\n${err instanceof MoatError && e.fix ? `fix: ${e.fix}\n` : ''}`);
        process.exitCode = err instanceof MoatError ? 125 : 2;
      } finally {
        await services?.close();
      }
    });
}
