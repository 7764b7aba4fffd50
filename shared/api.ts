// The whole Moat API, declared once. Both transports (Electron IPC via the preload, and the
// headless host's WebSocket) carry exactly these methods and events; main implements `ApiHandlers`,
// the renderer calls through `createClient` (shared/client.ts).
import * as z from 'zod';
import type { ErrorPayload } from './errors';
import {
  AddHostRequest,
  AddHostResult,
  Checklist,
  IdleRule,
  IdleStatus,
  PrepareProgress,
  PrepareRequest,
  PrepareResult,
  ProviderStats,
  Target,
  TargetName,
  UsageSample,
} from './remote';
import { ApplyOutcome, DetectedAddresses, FirewallOverview, InstancePosture, PlanRequest, PlanView } from './firewall';
import {
  Account,
  AccountLabel,
  ApiKeyInput,
  AuditEntry,
  Instance,
  InstanceRef,
  InstancesList,
  KeychainStatus,
  LaunchOptions,
  LaunchProgress,
  LaunchRequest,
  ProviderKind,
} from './providers';
import { BatchDetail, BatchResultsPage, BatchResultsRequest, BatchStartRequest, BatchSummary } from './batch';
import { AllowEntry, Alert, AlertCounts, AlertFilter, EgressTestReport, Suppression } from './egress';
import { OutputChunk, RunDetail, RunRecord, RunRequest, Settings, StatsSample, SystemStatus, Template, TemplateId } from './types';
import { VIEW_IDS } from './views';

const Empty = z.object({}).strict().optional();

/** Request/response methods: params schema (validated in main) and result schema. */
export const methods = {
  'system.status': { params: Empty, result: SystemStatus },
  'templates.list': { params: Empty, result: z.array(Template) },
  'sandbox.run': { params: RunRequest, result: z.object({ runId: z.string() }) },
  'sandbox.cancel': { params: z.object({ runId: z.string().min(1).max(64) }).strict(), result: z.object({ cancelled: z.boolean() }) },
  /** Runs not yet finished. */
  'sandbox.live': { params: Empty, result: z.array(RunRecord) },
  'runs.list': {
    params: z
      .object({ limit: z.number().int().min(1).max(1000).optional(), before: z.number().optional() })
      .strict()
      .optional(),
    result: z.array(RunRecord),
  },
  'runs.get': { params: z.object({ id: z.string().min(1).max(64) }).strict(), result: RunDetail },
  'settings.get': { params: Empty, result: Settings },
  'settings.update': { params: Settings.partial().strict(), result: Settings },
  /** Which keychain holds provider keys, or why none can (and what to do). */
  'keychain.status': { params: Empty, result: KeychainStatus },
  'accounts.list': { params: Empty, result: z.array(Account) },
  /** Validates the key with the provider, then stores it in the keychain. The key never comes back. */
  'accounts.add': {
    params: z.object({ provider: ProviderKind, label: AccountLabel, key: ApiKeyInput }).strict(),
    result: Account,
  },
  /** Validates the new key, stores it, and only then removes the old one. */
  'accounts.rotate': { params: z.object({ label: AccountLabel, key: ApiKeyInput }).strict(), result: Account },
  /** Removes the key and the account's SSH private key from the keychain. */
  'accounts.remove': {
    params: z.object({ label: AccountLabel }).strict(),
    result: z.object({ removed: z.boolean(), sshKeyRemoved: z.boolean() }),
  },
  /**
   * Instances across every account. Also keeps status updates coming ('instances.updated') for a
   * few minutes; `refresh` asks the providers now instead of answering with the latest snapshot.
   */
  'instances.list': { params: z.object({ refresh: z.boolean().optional() }).strict().optional(), result: InstancesList },
  /** Regions and types for a launch form: each type with the regions that have capacity for it now. */
  'instances.options': { params: z.object({ account: AccountLabel }).strict(), result: LaunchOptions },
  /** Resolves once the provider has accepted the launch; progress follows as 'instances.launch' events. */
  'instances.launch': { params: LaunchRequest, result: z.object({ launchId: z.string(), instance: Instance }) },
  /** Terminates the referenced instance; returns it as it was, with its cost so far. */
  'instances.terminate': { params: z.object({ ref: InstanceRef }).strict(), result: Instance },
  /** Every instance's firewall posture, with the rule sets in force; also pushed as 'firewall.updated'. */
  'firewall.overview': { params: Empty, result: FirewallOverview },
  'firewall.show': { params: z.object({ ref: InstanceRef }).strict(), result: InstancePosture },
  /** The user's public addresses, from the configured endpoints: a suggestion the wizard lets them edit. */
  'firewall.detectAddress': { params: Empty, result: DetectedAddresses },
  /** The lock wizard's preview: steps, diffs, posture before and after, who else it affects, warnings. */
  'firewall.plan': { params: PlanRequest, result: PlanView },
  /** Applies a previewed plan (by ID): re-checked, verified by reading back, rolled back on failure. */
  'firewall.apply': { params: z.object({ planId: z.string().min(1).max(64) }).strict(), result: ApplyOutcome },
  /** Where sandboxes can run: this machine, added SSH hosts, instances added as hosts. */
  'targets.list': { params: Empty, result: z.array(Target) },
  /** Adds an SSH host; the first answer may ask to trust its host key (then repeat with the fingerprint). */
  'hosts.add': { params: AddHostRequest, result: AddHostResult },
  /** Makes a running instance a target (the account's SSH key; its host key confirmed by the user). */
  'hosts.addInstance': {
    params: z.object({ ref: InstanceRef, trustFingerprint: z.string().max(200).optional() }).strict(),
    result: AddHostResult,
  },
  'hosts.remove': { params: z.object({ name: TargetName }).strict(), result: z.object({ removed: z.boolean() }) },
  /** What the host has (Docker, runsc registered, images, NVIDIA driver, nvproxy support). */
  'hosts.check': { params: z.object({ target: TargetName }).strict(), result: Checklist },
  /** Installs what is missing (idempotent); progress as 'hosts.prepare' events. */
  'hosts.prepare': { params: PrepareRequest, result: PrepareResult },
  /** Keeps 'usage.sample' events coming for a target for two minutes. */
  'usage.watch': {
    params: z.object({ target: TargetName, intervalMs: z.number().int().min(1000).max(600_000).optional() }).strict(),
    result: z.object({ watching: z.boolean() }),
  },
  /** The provider's own usage series for an instance target, where the provider has one (Linode). */
  'usage.providerStats': { params: z.object({ target: TargetName }).strict(), result: ProviderStats },
  'idle.get': { params: z.object({ target: TargetName }).strict(), result: IdleStatus },
  'idle.set': { params: z.object({ target: TargetName, rule: IdleRule }).strict(), result: IdleStatus },
  /** The audit log, newest first. */
  'audit.list': {
    params: z
      .object({ limit: z.number().int().min(1).max(1000).optional(), before: z.number().optional() })
      .strict()
      .optional(),
    result: z.array(AuditEntry),
  },
  /** Egress-filter alerts, newest first, filtered. */
  'alerts.list': { params: AlertFilter.optional(), result: z.array(Alert) },
  /** How many alerts are not yet acknowledged (the app frame's counter). */
  'alerts.counts': { params: Empty, result: AlertCounts },
  'alerts.ack': {
    params: z.object({ ids: z.array(z.string().min(1).max(64)).min(1).max(5000) }).strict(),
    result: z.object({ acknowledged: z.number().int() }),
  },
  /** Rules whose findings are neither alerted nor redacted (each change is in the audit log). */
  'alerts.suppressions': { params: Empty, result: z.array(Suppression) },
  'alerts.suppress': {
    params: z.object({ rule: z.string().min(1).max(100), reason: z.string().max(500).optional() }).strict(),
    result: z.array(Suppression),
  },
  'alerts.unsuppress': { params: z.object({ rule: z.string().min(1).max(100) }).strict(), result: z.array(Suppression) },
  /** Adds a destination to a template's allowlist (Settings templateAllowNet): "allow this destination for this template". */
  'egress.allowForTemplate': { params: z.object({ template: TemplateId, entry: AllowEntry }).strict(), result: Settings },
  /** Runs the egress probes in a sandbox with this allowlist and reports declared against enforced. */
  'egress.test': {
    params: z
      .object({ template: TemplateId.optional(), allowNet: z.array(AllowEntry).max(256), target: z.string().max(200).optional() })
      .strict(),
    result: EgressTestReport,
  },
  /** Starts a batch of run requests (each with an id) run with bounded concurrency; progress as 'batch.progress'. */
  'batch.start': { params: BatchStartRequest, result: z.object({ batchId: z.string() }) },
  /** Batches kept in memory since start, newest first. */
  'batch.list': { params: Empty, result: z.array(BatchSummary) },
  /** A batch's summary and results (each output a short preview; runs.get has the whole). */
  'batch.get': { params: z.object({ id: z.string().min(1).max(64) }).strict(), result: BatchDetail },
  /** Results from an index on, waiting up to waitMs for one (how `moat batch` follows a batch it started). */
  'batch.results': { params: BatchResultsRequest, result: BatchResultsPage },
  /** Starts nothing more and cancels the running items. */
  'batch.cancel': { params: z.object({ id: z.string().min(1).max(64) }).strict(), result: z.object({ cancelled: z.boolean() }) },
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type ParamsOf<M extends MethodName> = z.input<Methods[M]['params']>;
export type ResultOf<M extends MethodName> = z.infer<Methods[M]['result']>;

/** Events pushed from main to every connected UI. */
export const events = {
  'run.output': OutputChunk,
  'run.updated': RunRecord,
  'run.stats': StatsSample,
  'system.status': SystemStatus,
  /** Instances and per-account burn rates, whenever a status, address or account changes. */
  'instances.updated': InstancesList,
  'instances.launch': LaunchProgress,
  'audit.appended': AuditEntry,
  'firewall.updated': FirewallOverview,
  'usage.sample': UsageSample,
  'hosts.prepare': PrepareProgress,
  /** The accounts, after any add, rotate or remove (so every open window agrees). */
  'accounts.updated': z.array(Account),
  /** Each alert as it is raised. */
  'alerts.appended': Alert,
  /** The counter, after any alert is raised or acknowledged. */
  'alerts.counts': AlertCounts,
  'alerts.suppressions': z.array(Suppression),
  /** A batch's counts, rate, ETA, slowest and failing runs (at most four a second, and at the end). */
  'batch.progress': BatchSummary,
  /**
   * Desktop app only: the main process asks the window to show a view (a tray menu item or an OS
   * notification was clicked). Never emitted by the services, so the headless host never sends it.
   */
  'ui.open': z.object({ view: z.enum(VIEW_IDS) }),
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventOf<E extends EventName> = z.infer<Events[E]>;

/** What main implements: one async function per method, params already validated. */
export type ApiHandlers = {
  [M in MethodName]: (params: z.infer<Methods[M]['params']>) => Promise<ResultOf<M>>;
};

/** Every answer crosses the boundary in this envelope. */
export type Envelope<T> = { ok: true; result: T } | { ok: false; error: ErrorPayload };
