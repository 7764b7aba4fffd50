// The egress self-test: a Python program run inside a sandbox with a run's network policy that
// tries what a program could try (a direct connection to an address, a DNS lookup, a domain not
// allowed, an allowed one, a private address, the cloud metadata address, IPv6, an allowed name
// that resolves to loopback), and the report that sets what the policy declares against what
// happened.
//
// How to use it (the lead's wiring):
//
//   const targets = defaultProbeTargets(allowNet);          // or your own ProbeTargets (tests)
//   const code = probeSource(targets);                       // Python 3 source, stdlib only
//   // run `code` with the `python` template under the run's policy: an empty allowNet is a default
//   // run (runsc, no network, no prelude); otherwise openEgressNet(...) with the same rules, its
//   // mounts and prelude, runtime = engine.current.egressRuntime.
//   const report = buildReport(runId, allowNet, stdoutOfTheRun, targets, { protectedPorts });
//   // report: EgressTestReport (shared/egress.ts); report.pass is true when every probe's
//   // enforced outcome equals its declared one.
//
// The program prints one line per probe, `MOAT-EGRESS-PROBE {"id":..,"ok":bool,"detail":..}`, and
// nothing else on stdout; other stdout lines are ignored by buildReport. Proxy probes use the proxy
// named by HTTPS_PROXY/HTTP_PROXY/ALL_PROXY (the prelude sets them) with HTTP CONNECT; without a
// proxy in the environment (a default run) they connect directly, which must fail too.
import { parseAllowEntry, type AllowRule, type EgressProbe, type EgressTestReport } from '../../../shared/egress';
import { checkName, checkResolved, parseIp, type Decision, type PolicyContext } from './policy';

export interface ProbeTarget {
  host: string;
  port: number;
  /** For a name: the addresses it resolves to, when known (the declared outcome checks them as the proxy would); else assumed public. */
  resolvesTo?: string[];
}

export interface ProbeTargets {
  /** A direct connection to an address, never through the proxy: must fail (no network device). */
  rawIp: ProbeTarget;
  /** A name looked up with getaddrinfo inside the sandbox: must fail (no DNS inside). */
  dnsName: string;
  /** A domain the allowlist does not allow, through the proxy. */
  denied: ProbeTarget;
  /** A destination the allowlist allows, through the proxy; null: none (no probe). */
  allowed: ProbeTarget | null;
  /** A private (RFC 1918) address, through the proxy. */
  privateAddr: ProbeTarget;
  /** The cloud metadata address, through the proxy. */
  metadata: ProbeTarget;
  /** An IPv6 address, through the proxy. */
  ipv6: ProbeTarget;
  /** An allowed name that resolves to loopback, through the proxy (DNS rebinding). */
  loopbackName: ProbeTarget;
  /** Per probe, inside the sandbox. Default 8000. */
  timeoutMs?: number;
}

export const PROBE_PREFIX = 'MOAT-EGRESS-PROBE ';

type ProbeId = 'raw-ip' | 'dns' | 'denied-domain' | 'allowed' | 'private' | 'metadata' | 'ipv6' | 'rebinding';

interface ProbeDef {
  id: ProbeId;
  label: string;
  kind: 'direct' | 'dns' | 'proxy';
  host: string;
  port: number;
  resolvesTo?: string[];
}

function hostPort(t: ProbeTarget): string {
  return parseIp(t.host)?.family === 6 ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

function probeDefs(t: ProbeTargets): ProbeDef[] {
  const p = (id: ProbeId, label: string, kind: ProbeDef['kind'], x: ProbeTarget): ProbeDef => ({
    id,
    label,
    kind,
    host: x.host,
    port: x.port,
    ...(x.resolvesTo ? { resolvesTo: x.resolvesTo } : {}),
  });
  const defs: ProbeDef[] = [
    p('raw-ip', 'Direct connection to an address (no proxy)', 'direct', t.rawIp),
    { id: 'dns', label: 'DNS lookup inside the sandbox', kind: 'dns', host: t.dnsName, port: 0 },
    p('denied-domain', 'A domain not in the allowlist', 'proxy', t.denied),
  ];
  if (t.allowed) defs.push(p('allowed', 'An allowed destination', 'proxy', t.allowed));
  defs.push(
    p('private', 'A private-range address', 'proxy', t.privateAddr),
    p('metadata', 'The cloud metadata address', 'proxy', t.metadata),
    p('ipv6', 'An IPv6 address', 'proxy', t.ipv6),
    p('rebinding', 'An allowed name that resolves to loopback', 'proxy', t.loopbackName),
  );
  return defs;
}

function firstNotAllowed(rules: AllowRule[], candidates: string[], port: number): string {
  return candidates.find((c) => !checkName({ rules }, c, port).allowed) ?? 'moat-egress-test.invalid';
}

/** Probe targets for a run's allowlist: the allowed probe uses its first entry. */
export function defaultProbeTargets(allowNet: string[] = []): ProbeTargets {
  const rules = allowNet.map((e) => parseAllowEntry(e)).filter((r): r is AllowRule => r !== null);
  let allowed: ProbeTarget | null = null;
  const first = rules[0];
  if (first?.kind === 'domain') allowed = { host: first.wildcard ? `www.${first.domain}` : first.domain, port: first.port ?? 443 };
  else if (first?.kind === 'cidr') allowed = { host: first.address, port: first.port ?? 443 };
  return {
    rawIp: { host: '1.1.1.1', port: 443 },
    dnsName: allowed && !parseIp(allowed.host) ? allowed.host : 'example.com',
    denied: { host: firstNotAllowed(rules, ['example.com', 'example.org', 'example.net'], 443), port: 443 },
    allowed,
    privateAddr: { host: '10.0.0.1', port: 80 },
    metadata: { host: '169.254.169.254', port: 80 },
    ipv6: { host: '2606:4700:4700::1111', port: 443 },
    loopbackName: { host: 'localhost', port: 80, resolvesTo: ['127.0.0.1', '::1'] },
  };
}

const PY = String.raw`
import json, os, socket, sys
PREFIX = "@PREFIX@"
PROBES = json.loads(@PROBES@)
TIMEOUT = @TIMEOUT@

def report(pid, ok, detail):
    sys.stdout.write(PREFIX + json.dumps({"id": pid, "ok": bool(ok), "detail": str(detail)[:300]}) + "\n")
    sys.stdout.flush()

def proxy_addr():
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        v = os.environ.get(name)
        if not v:
            continue
        v = v.split("://", 1)[-1].rstrip("/")
        host, _, port = v.rpartition(":")
        try:
            return (host.strip("[]") or "127.0.0.1", int(port))
        except ValueError:
            continue
    return None

def hostport(host, port):
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)

def direct(host, port):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.close()
    return "connected directly to " + hostport(host, port)

def via_proxy(proxy, host, port):
    s = socket.create_connection(proxy, timeout=TIMEOUT)
    try:
        hp = hostport(host, port)
        s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (hp, hp)).encode())
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 8192:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status.split(" ", 2)
        if len(parts) >= 2 and parts[1] == "200":
            s.settimeout(1.0)
            try:
                answer = rest or s.recv(64)
            except OSError:
                answer = b""
            return True, "proxy: " + status + ((" ; answered: " + answer[:40].decode("latin-1", "replace")) if answer else "")
        body = rest
        try:
            s.settimeout(1.0)
            while len(body) < 300:
                chunk = s.recv(300)
                if not chunk:
                    break
                body += chunk
        except OSError:
            pass
        return False, "proxy: " + status + ((" ; " + body.decode("latin-1", "replace").strip()) if body else "")
    finally:
        s.close()

proxy = proxy_addr()
for p in PROBES:
    try:
        if p["kind"] == "dns":
            infos = socket.getaddrinfo(p["host"], 443, proto=socket.IPPROTO_TCP)
            report(p["id"], True, "resolved to " + ", ".join(sorted(set(i[4][0] for i in infos))))
        elif p["kind"] == "direct" or proxy is None:
            report(p["id"], True, direct(p["host"], p["port"]) + ("" if p["kind"] == "direct" else " (no proxy in the environment)"))
        else:
            ok, detail = via_proxy(proxy, p["host"], p["port"])
            report(p["id"], ok, detail)
    except Exception as e:
        how = "" if p["kind"] != "proxy" else (" (no proxy in the environment: direct)" if proxy is None else " (via the proxy)")
        report(p["id"], False, "%s: %s%s" % (type(e).__name__, e, how))
`;

/** The probe program (Python 3, standard library only) for these targets. */
export function probeSource(targets: ProbeTargets): string {
  const probes = probeDefs(targets).map(({ id, kind, host, port }) => ({ id, kind, host, port }));
  return PY.replace('@PREFIX@', PROBE_PREFIX)
    .replace('@PROBES@', JSON.stringify(JSON.stringify(probes)))
    .replace('@TIMEOUT@', String((targets.timeoutMs ?? 8000) / 1000))
    .replace(/^\n/, '');
}

/** The probe program for the default targets of an allowlist. */
export const PROBE_SOURCE = probeSource(defaultProbeTargets());

function declaredFor(ctx: PolicyContext, d: ProbeDef): Decision {
  if (d.kind === 'direct') return { allowed: false, reason: 'direct connections never leave the sandbox (no network device)' };
  if (d.kind === 'dns') return { allowed: false, reason: 'names resolve only at the proxy (no DNS inside the sandbox)' };
  if (ctx.rules.length === 0) return { allowed: false, reason: 'no network (empty allowlist)' };
  const first = checkName(ctx, d.host, d.port);
  if (!first.allowed || parseIp(d.host) || !d.resolvesTo) return first;
  const r = checkResolved(ctx, d.host, d.port, d.resolvesTo);
  return r.allowed ? first : r;
}

function targetText(d: ProbeDef): string {
  if (d.kind === 'dns') return `resolve ${d.host}`;
  const hp = hostPort(d);
  return d.kind === 'direct' ? `connect ${hp} directly` : `connect ${hp} through the proxy`;
}

/**
 * The report for one self-test: `probeStdout` is what the probe program printed, `allowNet` the
 * run's allow entries (as typed; parseAllowEntry), `targets` the ones the program was built for.
 */
export function buildReport(
  runId: string,
  allowNet: string[],
  probeStdout: string,
  targets: ProbeTargets,
  opts: { protectedPorts?: number[] } = {},
): EgressTestReport {
  const rules = allowNet.map((e) => parseAllowEntry(e)).filter((r): r is AllowRule => r !== null);
  const ctx: PolicyContext = { rules, ...(opts.protectedPorts ? { protectedPorts: opts.protectedPorts } : {}) };
  const results = new Map<string, { ok: boolean; detail: string }>();
  for (const line of probeStdout.split('\n')) {
    if (!line.startsWith(PROBE_PREFIX)) continue;
    try {
      const j = JSON.parse(line.slice(PROBE_PREFIX.length)) as { id?: unknown; ok?: unknown; detail?: unknown };
      if (typeof j.id === 'string' && typeof j.ok === 'boolean') results.set(j.id, { ok: j.ok, detail: String(j.detail ?? '') });
    } catch {
      // a line cut short: that probe has no result
    }
  }
  const probes: EgressProbe[] = probeDefs(targets).map((d) => {
    const decl = declaredFor(ctx, d);
    const declared = decl.allowed ? 'allowed' : 'refused';
    const got = results.get(d.id);
    const why = decl.allowed ? (decl.rule ? `allowed by ${decl.rule.text}` : 'allowed') : `refused: ${decl.reason}`;
    if (!got) {
      return {
        id: d.id,
        label: d.label,
        target: targetText(d),
        declared,
        enforced: 'refused',
        pass: false,
        detail: `declared ${why}; the probe reported nothing`,
      };
    }
    const enforced = got.ok ? 'allowed' : 'refused';
    return {
      id: d.id,
      label: d.label,
      target: targetText(d),
      declared,
      enforced,
      pass: declared === enforced,
      detail: `declared ${why}; ${got.detail}`,
    };
  });
  return { runId, allowNet: [...allowNet], probes, pass: probes.every((p) => p.pass) };
}
