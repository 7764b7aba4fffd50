// IP addresses and networks as the user types them in the lock wizard and the launch form. Main
// validates every source again (and refuses a CIDR with host bits set); this is only so a typo is
// named beside the field it is in, before anything is sent.

const V4_OCTET = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => V4_OCTET.test(p));
}

const HEXTET = /^[0-9a-f]{1,4}$/i;

/** Plain IPv6 in any of its written forms ("::", "2001:db8::1", "::ffff:192.0.2.1"), without a zone. */
export function isIPv6(text: string): boolean {
  if (!text.includes(':') || text.includes('%')) return false;
  let body = text;
  // An IPv4 tail stands for the last two groups.
  const tail = body.slice(body.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    body = `${body.slice(0, body.length - tail.length)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const count = (s: string) => (s === '' ? [] : s.split(':'));
  const head = count(halves[0]!);
  const rest = halves.length === 2 ? count(halves[1]!) : [];
  if (![...head, ...rest].every((g) => HEXTET.test(g))) return false;
  const n = head.length + rest.length;
  return halves.length === 2 ? n < 8 : n === 8;
}

export function ipFamily(text: string): 4 | 6 | null {
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  return null;
}

/** An address, or a network written ADDRESS/PREFIX. */
export function isAddressOrCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return ipFamily(text) !== null;
  const family = ipFamily(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (family === null || !/^[0-9]{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Why `text` cannot be the user's IPv4 or IPv6 address; null when it is fine or empty. */
export function addressProblem(text: string, family: 4 | 6): string | null {
  const t = text.trim();
  if (!t) return null;
  if (ipFamily(t) === family) return null;
  if (ipFamily(t) !== null) return `${t} is an IPv${family === 4 ? 6 : 4} address; put it in the IPv${family === 4 ? 6 : 4} field.`;
  if (t.includes('/')) return `Give one address here, without a /prefix.`;
  return family === 4
    ? `"${t}" is not an IPv4 address; write it like 203.0.113.7.`
    : `"${t}" is not an IPv6 address; write it like 2001:db8::7.`;
}

/** A comma-separated list of addresses and networks: the items, and one sentence per bad one. */
export function parseSourceList(text: string): { items: string[]; errors: string[] } {
  const items: string[] = [];
  const errors: string[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim();
    if (!t) continue;
    if (isAddressOrCidr(t)) items.push(t);
    else errors.push(`"${t}" is not an address or network; write it like 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32.`);
  }
  return { items, errors };
}
