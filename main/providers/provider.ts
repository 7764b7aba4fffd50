// One Provider interface over Lambda Cloud and Linode: what the accounts, instances, firewall and
// remote-sandbox work use. Each implementation (lambda/, linode/) maps its provider's REST API onto
// these normalized shapes; nothing outside main/providers sees a provider's raw JSON. Keys never
// appear in any value or error this module produces.
import type { FirewallApi } from '../firewall/model';

export type ProviderKind = 'lambda' | 'linode';

/** What a failed provider call means for the caller. */
export type ProviderErrorKind =
  /** The key is wrong, expired or revoked (401/403): the provider's own reason is in the message. */
  | 'auth'
  /** The key works but lacks scopes Moat needs (Linode); `missingScopes` lists them. */
  | 'scopes'
  /** Still rate-limited (429) or busy after the bounded retries. */
  | 'rate-limited'
  /** 5xx or a network fault that outlasted the retries. */
  | 'unavailable'
  | 'not-found'
  /** The provider refused the request (400/422 and the like): its reason is in the message. */
  | 'invalid'
  /** The provider answered with something that is not what its API documents. */
  | 'malformed';

export class ProviderError extends Error {
  constructor(
    readonly provider: ProviderKind,
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: { status?: number; missingScopes?: string[]; providerCode?: string } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** Progress a caller can show while a request is being retried ("retrying in 4 s: rate limited"). */
export interface RetryNotice {
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  reason: string;
}

export interface ProviderOptions {
  /** API base URL (settings, or MOAT_LAMBDA_API_URL / MOAT_LINODE_API_URL). */
  baseUrl: string;
  /** Read from the vault per call; never stored on the client. */
  key: () => Promise<string>;
  onRetry?: (n: RetryNotice) => void;
  /** Bounded retries on 429, busy and 5xx (default 5). */
  maxAttempts?: number;
  /** Per-request deadline (default 30 s). */
  timeoutMs?: number;
  /** The Moat account label, written into the firewall RuleSetRefs this provider returns. */
  account?: string;
}

export interface AccountCheck {
  /** A human-readable account identity when the provider gives one (e.g. Linode username). */
  identity?: string;
  /** Scopes the key has (Linode), for display. */
  scopes?: string[];
}

export interface Region {
  id: string;
  label: string;
}

export interface InstanceType {
  id: string;
  label: string;
  /** e.g. "1x NVIDIA A10 (24 GB)"; empty for CPU-only types. */
  gpuDescription: string;
  priceCentsPerHour: number;
  /** Regions with capacity for this type right now. */
  regionsWithCapacity: string[];
}

export interface SshKeyRef {
  id: string;
  name: string;
  publicKey: string;
}

/** Normalized status; `raw` keeps the provider's own word (unknown values are shown as they are). */
export type InstanceStatus = 'starting' | 'running' | 'stopping' | 'stopped' | 'terminated' | 'unhealthy' | 'unknown';

export interface Instance {
  provider: ProviderKind;
  id: string;
  name: string;
  region: string;
  type: string;
  gpuDescription: string;
  status: InstanceStatus;
  rawStatus: string;
  ipv4: string | null;
  ipv6: string | null;
  priceCentsPerHour: number | null;
  /** When the provider reports it (Linode); Lambda reports no creation time. */
  createdAt: number | null;
}

export interface LaunchRequest {
  name: string;
  region: string;
  type: string;
  sshKey: SshKeyRef;
  /** Cloud-init user data, where the caller gives some. */
  userData?: string;
  /**
   * Launch already locked: Lambda gets these rulesets (`firewall_rulesets`, same region as the
   * instance); Linode takes one firewall (`firewall_id`), the first ID.
   */
  firewall?: { ruleSetIds: string[] };
}

/** Points are [epoch ms, value]; CPU 100 = one core. */
export interface ProviderStats {
  cpuPercent: [number, number][];
  netInBitsPerSec: [number, number][];
  netOutBitsPerSec: [number, number][];
}

export interface Provider {
  readonly kind: ProviderKind;
  /** Validates the key (and, for Linode, its scopes); throws ProviderError('auth' | 'scopes', ...). */
  checkAccount(): Promise<AccountCheck>;
  listRegions(): Promise<Region[]>;
  listInstanceTypes(): Promise<InstanceType[]>;
  listSshKeys(): Promise<SshKeyRef[]>;
  addSshKey(name: string, publicKey: string): Promise<SshKeyRef>;
  listInstances(): Promise<Instance[]>;
  getInstance(id: string): Promise<Instance | null>;
  /**
   * Launches one instance. Never starts a second paid instance on a retry: after a timeout or a
   * 5xx it looks for an instance with the request's (unique) name before trying again.
   */
  launch(req: LaunchRequest): Promise<Instance>;
  terminate(id: string): Promise<void>;
  /**
   * The provider's own usage series for an instance, where it has one (Linode: 5-minute averages
   * of CPU, network and disk I/O; null while "Stats are unavailable at this time." on a new
   * Linode). Lambda has no metrics API: absent.
   */
  stats?(instanceId: string): Promise<ProviderStats | null>;
  /** The account's firewalls in the normalized model (main/firewall/model.ts). */
  readonly firewall: FirewallApi;
}
