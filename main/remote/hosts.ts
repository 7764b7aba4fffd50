// The user's own hosts that run sandboxes over SSH: where they are, how to log in, and the pinned
// host key. `hosts.json` in the data dir holds no secret (owner-only all the same, replaced
// atomically under a lock, like instances.json); a private key given with --identity lives in the
// vault (OS keychain) under `host-key:<name>`, its passphrase, if any, under
// `host-key-passphrase:<name>`. Without an identity the ssh-agent (SSH_AUTH_SOCK) logs in.
import { join } from 'node:path';
import ssh2 from 'ssh2';
import * as z from 'zod';
import type { Vault } from '../credentials/vault';
import { readFileOrNull, writeFileAtomic } from '../store/durable';
import { FileLock } from '../store/lock';
import { RemoteError } from './errors';
import type { HostKeyInfo, SshAuth, SshEndpoint } from './ssh';

export const HOST_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export const HostRecord = z.object({
  name: z.string().regex(HOST_NAME),
  user: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** Where the login key is: the vault (a key given with --identity) or the user's ssh-agent. */
  identity: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('vault'), account: z.string(), passphrase: z.boolean() }),
    z.object({ kind: z.literal('agent') }),
  ]),
  hostKey: z.object({ fingerprint: z.string().startsWith('SHA256:'), keyType: z.string() }),
  addedAt: z.number(),
  /** When the host key was last (re-)trusted. */
  trustedAt: z.number().optional(),
  /** Set when the host is one of the user's instances (added as a target from its account). */
  instance: z.object({ provider: z.enum(['lambda', 'linode']), account: z.string(), id: z.string(), name: z.string() }).optional(),
});
export type HostRecord = z.infer<typeof HostRecord>;

const FileSchema = z.object({ version: z.literal(1), hosts: z.record(z.string(), HostRecord) });

export function hostKeyAccount(name: string): string {
  return `host-key:${name}`;
}
export function hostPassphraseAccount(name: string): string {
  return `host-key-passphrase:${name}`;
}

export function endpointOf(h: HostRecord): SshEndpoint {
  return { name: h.name, host: h.host, port: h.port, user: h.user };
}

/** Parses `ssh://user@host[:port]` (IPv6 in brackets). */
export function parseSshUrl(url: string): { user: string; host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RemoteError('NO_IDENTITY', `"${url}" is not an ssh:// URL.`, 'Write it as ssh://user@host or ssh://user@host:port.');
  }
  if (u.protocol !== 'ssh:' || !u.username || !u.hostname || (u.pathname && u.pathname !== '/') || u.password) {
    throw new RemoteError(
      'NO_IDENTITY',
      `"${url}" is not of the form ssh://user@host[:port] (no password, no path).`,
      'Write it as ssh://user@host or ssh://user@host:port.',
    );
  }
  return { user: decodeURIComponent(u.username), host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 22 };
}

export type IdentityCheck = { ok: true; keyType: string } | { ok: false; needsPassphrase: boolean; problem: string };

/** Whether an OpenSSH (or PEM) private key can be used as is, or with this passphrase. */
export function checkIdentity(privateKey: string, passphrase?: string): IdentityCheck {
  const k = ssh2.utils.parseKey(privateKey, passphrase);
  if (k instanceof Error) {
    const needs = /encrypted|passphrase/i.test(k.message);
    return { ok: false, needsPassphrase: needs, problem: k.message };
  }
  const key = Array.isArray(k) ? k[0] : k;
  if (!key || key.getPrivatePEM() === null) return { ok: false, needsPassphrase: false, problem: 'the file holds no private key' };
  return { ok: true, keyType: key.type };
}

export class HostsStore {
  readonly path: string;
  private readonly lock: FileLock;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'hosts.json');
    this.lock = new FileLock(`${this.path}.lock`);
  }

  all(): Record<string, HostRecord> {
    const text = readFileOrNull(this.path);
    if (text === null) return {};
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // reported below with the fix
    }
    const r = FileSchema.safeParse(parsed);
    if (!r.success) {
      // Unlike a cache, this file is trust: a mangled one must not silently drop a pin.
      throw new RemoteError(
        'HOST_NOT_FOUND',
        `${this.path} is not readable as Moat's hosts file.`,
        'Fix or remove the file, then add the hosts again.',
      );
    }
    return r.data.hosts;
  }

  list(): HostRecord[] {
    return Object.values(this.all()).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): HostRecord {
    const h = this.all()[name];
    if (!h) {
      const names = Object.keys(this.all());
      throw new RemoteError(
        'HOST_NOT_FOUND',
        `No host named "${name}".${names.length ? ` Hosts: ${names.sort().join(', ')}.` : ''}`,
        'Add it with `moat hosts add NAME ssh://user@host`.',
      );
    }
    return h;
  }

  update<T>(f: (all: Record<string, HostRecord>) => T): T {
    return this.lock.withLock(() => {
      const all = this.all();
      const out = f(all);
      writeFileAtomic(this.path, JSON.stringify({ version: 1, hosts: all }, null, 2) + '\n', 0o600);
      return out;
    });
  }

  put(h: HostRecord): void {
    this.update((all) => {
      all[h.name] = HostRecord.parse(h);
    });
  }

  /** Pins a new host key (after the user saw both); returns the record. */
  repin(name: string, key: HostKeyInfo, at = Date.now()): HostRecord {
    return this.update((all) => {
      const h = all[name];
      if (!h) throw new RemoteError('HOST_NOT_FOUND', `No host named "${name}".`);
      h.hostKey = { fingerprint: key.fingerprint, keyType: key.keyType };
      h.trustedAt = at;
      return h;
    });
  }

  remove(name: string): HostRecord | null {
    return this.update((all) => {
      const h = all[name] ?? null;
      delete all[name];
      return h;
    });
  }
}

/** How to log in to a host: its key from the vault, or the ssh-agent. Read each time it connects. */
export async function hostAuth(h: HostRecord, vault: Vault, env: NodeJS.ProcessEnv = process.env): Promise<SshAuth> {
  if (h.identity.kind === 'agent') {
    if (!env.SSH_AUTH_SOCK) throw noAgent(h.name);
    return { agent: env.SSH_AUTH_SOCK };
  }
  const privateKey = await vault.get(h.identity.account);
  if (privateKey === null) {
    throw new RemoteError(
      'NO_IDENTITY',
      `The private key of ${h.name} is not in the keychain (${h.identity.account}).`,
      `Add the host again: \`moat hosts remove ${h.name}\`, then \`moat hosts add ${h.name} ssh://${h.user}@${h.host}:${h.port} --identity FILE\`.`,
    );
  }
  const passphrase = h.identity.passphrase ? await vault.get(hostPassphraseAccount(h.name)) : null;
  return { privateKey, ...(passphrase !== null ? { passphrase } : {}) };
}

export function noAgent(name: string): RemoteError {
  return new RemoteError(
    'NO_IDENTITY',
    `No key to log in to ${name} with: no --identity was given and no ssh-agent is running (SSH_AUTH_SOCK is not set).`,
    'Give the private key with `--identity ~/.ssh/id_ed25519` (Moat keeps it in the keychain), or start an ssh-agent and `ssh-add` the key.',
  );
}
