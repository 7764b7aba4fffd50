// The provider half of the API's shapes: accounts, instances, launch progress and the audit log.
// What crosses to the UI is metadata only: a key goes from the UI to main once (add, rotate) and
// never comes back; an account is shown by its label, provider and the key's last four characters.
import * as z from 'zod';
import { ERROR_CODES } from './errors';

export const ProviderKind = z.enum(['lambda', 'linode']);
export type ProviderKind = z.infer<typeof ProviderKind>;

export const PROVIDER_LABELS: Record<ProviderKind, string> = { lambda: 'Lambda Cloud', linode: 'Linode' };

export const AccountLabel = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "an account label is 1 to 64 letters, digits, '.', '_' or '-'");

/** A key as typed or pasted: one line, bounded. Its format is checked by main, its validity by the provider. */
export const ApiKeyInput = z.string().min(1, 'the key is empty').max(4096, 'a key is at most 4096 characters');

export const Account = z.object({
  label: z.string(),
  provider: ProviderKind,
  /** Empty for keys of four characters or fewer: those are not shown at all. */
  keyLast4: z.string().max(4),
  createdAt: z.number(),
  rotatedAt: z.number().optional(),
  /** Who the provider says the key belongs to, when it says. */
  identity: z.string().optional(),
});
export type Account = z.infer<typeof Account>;

/** Where keys are kept, and when they cannot be, why and what to do. */
export const KeychainStatus = z.object({
  available: z.boolean(),
  backend: z.enum(['secret-service', 'macos-keychain', 'windows-credential-manager', 'none']),
  problem: z.string().optional(),
  fix: z.string().optional(),
});
export type KeychainStatus = z.infer<typeof KeychainStatus>;

export const ErrorShape = z.object({ code: z.enum(ERROR_CODES), message: z.string(), fix: z.string().optional() });

/** Normalized status; `rawStatus` keeps the provider's own word (unknown ones are shown as they are). */
export const InstanceStatus = z.enum(['starting', 'running', 'stopping', 'stopped', 'terminated', 'unhealthy', 'unknown']);
export type InstanceStatus = z.infer<typeof InstanceStatus>;

export const Cost = z.object({
  since: z.number(),
  /** launched: exact (Moat launched it); created: the provider's creation time; first-seen: at least this much. */
  basis: z.enum(['launched', 'created', 'first-seen']),
  uptimeMs: z.number(),
  costCents: z.number().nullable(),
});

export const Instance = z.object({
  provider: ProviderKind,
  account: z.string(),
  id: z.string(),
  name: z.string(),
  region: z.string(),
  type: z.string(),
  gpuDescription: z.string(),
  status: InstanceStatus,
  rawStatus: z.string(),
  ipv4: z.string().nullable(),
  ipv6: z.string().nullable(),
  priceCentsPerHour: z.number().nullable(),
  createdAt: z.number().nullable(),
  launchedByMoat: z.boolean(),
  cost: Cost,
});
export type Instance = z.infer<typeof Instance>;

export const Retrying = z.object({ attempt: z.number(), maxAttempts: z.number(), delayMs: z.number(), reason: z.string(), at: z.number() });
export type Retrying = z.infer<typeof Retrying>;

export const AccountSummary = z.object({
  account: z.string(),
  provider: ProviderKind,
  /** Cents per hour of the account's billed instances; null when the listing failed. */
  burnRateCentsPerHour: z.number().nullable(),
  error: ErrorShape.optional(),
  /** Set while a request for this account is being retried (rate limited, busy, 5xx). */
  retrying: Retrying.optional(),
});
export type AccountSummary = z.infer<typeof AccountSummary>;

export const InstancesList = z.object({
  /** When the providers were asked. */
  at: z.number(),
  accounts: z.array(AccountSummary),
  instances: z.array(Instance),
});
export type InstancesList = z.infer<typeof InstancesList>;

export const InstanceTypeOption = z.object({
  id: z.string(),
  label: z.string(),
  gpuDescription: z.string(),
  priceCentsPerHour: z.number(),
  /** Regions with capacity for this type right now: the only ones a launch may name. */
  regionsWithCapacity: z.array(z.string()),
});

export const LaunchOptions = z.object({
  account: z.string(),
  provider: ProviderKind,
  regions: z.array(z.object({ id: z.string(), label: z.string() })),
  types: z.array(InstanceTypeOption),
});
export type LaunchOptions = z.infer<typeof LaunchOptions>;

export const InstanceName = z.string().regex(/^[\x21-\x7e]{1,64}$/, 'an instance name is 1 to 64 printable characters without spaces');

export const LaunchRequest = z
  .object({
    account: AccountLabel,
    region: z.string().min(1).max(64),
    type: z.string().min(1).max(128),
    name: InstanceName,
    /**
     * Start locked (the default): a firewall (Linode) or regional ruleset (Lambda) that allows only
     * SSH, from `sshFrom`, is attached at launch. false launches with the provider's defaults.
     */
    locked: z.boolean().optional(),
    /** Addresses or CIDRs SSH is allowed from; default: the user's public address, detected. */
    sshFrom: z.array(z.string().min(1).max(64)).min(1).max(16).optional(),
  })
  .strict();
export type LaunchRequest = z.infer<typeof LaunchRequest>;

/** An instance reference: the provider's ID, a unique prefix of it, or ACCOUNT/NAME. */
export const InstanceRef = z.string().min(1).max(200);

/**
 * One step of a launch, pushed as it happens. 'checking' (type, capacity, name) and 'ssh-key'
 * (made or registered) and 'firewall' (the locked start's rule set made) are sent as they begin; 'requested' once the provider has accepted the
 * launch (so it reports completion); 'booting' at each status the instance passes through; then
 * 'ready' (running) or 'failed' (with the error).
 */
export const LaunchStep = z.enum(['checking', 'ssh-key', 'firewall', 'requested', 'booting', 'ready', 'failed']);
export type LaunchStep = z.infer<typeof LaunchStep>;

export const LaunchProgress = z.object({
  launchId: z.string(),
  account: z.string(),
  name: z.string(),
  step: LaunchStep,
  at: z.number(),
  instanceId: z.string().optional(),
  /** The provider's own status word, once there is an instance. */
  rawStatus: z.string().optional(),
  ipv4: z.string().nullable().optional(),
  error: ErrorShape.optional(),
});
export type LaunchProgress = z.infer<typeof LaunchProgress>;

export const AuditEntry = z.object({
  t: z.number(),
  action: z.string(),
  by: z.string(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
