// Adding, trusting and removing remote hosts, and the engine for one. The trust decision is the
// caller's (a prompt in the CLI, a dialog in the UI): this module shows it the host key seen and
// pins only what was accepted. A host is recorded only after a login with the pinned key worked,
// and its secrets are in the vault before the record that points at them is written.
import type { Vault } from '../credentials/vault';
import { ownerId } from '../sandbox/labels';
import type { AuditLog } from '../store/audit';
import { SshDockerEngine } from '../sandbox/docker-engine';
import type { EngineDeadlines, EngineState } from '../sandbox/engine';
import { RemoteError } from './errors';
import {
  HOST_NAME,
  HostsStore,
  checkIdentity,
  endpointOf,
  hostAuth,
  hostKeyAccount,
  hostPassphraseAccount,
  noAgent,
  parseSshUrl,
  type HostRecord,
} from './hosts';
import { fetchHostKey, type HostKeyInfo, type SshAuth, type SshConnectionOptions } from './ssh';

export interface AddHostInput {
  name: string;
  /** `ssh://user@host[:port]` */
  url: string;
  /** An OpenSSH private key (kept in the vault), or none: the ssh-agent logs in. */
  identity?: { privateKey: string; passphrase?: string };
  /** Shown the host key; true pins it. */
  trust: (seen: HostKeyInfo) => Promise<boolean>;
}

export interface AddedHost {
  host: HostRecord;
  /** What the host's Docker engine said (connected, version, gVisor runtime), or why it did not. */
  engine: EngineState;
}

export type TrustOutcome = { changed: false; host: HostRecord } | { changed: true; host: HostRecord; previous: HostKeyInfo };

export class HostsService {
  readonly store: HostsStore;

  constructor(
    private readonly o: {
      dataDir: string;
      vault: Vault;
      env?: NodeJS.ProcessEnv;
      ssh?: SshConnectionOptions;
      deadlines?: Partial<EngineDeadlines>;
      /** Where adds, removals and re-pins are recorded. */
      audit?: AuditLog;
    },
  ) {
    this.store = new HostsStore(o.dataDir);
  }

  list(): HostRecord[] {
    return this.store.list();
  }

  get(name: string): HostRecord {
    return this.store.get(name);
  }

  async add(input: AddHostInput): Promise<AddedHost> {
    if (!HOST_NAME.test(input.name)) {
      throw new RemoteError(
        'HOST_EXISTS',
        `"${input.name.slice(0, 60)}" is not a host name Moat accepts.`,
        "Use 1-40 lower-case letters, digits, '-' or '_', starting with a letter or digit.",
      );
    }
    if (this.store.all()[input.name]) {
      throw new RemoteError(
        'HOST_EXISTS',
        `A host named "${input.name}" exists already.`,
        `Remove it first (\`moat hosts remove ${input.name}\`), or pick another name.`,
      );
    }
    const { user, host, port } = parseSshUrl(input.url);
    let auth: SshAuth;
    if (input.identity) {
      const check = checkIdentity(input.identity.privateKey, input.identity.passphrase);
      if (!check.ok) {
        throw new RemoteError(
          check.needsPassphrase ? 'SSH_KEY_LOCKED' : 'NO_IDENTITY',
          check.needsPassphrase
            ? `The private key is protected by a passphrase${input.identity.passphrase !== undefined ? ', and the one given does not open it' : ''}.`
            : `The identity file is not a private key Moat can use (${check.problem}).`,
          'Give an OpenSSH private key (e.g. ~/.ssh/id_ed25519) and, if it has one, its passphrase.',
        );
      }
      auth = input.identity;
    } else {
      const agent = (this.o.env ?? process.env).SSH_AUTH_SOCK;
      if (!agent) throw noAgent(input.name);
      auth = { agent };
    }
    const endpoint = { name: input.name, host, port, user };
    const seen = await fetchHostKey(endpoint, this.o.ssh);
    if (!(await input.trust(seen))) {
      throw new RemoteError(
        'HOST_KEY_UNKNOWN',
        `The host key of ${input.name} (${seen.keyType} ${seen.fingerprint}) was not trusted; nothing was added.`,
        undefined,
        {
          seen,
        },
      );
    }
    const record: HostRecord = {
      name: input.name,
      user,
      host,
      port,
      identity: input.identity
        ? { kind: 'vault', account: hostKeyAccount(input.name), passphrase: input.identity.passphrase !== undefined }
        : { kind: 'agent' },
      hostKey: { fingerprint: seen.fingerprint, keyType: seen.keyType },
      addedAt: Date.now(),
      trustedAt: Date.now(),
    };
    // Log in with the pin before anything is stored: a key the host refuses is said now.
    const engine = this.engine(record, async () => auth);
    let state: EngineState;
    try {
      await engine.connection.ready();
      state = await engine.refresh();
    } finally {
      engine.close();
    }
    if (input.identity) {
      await this.o.vault.set(hostKeyAccount(input.name), input.identity.privateKey);
      if (input.identity.passphrase !== undefined) await this.o.vault.set(hostPassphraseAccount(input.name), input.identity.passphrase);
      if ((await this.o.vault.get(hostKeyAccount(input.name))) !== input.identity.privateKey) {
        throw new RemoteError(
          'NO_IDENTITY',
          'The private key could not be read back from the keychain; nothing was added.',
          'Check the keychain, then add the host again.',
        );
      }
    }
    this.store.put(record);
    this.record('host.add', record.name, { fingerprint: record.hostKey.fingerprint, address: `${user}@${host}:${port}` });
    return { host: record, engine: state };
  }

  /** Forgets the host and deletes its key and passphrase from the vault. */
  async remove(name: string): Promise<{ host: HostRecord; secretsRemoved: number }> {
    const host = this.store.get(name);
    let secretsRemoved = 0;
    for (const account of [hostKeyAccount(name), hostPassphraseAccount(name)]) {
      if (await this.o.vault.delete(account)) secretsRemoved++;
    }
    this.store.remove(name);
    this.record('host.remove', name, { secretsRemoved });
    return { host, secretsRemoved };
  }

  /** Re-pins after an expected key change: shows the old and the new key, pins if accepted. */
  async trust(name: string, confirm: (previous: HostKeyInfo, seen: HostKeyInfo) => Promise<boolean>): Promise<TrustOutcome> {
    const host = this.store.get(name);
    const seen = await fetchHostKey(endpointOf(host), this.o.ssh);
    if (seen.fingerprint === host.hostKey.fingerprint) return { changed: false, host };
    const previous = { ...host.hostKey };
    if (!(await confirm(previous, seen))) {
      throw new RemoteError('HOST_KEY_CHANGED', `The new host key of ${name} was not trusted; the old pin stays.`, undefined, {
        seen,
        pinned: previous,
      });
    }
    const repinned = this.store.repin(name, seen);
    this.record('host.trust', name, { previous: previous.fingerprint, fingerprint: seen.fingerprint });
    return { changed: true, host: repinned, previous };
  }

  /** The engine for a host (its login read from the vault at each connect); close it when done. */
  engineFor(name: string): SshDockerEngine {
    const host = this.store.get(name);
    return this.engine(host, () => hostAuth(host, this.o.vault, this.o.env));
  }

  private engine(host: HostRecord, auth: () => Promise<SshAuth>): SshDockerEngine {
    return new SshDockerEngine({
      host,
      auth,
      ...(this.o.ssh ? { ssh: this.o.ssh } : {}),
      ...(this.o.deadlines ? { deadlines: this.o.deadlines } : {}),
    });
  }

  /** Records a host action in the audit log (when one was given). */
  record(action: 'host.add' | 'host.remove' | 'host.trust', name: string, details: Record<string, string | number | boolean>): void {
    this.o.audit?.record({ action, by: ownerId(), details: { label: name, target: name, outcome: 'ok', ...details } });
  }
}
