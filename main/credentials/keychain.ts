// The vault over the OS keychain. Every operation first asks detectBackend() which keychain would
// be used and whether it is locked (on Linux the library would otherwise fall back to the kernel
// keyring or report a locked keyring as an empty one), and every call has a deadline: Moat never
// sits waiting on an unlock prompt that no one can see.
import { AsyncEntry } from '@napi-rs/keyring';
import { detectBackend, type BackendStatus } from './backend';
import { VaultError } from './errors';
import type { Vault } from './vault';

export const SERVICE = 'moat';
export const OP_TIMEOUT_MS = 5000;

export interface KeychainVaultOptions {
  service?: string;
  /** Deadline of one keychain call. */
  timeoutMs?: number;
  /**
   * The desktop app may let the system show its own unlock prompt (a user is there to answer
   * it): a locked keyring is then not refused up front, and the deadline is the prompt's.
   */
  interactive?: boolean;
  detect?: () => Promise<BackendStatus>;
}

export function statusError(s: BackendStatus): VaultError {
  return new VaultError(s.code ?? 'NO_KEYCHAIN', s.problem ?? 'No keychain is available.', s.fix ?? '');
}

/** Maps the library's errors to ours; the library's text never contains the secret. */
function mapError(err: unknown, what: string): VaultError {
  if (err instanceof VaultError) return err;
  const text = err instanceof Error ? err.message : String(err);
  if (/prompt was dismissed|locked/i.test(text)) {
    return new VaultError(
      'LOCKED',
      `The keyring is locked and was not unlocked (${what}).`,
      'Unlock the default keyring (Seahorse, or `echo -n PASSWORD | gnome-keyring-daemon --replace --unlock --components=secrets`), then try again.',
    );
  }
  if (/DBus|D-Bus|no result found|platform storage|No such/i.test(text)) {
    return new VaultError(
      'NO_KEYCHAIN',
      `The keychain could not be used (${what}): ${text}`,
      'Check that a Secret Service (gnome-keyring, KeePassXC) runs with an unlocked default keyring, or opt in to the encrypted file.',
    );
  }
  return new VaultError('FAILED', `The keychain refused ${what}: ${text}`, 'Try again; if it persists, check the keychain application.');
}

export class KeychainVault implements Vault {
  private readonly service: string;
  private readonly timeoutMs: number;
  private readonly interactive: boolean;
  private readonly detect: () => Promise<BackendStatus>;

  constructor(opts: KeychainVaultOptions = {}) {
    this.service = opts.service ?? SERVICE;
    this.interactive = opts.interactive ?? false;
    this.timeoutMs = opts.timeoutMs ?? (this.interactive ? 120_000 : OP_TIMEOUT_MS);
    this.detect = opts.detect ?? (() => detectBackend());
  }

  /** Throws the VaultError that explains why the keychain cannot be used, if it cannot. */
  async check(): Promise<BackendStatus> {
    const s = await this.detect();
    if (s.available || (this.interactive && s.code === 'LOCKED')) return s;
    throw statusError(s);
  }

  async set(account: string, secret: string): Promise<void> {
    await this.call(account, 'storing a key', (e, signal) => e.setPassword(secret, signal));
  }

  async get(account: string): Promise<string | null> {
    return this.call(account, 'reading a key', (e, signal) => e.getPassword(signal));
  }

  async delete(account: string): Promise<boolean> {
    return this.call(account, 'deleting a key', (e, signal) => e.deleteCredential(signal));
  }

  private async call<T>(account: string, what: string, op: (e: AsyncEntry, signal: AbortSignal) => Promise<T>): Promise<T> {
    await this.check();
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort();
        reject(
          new VaultError(
            'TIMEOUT',
            `The keychain did not answer within ${this.timeoutMs / 1000} s (${what}).`,
            'It may be waiting on an unlock prompt: unlock the keyring, then try again.',
          ),
        );
      }, this.timeoutMs);
    });
    try {
      // Pinned to the Secret Service on Linux: where it is missing this throws instead of
      // quietly using the kernel keyring, which loses every key at reboot.
      const entry = new AsyncEntry(this.service, account, { linux: { store: 'secret-service' } });
      return await Promise.race([op(entry, ac.signal), deadline]);
    } catch (err) {
      throw mapError(err, what);
    } finally {
      clearTimeout(timer);
    }
  }
}
