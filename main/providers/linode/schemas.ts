// zod schemas for the parts of Linode API v4 responses Moat reads. Lenient on purpose: Linode adds
// fields over time, so unknown fields are dropped (zod's default), and values Moat only shows
// (status, class) are plain strings so a new value is shown as itself rather than failing a call.
import { z } from 'zod';

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
