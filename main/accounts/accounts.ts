// Provider accounts: a Lambda Cloud API key or a Linode personal access token under a label.
// The order of every action is what keeps a failure harmless:
// - add: the provider validates the key first; only a key it accepts reaches the keychain, and
//   only a stored key gets metadata.
// - rotate: validate the new key, store it under a new keychain entry and read it back, point the
//   metadata at it, and only then delete the old entry. A crash anywhere leaves a working key.
// - remove: delete the keychain entry first; metadata without a key is harmless, a key left in
//   the keychain with no metadata pointing at it would be forgotten there.
// The key lives in the vault only: this class reads it per call and never keeps it in a field.
import { randomUUID } from 'node:crypto';
import { describeKey, type Vault } from '../credentials/vault';
import { ownerId } from '../sandbox/labels';
import { AuditLog, type AuditEntry } from '../store/audit';
import { sshVaultAccount } from '../instances/ssh-keys';
import { createProvider, providerBaseUrl } from '../providers';
import type { Provider, ProviderKind, ProviderOptions } from '../providers/provider';
import { AccountsStore, checkLabel, type AccountRecord } from './accounts-store';
import { AccountError, PROVIDER_NAMES, toAccountError } from './errors';

export interface AccountsServiceOptions {
  dataDir: string;
  vault: Vault;
  /** Defaults to the data dir's audit.jsonl (closed by close()). */
  audit?: AuditLog;
  /** Base URLs from settings; MOAT_LAMBDA_API_URL / MOAT_LINODE_API_URL still win. */
  baseUrls?: Partial<Record<ProviderKind, string>> | (() => Partial<Record<ProviderKind, string>>);
  /** Retry/deadline knobs passed to every provider client. */
  providerOptions?: Pick<ProviderOptions, 'maxAttempts' | 'timeoutMs' | 'onRetry'>;
}

/** What callers may show: never the key. */
export type AccountView = Pick<AccountRecord, 'label' | 'provider' | 'keyLast4' | 'createdAt' | 'rotatedAt' | 'identity'>;

function view(r: AccountRecord): AccountView {
  const { keychainAccount: _hidden, ...rest } = r;
  return rest;
}

/** A key must be one printable token: anything else would break (or leak through) an HTTP header. */
function checkKey(key: string, provider: ProviderKind): void {
  if (key.length === 0 || key.length > 4096 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new AccountError(
      'INVALID_REQUEST',
      `That does not look like a ${PROVIDER_NAMES[provider]} key: a key is one line of printable characters with no spaces.`,
      'Copy the key again from the provider and paste only the key.',
    );
  }
}

export class AccountsService {
  private readonly store: AccountsStore;
  private readonly audit: AuditLog;
  private readonly ownsAudit: boolean;

  constructor(private readonly o: AccountsServiceOptions) {
    this.store = new AccountsStore(o.dataDir);
    this.audit = o.audit ?? new AuditLog(o.dataDir);
    this.ownsAudit = !o.audit;
  }

  list(): AccountView[] {
    return this.store.list().map(view);
  }

  async add(provider: ProviderKind, label: string, key: string): Promise<AccountView> {
    return this.audited('account.add', label, provider, key, async () => {
      checkLabel(label);
      checkKey(key, provider);
      if (this.store.get(label)) {
        throw new AccountError(
          'INVALID_REQUEST',
          `An account labelled "${label}" already exists.`,
          `Pick another label, or replace its key with \`moat accounts rotate ${label}\`.`,
        );
      }
      const check = await this.provider(provider, {}, async () => key).checkAccount();
      const keychainAccount = `${provider}:${randomUUID()}`;
      await this.o.vault.set(keychainAccount, key);
      const info = describeKey(keychainAccount, label, provider, key);
      const rec: AccountRecord = {
        label,
        provider,
        keyLast4: info.last4,
        keychainAccount,
        createdAt: Date.now(),
        ...(check.identity ? { identity: check.identity } : {}),
      };
      try {
        this.store.put(rec);
      } catch (err) {
        // No metadata means no one would ever find this key again: take it back out.
        await this.o.vault.delete(keychainAccount).catch(() => false);
        throw err;
      }
      return view(rec);
    });
  }

  /**
   * Removes the key and the account's SSH private key from the keychain, then the metadata. The
   * public key stays registered with the provider (it grants nothing without the private key), and
   * instances keep running and billing: the caller warns about those.
   */
  async remove(label: string): Promise<{ removed: boolean; sshKeyRemoved: boolean }> {
    const rec = this.store.get(label);
    return this.audited('account.remove', label, rec?.provider, undefined, async () => {
      if (!rec) throw this.notFound(label);
      await this.o.vault.delete(rec.keychainAccount);
      const sshKeyRemoved = await this.o.vault.delete(sshVaultAccount(label));
      this.store.remove(label);
      return { removed: true, sshKeyRemoved };
    });
  }

  // credentials' rotate() deletes the old entry before returning, i.e. before the metadata could
  // point at the new one; a crash in between would leave metadata naming a deleted key. So the
  // same steps are done here with the metadata update before the delete.
  async rotate(label: string, newKey: string): Promise<AccountView> {
    const rec = this.store.get(label);
    return this.audited('account.rotate', label, rec?.provider, newKey, async () => {
      if (!rec) throw this.notFound(label);
      checkKey(newKey, rec.provider);
      const check = await this.provider(rec.provider, {}, async () => newKey).checkAccount();
      const keychainAccount = `${rec.provider}:${randomUUID()}`;
      await this.o.vault.set(keychainAccount, newKey);
      if ((await this.o.vault.get(keychainAccount)) !== newKey) {
        await this.o.vault.delete(keychainAccount).catch(() => false);
        throw new AccountError(
          'KEYCHAIN_UNAVAILABLE',
          'The new key could not be read back from the keychain after storing it; the old key was kept.',
          'Check the keychain, then rotate again.',
        );
      }
      const next: AccountRecord = {
        ...rec,
        keyLast4: describeKey(keychainAccount, label, rec.provider, newKey).last4,
        keychainAccount,
        rotatedAt: Date.now(),
        ...(check.identity ? { identity: check.identity } : {}),
      };
      this.store.put(next);
      await this.o.vault.delete(rec.keychainAccount);
      return view(next);
    });
  }

  /** A Provider for this account; its key is read from the vault at every request. */
  providerFor(label: string, extra: Pick<ProviderOptions, 'onRetry'> = {}): Provider {
    const rec = this.store.get(label);
    if (!rec) throw this.notFound(label);
    const { vault } = this.o;
    return this.provider(rec.provider, { ...extra, account: label }, async () => {
      let key: string | null;
      try {
        key = await vault.get(rec.keychainAccount);
      } catch (err) {
        throw toAccountError(err, rec.provider);
      }
      if (key === null) {
        throw new AccountError(
          'NOT_FOUND',
          `The key of account "${label}" is missing from the keychain.`,
          `Add it again: \`moat accounts remove ${label}\`, then \`moat accounts add ${rec.provider} --label ${label}\`.`,
        );
      }
      return key;
    });
  }

  /**
   * Every provider key Moat holds, for the egress filter to find when a sandbox echoes one back.
   * Keys the vault cannot give (locked, missing) are left out: the filter still runs without them.
   */
  async heldKeys(): Promise<string[]> {
    const out: string[] = [];
    for (const a of this.store.list()) {
      const key = await this.o.vault.get(a.keychainAccount).catch(() => null);
      if (key) out.push(key);
    }
    return out;
  }

  close(): void {
    if (this.ownsAudit) this.audit.close();
  }

  private provider(kind: ProviderKind, extra: Pick<ProviderOptions, 'onRetry' | 'account'>, key: () => Promise<string>): Provider {
    const onRetry = extra.onRetry ?? this.o.providerOptions?.onRetry;
    return createProvider(kind, {
      ...this.o.providerOptions,
      ...(extra.account ? { account: extra.account } : {}),
      ...(onRetry ? { onRetry } : {}),
      baseUrl: providerBaseUrl(kind, (typeof this.o.baseUrls === 'function' ? this.o.baseUrls() : this.o.baseUrls)?.[kind]),
      key,
    });
  }

  private notFound(label: string): AccountError {
    return new AccountError('NOT_FOUND', `No account labelled "${label.slice(0, 80)}".`, 'See `moat accounts list` for the labels.');
  }

  /** Runs an action and records its outcome (never the key: every text is scrubbed of it). */
  private async audited<T>(
    action: AuditEntry['action'],
    label: string,
    provider: ProviderKind | undefined,
    key: string | undefined,
    f: () => Promise<T>,
  ): Promise<T> {
    const base = { label: label.slice(0, 80), target: provider ?? 'unknown' };
    try {
      const out = await f();
      this.audit.record({ action, by: ownerId(), details: { ...base, outcome: 'ok' } });
      return out;
    } catch (err) {
      const e = toAccountError(err, provider ?? 'lambda', key);
      this.audit.record({
        action,
        by: ownerId(),
        details: {
          ...base,
          outcome: 'failed',
          code: e.code,
          reason: e.message,
          ...(e.missingScopes ? { missingScopes: e.missingScopes } : {}),
        },
      });
      throw e;
    }
  }
}

export { AccountError } from './errors';
export { checkLabel, LABEL_RE } from './accounts-store';
