// Lambda Cloud's response shapes (openapi.json 1.10.0), read leniently: unknown fields are
// ignored (Lambda adds fields over time, e.g. workspace_id, and a strict client broke on them),
// and an instance status this code has never seen is kept as a string rather than rejected.
import * as z from 'zod';

export const regionSchema = z.object({ name: z.string(), description: z.string().catch('') });

export const instanceTypeSchema = z.object({
  name: z.string(),
  description: z.string().catch(''),
  gpu_description: z.string().catch(''),
  price_cents_per_hour: z.number(),
  specs: z
    .object({ gpus: z.number().catch(0) })
    .partial()
    .optional(),
});

export const instanceTypesSchema = z.record(
  z.string(),
  z.object({ instance_type: instanceTypeSchema, regions_with_capacity_available: z.array(regionSchema).catch([]) }),
);

export const sshKeySchema = z.object({ id: z.string(), name: z.string(), public_key: z.string() });

/** Any string: the spec's enum (booting, active, unhealthy, terminated, terminating, preempted) grows. */
export const instanceSchema = z.object({
  id: z.string(),
  name: z.string().nullish(),
  ip: z.string().nullish(),
  status: z.string(),
  region: regionSchema,
  instance_type: instanceTypeSchema,
});

export const launchSchema = z.object({ instance_ids: z.array(z.string()) });
export const terminateSchema = z.object({ terminated_instances: z.array(z.unknown()) });

/**
 * One inbound allow rule. protocol is any string (a protocol Lambda adds later is read as 'all'
 * with its own name kept, never rejected); port_range is absent for icmp.
 */
export const firewallRuleSchema = z.object({
  protocol: z.string(),
  port_range: z.tuple([z.number().int(), z.number().int()]).nullish(),
  source_network: z.string(),
  description: z.string().catch(''),
});

export const firewallRulesetSchema = z.object({
  id: z.string(),
  name: z.string().catch(''),
  region: regionSchema,
  rules: z.array(firewallRuleSchema),
  instance_ids: z.array(z.string()).catch([]),
});

export const globalRulesetSchema = z.object({ id: z.string(), name: z.string().catch(''), rules: z.array(firewallRuleSchema) });

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), suggestion: z.string().nullish() }),
});

/** Every success body is `{data: ...}`. */
export function dataOf<T extends z.ZodType>(schema: T): z.ZodObject<{ data: T }> {
  return z.object({ data: schema });
}

export type LambdaInstance = z.infer<typeof instanceSchema>;
export type LambdaInstanceType = z.infer<typeof instanceTypeSchema>;
export type LambdaInstanceTypes = z.infer<typeof instanceTypesSchema>;
export type LambdaSshKey = z.infer<typeof sshKeySchema>;
export type LambdaRegion = z.infer<typeof regionSchema>;
export type LambdaFirewallRule = z.infer<typeof firewallRuleSchema>;
export type LambdaFirewallRuleset = z.infer<typeof firewallRulesetSchema>;
export type LambdaGlobalRuleset = z.infer<typeof globalRulesetSchema>;
