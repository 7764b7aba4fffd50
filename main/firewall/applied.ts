// What Moat last wrote to each rule set, so that a change made behind its back (the provider's
// console, another tool, a teammate) is found: drift. One small owner-only JSON file, replaced
// atomically under a lock like instances.json. A rule set Moat never wrote has no record and so
// never counts as drifted.
import { join } from 'node:path';
import * as z from 'zod';
import { RecordFile } from '../store/record-file';
import type { RuleSet, RuleSetRef } from './model';

const Record_ = z.object({ version: z.string(), at: z.number(), by: z.string().optional() });
export type AppliedRecord = z.infer<typeof Record_>;

export function ruleSetKey(r: RuleSetRef): string {
  return `${r.provider}:${r.account}:${r.kind}:${r.id}`;
}

export class AppliedRules {
  private readonly file: RecordFile<AppliedRecord>;

  constructor(dataDir: string) {
    this.file = new RecordFile(join(dataDir, 'firewall.json'), 'ruleSets', Record_);
  }

  all(): Record<string, AppliedRecord> {
    return this.file.all();
  }

  /** Moat has just written (and read back) this rule set. */
  record(rs: RuleSet, at = Date.now()): void {
    this.update((all) => {
      all[ruleSetKey(rs)] = { version: rs.version, at };
    });
  }

  /** A rule set Moat restored in a rollback gets a new version with the same rules: not drift, if Moat wrote it before. */
  recordIfKnown(rs: RuleSet, at = Date.now()): void {
    this.update((all) => {
      const key = ruleSetKey(rs);
      if (all[key]) all[key] = { version: rs.version, at };
    });
  }

  forget(ref: RuleSetRef): void {
    this.update((all) => {
      delete all[ruleSetKey(ref)];
    });
  }

  /** The rule sets whose version differs from what Moat last wrote to them. */
  drifted(sets: RuleSet[]): { ref: RuleSetRef; appliedAt: number }[] {
    const all = this.all();
    const out: { ref: RuleSetRef; appliedAt: number }[] = [];
    for (const rs of sets) {
      const rec = all[ruleSetKey(rs)];
      if (rec && rec.version !== rs.version)
        out.push({ ref: { provider: rs.provider, account: rs.account, kind: rs.kind, id: rs.id }, appliedAt: rec.at });
    }
    return out;
  }

  private update(f: (all: Record<string, AppliedRecord>) => void): void {
    this.file.update(f);
  }
}
