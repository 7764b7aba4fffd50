// `moat instances`: instances across every account. list (with cost so far and burn rate per
// account), launch (only where the type has capacity; started locked: only SSH, from the user's
// address, unless --no-lock; --wait follows it until running), terminate
// (asks first, naming the instance and its cost; --yes for scripts).
// Exit status, as `moat accounts`: 0 done, 2 bad usage (unknown or ambiguous reference, no
// capacity, name taken, no TTY to confirm), 3 a provider refused or could not be reached (for
// list: some account could not be listed, the others are still shown), 4 the OS keychain could
// not be used, 130 Ctrl-C at the prompt, 1 anything else.
import type { Command } from 'commander';
import { confirm } from './prompt';
import { KeychainVault } from '../../main/credentials/keychain';
import { myAddresses } from '../../main/firewall/address';
import { SettingsStore } from '../../main/store/settings';
import { formatDollars, formatUptime } from '../../main/instances/cost';
import { InstanceError, toInstanceError } from '../../main/instances/errors';
import { InstancesService, type InstanceView } from '../../main/instances/instances';
import { describeRef } from '../../main/instances/references';
import { defaultDataDir } from '../../main/services';
import { UsageError, accountsService, exitFor, reportFailure } from './provider-exit';

async function withService(f: (s: InstancesService) => Promise<void>): Promise<void> {
  const dataDir = defaultDataDir();
  const vault = new KeychainVault();
  const accounts = accountsService(dataDir, vault);
  const settings = new SettingsStore(dataDir);
  const svc = new InstancesService({
    dataDir,
    vault,
    accounts,
    myAddresses: () => myAddresses({ urls: settings.get().addressDetectUrls }),
  });
  try {
    await f(svc);
  } catch (err) {
    reportFailure(err, (e) => toInstanceError(e, undefined, 'handling the instance'));
  } finally {
    svc.close();
    accounts.close();
  }
}

/** "$1.23 so far", with "~" and the basis when Moat did not launch it (the real cost is at least this). */
export function costText(i: InstanceView): string {
  const c = formatDollars(i.cost.costCents);
  if (i.cost.basis === 'launched') return c;
  return `~${c} (since ${i.cost.basis === 'created' ? 'created' : 'first seen'})`;
}

const COLS: [string, number][] = [
  ['ACCOUNT', 14],
  ['PROVIDER', 8],
  ['ID', 10],
  ['NAME', 16],
  ['REGION', 11],
  ['TYPE', 18],
  ['GPU', 20],
  ['STATUS', 11],
  ['IPV4', 15],
  ['$/H', 8],
  ['UPTIME', 7],
  ['COST SO FAR', 0],
];

function row(cells: string[]): string {
  return cells
    .map((c, i) => c.padEnd(COLS[i]![1]))
    .join(' ')
    .trimEnd();
}

function statusText(i: InstanceView): string {
  return i.status === 'unknown' ? `?${i.rawStatus}` : i.status;
}

export function registerInstances(program: Command): void {
  const instances = program
    .command('instances')
    .description('instances across all accounts: list, launch, terminate (referred to by ID, ID prefix, or ACCOUNT/NAME)');

  instances
    .command('list')
    .description("every account's instances with status, addresses, price, uptime and cost so far; burn rate per account")
    .option('--json', 'print accounts (with burn rate or error) and instances as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withService(async (svc) => {
        const all = await svc.list();
        const failed = all.accounts.filter((a) => a.error);
        if (opts.json) process.stdout.write(JSON.stringify(all) + '\n');
        else {
          if (all.accounts.length === 0)
            process.stdout.write('no accounts (add one with `moat accounts add lambda|linode --label NAME`)\n');
          for (const a of all.accounts) {
            const n = all.instances.filter((i) => i.account === a.account).length;
            process.stdout.write(
              a.error
                ? `${a.account} (${a.provider}): could not list: ${a.error.message}\n`
                : `${a.account} (${a.provider}): ${n} instance(s), burn rate ${formatDollars(a.burnRateCentsPerHour)}/h\n`,
            );
          }
          if (all.instances.length > 0) {
            process.stdout.write('\n' + row(COLS.map(([h]) => h)) + '\n');
            for (const i of all.instances) {
              process.stdout.write(
                row([
                  i.account,
                  i.provider,
                  i.id.slice(0, 8),
                  i.name || '-',
                  i.region,
                  i.type,
                  i.gpuDescription || '-',
                  statusText(i),
                  i.ipv4 ?? '-',
                  formatDollars(i.priceCentsPerHour),
                  formatUptime(i.cost.uptimeMs),
                  costText(i),
                ]) + '\n',
              );
              if (i.ipv6) process.stdout.write(`${''.padEnd(COLS.slice(0, 8).reduce((s, [, w]) => s + w + 1, 0))}${i.ipv6}\n`);
            }
          }
        }
        for (const a of failed) process.stderr.write(`moat: ${a.account}: ${a.error!.message}\n`);
        if (failed.length > 0) process.exitCode = exitFor(failed[0]!.error!.code);
      });
    });

  instances
    .command('launch')
    .description("launch an instance (only in a region with capacity for the type) with the account's Moat SSH key")
    .requiredOption('--account <label>', 'the account to launch on')
    .requiredOption('--region <region>', 'a region with capacity for the type')
    .requiredOption('--type <type>', 'the instance type')
    .requiredOption('--name <name>', 'a name unique in the account (ACCOUNT/NAME refers to it)')
    .option('--wait', 'follow the instance until it is running, printing each status change')
    .option('--ssh-from <list>', 'addresses or CIDRs SSH is allowed from (default: your public address, detected)')
    .option(
      '--no-lock',
      "launch with the provider's default firewall instead (Lambda: SSH and ICMP from anywhere; Linode: every port open)",
    )
    .action(
      async (opts: { account: string; region: string; type: string; name: string; wait?: boolean; sshFrom?: string; lock: boolean }) => {
        await withService(async (svc) => {
          const i = await svc.launch({
            account: opts.account,
            region: opts.region,
            type: opts.type,
            name: opts.name,
            locked: opts.lock,
            ...(opts.sshFrom ? { sshFrom: opts.sshFrom.split(',').map((s) => s.trim()) } : {}),
          });
          process.stdout.write(
            `launched ${describeRef(i)}: ${i.type} in ${i.region}, ${formatDollars(i.priceCentsPerHour)}/h, ${statusText(i)}\n`,
          );
          if (!opts.wait) return;
          const end = await svc.watch(i.id, (v) =>
            process.stdout.write(
              v ? `${new Date().toISOString().slice(11, 19)} ${statusText(v)}${v.ipv4 ? ` ${v.ipv4}` : ''}\n` : 'gone\n',
            ),
          );
          if (end?.status !== 'running') {
            throw new InstanceError(
              'PROVIDER_UNAVAILABLE',
              `${describeRef(i)} did not reach running: ${end ? statusText(end) : 'it is gone'}.`,
            );
          }
        });
      },
    );

  instances
    .command('terminate')
    .description('terminate an instance, after confirming (its name and cost so far are shown)')
    .argument('<ref>', 'instance ID, unique ID prefix (4+ characters), or ACCOUNT/NAME')
    .option('-y, --yes', 'do not ask (for scripts)')
    .action(async (ref: string, opts: { yes?: boolean }) => {
      await withService(async (svc) => {
        if (!opts.yes && !process.stdin.isTTY) {
          throw new UsageError(
            'standard input is not a terminal, so Moat cannot ask for confirmation: pass --yes to terminate without asking.',
          );
        }
        const i = await svc.find(ref);
        if (!opts.yes) {
          const ok = await confirm(`Terminate ${i.name || '(no name)'} (${i.id}) on ${i.account}, cost so far ${costText(i)}? [y/N] `);
          if (!ok) {
            process.stdout.write('not terminated\n');
            return;
          }
        }
        // By full ID: the confirmed instance, even if a new one took the name meanwhile.
        const done = await svc.terminate(i.id);
        process.stdout.write(`terminated ${describeRef(done)}, cost so far ${costText(done)}\n`);
      });
    });
}
