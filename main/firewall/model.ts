// One normalized firewall model over Lambda Cloud and Linode. Everything above the providers
// (posture, the wizard's plan, the Firewall view, `moat firewall`) works on these shapes only;
// main/firewall/lambda.ts and linode.ts map them to and from each provider's API, and check the
// provider's limits before anything is sent.
//
// How the providers differ, and how the model says it:
// - Lambda: rules only allow, IPv4 only, inbound only (outbound is never filtered). The account's
//   global rules apply to every instance of the account in every region where rules are enforced
//   (not us-south-1); regional rulesets apply to the instances they are attached to (at launch).
//   What reaches an instance is the union of the allows of the global rules and its rulesets. So a
//   Lambda rule set has inboundPolicy 'deny' and outboundPolicy 'allow', both fixed.
// - Linode: a Cloud Firewall has its own inbound and outbound policies (ACCEPT/DROP), ordered rules
//   (first match wins, accept or drop), IPv4 and IPv6, is enabled or disabled, and is attached to
//   devices (Linodes). A Linode has at most one enabled firewall; with none it is open on every port.
import type { ProviderKind, RetryNotice } from '../providers/provider';

export type Direction = 'inbound' | 'outbound';
export type Action = 'allow' | 'deny';
export type Protocol = 'tcp' | 'udp' | 'icmp' | 'all';

/** Inclusive. A single port is { from: p, to: p }. */
export interface PortRange {
  from: number;
  to: number;
}

export interface Rule {
  direction: Direction;
  action: Action;
  protocol: Protocol;
  /** null: every port (and always null for icmp). Sorted, not overlapping. */
  ports: PortRange[] | null;
  /** Sources (inbound) or destinations (outbound), as normalized CIDRs (host bits zero, /32 and /128 written out). */
  ipv4: string[];
  ipv6: string[];
  /** The provider's description or label; may be empty. */
  label: string;
  /**
   * Set only when the provider's protocol is narrower than the model can say: Linode's IPENCAP (and
   * any protocol a provider adds later) is read as protocol 'all' with nativeProtocol 'IPENCAP', so
   * posture can tell "every protocol" from "IP-in-IP only", and a write sends it back unchanged.
   */
  nativeProtocol?: string;
}

export type RuleSetKind = 'lambda-global' | 'lambda-ruleset' | 'linode-firewall';

/** Names one rule set at one provider account. */
export interface RuleSetRef {
  provider: ProviderKind;
  /** The Moat account label. */
  account: string;
  kind: RuleSetKind;
  /** 'global' for Lambda's global rules; the ruleset ID; the Linode firewall ID (as a string). */
  id: string;
}

export interface RuleSet extends RuleSetRef {
  label: string;
  /** Linode firewalls can be disabled; Lambda rule sets are always in force (where enforced). */
  enabled: boolean;
  /** What happens to traffic no rule matches. */
  inboundPolicy: Action;
  outboundPolicy: Action;
  /** In the provider's order (it matters for Linode: first match wins). */
  rules: Rule[];
  /**
   * What the provider says this version is, for lost-update checks: Linode's `version` and
   * `fingerprint` ("7:abc123"); for Lambda, which has none, a hash of the rules as read.
   */
  version: string;
  /** Region, for a Lambda regional ruleset. */
  region?: string;
  /**
   * Provider instance IDs it applies to. For Lambda's global rules: every instance of the account
   * (the caller fills this from the instance list); for a ruleset: its instance_ids; for a Linode
   * firewall: the Linodes among its devices.
   */
  appliesTo: string[];
}

/** What a caller asks for when it replaces the rules of a rule set. */
export interface RuleSetContent {
  inboundPolicy: Action;
  outboundPolicy: Action;
  rules: Rule[];
}

/** What a caller asks for when it creates a rule set. */
export interface NewRuleSet extends RuleSetContent {
  label: string;
  /** Lambda rulesets are regional. */
  region?: string;
  /** Linode: attach to these Linodes (device IDs) at creation. */
  attachTo?: string[];
}

/** The provider refused a rule set before anything was sent, or the provider refused it. */
export interface RuleProblem {
  /** Index of the rule, or null for the whole set. */
  rule: number | null;
  message: string;
}

/**
 * The firewall half of a provider, implemented by the Lambda and Linode clients (with the mapping
 * in main/firewall/lambda.ts and linode.ts). Every write checks the provider's limits first and
 * throws FirewallLimitError listing the problems; provider failures are ProviderError as elsewhere.
 */
export interface FirewallApi {
  readonly kind: ProviderKind;
  /** Every rule set on the account (Lambda: the global rules and every ruleset; Linode: every firewall). */
  listRuleSets(): Promise<RuleSet[]>;
  getRuleSet(ref: RuleSetRef): Promise<RuleSet | null>;
  /**
   * Replaces the rules (and, on Linode, the policies). Where the provider keeps a version (Linode)
   * and `expectedVersion` is given, stops with a FirewallConflictError when it no longer matches;
   * Lambda has no version, so the caller re-reads and compares just before (the best it can do).
   */
  replaceRules(ref: RuleSetRef, next: RuleSetContent, expectedVersion?: string): Promise<RuleSet>;
  /** Linode: a firewall (attached to `attachTo`); Lambda: a regional ruleset (attached at launch). */
  createRuleSet(spec: NewRuleSet): Promise<RuleSet>;
  deleteRuleSet(ref: RuleSetRef): Promise<void>;
  /** Linode only: attach a firewall to a Linode, or detach it. */
  attach(ref: RuleSetRef, instanceId: string): Promise<void>;
  detach(ref: RuleSetRef, instanceId: string): Promise<void>;
  /** Linode only: enable or disable a firewall. */
  setEnabled(ref: RuleSetRef, enabled: boolean): Promise<void>;
}

/** What both providers' FirewallApi take: the account label for RuleSetRefs, and the retry knobs. */
export interface FirewallClientOptions {
  account?: string;
  maxAttempts?: number;
  backoff?: { baseMs: number; maxMs: number };
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (n: RetryNotice) => void;
}

/** Lambda does not enforce its firewall rules in these regions (shared/specs/README.md). */
export const LAMBDA_UNENFORCED_REGIONS: readonly string[] = ['us-south-1'];

export const LIMITS = {
  lambda: { rules: 20, descriptionChars: 128 },
  linode: { rules: 25, addressesPerRule: 255, labelChars: 32, descriptionChars: 100, portsPerRule: 15 },
} as const;

export class FirewallLimitError extends Error {
  constructor(
    readonly provider: ProviderKind,
    readonly problems: RuleProblem[],
  ) {
    super(problems.map((p) => (p.rule === null ? p.message : `rule ${p.rule + 1}: ${p.message}`)).join('; '));
    this.name = 'FirewallLimitError';
  }
}

/** The rule set changed at the provider since it was read (lost-update guard). */
export class FirewallConflictError extends Error {
  constructor(
    readonly ref: RuleSetRef,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`The rules of ${ref.kind} ${ref.id} changed at the provider since they were read (version ${expected}, now ${found}).`);
    this.name = 'FirewallConflictError';
  }
}
