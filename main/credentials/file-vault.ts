// The second choice, only by explicit opt-in: keys in one file encrypted with a passphrase the
// user types. scrypt (N=2^17, r=8, p=1: about 128 MiB and a few hundred ms per unlock, which is
// what makes guessing expensive) derives the key from the passphrase and a random salt; each
// write uses AES-256-GCM with a fresh random 12-byte IV, and the header (format, KDF parameters,
// salt) is authenticated too. A wrong passphrase fails GCM's check: a clear error, and nothing is
// written. Files are replaced atomically, owner-only (0600).
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../store/durable';
import { VaultError } from './errors';
import type { Vault } from './vault';

interface Header {
  v: 1;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
}

interface FileFormat extends Header {
  iv: string;
  tag: string;
  data: string;
}

export const DEFAULT_KDF = { N: 2 ** 17, r: 8, p: 1 };

function scrypt(pass: string, salt: Buffer, h: Pick<Header, 'N' | 'r' | 'p'>): Promise<Buffer> {
  const opts: ScryptOptions = { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + 32 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCb(pass.normalize('NFC'), salt, 32, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const aad = (h: Header): Buffer => Buffer.from(JSON.stringify([h.v, h.kdf, h.N, h.r, h.p, h.salt]));

function badFile(why: string): VaultError {
  return new VaultError(
    'FAILED',
    `The encrypted key file cannot be read: ${why}.`,
    'Restore it from a backup, or remove it and add the keys again.',
  );
}

export class FileVault implements Vault {
  private constructor(
    private readonly path: string,
    private readonly header: Header,
    private readonly key: Buffer,
    private entries: Record<string, string>,
  ) {}

  /** Opens the file with the passphrase (creating it on first write when it does not exist). */
  static async open(path: string, passphrase: string, kdf = DEFAULT_KDF): Promise<FileVault> {
    if (!passphrase) {
      throw new VaultError('BAD_PASSPHRASE', 'An empty passphrase cannot protect the key file.', 'Type a passphrase.');
    }
    let raw: string | null = null;
    try {
      raw = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw badFile((err as Error).message);
    }
    if (raw === null) {
      const header: Header = { v: 1, kdf: 'scrypt', ...kdf, salt: randomBytes(16).toString('base64') };
      return new FileVault(path, header, await scrypt(passphrase, Buffer.from(header.salt, 'base64'), header), {});
    }
    let f: FileFormat;
    try {
      f = JSON.parse(raw) as FileFormat;
    } catch {
      throw badFile('it is not valid JSON');
    }
    if (f.v !== 1 || f.kdf !== 'scrypt') throw badFile('unknown format');
    const header: Header = { v: 1, kdf: 'scrypt', N: f.N, r: f.r, p: f.p, salt: f.salt };
    const key = await scrypt(passphrase, Buffer.from(f.salt, 'base64'), header);
    let plain: string;
    try {
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(f.iv, 'base64'));
      d.setAAD(aad(header));
      d.setAuthTag(Buffer.from(f.tag, 'base64'));
      plain = Buffer.concat([d.update(Buffer.from(f.data, 'base64')), d.final()]).toString('utf8');
    } catch {
      // GCM cannot tell a wrong passphrase from a tampered file; the passphrase is far likelier.
      throw new VaultError(
        'BAD_PASSPHRASE',
        'Wrong passphrase for the encrypted key file (or the file was altered). Nothing was changed.',
        'Type the passphrase the file was created with.',
      );
    }
    return new FileVault(path, header, key, JSON.parse(plain) as Record<string, string>);
  }

  async set(account: string, secret: string): Promise<void> {
    this.save({ ...this.entries, [account]: secret });
  }

  async get(account: string): Promise<string | null> {
    return Object.hasOwn(this.entries, account) ? (this.entries[account] ?? null) : null;
  }

  async delete(account: string): Promise<boolean> {
    if (!Object.hasOwn(this.entries, account)) return false;
    const next = { ...this.entries };
    delete next[account];
    this.save(next);
    return true;
  }

  /** Writes first, then adopts the new contents: a failed write leaves both as they were. */
  private save(next: Record<string, string>): void {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(aad(this.header));
    const data = Buffer.concat([c.update(JSON.stringify(next), 'utf8'), c.final()]);
    const f: FileFormat = {
      ...this.header,
      iv: iv.toString('base64'),
      tag: c.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    writeFileAtomic(this.path, JSON.stringify(f), 0o600);
    this.entries = next;
  }
}
