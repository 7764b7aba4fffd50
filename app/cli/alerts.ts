// `moat alerts`: the egress filter's alerts from a terminal (the same store the Alerts view reads).
//   moat alerts [--all] [--severity S] [--rule R] [--run ID] [--json]   unacknowledged ones by default
//   moat alerts ack ID... | --all                                      acknowledge
//   moat alerts suppress RULE [--reason TEXT] / unsuppress RULE / suppressed
// Suppressing and restoring a rule are recorded in the audit log, as from the window.
import { Option, type Command } from 'commander';
import { Severity, type Alert } from '../../shared/egress';
import { ownerId } from '../../main/sandbox/labels';
import { defaultDataDir } from '../../main/services';
import { AlertStore } from '../../main/store/alerts';
import { AuditLog } from '../../main/store/audit';

function withStores<T>(fn: (alerts: AlertStore, audit: AuditLog) => T): T {
  const dataDir = defaultDataDir();
  const alerts = new AlertStore(dataDir);
  const audit = new AuditLog(dataDir);
  try {
    return fn(alerts, audit);
  } finally {
    alerts.close();
    audit.close();
  }
}

export function alertLine(a: Alert): string {
  const when = new Date(a.t).toISOString().replace('T', ' ').slice(0, 19);
  const where =
    a.kind === 'network'
      ? `${a.destination ?? '?'}:${a.port ?? '?'} refused (${a.reason ?? ''})`
      : `${a.stream ?? '-'}@${a.offset ?? '-'} ${a.preview ?? ''}`;
  return [a.id, when, a.severity.padEnd(8), a.rule.padEnd(28), a.runId, where, a.acknowledged ? 'ack' : ''].join('  ').trimEnd();
}

export function registerAlerts(program: Command): void {
  const cmd = program
    .command('alerts')
    .description("the egress filter's alerts (unacknowledged, newest first)")
    .option('--all', 'acknowledged ones too')
    .addOption(new Option('--severity <s>', 'only this severity').choices(Severity.options))
    .option('--rule <id>', 'only this rule')
    .option('--run <id>', 'only this run')
    .option('-n, --limit <n>', 'at most this many', '100')
    .option('--json', 'as JSON')
    .action((o: { all?: boolean; severity?: Severity; rule?: string; run?: string; limit: string; json?: boolean }) => {
      const list = withStores((alerts) =>
        alerts.list({
          ...(o.all ? {} : { acknowledged: false }),
          ...(o.severity ? { severity: o.severity } : {}),
          ...(o.rule ? { rule: o.rule } : {}),
          ...(o.run ? { runId: o.run } : {}),
          limit: Math.max(1, Number(o.limit) || 100),
        }),
      );
      if (o.json) process.stdout.write(JSON.stringify(list) + '\n');
      else if (list.length === 0) process.stdout.write(o.all ? 'no alerts\n' : 'no unacknowledged alerts\n');
      else for (const a of list) process.stdout.write(alertLine(a) + '\n');
    });
  cmd
    .command('ack')
    .description('acknowledge alerts')
    .argument('[ids...]', 'alert IDs')
    .option('--all', 'every unacknowledged alert')
    .action((ids: string[], o: { all?: boolean }) => {
      if (!o.all && ids.length === 0) {
        process.stderr.write('moat: give alert IDs, or --all\n');
        process.exitCode = 2;
        return;
      }
      const n = withStores((alerts) =>
        alerts.acknowledge(o.all ? alerts.list({ acknowledged: false, limit: 5000 }).map((a) => a.id) : ids),
      );
      process.stdout.write(`acknowledged ${n}\n`);
    });
  cmd
    .command('suppress')
    .description('stop alerting on (and redacting) a rule; recorded in the audit log')
    .argument('<rule>', 'rule id, e.g. generic-api-key')
    .option('--reason <text>', 'why (kept with the suppression)')
    .action((rule: string, o: { reason?: string }) => {
      withStores((alerts, audit) => {
        alerts.suppress({ rule, ...(o.reason ? { reason: o.reason } : {}), t: Date.now(), by: ownerId() });
        audit.record({ action: 'alerts.suppress', by: ownerId(), details: { rule, ...(o.reason ? { reason: o.reason } : {}) } });
      });
      process.stdout.write(`suppressed ${rule}\n`);
    });
  cmd
    .command('unsuppress')
    .description('alert on (and redact) a suppressed rule again')
    .argument('<rule>', 'rule id')
    .action((rule: string) => {
      const had = withStores((alerts, audit) => {
        const h = alerts.unsuppress(rule);
        if (h) audit.record({ action: 'alerts.unsuppress', by: ownerId(), details: { rule } });
        return h;
      });
      if (!had) {
        process.stderr.write(`moat: the rule "${rule}" is not suppressed\n`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(`restored ${rule}\n`);
    });
  cmd
    .command('suppressed')
    .description('the suppressed rules')
    .option('--json', 'as JSON')
    .action((o: { json?: boolean }) => {
      const list = withStores((alerts) => alerts.suppressed());
      if (o.json) process.stdout.write(JSON.stringify(list) + '\n');
      else if (list.length === 0) process.stdout.write('no rules suppressed\n');
      else for (const s of list) process.stdout.write(`${s.rule}  ${new Date(s.t).toISOString().slice(0, 19)}  ${s.reason ?? ''}\n`);
    });
}
