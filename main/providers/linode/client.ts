// Typed Linode API v4 client over the shared HttpClient: one method per endpoint Moat uses, every
// response checked with zod, every page of a collection walked.
import * as z from 'zod';
import { HttpClient, type HttpCall, type HttpClientOptions } from '../http';
import { ProviderError, type ProviderOptions } from '../provider';
import { classify } from './errors';
import {
  firewall,
  firewallDevice,
  firewallRules,
  linodeInstance,
  linodeRegion,
  linodeStats,
  linodeType,
  page,
  regionAvailability,
  sshKey,
  type LinodeFirewall,
  type LinodeFirewallDevice,
  type LinodeFirewallRules,
  type LinodeInstance,
  type LinodeSshKey,
  type LinodeStats,
} from './schemas';

export const LINODE_DEFAULT_URL = 'https://api.linode.com/v4';

/** The API base: MOAT_LINODE_API_URL (how tests point Moat at the fake), else Linode's. */
export function linodeBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.MOAT_LINODE_API_URL?.trim() || LINODE_DEFAULT_URL;
}

/** ProviderOptions plus the HttpClient's back-off knobs, so tests can make waits short. */
export interface LinodeOptions extends ProviderOptions {
  backoff?: HttpClientOptions['backoff'];
  sleep?: HttpClientOptions['sleep'];
}

/** The largest page Linode serves: fewer requests for long lists. */
const PAGE_SIZE = 500;
/** A runaway `pages` value must not turn into an endless walk. */
const MAX_PAGES = 200;

export interface LaunchBody {
  label: string;
  region: string;
  type: string;
  image: string;
  authorized_keys: string[];
  root_pass: string;
  booted: boolean;
  metadata?: { user_data: string };
  /** Attach this Cloud Firewall at creation. */
  firewall_id?: number;
}

/** A rule as Linode takes it. */
export interface FirewallRuleBody {
  action: 'ACCEPT' | 'DROP';
  protocol: 'TCP' | 'UDP' | 'ICMP' | 'IPENCAP' | (string & {});
  addresses: { ipv4?: string[]; ipv6?: string[] };
  ports?: string;
  label?: string;
}

export interface FirewallRulesBody {
  inbound: FirewallRuleBody[];
  inbound_policy: 'ACCEPT' | 'DROP';
  outbound: FirewallRuleBody[];
  outbound_policy: 'ACCEPT' | 'DROP';
}

const empty = z.object({}).passthrough();
const fw = (id: number | string) => `/networking/firewalls/${encodeURIComponent(String(id))}`;

export class LinodeClient {
  readonly http: HttpClient;
  /** From the last failed answer: its wait hint, and the token's scopes (for a full missing list). */
  last: { retryAfterMs?: number; scopes: string | null } = { scopes: null };

  constructor(o: LinodeOptions) {
    this.http = new HttpClient({
      provider: 'linode',
      baseUrl: o.baseUrl,
      key: o.key,
      classify: (res) => {
        const c = classify(res);
        if (!c.ok)
          this.last = {
            ...(c.retryAfterMs !== undefined ? { retryAfterMs: c.retryAfterMs } : {}),
            scopes: res.headers.get('x-oauth-scopes'),
          };
        return c;
      },
      ...(o.onRetry ? { onRetry: o.onRetry } : {}),
      ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
      ...(o.sleep ? { sleep: o.sleep } : {}),
    });
  }

  /** One call, its body checked against `schema`; returns the headers too (scopes live there). */
  async call<S extends z.ZodType>(call: HttpCall, schema: S): Promise<{ body: z.infer<S>; headers: Headers }> {
    const res = await this.http.request(call);
    const parsed = schema.safeParse(res.json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unexpected body';
      throw new ProviderError(
        'linode',
        'malformed',
        `Linode answered ${call.method} ${call.path.split('?')[0]} with a body Moat does not understand (${where}).`,
        {
          status: res.status,
        },
      );
    }
    return { body: parsed.data, headers: res.headers };
  }

  /** Every page of a collection, with an optional X-Filter (saves fetching everything to find one). */
  async all<S extends z.ZodType>(path: string, item: S, filter?: object): Promise<z.infer<S>[]> {
    const out: z.infer<S>[] = [];
    const headers = filter ? { 'X-Filter': JSON.stringify(filter) } : undefined;
    for (let p = 1; p <= MAX_PAGES; p++) {
      const sep = path.includes('?') ? '&' : '?';
      const { body } = await this.call(
        { method: 'GET', path: `${path}${sep}page=${p}&page_size=${PAGE_SIZE}`, ...(headers ? { headers } : {}) },
        page(item),
      );
      out.push(...(body.data as z.infer<S>[]));
      if (body.page >= body.pages || body.data.length === 0) break;
    }
    return out;
  }

  /** The token's own scopes come back on every response; one cheap authenticated call reads them. */
  async probe(): Promise<Headers> {
    const { headers } = await this.call({ method: 'GET', path: '/linode/instances?page=1&page_size=25' }, page(linodeInstance));
    return headers;
  }

  regions() {
    return this.all('/regions', linodeRegion);
  }
  availability() {
    return this.all('/regions/availability', regionAvailability);
  }
  types() {
    return this.all('/linode/types', linodeType);
  }
  sshKeys() {
    return this.all('/profile/sshkeys', sshKey);
  }
  async addSshKey(label: string, key: string): Promise<LinodeSshKey> {
    return (await this.call({ method: 'POST', path: '/profile/sshkeys', body: { label, ssh_key: key } }, sshKey)).body;
  }
  instances(filter?: object) {
    return this.all('/linode/instances', linodeInstance, filter);
  }
  /** null when Linode says 404. */
  async instance(id: string): Promise<LinodeInstance | null> {
    try {
      return (await this.call({ method: 'GET', path: `/linode/instances/${encodeURIComponent(id)}` }, linodeInstance)).body;
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') return null;
      throw err;
    }
  }
  /** Never retried here: the caller decides after looking for the label (no second paid instance). */
  async create(body: LaunchBody): Promise<LinodeInstance> {
    return (await this.call({ method: 'POST', path: '/linode/instances', body, retry: false }, linodeInstance)).body;
  }
  async remove(id: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/linode/instances/${encodeURIComponent(id)}` });
  }

  // Cloud Firewalls. Reads, PUTs (they set state) and DELETEs are retried by the HttpClient; the
  // two POSTs are not, and their callers decide after looking (see LinodeFirewallApi).
  firewalls(filter?: object): Promise<LinodeFirewall[]> {
    return this.all('/networking/firewalls', firewall, filter);
  }
  async firewall(id: number | string): Promise<LinodeFirewall> {
    return (await this.call({ method: 'GET', path: fw(id) }, firewall)).body;
  }
  async createFirewall(body: { label: string; rules: FirewallRulesBody; devices?: { linodes: number[] } }): Promise<LinodeFirewall> {
    return (await this.call({ method: 'POST', path: '/networking/firewalls', body, retry: false }, firewall)).body;
  }
  async updateFirewall(id: number | string, body: { label?: string; status?: 'enabled' | 'disabled' }): Promise<LinodeFirewall> {
    return (await this.call({ method: 'PUT', path: fw(id), body }, firewall)).body;
  }
  async deleteFirewall(id: number | string): Promise<void> {
    await this.call({ method: 'DELETE', path: fw(id) }, empty);
  }
  async firewallRules(id: number | string): Promise<LinodeFirewallRules> {
    return (await this.call({ method: 'GET', path: `${fw(id)}/rules` }, firewallRules)).body;
  }
  /** Replaces every rule and both policies; Linode bumps `version` and changes `fingerprint`. */
  async putFirewallRules(id: number | string, body: FirewallRulesBody): Promise<LinodeFirewallRules> {
    return (await this.call({ method: 'PUT', path: `${fw(id)}/rules`, body }, firewallRules)).body;
  }
  firewallDevices(id: number | string): Promise<LinodeFirewallDevice[]> {
    return this.all(`${fw(id)}/devices`, firewallDevice);
  }
  async addFirewallDevice(id: number | string, linodeId: number): Promise<LinodeFirewallDevice> {
    const body = { id: linodeId, type: 'linode' };
    return (await this.call({ method: 'POST', path: `${fw(id)}/devices`, body, retry: false }, firewallDevice)).body;
  }
  async removeFirewallDevice(id: number | string, deviceId: number): Promise<void> {
    await this.call({ method: 'DELETE', path: `${fw(id)}/devices/${deviceId}` }, empty);
  }
  instanceFirewalls(linodeId: number | string): Promise<LinodeFirewall[]> {
    return this.all(`/linode/instances/${encodeURIComponent(String(linodeId))}/firewalls`, firewall);
  }

  /**
   * The last 24 h of 5-minute averages (CPU, disk IO, network). null while Linode has none yet: a
   * new Linode answers 400 `Stats are unavailable at this time.` for its first minutes, which is
   * a state to show ("no data yet"), not a failure.
   */
  async stats(linodeId: number | string): Promise<LinodeStats | null> {
    try {
      return (await this.call({ method: 'GET', path: `/linode/instances/${encodeURIComponent(String(linodeId))}/stats` }, linodeStats))
        .body;
    } catch (err) {
      if (err instanceof ProviderError && err.details.status === 400 && STATS_UNAVAILABLE.test(err.message)) return null;
      throw err;
    }
  }
}

const STATS_UNAVAILABLE = /stats are unavailable/i;

export type Point = [t: number, v: number];

export interface LinodeStatsSeries {
  /** 100 = one core. */
  cpuPercent: Point[];
  /** Public and private, IPv4 and IPv6, added per timestamp. */
  netInBitsPerSec: Point[];
  netOutBitsPerSec: Point[];
  /** Disk IO, blocks per second. */
  ioBlocks: Point[];
}

/** Linode's stats as the chart series Moat draws: sorted by time, network families added together. */
export function linodeStatsSeries(raw: LinodeStats): LinodeStatsSeries {
  const d = raw.data;
  const sorted = (p: Point[]) => [...p].sort((a, b) => a[0] - b[0]);
  const sum = (...lists: Point[][]): Point[] => {
    const by = new Map<number, number>();
    for (const l of lists) for (const [t, v] of l) by.set(t, (by.get(t) ?? 0) + v);
    return sorted([...by.entries()]);
  };
  return {
    cpuPercent: sorted(d.cpu),
    netInBitsPerSec: sum(d.netv4.in, d.netv4.private_in, d.netv6.in, d.netv6.private_in),
    netOutBitsPerSec: sum(d.netv4.out, d.netv4.private_out, d.netv6.out, d.netv6.private_out),
    ioBlocks: sorted(d.io.io),
  };
}
