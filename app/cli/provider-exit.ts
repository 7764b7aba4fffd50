// Exit statuses and failure reports shared by the provider commands (`moat accounts`, `moat instances`), documented in
// the README: a script can tell a bad invocation from a provider or keychain failure.
import { AccountsService } from '../../main/accounts/accounts';
import type { Vault } from '../../main/credentials/vault';
import { SettingsStore } from '../../main/store/settings';
import type { ErrorCode, MoatError } from '../../shared/errors';

export const EXIT = { ok: 0, internal: 1, usage: 2, provider: 3, keychain: 4, interrupted: 130 } as const;

export function exitFor(code: ErrorCode): number {
  if (code === 'PROVIDER_AUTH' || code === 'PROVIDER_UNAVAILABLE') return EXIT.provider;
  if (code === 'KEYCHAIN_UNAVAILABLE') return EXIT.keychain;
  if (code === 'INVALID_REQUEST' || code === 'NOT_FOUND') return EXIT.usage;
  return EXIT.internal;
}

/** A bad invocation found by the command itself (exit 2). */
export class UsageError extends Error {}

/** Says why a provider command failed (message, missing scopes, fix) and sets its exit status. */
export function reportFailure(err: unknown, toMoatError: (err: unknown) => MoatError & { missingScopes?: string[] }): void {
  if (err instanceof UsageError) {
    process.stderr.write(`moat: ${err.message}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  const e = toMoatError(err);
  process.stderr.write(`moat: ${e.message}\n`);
  if (e.missingScopes?.length) process.stderr.write(`missing scopes: ${e.missingScopes.join(', ')}\n`);
  if (e.fix) process.stderr.write(`fix: ${e.fix}\n`);
  process.exitCode = exitFor(e.code);
}

/** The accounts service for this data directory, with the base URLs from Settings (env overrides them). */
export function accountsService(dataDir: string, vault: Vault): AccountsService {
  return new AccountsService({ dataDir, vault, baseUrls: new SettingsStore(dataDir).get().providerApiUrls });
}
