// The firewall half of the API's shapes: posture per instance, rule sets as tables, the lock
// wizard's plan and its outcome. They mirror main/firewall (model.ts, exposure.ts, posture.ts,
// plan.ts, apply.ts); `tsc` checks that the handlers' results fit these.
import * as z from 'zod';
import { Instance, ProviderKind } from './providers';

export const PortRange = z.object({ from: z.number(), to: z.number() });

export const Rule = z.object({
  direction: z.enum(['inbound', 'outbound']),
  action: z.enum(['allow', 'deny']),
  protocol: z.enum(['tcp', 'udp', 'icmp', 'all']),
  ports: z.array(PortRange).nullable(),
  ipv4: z.array(z.string()),
  ipv6: z.array(z.string()),
  label: z.string(),
  nativeProtocol: z.string().optional(),
});
export type Rule = z.infer<typeof Rule>;

export const RuleSetRef = z.object({
  provider: ProviderKind,
  account: z.string(),
  kind: z.enum(['lambda-global', 'lambda-ruleset', 'linode-firewall']),
  id: z.string(),
});
export type RuleSetRef = z.infer<typeof RuleSetRef>;

export const RuleSet = RuleSetRef.extend({
  label: z.string(),
  enabled: z.boolean(),
  inboundPolicy: z.enum(['allow', 'deny']),
  outboundPolicy: z.enum(['allow', 'deny']),
  rules: z.array(Rule),
  version: z.string(),
  region: z.string().optional(),
  appliesTo: z.array(z.string()),
});
export type RuleSet = z.infer<typeof RuleSet>;

export const ExposureEntry = z.object({
  protocol: z.enum(['tcp', 'udp', 'icmp']),
  ports: z.array(PortRange).nullable(),
  ipv4: z.array(z.string()),
  ipv6: z.array(z.string()),
});

export const Exposure = z.object({
  known: z.boolean(),
  entries: z.array(ExposureEntry),
  basis: z.union([
    z.object({ kind: z.literal('rules'), ruleSets: z.array(RuleSetRef) }),
    z.object({ kind: z.literal('no-firewall'), disabled: z.array(RuleSetRef) }),
    z.object({ kind: z.literal('region-unenforced'), region: z.string() }),
    z.object({ kind: z.literal('unknown'), reason: z.string(), ruleSets: z.array(RuleSetRef) }),
  ]),
});

export const Severity = z.enum(['critical', 'high', 'medium', 'low', 'info']);
export type Severity = z.infer<typeof Severity>;

export const Finding = z.object({
  id: z.string(),
  severity: Severity,
  message: z.string(),
  fix: z.string(),
  port: z.number().optional(),
  ruleSet: RuleSetRef.optional(),
});
export type Finding = z.infer<typeof Finding>;

export const PostureLevel = z.enum(['locked', 'exposed', 'unknown']);
export type PostureLevel = z.infer<typeof PostureLevel>;

export const Posture = z.object({
  level: PostureLevel,
  findings: z.array(Finding),
  exposure: Exposure,
  outbound: z.enum(['open', 'restricted']),
});
export type Posture = z.infer<typeof Posture>;

export const InstancePosture = z.object({
  instance: Instance,
  posture: Posture,
  /** The rule sets in force for this instance (inbound and outbound tables in the view). */
  ruleSets: z.array(RuleSet),
  drifted: z.array(RuleSetRef),
});
export type InstancePosture = z.infer<typeof InstancePosture>;

export const FirewallOverview = z.object({
  at: z.number(),
  instances: z.array(InstancePosture),
  /** Accounts whose instances or rules could not be read. */
  accounts: z.array(
    z.object({
      account: z.string(),
      provider: ProviderKind,
      error: z.object({ message: z.string(), fix: z.string().optional() }).optional(),
    }),
  ),
  counts: z.object({ locked: z.number(), exposed: z.number(), unknown: z.number() }),
});
export type FirewallOverview = z.infer<typeof FirewallOverview>;

export const DetectedAddress = z.object({
  address: z.string().nullable(),
  source: z.string(),
  error: z.string().optional(),
  warning: z.string().optional(),
});
export const DetectedAddresses = z.object({ ipv4: DetectedAddress, ipv6: DetectedAddress });
export type DetectedAddresses = z.infer<typeof DetectedAddresses>;

/** What the wizard asks to let in: a preset (ssh, chat-ui, api, http, https, jupyter), a port, a range, udp:PORT or icmp, and from where. */
export const AllowItem = z
  .object({
    what: z.string().min(1).max(40),
    /** "me", or CIDRs / addresses. */
    from: z.array(z.string().min(1).max(64)).min(1).max(255),
  })
  .strict();
export type AllowItem = z.infer<typeof AllowItem>;

export const PlanRequest = z
  .object({
    ref: z.string().min(1).max(200),
    allow: z.array(AllowItem).min(1).max(32),
    /** The user's addresses as they confirmed them (what "me" means). */
    me: z.object({ ipv4: z.string().max(64).optional(), ipv6: z.string().max(64).optional() }).strict(),
  })
  .strict();
export type PlanRequest = z.infer<typeof PlanRequest>;

export const RuleSetDiff = z.object({
  ref: RuleSetRef.nullable(),
  label: z.string(),
  created: z.boolean(),
  policies: z.object({
    before: z.object({ inboundPolicy: z.enum(['allow', 'deny']), outboundPolicy: z.enum(['allow', 'deny']) }).nullable(),
    after: z.object({ inboundPolicy: z.enum(['allow', 'deny']), outboundPolicy: z.enum(['allow', 'deny']) }),
  }),
  rows: z.array(z.object({ mark: z.enum(['added', 'removed', 'kept']), rule: Rule })),
  notes: z.array(z.string()),
});

export const PlanView = z.object({
  planId: z.string(),
  instance: z.object({ id: z.string(), name: z.string(), account: z.string(), provider: ProviderKind, region: z.string() }),
  madeAt: z.number(),
  steps: z.array(z.string()),
  diffs: z.array(RuleSetDiff),
  postureBefore: Posture,
  postureAfter: Posture,
  affects: z.array(z.object({ id: z.string(), name: z.string() })),
  warnings: z.array(z.object({ id: z.string(), message: z.string() })),
  problems: z.array(z.string()),
});
export type PlanView = z.infer<typeof PlanView>;

export const ApplyOutcome = z.object({
  ok: z.boolean(),
  applied: z.array(z.string()),
  verified: z.boolean(),
  rolledBack: z.boolean(),
  leftAlone: z.array(z.object({ ruleSet: z.string(), reason: z.string() })),
  error: z.string().optional(),
  /** The instance's posture as read after the apply (or the rollback). */
  after: InstancePosture.optional(),
});
export type ApplyOutcome = z.infer<typeof ApplyOutcome>;
