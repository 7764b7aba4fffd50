// The vault keeps API keys and nothing else. What the UI shows (label, provider, last four
// characters) is metadata the callers keep in Moat's own state, outside the keychain, so that
// listing keys never touches, or prompts for, the keychain.
import { VaultError } from './errors';

export interface Vault {
  set(account: string, secret: string): Promise<void>;
  /** The secret, or null when there is none under this account. */
  get(account: string): Promise<string | null>;
  /** True when a secret was removed, false when there was none. */
  delete(account: string): Promise<boolean>;
}

/** What Moat shows and stores about a key: never the key itself. */
export interface KeyInfo {
  account: string;
  label: string;
  provider: string;
  last4: string;
}

export function describeKey(account: string, label: string, provider: string, secret: string): KeyInfo {
  // A key of four characters or fewer would be shown whole: show nothing of it instead.
  const last4 = secret.length > 4 ? secret.slice(-4) : '';
  return { account, label, provider, last4 };
}

/**
 * Replaces a key: validate the new one (e.g. a call to the provider), store it under its own
 * account, read it back, and only then delete the old one. A failure at any step before the last
 * leaves the old key in place and working.
 */
export async function rotate(
  vault: Vault,
  old: KeyInfo,
  next: { account: string; label?: string; secret: string },
  validate: (secret: string) => Promise<void>,
): Promise<KeyInfo> {
  if (next.account === old.account) {
    throw new VaultError(
      'FAILED',
      'The new key needs an account name of its own: storing it under the old one would remove the old key before the new one is known to work.',
      'Pass a fresh account name for the new key.',
    );
  }
  await validate(next.secret);
  await vault.set(next.account, next.secret);
  if ((await vault.get(next.account)) !== next.secret) {
    throw new VaultError(
      'FAILED',
      'The new key could not be read back after storing it; the old key was kept.',
      'Check the keychain, then rotate again.',
    );
  }
  await vault.delete(old.account);
  return describeKey(next.account, next.label ?? old.label, old.provider, next.secret);
}
