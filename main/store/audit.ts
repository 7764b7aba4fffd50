// The audit log: an append-only record of every security-relevant action (runs that opted out of
// gVisor, settings changes, sandboxes removed as orphans). Never holds secrets or program output.
import { join } from 'node:path';
import { AppendLog } from './durable';

export interface AuditEntry {
  t: number;
  action:
    | 'run.runc-opt-in'
    | 'settings.update'
    | 'sandbox.orphans-removed'
    // Provider accounts; failures too (details.outcome says which), never with the key.
    | 'account.add'
    | 'account.remove'
    | 'account.rotate'
    // Instances: launched, terminated, an SSH public key registered with a provider; failures too.
    | 'instance.launch'
    | 'instance.terminate'
    | 'instance.ssh-key'
    // Firewalls: a lock plan previewed; each apply step, verification and rollback, and the result.
    | 'firewall.plan'
    | 'firewall.apply'
    | 'firewall.launch-lock'
    // Remote hosts: added (host key pinned), removed, prepared (each run, check-only too), the idle
    // rule set, and what the rule did (warned; terminated the instance, with its hourly cost).
    | 'host.add'
    | 'host.remove'
    | 'host.trust'
    | 'host.prepare'
    | 'host.idle-rule'
    | 'host.idle'
    // The egress filter: a run that opted out of it, rules suppressed or restored, destinations
    // allowed for a template.
    | 'run.egress-filter-off'
    | 'alerts.suppress'
    | 'alerts.unsuppress'
    | 'egress.allow-for-template';
  /** Who did it: the Moat process (host:pid:start). */
  by: string;
  details: Record<string, string | number | boolean | string[]>;
}

export class AuditLog {
  private readonly log: AppendLog;

  constructor(dataDir: string) {
    this.log = new AppendLog(join(dataDir, 'audit.jsonl'));
  }

  private readonly listeners = new Set<(e: AuditEntry) => void>();

  record(entry: Omit<AuditEntry, 't'>): void {
    const e: AuditEntry = { t: Date.now(), ...entry };
    this.log.append(e);
    for (const l of this.listeners) l(e);
  }

  /** Called with every entry this process records (for live views); returns the unsubscribe. */
  subscribe(listener: (e: AuditEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Newest first: entries before `before` (a time), at most `limit`. */
  recent(o: { limit?: number; before?: number } = {}): AuditEntry[] {
    const all = this.read();
    const out: AuditEntry[] = [];
    for (let i = all.length - 1; i >= 0 && out.length < (o.limit ?? 200); i--) {
      if (o.before === undefined || all[i]!.t < o.before) out.push(all[i]!);
    }
    return out;
  }

  /** Everything recorded so far, oldest first. */
  read(): AuditEntry[] {
    const reader = new AppendLog(this.log.path);
    try {
      return reader.readNew().values as AuditEntry[];
    } finally {
      reader.close();
    }
  }

  close(): void {
    this.log.close();
    this.listeners.clear();
  }
}
