// One ed25519 key pair per account, for SSH to that account's instances. The private key lives
// in the vault (OS keychain) only, in OpenSSH format so ssh2 and ssh(1) both read it; the public
// key is registered with the provider once, under `moat-<label>`, and reused after that.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Vault } from '../credentials/vault';
import { FileLock } from '../store/lock';
import type { Provider, SshKeyRef } from '../providers/provider';
import { InstanceError } from './errors';

/** The vault entry holding an account's private key. */
export function sshVaultAccount(label: string): string {
  return `ssh-key:${label}`;
}

export interface KeyPair {
  /** `ssh-ed25519 AAAA… moat-<label>` */
  publicKey: string;
  /** openssh-key-v1, unencrypted (the keychain is its protection). */
  privateKey: string;
}

/** SSH wire encoding: uint32 length + bytes. */
function str(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function generateKeyPair(comment: string): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pubBlob = Buffer.concat([str('ssh-ed25519'), str(pub)]);
  // PROTOCOL.key: the private section is padded to the cipher block size (8 for "none").
  const check = randomBytes(4).readUInt32BE();
  let priv = Buffer.concat([u32(check), u32(check), str('ssh-ed25519'), str(pub), str(Buffer.concat([seed, pub])), str(comment)]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const blob = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    str('none'),
    str('none'),
    str(''),
    u32(1),
    str(pubBlob),
    str(priv),
  ]);
  const b64 = blob.toString('base64').replace(/.{1,70}/g, '$&\n');
  return {
    publicKey: `ssh-ed25519 ${pubBlob.toString('base64')} ${comment}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`,
  };
}

/** The public key (type and blob, no comment) inside an openssh-key-v1 private key. */
export function publicKeyOf(privateKey: string): string {
  const b64 = privateKey.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const blob = Buffer.from(b64, 'base64');
  let off = 'openssh-key-v1\0'.length;
  const next = (): Buffer => {
    const n = blob.readUInt32BE(off);
    const v = blob.subarray(off + 4, off + 4 + n);
    off += 4 + n;
    return v;
  };
  next(); // cipher
  next(); // kdf
  next(); // kdf options
  off += 4; // number of keys
  const pubBlob = next();
  const type = pubBlob.subarray(4, 4 + pubBlob.readUInt32BE(0)).toString('utf8');
  return `${type} ${pubBlob.toString('base64')}`;
}

/** Type and blob only: providers may rewrite or drop the comment. */
export function sameKey(a: string, b: string): boolean {
  const core = (k: string) => k.trim().split(/\s+/).slice(0, 2).join(' ');
  return core(a) === core(b);
}

export function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export interface EnsuredKey {
  key: SshKeyRef;
  /** True when this call registered it with the provider (for the audit log). */
  registered: boolean;
  /** True when this call made a new key pair. */
  created: boolean;
}

/**
 * The account's key pair (made and stored on first use), registered with the provider. A key
 * already registered with the same public key is reused whatever its name; a different key
 * holding the name `moat-<label>` (another machine's Moat) is left alone and ours gets a
 * fingerprint suffix.
 */
export function ensureSshKey(vault: Vault, label: string, provider: Provider, lock?: FileLock): Promise<EnsuredKey> {
  // Two launches at once on one account must not each make a key pair: the second would replace
  // the first's private key in the keychain, and the first's instance would be unreachable. One at
  // a time per label within this process, and, with a lock file, across processes (a CLI launch
  // while the app launches too). The wait covers a slow provider's bounded retries.
  const prev = pending.get(label) ?? Promise.resolve();
  const once = () => ensureOnce(vault, label, provider);
  const next = prev.catch(() => undefined).then(() => (lock ? lock.withLockAsync(once, LOCK_WAIT_MS) : once()));
  pending.set(label, next);
  void next
    .finally(() => {
      if (pending.get(label) === next) pending.delete(label);
    })
    .catch(() => undefined);
  return next;
}

const pending = new Map<string, Promise<unknown>>();
const LOCK_WAIT_MS = 180_000;

/** The lock file that serializes key-pair creation and registration across Moat processes. */
export function sshKeyLock(dataDir: string): FileLock {
  return new FileLock(join(dataDir, 'ssh-keys.lock'), LOCK_WAIT_MS);
}

/** Lambda takes SSH key names of at most 64 characters; labels may be 64 themselves. */
function keyName(label: string, suffix = ''): string {
  const tail = suffix ? `-${suffix}` : '';
  return `moat-${label}`.slice(0, 64 - tail.length) + tail;
}

async function ensureOnce(vault: Vault, label: string, provider: Provider): Promise<EnsuredKey> {
  const entry = sshVaultAccount(label);
  let priv = await vault.get(entry);
  let created = false;
  let publicKey: string;
  if (priv === null) {
    const pair = generateKeyPair(`moat-${label}`);
    await vault.set(entry, pair.privateKey);
    // Read back: a keychain that silently dropped it would leave instances nobody can reach.
    priv = await vault.get(entry);
    if (priv !== pair.privateKey) {
      throw new InstanceError(
        'KEYCHAIN_UNAVAILABLE',
        'The new SSH key could not be read back from the keychain.',
        'Check the keychain, then launch again.',
      );
    }
    publicKey = pair.publicKey;
    created = true;
  } else {
    publicKey = `${publicKeyOf(priv)} moat-${label}`;
  }
  const existing = await provider.listSshKeys();
  const same = existing.find((k) => sameKey(k.publicKey, publicKey));
  if (same) return { key: same, registered: false, created };
  let name = keyName(label);
  if (existing.some((k) => k.name === name))
    name = keyName(
      label,
      fingerprint(publicKey)
        .slice(7, 15)
        .replace(/[^A-Za-z0-9]/g, 'x'),
    );
  const key = await provider.addSshKey(name, publicKey);
  return { key: { ...key, publicKey: key.publicKey || publicKey }, registered: true, created };
}
