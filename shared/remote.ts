// The remote half of the API's shapes: where sandboxes can run (targets: this machine, SSH hosts,
// the user's instances), host keys to trust, a host's preparation checklist and progress, live
// host usage, and the idle rule. They mirror main/remote; `tsc` checks the handlers against them.
import * as z from 'zod';
import { ProviderKind } from './providers';

export const HostKey = z.object({ fingerprint: z.string(), keyType: z.string() });
export type HostKey = z.infer<typeof HostKey>;

export const TargetName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "a host name is 1-40 lower-case letters, digits, '-' or '_'");

export const Target = z.object({
  /** 'local', or the host's name. */
  id: z.string(),
  kind: z.enum(['local', 'host', 'instance']),
  /** user@host:port, or "this machine". */
  detail: z.string(),
  /** Set for an instance's host: the instance it is. */
  instance: z.object({ provider: ProviderKind, account: z.string(), id: z.string(), name: z.string() }).optional(),
  hostKey: HostKey.optional(),
  /** The engine there, once Moat has talked to it: connected, version, the gVisor runtime, or why not. */
  engine: z
    .object({ connected: z.boolean(), version: z.string().optional(), gvisorRuntime: z.string().optional(), error: z.string().optional() })
    .optional(),
});
export type Target = z.infer<typeof Target>;

/** Adding a host: the first answer may be "trust this key?", then the same request with the fingerprint. */
export const AddHostRequest = z
  .object({
    name: TargetName,
    url: z.string().min(1).max(300),
    /** An OpenSSH private key to log in with (kept in the keychain); absent: the ssh-agent. */
    privateKey: z
      .string()
      .max(16 * 1024)
      .optional(),
    passphrase: z.string().max(1024).optional(),
    /** The fingerprint the user saw and accepted. */
    trustFingerprint: z.string().max(200).optional(),
    /**
     * The answer to a "needs-trust": main kept the key and passphrase of the first request for a
     * few minutes under this id, so the UI does not hold or send them again.
     */
    pendingId: z.string().max(64).optional(),
  })
  .strict();
export type AddHostRequest = z.infer<typeof AddHostRequest>;

export const AddHostResult = z.union([
  z.object({ status: z.literal('needs-trust'), hostKey: HostKey, pendingId: z.string().optional() }),
  z.object({ status: z.literal('added'), target: Target }),
]);
export type AddHostResult = z.infer<typeof AddHostResult>;

export const CheckItem = z.object({
  id: z.string(),
  label: z.string(),
  status: z.enum(['ok', 'missing', 'problem', 'n/a']),
  detail: z.string(),
  fix: z.string().optional(),
});
export const Checklist = z.object({ target: z.string(), at: z.number(), items: z.array(CheckItem), ready: z.boolean() });
export type Checklist = z.infer<typeof Checklist>;

export const PrepareRequest = z
  .object({
    target: TargetName,
    /** Run every check, change nothing. */
    checkOnly: z.boolean().optional(),
    /** Also register the GPU runtime (gVisor nvproxy): not verified on GPU hardware by Moat's tests. */
    nvproxy: z.boolean().optional(),
    images: z.enum(['pull', 'build', 'none']).optional(),
  })
  .strict();
export type PrepareRequest = z.infer<typeof PrepareRequest>;

export const PrepareProgress = z.object({
  target: z.string(),
  type: z.enum(['step-started', 'log', 'step-done', 'step-failed']),
  step: z.string(),
  label: z.string().optional(),
  index: z.number().optional(),
  total: z.number().optional(),
  line: z.string().optional(),
  stream: z.enum(['stdout', 'stderr']).optional(),
  outcome: z.string().optional(),
  message: z.string().optional(),
});
export type PrepareProgress = z.infer<typeof PrepareProgress>;

export const PrepareResult = z.object({
  ok: z.boolean(),
  checkOnly: z.boolean(),
  steps: z.array(z.object({ id: z.string(), label: z.string(), outcome: z.string(), durationMs: z.number() })),
  failed: z.object({ step: z.string(), label: z.string(), message: z.string() }).optional(),
  warnings: z.array(z.string()),
  log: z.array(z.string()),
  after: Checklist.optional(),
});
export type PrepareResult = z.infer<typeof PrepareResult>;

export const GpuUsage = z.object({
  index: z.number(),
  name: z.string(),
  uuid: z.string().nullable(),
  utilPercent: z.number().nullable(),
  memUsedMiB: z.number().nullable(),
  memTotalMiB: z.number().nullable(),
  tempC: z.number().nullable(),
  powerW: z.number().nullable(),
  powerLimitW: z.number().nullable(),
});
const Disk = z.object({ usedBytes: z.number(), totalBytes: z.number() });
export const HostUsage = z.object({
  at: z.number(),
  cpuPercent: z.number().nullable(),
  cpuCount: z.number(),
  load1: z.number().nullable(),
  mem: z.object({ usedBytes: z.number(), totalBytes: z.number() }).nullable(),
  disk: Disk.nullable(),
  dockerDisk: Disk.nullable(),
  net: z.object({ rxBytesPerSec: z.number(), txBytesPerSec: z.number() }).nullable(),
  gpus: z.array(GpuUsage),
  gpuError: z.string().nullable(),
});
export type HostUsage = z.infer<typeof HostUsage>;

export const UsageSample = z.object({
  target: z.string(),
  sample: HostUsage,
  /** The sandboxes running there now, by run id. */
  runs: z.array(z.string()),
});
export type UsageSample = z.infer<typeof UsageSample>;

const Series = z.array(z.tuple([z.number(), z.number()]));
/** The provider's own usage for an instance (Linode: 5-minute averages), beside Moat's samples. */
export const ProviderStats = z.object({
  target: z.string(),
  /** false: the provider has none (Lambda), none yet (a new Linode), or the target is not an instance. */
  available: z.boolean(),
  note: z.string(),
  cpuPercent: Series.optional(),
  netInBitsPerSec: Series.optional(),
  netOutBitsPerSec: Series.optional(),
});
export type ProviderStats = z.infer<typeof ProviderStats>;

export const IdleRule = z
  .object({
    enabled: z.boolean(),
    gpuBelowPercent: z.number().min(0).max(100),
    minutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    action: z.enum(['warn', 'terminate']),
  })
  .strict();
export type IdleRule = z.infer<typeof IdleRule>;

export const IdleStatus = z.object({
  target: z.string(),
  rule: IdleRule,
  /** Minutes idle so far (0 when active or not watched). */
  idleMinutes: z.number(),
  /** One sentence: what the rule does, what counts as idle, and what stops billing on this provider. */
  text: z.string(),
});
export type IdleStatus = z.infer<typeof IdleStatus>;
