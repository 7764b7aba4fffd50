// `moat hosts`: the user's own machines that run sandboxes over SSH (`moat run --on NAME`).
// A host's key is shown and trusted once (pinned by fingerprint); a changed key is refused until
// `moat hosts trust NAME`. A private key given with --identity is read once and kept in the OS
// keychain, never in Moat's files; without it the ssh-agent logs in.
// Exit status: 0 done, 2 bad usage (unknown or taken name, bad URL or key file, no TTY to ask on
// without --yes), 3 the host refused or could not be reached (host key unknown, changed or not
// trusted, login refused, network), 4 the OS keychain could not be used, 5 declined at the prompt,
// 130 Ctrl-C, 1 anything else.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { VaultError } from '../../main/credentials/errors';
import { KeychainVault } from '../../main/credentials/keychain';
import { RemoteError, type RemoteReason } from '../../main/remote/errors';
import { checkIdentity, type HostRecord } from '../../main/remote/hosts';
import { HostsService } from '../../main/remote/service';
import { InstancesService } from '../../main/instances/instances';
import { addInstanceHost } from '../../main/targets/service';
import type { HostKeyInfo } from '../../main/remote/ssh';
import { defaultDataDir } from '../../main/services';
import { AuditLog } from '../../main/store/audit';
import { MoatError } from '../../shared/errors';
import { ask, confirm as confirmYes } from './prompt';
import { EXIT, UsageError, accountsService, exitFor } from './provider-exit';

/** Exit status when the user answers no at a trust prompt (as `moat firewall lock`). */
const EXIT_DECLINED = 5;

const USAGE_REASONS: RemoteReason[] = ['HOST_EXISTS', 'HOST_NOT_FOUND', 'NO_IDENTITY', 'SSH_KEY_LOCKED'];

function report(err: unknown): void {
  if (err instanceof UsageError) {
    process.stderr.write(`moat: ${err.message}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  if (err instanceof RemoteError) {
    process.stderr.write(`moat: ${err.reason}: ${err.message}\n${err.fix ? `fix: ${err.fix}\n` : ''}`);
    process.exitCode = USAGE_REASONS.includes(err.reason) ? EXIT.usage : EXIT.provider;
    return;
  }
  if (err instanceof VaultError) {
    process.stderr.write(`moat: ${err.message}\n${err.fix ? `fix: ${err.fix}\n` : ''}`);
    process.exitCode = EXIT.keychain;
    return;
  }
  if (err instanceof MoatError) {
    process.stderr.write(`moat: ${err.message}\n${err.fix ? `fix: ${err.fix}\n` : ''}`);
    process.exitCode = exitFor(err.code);
    return;
  }
  process.stderr.write(`moat: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = EXIT.internal;
}

async function withService(f: (s: HostsService, declined: () => void) => Promise<void>): Promise<void> {
  let said = false;
  const audit = new AuditLog(defaultDataDir());
  try {
    await f(new HostsService({ dataDir: defaultDataDir(), vault: new KeychainVault(), audit }), () => (said = true));
  } catch (err) {
    report(err);
    if (said) process.exitCode = EXIT_DECLINED;
  } finally {
    audit.close();
  }
}

/** y or yes, else a no (recorded, for the exit status). */
async function confirm(question: string, declined: () => void): Promise<boolean> {
  const yes = await confirmYes(question);
  if (!yes) declined();
  return yes;
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function requireTtyOrYes(yes: boolean | undefined, what: string): void {
  if (!yes && !process.stdin.isTTY) {
    throw new UsageError(
      `standard input is not a terminal, so Moat cannot ask you to ${what}. Pass --yes to trust the key shown (for scripts).`,
    );
  }
}

function keyLine(k: { keyType?: string; fingerprint: string }): string {
  return `${k.keyType ?? 'key'} ${k.fingerprint}`;
}

function address(h: HostRecord): string {
  return `${h.user}@${h.host}${h.port === 22 ? '' : `:${h.port}`}`;
}

const CHECK_HINT =
  "Compare it with the host's own: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` (run on the host, or ask its admin).";

export function registerHosts(program: Command): void {
  const hosts = program.command('hosts').description('your own hosts that run sandboxes over SSH (`moat run --on NAME`)');

  hosts
    .command('add')
    .description("connect, show the host's key and ask to trust it, check the login, and remember the host")
    .argument('<name>', "a short name: lower-case letters, digits, '-' or '_'")
    .argument('<url>', 'ssh://user@host[:port]')
    .option('--identity <file>', 'an OpenSSH private key to log in with (kept in the OS keychain); default: the ssh-agent')
    .option('--passphrase-stdin', "read the key's passphrase from standard input instead of a hidden prompt")
    .option('--yes', 'trust the host key shown without asking (for scripts)')
    .action(async (name: string, url: string, opts: { identity?: string; passphraseStdin?: boolean; yes?: boolean }) => {
      await withService(async (svc, declined) => {
        requireTtyOrYes(opts.yes, 'trust the host key');
        let identity: { privateKey: string; passphrase?: string } | undefined;
        if (opts.identity) {
          let privateKey: string;
          try {
            privateKey = readFileSync(opts.identity, 'utf8');
          } catch (err) {
            throw new UsageError(
              `cannot read the identity file ${opts.identity}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
            );
          }
          identity = { privateKey };
          const check = checkIdentity(privateKey);
          if (!check.ok && check.needsPassphrase) {
            if (opts.passphraseStdin) identity.passphrase = await readStdinLine();
            else if (process.stdin.isTTY) identity.passphrase = await ask(`Passphrase for ${opts.identity} (not shown): `, true);
            else throw new UsageError('the key has a passphrase and standard input is not a terminal: pipe it in with --passphrase-stdin.');
          }
        }
        const added = await svc.add({
          name,
          url,
          ...(identity ? { identity } : {}),
          trust: async (seen: HostKeyInfo) => {
            process.stderr.write(`The host key of ${name} (${url}) is:\n  ${keyLine(seen)}\n`);
            if (opts.yes) {
              process.stderr.write('Trusted (--yes).\n');
              return true;
            }
            process.stderr.write(`${CHECK_HINT}\n`);
            return confirm('Trust this key? [y/N] ', declined);
          },
        });
        const e = added.engine;
        const engine = e.connected
          ? `Docker ${e.version}; ${e.gvisorRuntime ? `gVisor runtime "${e.gvisorRuntime}"` : 'NO gVisor runtime: runs there are refused unless --allow-runc'}`
          : `its Docker engine did not answer (${e.error})`;
        process.stdout.write(`added ${name}: ${address(added.host)}, host key ${keyLine(added.host.hostKey)}\n${engine}\n`);
      });
    });

  hosts
    .command('add-instance')
    .description(
      "make a running instance a sandbox target: the account's SSH key, the provider's login user, its host key shown to trust (first use)",
    )
    .argument('<instance>', 'ID, unique ID prefix, or ACCOUNT/NAME')
    .option('--yes', 'trust the host key shown without asking (for scripts)')
    .action(async (ref: string, opts: { yes?: boolean }) => {
      await withService(async (svc, declined) => {
        requireTtyOrYes(opts.yes, 'trust the host key');
        const dataDir = defaultDataDir();
        const vault = new KeychainVault();
        const accounts = accountsService(dataDir, vault);
        const instances = new InstancesService({ dataDir, vault, accounts });
        try {
          const inst = await instances.find(ref);
          const out = await addInstanceHost({ hosts: svc, vault }, inst, async (seen) => {
            process.stderr.write(
              `The host key of ${inst.account}/${inst.name} (${inst.ipv4 ?? 'no address'}) is:\n  ${keyLine(seen)}\n` +
                'Neither provider reports host keys: this is trust on first use. Compare it with the key the instance printed at boot (its console log) if you can.\n',
            );
            if (opts.yes) {
              process.stderr.write('Trusted (--yes).\n');
              return true;
            }
            return confirm('Trust this key? [y/N] ', declined);
          });
          if (out.status === 'needs-trust') {
            process.stderr.write('nothing added\n');
            return;
          }
          process.stdout.write(
            `${out.added ? 'added' : 'already a target:'} ${out.host.name}: ${address(out.host)}, host key ${keyLine(out.host.hostKey)}\nrun on it with \`moat run --on ${out.host.name}\` or \`--on ${inst.account}/${inst.name}\`\n`,
          );
        } finally {
          instances.close();
          accounts.close();
        }
      });
    });

  hosts
    .command('list')
    .description('the hosts: name, address, how Moat logs in, and the pinned host key')
    .option('--json', 'print them as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withService(async (svc) => {
        const all = svc.list();
        if (opts.json) {
          process.stdout.write(JSON.stringify(all) + '\n');
          return;
        }
        if (all.length === 0) {
          process.stdout.write('no hosts (add one with `moat hosts add NAME ssh://user@host`)\n');
          return;
        }
        for (const h of all) {
          const id = h.identity.kind === 'agent' ? 'ssh-agent' : `keychain${h.identity.passphrase ? ' (with passphrase)' : ''}`;
          process.stdout.write(`${h.name.padEnd(16)} ${address(h).padEnd(32)} ${id.padEnd(28)} ${keyLine(h.hostKey)}\n`);
        }
      });
    });

  hosts
    .command('remove')
    .description('forget the host and delete its key (and passphrase) from the OS keychain')
    .argument('<name>', 'the host')
    .action(async (name: string) => {
      await withService(async (svc) => {
        const r = await svc.remove(name);
        process.stdout.write(
          `removed ${name}${r.secretsRemoved ? ` (and ${r.secretsRemoved} keychain entr${r.secretsRemoved === 1 ? 'y' : 'ies'})` : ''}\n`,
        );
      });
    });

  hosts
    .command('trust')
    .description("re-pin the host's key after an expected change (reinstall, key rotation), showing old and new")
    .argument('<name>', 'the host')
    .option('--yes', 'trust the new key without asking (for scripts)')
    .action(async (name: string, opts: { yes?: boolean }) => {
      await withService(async (svc, declined) => {
        requireTtyOrYes(opts.yes, 'trust the new host key');
        const out = await svc.trust(name, async (previous, seen) => {
          process.stderr.write(`The host key of ${name} changed:\n  trusted: ${keyLine(previous)}\n  now:     ${keyLine(seen)}\n`);
          if (opts.yes) {
            process.stderr.write('Trusted (--yes).\n');
            return true;
          }
          process.stderr.write(`Trust it only if you expected the change. ${CHECK_HINT}\n`);
          return confirm('Trust the new key? [y/N] ', declined);
        });
        process.stdout.write(
          out.changed
            ? `trusted the new host key of ${name}: ${keyLine(out.host.hostKey)}\n`
            : `the host key of ${name} is unchanged: ${keyLine(out.host.hostKey)}\n`,
        );
      });
    });
}
