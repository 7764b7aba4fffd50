// One error type for every vault failure, so the UI and the CLI can show the reason and the fix
// the same way as other errors ({code, message, fix}). Messages are written here, never copied
// from a secret: nothing in a VaultError can contain the key.

export type VaultErrorCode = 'NO_KEYCHAIN' | 'LOCKED' | 'TIMEOUT' | 'BAD_PASSPHRASE' | 'FAILED';

export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly code: VaultErrorCode,
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}
