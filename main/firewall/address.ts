// "What is my public address?" for the firewall wizard: one GET to a configurable endpoint per
// address family (plain text answers, like api.ipify.org), with a short deadline. The answer is a
// suggestion the user can always edit, so it is validated strictly: one address of the asked
// family, nothing else, and a private or loopback one is flagged (a proxy or a NAT in between
// would make the rule useless).
import { isIP } from 'node:net';

export interface DetectedAddress {
  /** The address, or null when it could not be found (see error). */
  address: string | null;
  /** Where the answer came from (no query string or credentials: safe to show). */
  source: string;
  error?: string;
  /** Set when the address is not a public one (private, loopback, link-local, documentation). */
  warning?: string;
}

export interface DetectOptions {
  urls: { ipv4: string; ipv6: string };
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

const PRIVATE_V4: [number, number][] = [
  [0x0a000000, 8], // 10/8
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0x7f000000, 8], // 127/8
  [0xa9fe0000, 16], // 169.254/16
  [0x64400000, 10], // 100.64/10 (carrier-grade NAT)
];

function v4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Why an address cannot be the user's public one, or null. */
export function nonPublicReason(address: string): string | null {
  if (isIP(address) === 4) {
    const n = v4ToInt(address);
    for (const [net, bits] of PRIVATE_V4) {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      if ((n & mask) >>> 0 === net) return `${address} is a private, loopback or shared address, not the one the provider sees`;
    }
    return null;
  }
  const a = address.toLowerCase();
  if (a === '::1' || a.startsWith('fe8') || a.startsWith('fe9') || a.startsWith('fea') || a.startsWith('feb') || /^f[cd]/.test(a)) {
    return `${address} is a loopback, link-local or unique-local address, not the one the provider sees`;
  }
  return null;
}

function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

async function detectOne(family: 4 | 6, url: string, o: DetectOptions): Promise<DetectedAddress> {
  const source = shown(url);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), o.timeoutMs ?? 5000);
  try {
    const res = await (o.fetch ?? fetch)(url, { signal: ctl.signal, redirect: 'error', headers: { accept: 'text/plain' } });
    const text = (await res.text()).slice(0, 200).trim();
    if (!res.ok) return { address: null, source, error: `${source} answered HTTP ${res.status}` };
    if (isIP(text) !== family) {
      return { address: null, source, error: `${source} did not answer with one IPv${family} address` };
    }
    const warning = nonPublicReason(text);
    return { address: text, source, ...(warning ? { warning } : {}) };
  } catch (err) {
    const e = err as Error;
    const why = e.name === 'AbortError' ? `no answer within ${(o.timeoutMs ?? 5000) / 1000} s` : e.message;
    return { address: null, source, error: `${source} could not be reached: ${why}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Both families at once; a machine without IPv6 simply gets an error for that one. */
export async function detectAddresses(o: DetectOptions): Promise<{ ipv4: DetectedAddress; ipv6: DetectedAddress }> {
  const env = o.env ?? process.env;
  const urls = { ipv4: env.MOAT_ADDRESS_URL?.trim() || o.urls.ipv4, ipv6: env.MOAT_ADDRESS6_URL?.trim() || o.urls.ipv6 };
  const [ipv4, ipv6] = await Promise.all([detectOne(4, urls.ipv4, o), detectOne(6, urls.ipv6, o)]);
  return { ipv4, ipv6 };
}

/** The detected addresses as a locked launch uses them, with why none was found. */
export async function myAddresses(o: DetectOptions): Promise<{ ipv4?: string; ipv6?: string; problem?: string }> {
  const d = await detectAddresses(o);
  return {
    ...(d.ipv4.address ? { ipv4: d.ipv4.address } : {}),
    ...(d.ipv6.address ? { ipv6: d.ipv6.address } : {}),
    ...(!d.ipv4.address && !d.ipv6.address ? { problem: [d.ipv4.error, d.ipv6.error].filter(Boolean).join('; ') } : {}),
  };
}
