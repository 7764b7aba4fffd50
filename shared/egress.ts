// The egress filter's shapes, shared by main, the CLI and the renderer: what a run may send out
// (its output policy, its environment, the network destinations it may reach) and the alerts the
// filter raises. An alert never carries a secret: only where it was and a masked preview.
import * as z from 'zod';

/** redact: output shown with secrets replaced (default); block: output withheld when anything is found; stop: stop the run at the first critical finding. */
export const EgressPolicy = z.enum(['redact', 'block', 'stop']);
export type EgressPolicy = z.infer<typeof EgressPolicy>;

export const Severity = z.enum(['critical', 'high', 'medium', 'low']);
export type Severity = z.infer<typeof Severity>;

/** An environment variable name as POSIX shells accept it. */
export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an environment variable name: letters, digits, _ (not first)');

/** One environment variable of a run. `secret`: the value is never stored or shown, and the filter looks for it in the output. */
export const EnvVar = z
  .object({
    name: EnvName,
    value: z
      .string()
      .max(64 * 1024)
      .refine((v) => !v.includes('\0'), 'an environment value cannot contain a NUL character'),
    secret: z.boolean().optional(),
  })
  .strict();
export type EnvVar = z.infer<typeof EnvVar>;

/** What a run record keeps of its environment: names, and values only of variables not marked secret. */
export const EnvRecord = z.object({ name: z.string(), secret: z.boolean(), value: z.string().optional() });
export type EnvRecord = z.infer<typeof EnvRecord>;

/**
 * One allowed destination, as typed: `DOMAIN[:PORT]` (a leading `*.` matches any subdomain, not
 * the domain itself), `IPv4[/bits][:PORT]`, or `[IPv6][/bits][:PORT]`. Without a port, any port.
 */
export const AllowEntry = z
  .string()
  .min(1)
  .max(300)
  .refine((s) => parseAllowEntry(s) !== null, {
    message: 'an allowed destination is DOMAIN[:PORT] (*.example.com for subdomains), an IPv4 CIDR, or [IPv6 CIDR], with an optional :PORT',
  });

export type AllowRule =
  | { kind: 'domain'; domain: string; wildcard: boolean; port: number | null; text: string }
  | { kind: 'cidr'; family: 4 | 6; address: string; bits: number; port: number | null; text: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function parsePort(p: string | undefined): number | null | undefined {
  if (p === undefined) return null;
  if (!/^\d{1,5}$/.test(p)) return undefined;
  const n = Number(p);
  return n >= 1 && n <= 65535 ? n : undefined;
}

function ipv4Ok(a: string): boolean {
  const parts = a.split('.');
  return parts.length === 4 && parts.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255 && (x === '0' || !x.startsWith('0')));
}

function ipv6Ok(a: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(a) || a.split('::').length > 2) return false;
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const groups = (s: string | undefined): string[] => (s ? s.split(':') : []);
  const all = [...groups(head), ...groups(tail)];
  let count = 0;
  for (const [i, g] of all.entries()) {
    if (g.includes('.')) {
      if (i !== all.length - 1 || !ipv4Ok(g)) return false;
      count += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) count += 1;
    else return false;
  }
  return a.includes('::') ? count < 8 : count === 8;
}

/** The rule an allow entry stands for, or null when it is not one (see AllowEntry). */
export function parseAllowEntry(input: string): AllowRule | null {
  const text = input.trim();
  if (text.length === 0 || text.length > 300) return null;
  // [IPv6]/bits:port or [IPv6/bits]:port
  const v6 = /^\[([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?\](?:\/(\d{1,3}))?(?::(\d+))?$/.exec(text);
  if (v6) {
    const bitsText = v6[2] ?? v6[3];
    const bits = bitsText === undefined ? 128 : Number(bitsText);
    const port = parsePort(v6[4]);
    if (!ipv6Ok(v6[1]!) || bits > 128 || port === undefined) return null;
    return { kind: 'cidr', family: 6, address: v6[1]!.toLowerCase(), bits, port, text };
  }
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?(?::(\d+))?$/.exec(text);
  if (v4) {
    const bits = v4[2] === undefined ? 32 : Number(v4[2]);
    const port = parsePort(v4[3]);
    if (!ipv4Ok(v4[1]!) || bits > 32 || port === undefined) return null;
    return { kind: 'cidr', family: 4, address: v4[1]!, bits, port, text };
  }
  const d = /^(\*\.)?([A-Za-z0-9.-]+?)\.?(?::(\d+))?$/.exec(text);
  if (!d) return null;
  const domain = d[2]!.toLowerCase();
  const port = parsePort(d[3]);
  const labels = domain.split('.');
  if (port === undefined || domain.length > 253 || labels.length < 1 || !labels.every((l) => LABEL.test(l))) return null;
  // A bare label ("localhost", "intranet") is allowed; an all-numeric name is an address typed wrong.
  if (labels.every((l) => /^\d+$/.test(l))) return null;
  return { kind: 'domain', domain, wildcard: Boolean(d[1]), port, text };
}

/** Ready-made allowlists offered in the UI and as `--allow-net @NAME` on the command line. */
export const ALLOW_PRESETS: Record<string, { label: string; entries: string[] }> = {
  none: { label: 'No network', entries: [] },
  'package-indexes': {
    label: 'Common package indexes (PyPI, npm, crates.io, Go, Debian, Ubuntu, Alpine)',
    entries: [
      'pypi.org:443',
      'files.pythonhosted.org:443',
      'registry.npmjs.org:443',
      'crates.io:443',
      'static.crates.io:443',
      'index.crates.io:443',
      'proxy.golang.org:443',
      'sum.golang.org:443',
      'deb.debian.org:443',
      'deb.debian.org:80',
      'security.debian.org:80',
      'archive.ubuntu.com:80',
      'security.ubuntu.com:80',
      'dl-cdn.alpinelinux.org:443',
    ],
  },
};

/** The run's egress settings as recorded with it (what was declared, and what the filter saw). */
export const EgressRecord = z.object({
  /** false when the run opted out of the output filter (`--no-egress-filter`). */
  filter: z.boolean(),
  policy: EgressPolicy,
  /** Findings in the run's output (alerts raised for it, suppressed rules not counted). */
  findings: z.number().int(),
  /** Of them, critical. */
  critical: z.number().int(),
  /** `block`: the output was withheld because something was found. */
  blocked: z.boolean(),
  /** Destinations the run could reach (its own and its template's); empty: no network. */
  allowNet: z.array(z.string()),
  /** Connections refused by the egress proxy. */
  refused: z.number().int(),
});
export type EgressRecord = z.infer<typeof EgressRecord>;

export const AlertKind = z.enum(['secret', 'network']);

export const Alert = z.object({
  id: z.string(),
  t: z.number(),
  kind: AlertKind,
  runId: z.string(),
  template: z.string(),
  /** Where the run was: 'local' or the engine id (`ssh:<host>`). */
  target: z.string(),
  /** The sandbox (container ID, 12 characters), where known. */
  sandbox: z.string().optional(),
  severity: Severity,
  /** secret: the detector (format, entropy, context); network: 'egress-proxy'. */
  detector: z.string(),
  /** The rule's id (e.g. aws-access-key-id) or, for network alerts, 'net-refused'. */
  rule: z.string(),
  title: z.string(),
  /** secret: the stream; network: absent. */
  stream: z.enum(['stdout', 'stderr']).optional(),
  /** secret found in an artifact: its path under /work (offset and length are in that file). */
  artifact: z.string().optional(),
  /** secret: byte offset and length in that stream (as the program wrote it). */
  offset: z.number().int().optional(),
  length: z.number().int().optional(),
  /** secret: `AKIA************MPLE`, never the secret. */
  preview: z.string().optional(),
  /** Found in output judged binary: alerted, left unredacted. */
  binary: z.boolean().optional(),
  /** network: the destination asked for (name or address), its port, and why it was refused. */
  destination: z.string().optional(),
  port: z.number().int().optional(),
  reason: z.string().optional(),
  acknowledged: z.boolean(),
  acknowledgedAt: z.number().optional(),
});
export type Alert = z.infer<typeof Alert>;

export const AlertFilter = z
  .object({
    severity: Severity.optional(),
    rule: z.string().max(100).optional(),
    runId: z.string().max(64).optional(),
    kind: AlertKind.optional(),
    acknowledged: z.boolean().optional(),
    limit: z.number().int().min(1).max(5000).optional(),
    before: z.number().optional(),
  })
  .strict();
export type AlertFilter = z.infer<typeof AlertFilter>;

export const AlertCounts = z.object({
  unacknowledged: z.number().int(),
  /** Unacknowledged, by severity. */
  bySeverity: z.record(Severity, z.number().int()),
  total: z.number().int(),
});
export type AlertCounts = z.infer<typeof AlertCounts>;

export const Suppression = z.object({ rule: z.string(), reason: z.string().optional(), t: z.number(), by: z.string() });
export type Suppression = z.infer<typeof Suppression>;

/** One probe of the egress self-test: what the policy declares, what happened, and whether they agree. */
export const EgressProbe = z.object({
  id: z.string(),
  label: z.string(),
  /** What was tried, e.g. "connect 10.0.0.1:80", "resolve example.com". */
  target: z.string(),
  /** What the policy says should happen. */
  declared: z.enum(['allowed', 'refused']),
  /** What happened inside the sandbox. */
  enforced: z.enum(['allowed', 'refused']),
  pass: z.boolean(),
  detail: z.string(),
});
export type EgressProbe = z.infer<typeof EgressProbe>;

export const EgressTestReport = z.object({
  runId: z.string(),
  allowNet: z.array(z.string()),
  probes: z.array(EgressProbe),
  pass: z.boolean(),
});
export type EgressTestReport = z.infer<typeof EgressTestReport>;
