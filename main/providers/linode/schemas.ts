// zod schemas for the parts of Linode API v4 responses Moat reads. Lenient on purpose: Linode adds
// fields over time, so unknown fields are dropped (zod's default), and values Moat only shows
// (status, class) are plain strings so a new value is shown as itself rather than failing a call.
import * as z from 'zod';

/** `{data, page, pages, results}`: every collection endpoint. */
export function page<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), page: z.number().int(), pages: z.number().int(), results: z.number().int() });
}

export const errorBody = z.object({
  errors: z.array(z.object({ reason: z.string().optional(), field: z.string().nullish() })).min(1),
});

export const linodeInstance = z.object({
  id: z.number().int(),
  label: z.string(),
  status: z.string(),
  region: z.string(),
  type: z.string().nullable(),
  ipv4: z.array(z.string()).default([]),
  ipv6: z.string().nullable().optional(),
  created: z.string().optional(),
  specs: z.object({ gpus: z.number().int().optional() }).partial().optional(),
});
export type LinodeInstance = z.infer<typeof linodeInstance>;

export const linodeType = z.object({
  id: z.string(),
  label: z.string(),
  class: z.string(),
  gpus: z.number().int().default(0),
  price: z.object({ hourly: z.number().nullable() }).partial().nullable().optional(),
});
export type LinodeType = z.infer<typeof linodeType>;

export const linodeRegion = z.object({
  id: z.string(),
  label: z.string(),
  capabilities: z.array(z.string()).default([]),
  status: z.string().optional(),
});
export type LinodeRegion = z.infer<typeof linodeRegion>;

export const regionAvailability = z.object({ region: z.string(), plan: z.string(), available: z.boolean() });
export type RegionAvailability = z.infer<typeof regionAvailability>;

export const sshKey = z.object({ id: z.number().int(), label: z.string(), ssh_key: z.string() });
export type LinodeSshKey = z.infer<typeof sshKey>;

/**
 * A Cloud Firewall rule. action is an enum (a rule Moat cannot read the effect of must not pass as
 * something else); protocol is any string, so a protocol Linode adds later is read, not refused.
 */
export const firewallRule = z.object({
  action: z.enum(['ACCEPT', 'DROP']),
  protocol: z.string(),
  addresses: z
    .object({ ipv4: z.array(z.string()).nullish(), ipv6: z.array(z.string()).nullish() })
    .nullish()
    .transform((a) => ({ ipv4: a?.ipv4 ?? [], ipv6: a?.ipv6 ?? [] })),
  ports: z.string().nullish(),
  label: z.string().nullish(),
  description: z.string().nullish(),
});
export type LinodeFirewallRule = z.infer<typeof firewallRule>;

/** Recorded answers carry `outbound: null` where no rules were given. */
const ruleList = z
  .array(firewallRule)
  .nullish()
  .transform((l) => l ?? []);

export const firewallRules = z.object({
  inbound: ruleList,
  inbound_policy: z.enum(['ACCEPT', 'DROP']),
  outbound: ruleList,
  outbound_policy: z.enum(['ACCEPT', 'DROP']),
  version: z.number().int(),
  fingerprint: z.string(),
});
export type LinodeFirewallRules = z.infer<typeof firewallRules>;

const entity = z.object({ id: z.number().int(), type: z.string() });

export const firewall = z.object({
  id: z.number().int(),
  label: z.string(),
  status: z.string(),
  rules: firewallRules,
  /** Not in spec 4.189.0 but in every recorded answer: the devices, without a second request. */
  entities: z.array(entity).optional(),
});
export type LinodeFirewall = z.infer<typeof firewall>;

export const firewallDevice = z.object({ id: z.number().int(), entity });
export type LinodeFirewallDevice = z.infer<typeof firewallDevice>;

/** `[epoch_ms, value]` points; a point that is not two numbers is dropped rather than failing the call. */
const series = z
  .array(z.array(z.unknown()))
  .nullish()
  .transform((l) =>
    (l ?? []).flatMap((p): [number, number][] =>
      typeof p[0] === 'number' && typeof p[1] === 'number' && Number.isFinite(p[0]) && Number.isFinite(p[1]) ? [[p[0], p[1]]] : [],
    ),
  );
const netSeries = z
  .object({ in: series, out: series, private_in: series, private_out: series })
  .partial()
  .nullish()
  .transform((n) => ({ in: n?.in ?? [], out: n?.out ?? [], private_in: n?.private_in ?? [], private_out: n?.private_out ?? [] }));

/**
 * GET /linode/instances/{id}/stats. The real API wraps the series in `{data, title}` (the spec
 * shows them at the top level); both are read. Points are 5-minute averages over the last 24 h;
 * CPU 100 = one core; network in bits/s; io in blocks/s.
 */
export const linodeStats = z.preprocess(
  (b) => (b && typeof b === 'object' && !('data' in b) && 'cpu' in b ? { data: b, title: (b as { title?: unknown }).title } : b),
  z.object({
    data: z.object({
      cpu: series,
      io: z
        .object({ io: series, swap: series })
        .partial()
        .nullish()
        .transform((i) => ({ io: i?.io ?? [], swap: i?.swap ?? [] })),
      netv4: netSeries,
      netv6: netSeries,
    }),
    title: z.string().nullish(),
  }),
);
export type LinodeStats = z.infer<typeof linodeStats>;
