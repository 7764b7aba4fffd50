// What Moat keeps about provider accounts: metadata only (label, provider, the key's last four
// characters, which keychain entry holds the key). The key itself is only ever in the vault. One
// small JSON file, replaced atomically and owner-only, so a kill -9 leaves it whole.
import { join } from 'node:path';
import * as z from 'zod';
import { MoatError } from '../../shared/errors';
import { readFileOrNull, writeFileAtomic } from '../store/durable';

export const LABEL_RE = /^[A-Za-z0-9._-]{1,64}$/;

export const AccountRecord = z.object({
  label: z.string().regex(LABEL_RE),
  provider: z.enum(['lambda', 'linode']),
  /** Empty for keys of four characters or fewer: those are not shown at all. */
  keyLast4: z.string().max(4),
  /** The vault account the key is stored under; opaque, new at every rotation. */
  keychainAccount: z.string().min(1),
  createdAt: z.number(),
  rotatedAt: z.number().optional(),
  /** Who the provider says the key belongs to, when it says. */
  identity: z.string().optional(),
});
export type AccountRecord = z.infer<typeof AccountRecord>;

const FileSchema = z.object({ version: z.literal(1), accounts: z.array(AccountRecord) });

export function checkLabel(label: string): void {
  if (!LABEL_RE.test(label)) {
    throw new MoatError(
      'INVALID_REQUEST',
      `Invalid account label "${label.slice(0, 80)}": use 1 to 64 letters, digits, '.', '_' or '-'.`,
      'Pick a label such as lambda-work or linode.personal.',
    );
  }
}

export class AccountsStore {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'accounts.json');
  }

  /** Read from disk every time: the CLI, the host and the app may each have changed it. */
  list(): AccountRecord[] {
    const text = readFileOrNull(this.path);
    if (text === null) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new MoatError(
        'INTERNAL',
        `${this.path} is not valid JSON; Moat will not overwrite it.`,
        'Move the file aside and add the accounts again.',
      );
    }
    const r = FileSchema.safeParse(parsed);
    if (!r.success) {
      throw new MoatError(
        'INTERNAL',
        `${this.path} is not an accounts file Moat understands; Moat will not overwrite it.`,
        'Move the file aside and add the accounts again.',
      );
    }
    return r.data.accounts;
  }

  get(label: string): AccountRecord | undefined {
    return this.list().find((a) => a.label === label);
  }

  /** Adds a record, or replaces the one with the same label. */
  put(rec: AccountRecord): void {
    const all = this.list().filter((a) => a.label !== rec.label);
    this.write([...all, AccountRecord.parse(rec)]);
  }

  remove(label: string): boolean {
    const all = this.list();
    const rest = all.filter((a) => a.label !== label);
    if (rest.length === all.length) return false;
    this.write(rest);
    return true;
  }

  private write(accounts: AccountRecord[]): void {
    writeFileAtomic(this.path, JSON.stringify({ version: 1, accounts }, null, 2) + '\n', 0o600);
  }
}
