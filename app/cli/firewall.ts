// `moat firewall`: what each instance exposes, and locking it down.
//   moat firewall show [INSTANCE] [--json]
//   moat firewall lock INSTANCE --allow ssh,8000 [--from me|CIDR,...] [--dry-run] [--yes]
// `show` without an instance lists every instance's posture; with one, its findings (each with
// the fix) and the rule sets in force as inbound and outbound tables, the default policy stated
// under each. `lock` prints the plan (steps, the rules before and after as a diff, the posture
// before and after, other instances the change also affects, warnings), asks, applies, reads
// back to verify, and rolls back on any failure. `--dry-run` stops after the plan.
// Exit status, as the other provider commands: 0 done (for show: whatever the posture), 2 bad
// usage (bad --allow/--from, unknown reference, plan breaks provider limits, no TTY to confirm),
// 3 a provider refused or failed (an apply that failed and was rolled back included), 4 keychain,
// 5 declined at the prompt, 130 Ctrl-C, 1 anything else.
import type { Command } from 'commander';
import { confirm } from './prompt';
import { KeychainVault } from '../../main/credentials/keychain';
import { FirewallService } from '../../main/firewall/service';
import { toInstanceError } from '../../main/instances/errors';
import { InstancesService } from '../../main/instances/instances';
import { defaultDataDir } from '../../main/services';
import { AuditLog } from '../../main/store/audit';
import { SettingsStore } from '../../main/store/settings';
import type { ApplyOutcome, InstancePosture, PlanView, Posture, Rule, RuleSet } from '../../shared/firewall';
import { EXIT, UsageError, accountsService, reportFailure } from './provider-exit';

const DECLINED = 5;

async function withService(f: (s: FirewallService) => Promise<void>): Promise<void> {
  const dataDir = defaultDataDir();
  const vault = new KeychainVault();
  const accounts = accountsService(dataDir, vault);
  const audit = new AuditLog(dataDir);
  const instances = new InstancesService({ dataDir, vault, accounts, audit });
  const settings = new SettingsStore(dataDir);
  const svc = new FirewallService({ dataDir, accounts, instances, audit, addressUrls: () => settings.get().addressDetectUrls });
  try {
    await f(svc);
  } catch (err) {
    reportFailure(err, (e) => toInstanceError(e, undefined, 'working on the firewall'));
  } finally {
    instances.close();
    accounts.close();
    audit.close();
  }
}

const LEVEL: Record<Posture['level'], string> = { locked: 'LOCKED', exposed: 'EXPOSED', unknown: 'UNKNOWN' };

function ports(r: Pick<Rule, 'ports' | 'protocol'>): string {
  if (r.protocol === 'icmp') return '-';
  if (!r.ports) return 'all';
  return r.ports.map((p) => (p.from === p.to ? String(p.from) : `${p.from}-${p.to}`)).join(',');
}

function sources(r: Pick<Rule, 'ipv4' | 'ipv6'>): string {
  const all = [...r.ipv4, ...r.ipv6];
  return all.length > 4 ? `${all.slice(0, 4).join(', ')} (+${all.length - 4} more)` : all.join(', ') || '(none)';
}

function ruleLine(r: Rule, mark = ' '): string {
  const proto = r.nativeProtocol ?? r.protocol;
  return `  ${mark} ${r.action.toUpperCase().padEnd(6)} ${proto.toUpperCase().padEnd(7)} ${ports(r).padEnd(14)} ${sources(r)}${r.label ? `   # ${r.label}` : ''}`;
}

function ruleSetName(rs: Pick<RuleSet, 'kind' | 'id' | 'label' | 'region'>): string {
  if (rs.kind === 'lambda-global') return `Lambda global rules (${rs.label || 'account-wide'})`;
  if (rs.kind === 'lambda-ruleset') return `Lambda ruleset ${rs.label} (${rs.id}${rs.region ? `, ${rs.region}` : ''})`;
  return `Linode firewall ${rs.label} (${rs.id})`;
}

export function formatRuleSet(rs: RuleSet): string {
  const out = [`${ruleSetName(rs)}${rs.enabled ? '' : '  [DISABLED]'}`];
  for (const dir of ['inbound', 'outbound'] as const) {
    const rules = rs.rules.filter((r) => r.direction === dir);
    out.push(` ${dir}:`);
    if (rules.length === 0) out.push('    (no rules)');
    for (const r of rules) out.push(ruleLine(r));
    const policy = dir === 'inbound' ? rs.inboundPolicy : rs.outboundPolicy;
    out.push(`    default: ${policy === 'deny' ? 'DENY everything else' : 'ALLOW everything else'}`);
  }
  return out.join('\n');
}

function formatFindings(p: Posture): string {
  if (p.findings.length === 0) return '  (no findings)';
  return p.findings.map((f) => `  [${f.severity}] ${f.message}\n      fix: ${f.fix}`).join('\n');
}

export function formatPosture(ip: InstancePosture): string {
  const i = ip.instance;
  const lines = [`${i.account}/${i.name} (${i.id}) ${i.provider} ${i.region}: ${LEVEL[ip.posture.level]}`, formatFindings(ip.posture)];
  if (ip.ruleSets.length === 0) lines.push('rule sets in force: none');
  for (const rs of ip.ruleSets) lines.push('', formatRuleSet(rs));
  return lines.join('\n');
}

export function formatPlan(p: PlanView): string {
  const out = [`Plan for ${p.instance.account}/${p.instance.name} (${p.instance.id}):`];
  out.push(...(p.steps.length ? p.steps.map((s, n) => `  ${n + 1}. ${s}`) : ['  nothing to change: the rules already say exactly this']));
  for (const d of p.diffs) {
    out.push('', `${d.created ? 'new ' : ''}${d.label}${d.ref ? ` (${d.ref.id})` : ''}:`);
    for (const row of d.rows) out.push(ruleLine(row.rule, row.mark === 'added' ? '+' : row.mark === 'removed' ? '-' : ' '));
    const pol = d.policies;
    if (!pol.before || pol.before.inboundPolicy !== pol.after.inboundPolicy)
      out.push(
        `    inbound default: ${pol.before ? pol.before.inboundPolicy.toUpperCase() + ' -> ' : ''}${pol.after.inboundPolicy.toUpperCase()}`,
      );
    for (const n of d.notes) out.push(`    note: ${n}`);
  }
  out.push('', `Posture: ${LEVEL[p.postureBefore.level]} -> ${LEVEL[p.postureAfter.level]}`);
  for (const f of p.postureAfter.findings) out.push(`  after: [${f.severity}] ${f.message}`);
  if (p.affects.length) out.push('', `Also affects: ${p.affects.map((a) => `${a.name || '(no name)'} (${a.id})`).join(', ')}`);
  for (const w of p.warnings) out.push(`WARNING: ${w.message}`);
  for (const pr of p.problems) out.push(`PROBLEM: ${pr}`);
  return out.join('\n');
}

function formatOutcome(o: ApplyOutcome): string {
  const out = o.applied.map((a) => `  done: ${a}`);
  if (o.ok) out.push(`Applied and verified.${o.after ? ` Posture now: ${LEVEL[o.after.posture.level]}.` : ''}`);
  else {
    out.push(`Failed: ${o.error ?? 'unknown error'}`);
    out.push(o.rolledBack ? 'The previous rules were restored.' : 'The rollback did not complete: check the rules below.');
    for (const l of o.leftAlone) out.push(`  left alone: ${l.ruleSet}: ${l.reason}`);
  }
  return out.join('\n');
}

export function registerFirewall(program: Command): void {
  const fw = program
    .command('firewall')
    .description('what each instance exposes, and locking it down to what you allow, from where you allow it');

  fw.command('show')
    .description('posture of every instance, or one instance with its findings and rules')
    .argument('[instance]', 'ID, unique ID prefix, or ACCOUNT/NAME')
    .option('--json', 'machine-readable output')
    .action(async (ref: string | undefined, opts: { json?: boolean }) => {
      await withService(async (svc) => {
        if (ref) {
          const ip = await svc.show(ref);
          process.stdout.write(opts.json ? `${JSON.stringify(ip, null, 2)}\n` : `${formatPosture(ip)}\n`);
          return;
        }
        const o = await svc.overview();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(o, null, 2)}\n`);
        } else {
          process.stdout.write(`${o.counts.exposed} exposed, ${o.counts.locked} locked, ${o.counts.unknown} unknown\n`);
          for (const ip of o.instances) {
            const top = ip.posture.findings.filter((f) => f.severity !== 'info')[0];
            process.stdout.write(
              `${LEVEL[ip.posture.level].padEnd(8)} ${`${ip.instance.account}/${ip.instance.name}`.padEnd(28)} ${ip.instance.id.slice(0, 10).padEnd(10)} ${top ? top.message : ''}\n`,
            );
          }
        }
        for (const a of o.accounts) if (a.error) process.stderr.write(`moat: account ${a.account}: ${a.error.message}\n`);
        if (o.accounts.some((a) => a.error)) process.exitCode = EXIT.provider;
      });
    });

  fw.command('lock')
    .description('deny all inbound except what --allow names, from --from (default: your own address)')
    .argument('<instance>', 'ID, unique ID prefix, or ACCOUNT/NAME')
    .requiredOption(
      '--allow <list>',
      'ssh, chat-ui (3000), api (8000), http, https, jupyter (8888), PORT, FROM-TO, udp:PORT, icmp; ITEM@CIDR for its own sources',
    )
    .option('--from <list>', '"me" (your public address, detected) and/or CIDRs, for every item without its own @sources', 'me')
    .option('--dry-run', 'print the plan (diff and posture after) and change nothing')
    .option('--yes', 'apply without asking (for scripts)')
    .action(async (ref: string, opts: { allow: string; from: string; dryRun?: boolean; yes?: boolean }) => {
      await withService(async (svc) => {
        const detected = await svc.detectAddresses();
        const me = {
          ...(detected.ipv4.address ? { ipv4: detected.ipv4.address } : {}),
          ...(detected.ipv6.address ? { ipv6: detected.ipv6.address } : {}),
        };
        const usesMe = `${opts.allow},${opts.from}`.split(/[,@]/).some((s) => s.trim() === 'me');
        if (usesMe) {
          if (!me.ipv4 && !me.ipv6) {
            throw new UsageError(
              `your public address could not be found (${detected.ipv4.error ?? ''}${detected.ipv6.error ? `; ${detected.ipv6.error}` : ''}); give it with --from ADDRESS or a CIDR instead of "me"`,
            );
          }
          process.stderr.write(
            `your address: ${[me.ipv4, me.ipv6].filter(Boolean).join(', ')} (from ${detected.ipv4.source}${detected.ipv4.warning ? `; ${detected.ipv4.warning}` : ''})\n`,
          );
        }
        const plan = await svc.planFromAllow(ref, opts.allow, opts.from, me);
        process.stdout.write(`${formatPlan(plan)}\n`);
        if (plan.problems.length) {
          process.exitCode = EXIT.usage;
          return;
        }
        if (opts.dryRun || plan.steps.length === 0) return;
        if (!opts.yes) {
          if (!process.stdin.isTTY)
            throw new UsageError('not applying: standard input is not a terminal, so Moat cannot ask; pass --yes to apply, or --dry-run');
          const n = plan.affects.length;
          if (
            !(await confirm(
              `Apply to ${plan.instance.account}/${plan.instance.name}${n ? ` (and ${n} other instance${n > 1 ? 's' : ''})` : ''}? [y/N] `,
            ))
          ) {
            process.stderr.write('nothing changed\n');
            process.exitCode = DECLINED;
            return;
          }
        }
        const outcome = await svc.apply(plan.planId);
        process.stdout.write(`${formatOutcome(outcome)}\n`);
        if (!outcome.ok) process.exitCode = EXIT.provider;
      });
    });
}
