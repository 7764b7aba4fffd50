// LinodeProvider: the Provider interface over Linode API v4.
import { randomBytes } from 'node:crypto';
import {
  ProviderError,
  type AccountCheck,
  type Instance,
  type InstanceType,
  type LaunchRequest,
  type Provider,
  type ProviderStats,
  type Region,
  type SshKeyRef,
} from '../provider';
import { LinodeFirewallApi } from '../../firewall/linode';
import { LinodeClient, linodeStatsSeries, type LaunchBody, type LinodeOptions } from './client';
import { missingScopes, parseScopes, scopesError } from './errors';
import { mapInstance, mapRegion, mapType } from './mapping';
import type { LinodeInstance, LinodeType, RegionAvailability } from './schemas';

/** A current Ubuntu LTS; the launch request has no image field, so every instance gets this. */
export const DEFAULT_IMAGE = 'linode/ubuntu24.04';
/** Types change rarely; instance listings reuse them for prices and GPU descriptions. */
const TYPES_TTL_MS = 10 * 60_000;

/**
 * Linode requires a root password even when an SSH key is given. Moat never uses it: it is made
 * strong (upper, lower, digit, symbol) and dropped after the request, never kept or shown.
 */
function throwawayRootPassword(): string {
  for (;;) {
    const p = `${randomBytes(32).toString('base64url')}!`;
    if (/[A-Z]/.test(p) && /[a-z]/.test(p) && /\d/.test(p)) return p;
  }
}

export class LinodeProvider implements Provider {
  readonly kind = 'linode' as const;
  readonly firewall: LinodeFirewallApi;
  private readonly client: LinodeClient;
  private typesCache: { at: number; types: Promise<LinodeType[]> } | null = null;

  constructor(private readonly o: LinodeOptions) {
    this.client = new LinodeClient(o);
    this.firewall = new LinodeFirewallApi(this.client, o);
  }

  async stats(instanceId: string): Promise<ProviderStats | null> {
    const raw = await this.client.stats(Number(instanceId));
    if (!raw) return null;
    const s = linodeStatsSeries(raw);
    return { cpuPercent: s.cpuPercent, netInBitsPerSec: s.netInBitsPerSec, netOutBitsPerSec: s.netOutBitsPerSec };
  }

  async checkAccount(): Promise<AccountCheck> {
    let header: string | null;
    try {
      header = (await this.client.probe()).get('x-oauth-scopes');
    } catch (err) {
      // A token without the probe's own scope: report everything it lacks, not just that one.
      if (err instanceof ProviderError && err.kind === 'scopes' && this.client.last.scopes !== null) {
        throw scopesError(missingScopes(parseScopes(this.client.last.scopes)), err.details.status);
      }
      throw err;
    }
    const scopes = parseScopes(header);
    // No header at all: Moat cannot tell, so it does not block (calls will say what they lack).
    const missing = header === null ? [] : missingScopes(scopes);
    if (missing.length > 0) throw scopesError(missing);
    return { scopes };
  }

  async listRegions(): Promise<Region[]> {
    return (await this.client.regions()).map(mapRegion);
  }

  async listInstanceTypes(): Promise<InstanceType[]> {
    const [types, regions, availability] = await Promise.all([this.types(true), this.client.regions(), this.availability()]);
    return types.map((t) => mapType(t, regions, availability));
  }

  async listSshKeys(): Promise<SshKeyRef[]> {
    return (await this.client.sshKeys()).map((k) => ({ id: String(k.id), name: k.label, publicKey: k.ssh_key }));
  }

  async addSshKey(name: string, publicKey: string): Promise<SshKeyRef> {
    const k = await this.client.addSshKey(name, publicKey.trim());
    return { id: String(k.id), name: k.label, publicKey: k.ssh_key };
  }

  async listInstances(): Promise<Instance[]> {
    const list = await this.client.instances();
    return this.toInstances(list);
  }

  async getInstance(id: string): Promise<Instance | null> {
    const i = await this.client.instance(id);
    return i ? (await this.toInstances([i]))[0]! : null;
  }

  async launch(req: LaunchRequest): Promise<Instance> {
    const body: LaunchBody = {
      label: req.name,
      region: req.region,
      type: req.type,
      image: DEFAULT_IMAGE,
      authorized_keys: [req.sshKey.publicKey.trim()],
      root_pass: throwawayRootPassword(),
      booted: true,
      ...(req.userData !== undefined ? { metadata: { user_data: Buffer.from(req.userData, 'utf8').toString('base64') } } : {}),
      // Linode takes one firewall at creation.
      ...(req.firewall?.ruleSetIds[0] !== undefined ? { firewall_id: Number(req.firewall.ruleSetIds[0]) } : {}),
    };
    const max = this.o.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      this.client.last = { scopes: null }; // a timeout leaves no answer: no stale wait hint
      try {
        return (await this.toInstances([await this.client.create(body)]))[0]!;
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        // A timeout or 5xx may hide a launch that happened; so may "label must be unique" on a retry.
        const maybeCreated = err.kind === 'unavailable' || (attempt > 1 && err.kind === 'invalid' && /unique/i.test(err.message));
        if (maybeCreated) {
          const found = await this.findByLabel(req.name);
          if (found) return found;
        }
        if ((err.kind !== 'unavailable' && err.kind !== 'rate-limited') || attempt >= max) throw err;
        const base = this.o.backoff ?? { baseMs: 1000, maxMs: 30_000 };
        const delayMs = this.client.last.retryAfterMs ?? Math.min(base.maxMs, base.baseMs * 2 ** (attempt - 1));
        this.o.onRetry?.({ attempt, maxAttempts: max, delayMs, reason: err.message });
        await (this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(delayMs);
      }
    }
  }

  async terminate(id: string): Promise<void> {
    try {
      await this.client.remove(id);
    } catch (err) {
      // Already gone is what the caller wanted.
      if (err instanceof ProviderError && err.kind === 'not-found') return;
      throw err;
    }
  }

  /** The instance with this label, found with X-Filter (one request, not the whole list). */
  async findByLabel(label: string): Promise<Instance | null> {
    const list = await this.client.instances({ label });
    const exact = list.filter((i) => i.label === label);
    return exact.length > 0 ? (await this.toInstances(exact))[0]! : null;
  }

  private async toInstances(list: LinodeInstance[]): Promise<Instance[]> {
    // Prices and GPU names come from the types; an instance list still works without them.
    const types = await this.types(false).catch(() => [] as LinodeType[]);
    return list.map((i) =>
      mapInstance(
        i,
        types.find((t) => t.id === i.type),
      ),
    );
  }

  private types(fresh: boolean): Promise<LinodeType[]> {
    const now = Date.now();
    if (fresh || !this.typesCache || now - this.typesCache.at > TYPES_TTL_MS) {
      const types = this.client.types();
      this.typesCache = { at: now, types };
      types.catch(() => (this.typesCache = null));
    }
    return this.typesCache.types;
  }

  // Not every account or API version serves /regions/availability; region capabilities stand in.
  private async availability(): Promise<RegionAvailability[]> {
    try {
      return await this.client.availability();
    } catch (err) {
      if (err instanceof ProviderError && (err.kind === 'not-found' || err.kind === 'invalid' || err.kind === 'malformed')) return [];
      throw err;
    }
  }
}
