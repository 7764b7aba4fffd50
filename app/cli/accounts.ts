// `moat accounts`: provider accounts (Lambda Cloud API keys, Linode personal access tokens).
// A key is read from a hidden prompt or, with --key-stdin, from standard input: never from an
// argument, which any user on the machine could read in /proc/<pid>/cmdline or `ps`.
// Exit status: 0 done, 2 bad usage (unknown label, label taken, no key source), 3 the provider
// refused the key or could not be reached, 4 the OS keychain could not be used, 130 Ctrl-C at the
// prompt, 1 anything else.
import type { Command } from 'commander';
import { AccountsService, type AccountView } from '../../main/accounts/accounts';
import { AccountError, PROVIDER_NAMES, toAccountError } from '../../main/accounts/errors';
import { KeychainVault } from '../../main/credentials/keychain';
import { isProviderKind } from '../../main/providers';
import { defaultDataDir } from '../../main/services';
import { ask, readStdin } from './prompt';
import { UsageError, accountsService, reportFailure } from './provider-exit';

/** Everything on stdin, with the line ending a pipe or `echo` adds taken off. */

/** A prompt on the terminal that does not echo what is typed (the prompt goes to stderr). */

async function readKey(keyStdin: boolean | undefined, what: string): Promise<string> {
  if (keyStdin) return readStdin();
  if (!process.stdin.isTTY) {
    throw new UsageError(
      `no key given: standard input is not a terminal, so Moat cannot prompt for the ${what}. Pipe it in with --key-stdin (keys are never accepted as arguments).`,
    );
  }
  return (await ask(`${what} (not shown): `, true)).trim();
}

function line(a: AccountView): string {
  return `${a.label.padEnd(24)} ${PROVIDER_NAMES[a.provider].padEnd(13)} ${a.keyLast4 ? `…${a.keyLast4}` : '(short key)'}${a.identity ? `  ${a.identity}` : ''}`;
}

/** Runs one subcommand with the service, maps its failure to a message and an exit status. */
async function withService(f: (s: AccountsService) => Promise<void>): Promise<void> {
  const svc = accountsService(defaultDataDir(), new KeychainVault());
  try {
    await f(svc);
  } catch (err) {
    reportFailure(err, (e) => (e instanceof AccountError ? e : toAccountError(e, 'lambda')));
  } finally {
    svc.close();
  }
}

export function registerAccounts(program: Command): void {
  const accounts = program
    .command('accounts')
    .description('provider accounts (Lambda Cloud, Linode); keys are kept in the OS keychain only');

  accounts
    .command('add')
    .description('check a key with the provider, then keep it in the OS keychain under a label')
    .argument('<provider>', 'lambda or linode')
    .requiredOption('--label <name>', "1-64 letters, digits, '.', '_' or '-'")
    .option('--key-stdin', 'read the key from standard input instead of a hidden prompt')
    .action(async (provider: string, opts: { label: string; keyStdin?: boolean }) => {
      await withService(async (svc) => {
        if (!isProviderKind(provider)) throw new UsageError(`unknown provider "${provider.slice(0, 40)}": use lambda or linode`);
        const key = await readKey(opts.keyStdin, provider === 'lambda' ? 'Lambda Cloud API key' : 'Linode personal access token');
        const a = await svc.add(provider, opts.label, key);
        process.stdout.write(`added ${line(a)}\n`);
      });
    });

  accounts
    .command('list')
    .description('the accounts: label, provider and the last four characters of the key')
    .option('--json', 'print them as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withService(async (svc) => {
        const all = svc.list();
        if (opts.json) {
          process.stdout.write(JSON.stringify(all) + '\n');
          return;
        }
        if (all.length === 0) process.stdout.write('no accounts (add one with `moat accounts add lambda|linode --label NAME`)\n');
        for (const a of all) process.stdout.write(line(a) + '\n');
      });
    });

  accounts
    .command('remove')
    .description('delete the key from the keychain and forget the account')
    .argument('<name>', 'the account label')
    .action(async (name: string) => {
      await withService(async (svc) => {
        const r = await svc.remove(name);
        process.stdout.write(`removed ${name}${r.sshKeyRemoved ? ' (and its SSH key)' : ''}\n`);
      });
    });

  accounts
    .command('rotate')
    .description('replace the key: the new one is checked and stored before the old one is deleted')
    .argument('<name>', 'the account label')
    .option('--key-stdin', 'read the new key from standard input instead of a hidden prompt')
    .action(async (name: string, opts: { keyStdin?: boolean }) => {
      await withService(async (svc) => {
        const rec = svc.list().find((a) => a.label === name);
        // An unknown label fails (and is audited) before anyone is asked for a key.
        if (!rec) await svc.rotate(name, '');
        const what = rec ? `new ${PROVIDER_NAMES[rec.provider]} key` : 'new key';
        const key = await readKey(opts.keyStdin, what);
        const a = await svc.rotate(name, key);
        process.stdout.write(`rotated ${line(a)}\n`);
      });
    });
}
