// How failures of the accounts service reach users: a MoatError with a code from shared/errors.ts,
// the provider's own reason or the keychain's explanation, and never the key. Every message that
// came from outside Moat (a provider's answer) has the key scrubbed out before it is used, in case
// a provider or proxy ever echoes what it was sent.
import { MoatError } from '../../shared/errors';
import { VaultError } from '../credentials/errors';
import { ProviderError, type ProviderKind } from '../providers/provider';

export const PROVIDER_NAMES: Record<ProviderKind, string> = { lambda: 'Lambda Cloud', linode: 'Linode' };

export class AccountError extends MoatError {
  /** Linode scopes the token lacks, when that is why it was refused. */
  readonly missingScopes?: string[];
  constructor(code: MoatError['code'], message: string, fix?: string, missingScopes?: string[]) {
    super(code, message, fix);
    if (missingScopes) this.missingScopes = missingScopes;
  }
}

/** Replaces every occurrence of the key (and of any 8+ character piece of it at the ends) in text. */
export function scrub(text: string, key: string | undefined): string {
  if (!key) return text;
  let out = text.split(key).join('[key]');
  // A provider that truncates what it echoes would leave a long prefix or suffix of the key.
  for (const piece of [key.slice(0, 8), key.slice(-8)]) if (piece.length === 8 && key.length > 12) out = out.split(piece).join('[key]');
  return out;
}

export function toAccountError(err: unknown, provider: ProviderKind, key?: string): AccountError {
  if (err instanceof AccountError) return err;
  const name = PROVIDER_NAMES[provider];
  if (err instanceof ProviderError) {
    const msg = scrub(err.message, key);
    if (err.kind === 'scopes') {
      return new AccountError(
        'PROVIDER_AUTH',
        msg,
        'Create a Linode personal access token with these scopes (Cloud Manager → API Tokens), then add it again.',
        err.details.missingScopes ?? [],
      );
    }
    if (err.kind === 'auth') {
      return new AccountError(
        'PROVIDER_AUTH',
        `${name} refused the key: ${msg}`,
        `Check that the ${name} key is complete and still active, then try again.`,
      );
    }
    return new AccountError(
      'PROVIDER_UNAVAILABLE',
      `${name} could not check the key: ${msg}`,
      `Nothing was saved. Check the network and ${name}'s status, then try again.`,
    );
  }
  if (err instanceof VaultError) return new AccountError('KEYCHAIN_UNAVAILABLE', scrub(err.message, key), scrub(err.fix, key));
  if (err instanceof MoatError) return new AccountError(err.code, scrub(err.message, key), err.fix);
  // Unknown errors lose their text: it could be anything, including a request with the key in it.
  return new AccountError('INTERNAL', 'Internal error in Moat while handling the account; nothing was shown of the key.');
}
