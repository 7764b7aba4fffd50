// Where sandboxes run: this machine, SSH hosts the user added, and the user's instances (an
// instance becomes a host the first time it is used: its address, the provider's login user, the
// account's SSH key from the keychain, and its host key pinned). One SandboxManager per target,
// made at first use, so the run lifecycle (queue, pool, deadlines, reaping) is the same everywhere.
// Also here: a host's preparation checklist and run, live host usage over the same SSH connection,
// and the idle rule (warn, or terminate the instance), each audited.
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { join } from 'node:path';
import type { AccountsService } from '../accounts/accounts';
import type { Vault } from '../credentials/vault';
import type { InstancesService, InstanceView } from '../instances/instances';
import { sshVaultAccount } from '../instances/ssh-keys';
import { MoatError } from '../../shared/errors';
import { RemoteError } from '../remote/errors';
import { HOST_NAME, hostAuth, type HostRecord } from '../remote/hosts';
import { IdleTracker, DEFAULT_IDLE_RULE, idleText, type IdleRule } from '../remote/idle';
import { checkHost, type Exec } from '../remote/prepare-check';
import { planPreparation } from '../remote/prepare-plan';
import { runPreparation } from '../remote/prepare-run';
import type { HostsService } from '../remote/service';
import { fetchHostKey, type SshConnectionOptions } from '../remote/ssh';
import { UsageSampler, type HostUsage } from '../remote/usage';
import { SshDockerEngine } from '../sandbox/docker-engine';
import type { SandboxEngine } from '../sandbox/engine';
import type { SandboxManager } from '../sandbox/manager';
import { ownerId } from '../sandbox/labels';
import type { AuditLog } from '../store/audit';
import { RecordFile } from '../store/record-file';
import type {
  AddHostRequest,
  AddHostResult,
  Checklist,
  IdleStatus,
  PrepareProgress,
  PrepareRequest,
  PrepareResult,
  ProviderStats as ProviderStatsView,
  Target,
  UsageSample,
} from '../../shared/remote';

export interface TargetsOptions {
  dataDir: string;
  vault: Vault;
  hosts: HostsService;
  instances: InstancesService;
  accounts: AccountsService;
  audit: AuditLog;
  log: (msg: string) => void;
  /** The local engine's manager (target 'local'). */
  local: SandboxManager;
  /** Makes (does not start) a manager over an engine, with the events wired. */
  makeManager: (engine: SandboxEngine) => SandboxManager;
  onUsage: (s: UsageSample) => void;
  onPrepare: (p: PrepareProgress) => void;
  ssh?: SshConnectionOptions;
  now?: () => number;
}

/** The login user each provider's images have. */
export const INSTANCE_USER = { lambda: 'ubuntu', linode: 'root' } as const;

/** How long a host key waits for the user's answer. */
const PENDING_TTL_MS = 5 * 60_000;
/** Usage is sampled this long after the last request for it (a view that is open asks again). */
const USAGE_INTEREST_MS = 2 * 60_000;
const IDLE_SAMPLE_MS = 60_000;

const StoredRule = z.object({
  enabled: z.boolean(),
  gpuBelowPercent: z.number(),
  minutes: z.number(),
  action: z.enum(['warn', 'terminate']),
});

/** A host name for an instance: `<account>-<name>`, cleaned to what host names allow. */
export function instanceHostName(account: string, name: string, taken: readonly string[]): string {
  const clean = `${account}-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 36)
    .replace(/[-_]+$/, '');
  const base = HOST_NAME.test(clean) ? clean : 'instance';
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) if (!taken.includes(`${base}-${n}`)) return `${base}-${n}`;
}

interface Watch {
  until: number;
  intervalMs: number;
  timer: NodeJS.Timeout | null;
  sampler: UsageSampler;
  idle: IdleTracker;
  busy: boolean;
  failures: number;
}

export class TargetsService {
  private readonly managers = new Map<string, SandboxManager>();
  private readonly starting = new Map<string, Promise<SandboxManager>>();
  private readonly watches = new Map<string, Watch>();
  /** Add-host requests waiting for the user to confirm the host key (key and passphrase held here, not in the UI). */
  private readonly pending = new Map<string, { req: AddHostRequest; expires: number }>();
  private readonly rules: RecordFile<IdleRule>;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly o: TargetsOptions) {
    this.rules = new RecordFile(join(o.dataDir, 'idle.json'), 'rules', StoredRule);
    this.now = o.now ?? Date.now;
    // Hosts with an idle rule are watched whether or not a view is open.
    for (const [name, rule] of Object.entries(this.rules.all())) if (rule.enabled) this.ensureWatch(name, IDLE_SAMPLE_MS, Infinity);
  }

  list(): Target[] {
    const local = this.o.local;
    const out: Target[] = [{ id: 'local', kind: 'local', detail: 'this machine', engine: engineView(local) }];
    for (const h of this.o.hosts.list()) {
      const m = this.managers.get(h.name);
      out.push({
        id: h.name,
        kind: h.instance ? 'instance' : 'host',
        detail: `${h.user}@${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`,
        ...(h.instance ? { instance: h.instance } : {}),
        hostKey: h.hostKey,
        ...(m ? { engine: engineView(m) } : {}),
      });
    }
    return out;
  }

  /** The manager for a target, started at first use. */
  async manager(target: string | undefined): Promise<SandboxManager> {
    if (!target || target === 'local') return this.o.local;
    const have = this.managers.get(target);
    if (have) return have;
    const pending = this.starting.get(target);
    if (pending) return pending;
    const host = this.o.hosts.get(target);
    const p = (async () => {
      const m = this.o.makeManager(this.engineFor(host));
      await m.start();
      this.managers.set(target, m);
      return m;
    })();
    this.starting.set(target, p);
    try {
      return await p;
    } finally {
      this.starting.delete(target);
    }
  }

  /** Every manager that exists (for cancel and the live list). */
  allManagers(): SandboxManager[] {
    return [this.o.local, ...this.managers.values()];
  }

  async add(request: AddHostRequest): Promise<AddHostResult> {
    // The second step of a trust dialog names the first: its key and passphrase were kept here.
    this.prunePending();
    const held = request.pendingId ? this.pending.get(request.pendingId) : undefined;
    if (request.pendingId && !held) {
      throw new RemoteError('HOST_KEY_UNKNOWN', 'That request to add a host has expired.', 'Add the host again.');
    }
    if (request.pendingId) this.pending.delete(request.pendingId);
    const req: AddHostRequest = held
      ? { ...held.req, ...(request.trustFingerprint !== undefined ? { trustFingerprint: request.trustFingerprint } : {}) }
      : request;
    let needs: { fingerprint: string; keyType: string } | null = null;
    try {
      const added = await this.o.hosts.add({
        name: req.name,
        url: req.url,
        ...(req.privateKey
          ? { identity: { privateKey: req.privateKey, ...(req.passphrase !== undefined ? { passphrase: req.passphrase } : {}) } }
          : {}),
        trust: async (seen) => {
          if (req.trustFingerprint === seen.fingerprint) return true;
          needs = { fingerprint: seen.fingerprint, keyType: seen.keyType };
          return false;
        },
      });
      return { status: 'added', target: this.list().find((t) => t.id === added.host.name)! };
    } catch (err) {
      if (needs) {
        const pendingId = randomUUID();
        const { trustFingerprint: _t, pendingId: _p, ...keep } = req;
        this.pending.set(pendingId, { req: keep, expires: this.now() + PENDING_TTL_MS });
        return { status: 'needs-trust', hostKey: needs, pendingId };
      }
      this.record('host.add', req.name, { outcome: 'failed', reason: (err as Error).message });
      throw err;
    }
  }

  /**
   * Makes an instance a target: its address, the provider's login user and the account's SSH key.
   * The host key is the one the instance shows, trusted when the caller passes its fingerprint
   * (neither provider's API reports host keys: the first connection is trust on first use, shown
   * to the user to confirm).
   */
  async addInstance(ref: string, trustFingerprint?: string): Promise<AddHostResult> {
    const inst = await this.o.instances.find(ref);
    const out = await addInstanceHost(
      { hosts: this.o.hosts, vault: this.o.vault, ...(this.o.ssh ? { ssh: this.o.ssh } : {}) },
      inst,
      async (seen) => trustFingerprint === seen.fingerprint,
    );
    if (out.status === 'needs-trust') return out;
    return { status: 'added', target: this.list().find((t) => t.id === out.host.name)! };
  }

  /** The target a reference names: a host name, or an instance reference (its host, if added). */
  async resolve(ref: string): Promise<string> {
    return resolveTarget(this.o.hosts, this.o.instances, ref);
  }

  async remove(name: string): Promise<{ removed: boolean }> {
    await this.stopTarget(name);
    await this.o.hosts.remove(name);
    this.rules.update((all) => {
      delete all[name];
    });
    return { removed: true };
  }

  async check(name: string): Promise<Checklist> {
    const list = await checkHost(await this.exec(name));
    return { target: name, at: this.now(), items: list.items, ready: list.ready };
  }

  async prepare(req: PrepareRequest): Promise<PrepareResult> {
    const exec = await this.exec(req.target);
    const checklist = await checkHost(exec);
    const plan = planPreparation(checklist, {
      images: req.images ?? 'pull',
      ...(req.nvproxy ? { nvproxy: true } : {}),
      ...(req.checkOnly ? { checkOnly: true } : {}),
    });
    this.record('host.prepare', req.target, {
      step: 'start',
      checkOnly: plan.checkOnly,
      steps: plan.steps.map((s) => s.id),
      outcome: 'ok',
    });
    const result = await runPreparation(exec, plan, (e) => {
      const base = { target: req.target, type: e.type, step: e.step };
      if (e.type === 'step-started') this.o.onPrepare({ ...base, label: e.label, index: e.index, total: e.total });
      else if (e.type === 'log') this.o.onPrepare({ ...base, line: e.line, stream: e.stream });
      else if (e.type === 'step-done') this.o.onPrepare({ ...base, outcome: e.outcome });
      else this.o.onPrepare({ ...base, message: e.message });
    });
    this.record('host.prepare', req.target, {
      step: 'done',
      checkOnly: plan.checkOnly,
      outcome: result.ok ? 'ok' : 'failed',
      ...(result.failed ? { reason: `${result.failed.label}: ${result.failed.message}` } : {}),
    });
    // The engine may have changed under the manager (runsc registered, images): look again.
    const m = this.managers.get(req.target);
    if (m && result.reconnectNeeded) await this.stopTarget(req.target);
    const after = result.ok ? await this.check(req.target).catch(() => undefined) : undefined;
    return {
      ok: result.ok,
      checkOnly: result.checkOnly,
      steps: result.steps,
      ...(result.failed ? { failed: { step: result.failed.step, label: result.failed.label, message: result.failed.message } } : {}),
      warnings: plan.warnings,
      log: result.log.slice(-500),
      ...(after ? { after } : {}),
    };
  }

  /** Keeps usage coming for a target (pushed as 'usage.sample') for a couple of minutes. */
  async watchUsage(name: string, intervalMs: number): Promise<{ watching: boolean }> {
    this.o.hosts.get(name);
    this.ensureWatch(name, intervalMs, this.now() + USAGE_INTEREST_MS);
    return { watching: true };
  }

  /** The provider's own usage series beside Moat's samples (Linode); Lambda has no metrics API. */
  async providerStats(name: string): Promise<ProviderStatsView> {
    const h = this.o.hosts.get(name);
    if (!h.instance) return { target: name, available: false, note: 'Not a provider instance: only Moat’s own samples.' };
    if (h.instance.provider === 'lambda') {
      return { target: name, available: false, note: 'Lambda Cloud has no metrics API: only Moat’s own samples over SSH.' };
    }
    const p = this.o.accounts.providerFor(h.instance.account);
    const s = p.stats ? await p.stats(h.instance.id) : null;
    if (!s)
      return {
        target: name,
        available: false,
        note: 'Linode has no statistics for this instance yet (they start about 10 minutes after it is created).',
      };
    return { target: name, available: true, note: 'Linode’s own figures: 5-minute averages; CPU 100% = one core.', ...s };
  }

  idleStatus(name: string): IdleStatus {
    const rule = this.rules.all()[name] ?? DEFAULT_IDLE_RULE;
    const w = this.watches.get(name);
    const host = this.o.hosts.get(name);
    const provider = host.instance?.provider;
    const text =
      (w && provider ? idleText(provider, rule, w.idle.state, { priceCentsPerHour: null }, this.now()) : null) ??
      (rule.enabled
        ? `Idle when ${rule.gpuBelowPercent}% GPU (CPU on hosts without GPUs) and no sandbox for ${rule.minutes} min; then ${rule.action === 'terminate' ? 'terminate it' : 'warn'}.`
        : 'No idle rule.');
    return { target: name, rule, idleMinutes: w?.idle.idleMinutes(this.now()) ?? 0, text };
  }

  setIdleRule(name: string, rule: IdleRule): IdleStatus {
    const host = this.o.hosts.get(name);
    if (rule.action === 'terminate' && !host.instance) {
      throw new RemoteError(
        'NO_IDENTITY',
        `${name} is not a provider instance: Moat can warn about it but not terminate it.`,
        'Choose "warn".',
      );
    }
    this.rules.update((all) => {
      all[name] = rule;
    });
    const w = this.watches.get(name);
    if (w) w.idle.rule = rule;
    if (rule.enabled) this.ensureWatch(name, IDLE_SAMPLE_MS, Infinity);
    this.record('host.idle-rule', name, {
      outcome: 'ok',
      enabled: rule.enabled,
      minutes: rule.minutes,
      action: rule.action,
      gpuBelowPercent: rule.gpuBelowPercent,
    });
    return this.idleStatus(name);
  }

  private prunePending(): void {
    const now = this.now();
    for (const [id, p] of this.pending) if (p.expires < now) this.pending.delete(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pending.clear();
    for (const w of this.watches.values()) if (w.timer) clearTimeout(w.timer);
    this.watches.clear();
    await Promise.all([...this.managers.keys()].map((k) => this.stopTarget(k)));
  }

  private async stopTarget(name: string): Promise<void> {
    const m = this.managers.get(name);
    this.managers.delete(name);
    const w = this.watches.get(name);
    if (w?.timer) clearTimeout(w.timer);
    this.watches.delete(name);
    if (m) {
      await m.close().catch((err: unknown) => this.o.log(`closing ${name}: ${(err as Error).message}`));
      if (m.engine instanceof SshDockerEngine) m.engine.close();
    }
  }

  private engineFor(host: HostRecord): SshDockerEngine {
    return new SshDockerEngine({ host, auth: () => hostAuth(host, this.o.vault), ...(this.o.ssh ? { ssh: this.o.ssh } : {}) });
  }

  /** Commands over the target's one SSH connection (the manager's engine). */
  private async exec(name: string): Promise<Exec> {
    const engine = (await this.manager(name)).engine;
    if (!(engine instanceof SshDockerEngine)) throw new RemoteError('SSH_UNREACHABLE', `${name} is not a remote host.`);
    return (command, opts) => engine.connection.exec(command, opts);
  }

  private ensureWatch(name: string, intervalMs: number, until: number): void {
    if (this.closed) return;
    const have = this.watches.get(name);
    if (have) {
      have.until = Math.max(have.until, until);
      have.intervalMs = Math.min(intervalMs, have.until === Infinity && until !== Infinity ? have.intervalMs : intervalMs);
      return;
    }
    const rule = this.rules.all()[name] ?? DEFAULT_IDLE_RULE;
    const w: Watch = {
      until,
      intervalMs,
      timer: null,
      sampler: new UsageSampler(async (cmd, opts) => (await this.exec(name))(cmd, opts)),
      idle: new IdleTracker(rule),
      busy: false,
      failures: 0,
    };
    this.watches.set(name, w);
    const tick = async () => {
      w.timer = null;
      const rule = this.rules.all()[name];
      if (this.closed || (this.now() > w.until && !rule?.enabled)) {
        this.watches.delete(name);
        return;
      }
      let next = w.intervalMs;
      try {
        const sample: HostUsage = await w.sampler.sample();
        w.failures = 0;
        const m = this.managers.get(name);
        const runs = m ? m.liveRuns().map((r) => r.id) : [];
        this.o.onUsage({ target: name, sample, runs });
        for (const e of w.idle.update(sample, runs.length)) await this.onIdle(name, e.kind, sample.at);
      } catch (err) {
        w.failures++;
        next = Math.min(w.intervalMs * 2 ** w.failures, 5 * 60_000);
        this.o.log(`usage of ${name}: ${(err as Error).message}`);
      }
      if (!this.closed && this.watches.get(name) === w) {
        w.timer = setTimeout(() => void tick(), next);
        w.timer.unref?.();
      }
    };
    void tick();
  }

  private async onIdle(name: string, kind: string, at: number): Promise<void> {
    if (kind !== 'warn' && kind !== 'terminate') return;
    const host = this.o.hosts.get(name);
    const rule = this.rules.all()[name] ?? DEFAULT_IDLE_RULE;
    if (kind === 'warn') {
      this.record('host.idle', name, { outcome: 'ok', step: 'warn', minutes: rule.minutes, at });
      return;
    }
    if (!host.instance) return;
    try {
      const i = await this.o.instances.terminate(host.instance.id);
      this.record('host.idle', name, {
        outcome: 'ok',
        step: 'terminate',
        instance: `${i.account}/${i.name} (${i.id})`,
        costCentsPerHour: i.priceCentsPerHour ?? -1,
      });
    } catch (err) {
      this.record('host.idle', name, { outcome: 'failed', step: 'terminate', reason: (err as Error).message });
    }
  }

  private record(
    action: 'host.add' | 'host.remove' | 'host.prepare' | 'host.idle-rule' | 'host.idle',
    target: string,
    details: Record<string, string | number | boolean | string[]>,
  ): void {
    this.o.audit.record({ action, by: ownerId(), details: { label: target, target, ...details } });
  }
}

function engineView(m: SandboxManager): Target['engine'] {
  const e = m.engine.current;
  return {
    connected: e.connected,
    ...(e.version ? { version: e.version } : {}),
    ...(e.gvisorRuntime ? { gvisorRuntime: e.gvisorRuntime } : {}),
    ...(e.error ? { error: e.error } : {}),
  };
}

/** A host name as is; an instance reference to the host it was added as (refused if it was not). */
export async function resolveTarget(hosts: HostsService, instances: Pick<InstancesService, 'find'>, ref: string): Promise<string> {
  if (ref === 'local' || hosts.list().some((h) => h.name === ref)) return ref;
  let inst: InstanceView;
  try {
    inst = await instances.find(ref);
  } catch (err) {
    if (err instanceof MoatError && err.code === 'NOT_FOUND') {
      throw new RemoteError(
        'HOST_NOT_FOUND',
        `No host named "${ref.slice(0, 80)}", and no instance by that reference.`,
        'See `moat hosts list` for hosts, and `moat instances list` for instances (add one as a target with `moat hosts add-instance`).',
      );
    }
    throw err;
  }
  const h = hosts.list().find((x) => x.instance?.provider === inst.provider && x.instance.id === inst.id);
  if (!h) {
    throw new RemoteError(
      'HOST_KEY_UNKNOWN',
      `${inst.account}/${inst.name} is not a sandbox target yet: its host key has not been trusted.`,
      `Add it first, confirming its host key: the Hosts view, or \`moat hosts add-instance ${ref}\`.`,
    );
  }
  return h.name;
}

/**
 * Makes an instance a host: its public IPv4, the provider's login user, the account's SSH key
 * from the vault, and the host key it shows, pinned once `trust` accepts it (neither provider's
 * API reports host keys: trust on first use). Logs in before anything is stored.
 */
export async function addInstanceHost(
  o: { hosts: HostsService; vault: Vault; ssh?: SshConnectionOptions },
  inst: InstanceView,
  trust: (seen: { fingerprint: string; keyType: string }) => Promise<boolean>,
): Promise<
  { status: 'needs-trust'; hostKey: { fingerprint: string; keyType: string } } | { status: 'added'; host: HostRecord; added: boolean }
> {
  const existing = o.hosts.list().find((h) => h.instance?.provider === inst.provider && h.instance.id === inst.id);
  if (existing) return { status: 'added', host: existing, added: false };
  if (inst.status !== 'running' || !inst.ipv4) {
    throw new RemoteError(
      'SSH_UNREACHABLE',
      `${inst.account}/${inst.name} is ${inst.rawStatus}${inst.ipv4 ? '' : ' with no public address yet'}; sandboxes run on a running instance.`,
      'Wait until it is running, then try again.',
    );
  }
  const name = instanceHostName(
    inst.account,
    inst.name,
    o.hosts.list().map((h) => h.name),
  );
  const seen = await fetchHostKey({ name, host: inst.ipv4, port: 22, user: INSTANCE_USER[inst.provider] }, o.ssh);
  const hostKey = { fingerprint: seen.fingerprint, keyType: seen.keyType };
  if (!(await trust(hostKey))) return { status: 'needs-trust', hostKey };
  const now = Date.now();
  const record: HostRecord = {
    name,
    user: INSTANCE_USER[inst.provider],
    host: inst.ipv4,
    port: 22,
    identity: { kind: 'vault', account: sshVaultAccount(inst.account), passphrase: false },
    hostKey,
    addedAt: now,
    trustedAt: now,
    instance: { provider: inst.provider, account: inst.account, id: inst.id, name: inst.name },
  };
  const engine = new SshDockerEngine({ host: record, auth: () => hostAuth(record, o.vault), ...(o.ssh ? { ssh: o.ssh } : {}) });
  try {
    await engine.connection.ready();
    await engine.refresh();
  } finally {
    engine.close();
  }
  o.hosts.store.put(record);
  o.hosts.record('host.add', name, {
    fingerprint: hostKey.fingerprint,
    instance: `${inst.account}/${inst.name} (${inst.id})`,
    trust: 'first use',
  });
  return { status: 'added', host: record, added: true };
}
