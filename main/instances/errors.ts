// How instance failures reach users: a MoatError with a code from shared/errors.ts and the
// provider's own reason. Keys never appear here: provider clients keep them out of their errors,
// and unknown errors lose their text.
import { MoatError } from '../../shared/errors';
import { PROVIDER_NAMES } from '../accounts/errors';
import { VaultError } from '../credentials/errors';
import { ProviderError, type ProviderKind } from '../providers/provider';

export class InstanceError extends MoatError {
  /** Regions with capacity (launch refused) or matching instances (ambiguous reference). */
  readonly choices?: string[];
  constructor(code: MoatError['code'], message: string, fix?: string, choices?: string[]) {
    super(code, message, fix);
    if (choices) this.choices = choices;
  }
}

export function toInstanceError(err: unknown, provider: ProviderKind | undefined, doing: string): MoatError {
  if (err instanceof MoatError) return err;
  const name = provider ? PROVIDER_NAMES[provider] : 'The provider';
  if (err instanceof ProviderError) {
    if (err.kind === 'auth' || err.kind === 'scopes')
      return new InstanceError(
        'PROVIDER_AUTH',
        `${name} refused the key while ${doing}: ${err.message}`,
        'Check the key with `moat accounts rotate`.',
      );
    if (err.kind === 'invalid' || err.kind === 'not-found')
      return new InstanceError('INVALID_REQUEST', `${name} refused ${doing}: ${err.message}`);
    return new InstanceError(
      'PROVIDER_UNAVAILABLE',
      `${name} could not be reached while ${doing}: ${err.message}`,
      `Check the network and ${name}'s status, then try again.`,
    );
  }
  if (err instanceof VaultError) return new InstanceError('KEYCHAIN_UNAVAILABLE', err.message, err.fix);
  return new InstanceError('INTERNAL', `Internal error in Moat while ${doing}.`);
}
