// Exit statuses shared by the provider commands (`moat accounts`, `moat instances`), documented in
// the README: a script can tell a bad invocation from a provider or keychain failure.
import type { ErrorCode } from '../../shared/errors';

export const EXIT = { ok: 0, internal: 1, usage: 2, provider: 3, keychain: 4, interrupted: 130 } as const;

export function exitFor(code: ErrorCode): number {
  if (code === 'PROVIDER_AUTH' || code === 'PROVIDER_UNAVAILABLE') return EXIT.provider;
  if (code === 'KEYCHAIN_UNAVAILABLE') return EXIT.keychain;
  if (code === 'INVALID_REQUEST' || code === 'NOT_FOUND') return EXIT.usage;
  return EXIT.internal;
}

/** A bad invocation found by the command itself (exit 2). */
export class UsageError extends Error {}
