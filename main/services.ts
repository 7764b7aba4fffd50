// Composes the main-process services into the object that implements shared/api.
import { randomUUID } from 'node:crypto';
import type { ApiHandlers, EventName, EventOf } from '../shared/api';
import { MoatError, toErrorPayload } from '../shared/errors';
import type { LaunchProgress } from '../shared/providers';
import { AccountsService } from './accounts/accounts';
import { BatchService, joinOutput } from './batch/batch';
import { detectBackend, type BackendStatus } from './credentials/backend';
import { KeychainVault } from './credentials/keychain';
import type { Vault } from './credentials/vault';
import { InstancesService, type InstanceView } from './instances/instances';
import { InstancesMonitor } from './instances/monitor';
import { myAddresses } from './firewall/address';
import { FirewallService } from './firewall/service';
import { HostsService } from './remote/service';
import { TargetsService } from './targets/service';
import type { SystemStatus, Template } from '../shared/types';
import { fileLogger } from './log';
import { createEngine, withDeadline } from './sandbox/docker-engine';
import { ENGINE_FIX, GVISOR_FIX, type SandboxEngine } from './sandbox/engine';
import { ownerId } from './sandbox/labels';
import { resolveImage } from './sandbox/images';
import { SandboxManager } from './sandbox/manager';
import { allTemplates } from './sandbox/templates';
import { runEgressSelfTest } from './egress/self-test';
import { AlertStore } from './store/alerts';
import { AuditLog } from './store/audit';
import { RunStore } from './store/runs';
import { SettingsStore } from './store/settings';

export interface Services {
  handlers: ApiHandlers;
  /** Subscribe to every event main emits (run output, run updates, stats, system status). */
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void;
  /** The sandbox manager, for in-process callers (CLI, tests, benchmarks). */
  sandboxes: SandboxManager;
  /** Every target's manager (remote hosts and instances), for in-process callers. */
  targets: TargetsService;
  /** A port of Moat's own on this machine (the headless host's): refused to every sandbox's egress proxy. */
  protectPort?(port: number): void;
  close(): Promise<void>;
}

export interface ServicesOptions {
  /** Directory for durable state (settings, run history). */
  dataDir: string;
  /** Docker socket path; defaults to DOCKER_HOST or /var/run/docker.sock. */
  dockerSocket?: string;
  /** Keep a warm pool (default true; the one-shot CLI turns it off). */
  pool?: boolean;
  /** Log sink for errors that are not shown to the user (never receives secrets). */
  log?: (msg: string) => void;
  healthIntervalMs?: number;
  /** How long a burst of runs keeps the warm pool grown (tests shorten it). */
  demandWindowMs?: number;
  /** The engine to use (default: the local Docker engine). */
  engine?: SandboxEngine;
  /** Where provider keys and SSH keys are kept (default: the OS keychain). */
  vault?: Vault;
  /** Which keychain is in use, or why none is (default: asks the system). */
  keychainStatus?: () => Promise<BackendStatus>;
  /** Instance polling intervals (tests shorten them). */
  instancePolling?: { minMs?: number; busyMaxMs?: number; maxMs?: number };
}

export { defaultDataDir } from './store/data-dir';

export async function createServices(opts: ServicesOptions): Promise<Services> {
  const log = opts.log ?? fileLogger(opts.dataDir, true);
  const settings = new SettingsStore(opts.dataDir);
  // Retention is read from the settings each time, so changing it applies at the next prune.
  const store = new RunStore(opts.dataDir, { retention: () => settings.get().retention, log });
  const audit = new AuditLog(opts.dataDir);
  const alerts = new AlertStore(opts.dataDir);
  const engine = opts.engine ?? createEngine({ kind: 'local', ...(opts.dockerSocket ? { socketPath: opts.dockerSocket } : {}) });
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const emit = <E extends EventName>(event: E, payload: EventOf<E>): void => {
    for (const l of listeners) {
      try {
        l(event, payload);
      } catch (err) {
        log(`event listener failed: ${(err as Error).message}`);
      }
    }
  };

  const vault = opts.vault ?? new KeychainVault();
  const accounts = new AccountsService({ dataDir: opts.dataDir, vault, audit, baseUrls: () => settings.get().providerApiUrls });
  const monitor: InstancesMonitor = new InstancesMonitor({
    instances: { list: () => instances.list() },
    emit: (list) => emit('instances.updated', list),
    log,
    ...opts.instancePolling,
  });
  const instances: InstancesService = new InstancesService({
    dataDir: opts.dataDir,
    vault,
    accounts,
    audit,
    onRetry: (account, n) => monitor.setRetrying(account, n),
    myAddresses: () => myAddresses({ urls: settings.get().addressDetectUrls }),
  });
  const firewall = new FirewallService({
    dataDir: opts.dataDir,
    accounts,
    instances,
    audit,
    addressUrls: () => settings.get().addressDetectUrls,
  });
  /** Recomputes every posture in the background and pushes it (the frame's exposed count follows). */
  const pushFirewall = (): void => {
    void firewall
      .overview()
      .then((o) => emit('firewall.updated', o))
      .catch((err: unknown) => log(`firewall overview failed: ${(err as Error).message}`));
  };
  const unsubscribeAudit = audit.subscribe((e) => emit('audit.appended', e));
  // Launches being followed to ready; aborted at close.
  const following = new AbortController();

  /** Follows a launched instance until it runs (ready), fails or vanishes, pushing each step. */
  function followLaunch(progress: (p: Omit<LaunchProgress, 'launchId' | 'account' | 'name' | 'at'>) => void, inst: InstanceView): void {
    const step = (i: InstanceView) => ({ instanceId: i.id, rawStatus: i.rawStatus, ipv4: i.ipv4 });
    const { minMs, busyMaxMs } = opts.instancePolling ?? {};
    void instances
      .watch(
        inst.id,
        (i) => {
          monitor.kick();
          if (i && i.status !== 'running' && i.status !== 'terminated' && i.status !== 'stopped') progress({ step: 'booting', ...step(i) });
        },
        { signal: following.signal, ...(minMs ? { minMs } : {}), ...(busyMaxMs ? { busyMaxMs, maxMs: busyMaxMs } : {}) },
      )
      .then((last) => {
        if (last?.status === 'running') progress({ step: 'ready', ...step(last) });
        else
          progress({
            step: 'failed',
            ...(last ? step(last) : {}),
            error: {
              code: 'RUN_FAILED',
              message: last
                ? `The instance stopped at "${last.rawStatus}" before it was ready.`
                : 'The instance disappeared before it was ready (the provider no longer lists it).',
              fix: 'Check the provider console, and launch again.',
            },
          });
      })
      .catch((err: unknown) => {
        if (following.signal.aborted) return;
        progress({ step: 'failed', error: toErrorPayload(err) });
      });
  }

  // The keys Moat holds, for the egress filter's context detector; only asked for when accounts exist.
  const ownSecrets = async (): Promise<string[]> => (accounts.list().length ? accounts.heldKeys() : []);
  const ownPorts = new Set<number>();
  const makeManager = (engineFor: SandboxEngine, remote: boolean): SandboxManager =>
    new SandboxManager({
      engine: engineFor,
      store,
      audit,
      alerts,
      ownSecrets,
      protectedPorts: () => [...ownPorts],
      pool: opts.pool ?? true,
      log,
      ...(opts.healthIntervalMs ? { healthIntervalMs: opts.healthIntervalMs } : {}),
      ...(opts.demandWindowMs ? { demandWindowMs: opts.demandWindowMs } : {}),
      defaults: () => {
        const s = settings.get();
        return {
          limits: s.defaultLimits,
          warmPoolSize: s.warmPoolSize,
          maxWarmPool: s.maxWarmPool,
          preferOfficialImages: s.preferOfficialImages,
          maxConcurrentRuns: s.maxConcurrentRuns,
          egressPolicy: s.egressPolicy,
          templateAllowNet: s.templateAllowNet,
        };
      },
      events: {
        output: (runId, stream, data) => emit('run.output', { runId, stream, data }),
        updated: (run) => emit('run.updated', run),
        stats: (sample) => emit('run.stats', sample),
        status: () => (remote ? undefined : emit('system.status', systemStatus())),
        alert: (a) => {
          emit('alerts.appended', a);
          emit('alerts.counts', alerts.counts());
        },
      },
    });
  const manager: SandboxManager = makeManager(engine, false);
  const hosts = new HostsService({ dataDir: opts.dataDir, vault, audit });
  const targets = new TargetsService({
    dataDir: opts.dataDir,
    vault,
    hosts,
    instances,
    accounts,
    audit,
    log,
    local: manager,
    makeManager: (e) => makeManager(e, true),
    onUsage: (s) => emit('usage.sample', s),
    onPrepare: (p) => emit('hosts.prepare', p),
  });

  function systemStatus(): SystemStatus {
    const e = engine.current;
    return {
      engine: {
        connected: e.connected,
        ...(e.version ? { version: e.version } : {}),
        ...(e.error ? { error: e.error } : {}),
        ...(e.connected ? {} : { fix: ENGINE_FIX }),
      },
      gvisor: e.gvisorRuntime
        ? { available: true, runtime: e.gvisorRuntime }
        : { available: false, fix: e.connected ? GVISOR_FIX : 'Connect to a Docker engine first.' },
      pool: manager.poolCounts(),
      liveRuns: manager.liveRuns().length,
    };
  }

  async function templates(): Promise<Template[]> {
    const prefer = settings.get().preferOfficialImages;
    return Promise.all(
      allTemplates().map(async (t) => {
        const img = engine.current.connected
          ? await withDeadline('look up image', engine.deadlines.shortMs, () =>
              resolveImage(engine.docker, t, { preferOfficial: prefer }),
            ).catch(() => ({ image: null, source: 'missing' as const }))
          : { image: null, source: 'missing' as const };
        return {
          id: t.id,
          label: t.label,
          language: t.language,
          sample: t.sample,
          image: img.image,
          imageSource: img.source,
          ...(t.user ? { user: true } : {}),
        };
      }),
    );
  }

  // Batches (moat batch, the Batches view): each item a run through its target's manager.
  const batches = new BatchService({
    emit: (s) => emit('batch.progress', s),
    runOne: async (req, signal) => {
      const m = await targets.manager(req.target ? await targets.resolve(req.target) : undefined);
      const rec = await m.run(req);
      const onAbort = (): void => void m.cancel(rec.id);
      signal.addEventListener('abort', onAbort);
      try {
        // Once recorded, as `moat run` through an owner returns: the sandbox's removal goes on in
        // the background (holding its queue slot), and the batch's next item starts meanwhile;
        // the batch ends once every removal is done.
        const record = (await m.whenRecorded(rec.id)) ?? rec;
        return { record, ...joinOutput(store.readOutput(rec.id).output), settled: m.whenDone(rec.id) };
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
  });

  const handlers: ApiHandlers = {
    'system.status': async () => systemStatus(),
    'batch.start': async (p) => batches.start(p),
    'batch.list': async () => batches.list(),
    'batch.get': async ({ id }) => {
      const b = batches.get(id);
      if (!b) throw new MoatError('NOT_FOUND', `No batch with id ${id}.`);
      return b;
    },
    'batch.results': async (p) => batches.results(p),
    'batch.cancel': async ({ id }) => ({ cancelled: batches.cancel(id) }),
    'templates.list': templates,
    'sandbox.run': async (req) => {
      const m = await targets.manager(req.target ? await targets.resolve(req.target) : undefined);
      return { runId: (await m.run(req)).id };
    },
    'sandbox.cancel': async ({ runId }) => ({ cancelled: targets.allManagers().some((m) => m.cancel(runId)) }),
    'sandbox.live': async () => targets.allManagers().flatMap((m) => m.liveRuns()),
    'targets.list': async () => targets.list(),
    'hosts.add': async (req) => targets.add(req),
    'hosts.addInstance': async ({ ref, trustFingerprint }) => targets.addInstance(ref, trustFingerprint),
    'hosts.remove': async ({ name }) => targets.remove(name),
    'hosts.check': async ({ target }) => targets.check(target),
    'hosts.prepare': async (req) => targets.prepare(req),
    'usage.watch': async ({ target, intervalMs }) => targets.watchUsage(target, intervalMs ?? 5000),
    'usage.providerStats': async ({ target }) => targets.providerStats(target),
    'idle.get': async ({ target }) => targets.idleStatus(target),
    'idle.set': async ({ target, rule }) => targets.setIdleRule(target, rule),
    'runs.list': async (p) => store.list(p ?? {}),
    'runs.get': async ({ id }) => {
      const run = store.get(id);
      if (!run) throw new MoatError('NOT_FOUND', `No run with id ${id}.`);
      return { run, ...store.readOutput(id) };
    },
    'keychain.status': async () => {
      const st = await (opts.keychainStatus ?? (() => detectBackend()))();
      return {
        available: st.available,
        backend: st.backend,
        ...(st.problem ? { problem: st.problem } : {}),
        ...(st.fix ? { fix: st.fix } : {}),
      };
    },
    'accounts.list': async () => accounts.list(),
    'accounts.add': async ({ provider, label, key }) => {
      const a = await accounts.add(provider, label, key);
      monitor.kick();
      emit('accounts.updated', accounts.list());
      pushFirewall();
      return a;
    },
    'accounts.rotate': async ({ label, key }) => {
      const a = await accounts.rotate(label, key);
      emit('accounts.updated', accounts.list());
      return a;
    },
    'accounts.remove': async ({ label }) => {
      const r = await accounts.remove(label);
      monitor.kick();
      emit('accounts.updated', accounts.list());
      pushFirewall();
      return r;
    },
    'instances.list': async (p) => monitor.list(p?.refresh ?? false),
    'instances.options': async ({ account }) => instances.options(account),
    'instances.launch': async (req) => {
      const launchId = randomUUID();
      const progress = (p: Omit<LaunchProgress, 'launchId' | 'account' | 'name' | 'at'>) =>
        emit('instances.launch', { launchId, account: req.account, name: req.name, at: Date.now(), ...p });
      try {
        const inst = await instances.launch(req, (step, i) =>
          progress({ step, ...(i ? { instanceId: i.id, rawStatus: i.rawStatus, ipv4: i.ipv4 } : {}) }),
        );
        monitor.kick();
        followLaunch(progress, inst);
        return { launchId, instance: inst };
      } catch (err) {
        progress({ step: 'failed', error: toErrorPayload(err) });
        throw err;
      }
    },
    'instances.terminate': async ({ ref }) => {
      const i = await instances.terminate(ref);
      monitor.kick();
      return i;
    },
    'audit.list': async (p) => audit.recent(p ?? {}),
    'firewall.overview': async () => {
      const o = await firewall.overview();
      emit('firewall.updated', o);
      return o;
    },
    'firewall.show': async ({ ref }) => firewall.show(ref),
    'firewall.detectAddress': async () => firewall.detectAddresses(),
    'firewall.plan': async (req) => firewall.plan(req),
    'firewall.apply': async ({ planId }) => {
      const out = await firewall.apply(planId);
      pushFirewall();
      return out;
    },
    'alerts.list': async (f) => alerts.list(f ?? {}),
    'alerts.counts': async () => alerts.counts(),
    'alerts.ack': async ({ ids }) => {
      const acknowledged = alerts.acknowledge(ids);
      emit('alerts.counts', alerts.counts());
      return { acknowledged };
    },
    'alerts.suppressions': async () => alerts.suppressed(),
    'alerts.suppress': async ({ rule, reason }) => {
      const list = alerts.suppress({ rule, ...(reason ? { reason } : {}), t: Date.now(), by: ownerId() });
      audit.record({ action: 'alerts.suppress', by: ownerId(), details: { rule, ...(reason ? { reason } : {}) } });
      emit('alerts.suppressions', list);
      return list;
    },
    'alerts.unsuppress': async ({ rule }) => {
      if (!alerts.unsuppress(rule)) throw new MoatError('NOT_FOUND', `The rule "${rule}" is not suppressed.`);
      audit.record({ action: 'alerts.unsuppress', by: ownerId(), details: { rule } });
      const list = alerts.suppressed();
      emit('alerts.suppressions', list);
      return list;
    },
    'egress.allowForTemplate': async ({ template, entry }) => {
      if (!allTemplates().some((t) => t.id === template)) throw new MoatError('NOT_FOUND', `Unknown template "${template}".`);
      const current = settings.get().templateAllowNet;
      const list = current[template] ?? [];
      const next = list.includes(entry)
        ? settings.get()
        : settings.update({ templateAllowNet: { ...current, [template]: [...list, entry] } });
      audit.record({ action: 'egress.allow-for-template', by: ownerId(), details: { template, entry } });
      return next;
    },
    'egress.test': async ({ template, allowNet, target }) => {
      if (target && target !== 'local') {
        throw new MoatError(
          'INVALID_REQUEST',
          'The egress self-test runs on this machine: network egress is available for local sandboxes only.',
        );
      }
      const t = settings.get().templateAllowNet;
      return runEgressSelfTest({
        manager,
        store,
        allowNet,
        templateAllowNet: [...(template ? (t[template] ?? []) : []), ...(t.python ?? [])],
        protectedPorts: [...ownPorts],
      });
    },
    'settings.get': async () => settings.get(),
    'settings.update': async (patch) => {
      const next = settings.update(patch);
      if (patch.retention) store.schedulePrune(true);
      audit.record({ action: 'settings.update', by: ownerId(), details: { fields: Object.keys(patch) } });
      void manager.refreshPoolTargets();
      return next;
    },
  };

  await manager.start();
  // Retention now (after start has marked crashed runs finished, so they can go too), then after
  // finished runs and hourly.
  store.autoPrune();

  return {
    handlers,
    sandboxes: manager,
    targets,
    protectPort: (port) => ownPorts.add(port),
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      batches.close();
      following.abort();
      monitor.close();
      unsubscribeAudit();
      instances.close();
      accounts.close();
      await targets.close();
      await manager.close();
      store.close();
      audit.close();
      alerts.close();
      listeners.clear();
    },
  };
}
