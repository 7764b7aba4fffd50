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
    | 'instance.ssh-key';
  /** Who did it: the Moat process (host:pid:start). */
  by: string;
  details: Record<string, string | number | boolean | string[]>;
}

export class AuditLog {
  private readonly log: AppendLog;

  constructor(dataDir: string) {
    this.log = new AppendLog(join(dataDir, 'audit.jsonl'));
  }

  record(entry: Omit<AuditEntry, 't'>): void {
    this.log.append({ t: Date.now(), ...entry });
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
  }
}
