// Lambda Cloud behind the Provider interface. The one subtle part is launch: Lambda's launch is
// not idempotent and bills from the first second, so a lost answer must never turn into a second
// instance; see launch() below.
import {
  ProviderError,
  type AccountCheck,
  type Instance,
  type InstanceType,
  type LaunchRequest,
  type Provider,
  type Region,
  type SshKeyRef,
} from '../provider';
import { LambdaFirewall } from '../../firewall/lambda';
import { LambdaClient, type LambdaClientOptions } from './client';
import { mapInstance, mapInstanceTypes, mapSshKey } from './map';

export const LAMBDA_DEFAULT_URL = 'https://cloud.lambda.ai/api/v1';

/** The API base: MOAT_LAMBDA_API_URL when set (tests point it at the fake), else Lambda's own. */
export function lambdaBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.MOAT_LAMBDA_API_URL?.trim() || LAMBDA_DEFAULT_URL;
}

export type LambdaProviderOptions = LambdaClientOptions & {
  /** After a lost launch answer, how many times to look for the instance before launching again. */
  launchChecks?: number;
};

export class LambdaProvider implements Provider {
  readonly kind = 'lambda' as const;
  readonly firewall: LambdaFirewall;
  private readonly api: LambdaClient;

  constructor(private readonly o: LambdaProviderOptions) {
    this.api = new LambdaClient(o);
    this.firewall = new LambdaFirewall(this.api, o);
  }

  async checkAccount(): Promise<AccountCheck> {
    // Cheap and authenticated; Lambda has no "who am I" endpoint and keys have no scopes.
    await this.api.sshKeys();
    return {};
  }

  async listRegions(): Promise<Region[]> {
    return (await this.api.regions()).map((r) => ({ id: r.name, label: r.description || r.name }));
  }

  async listInstanceTypes(): Promise<InstanceType[]> {
    return mapInstanceTypes(await this.api.instanceTypes());
  }

  async listSshKeys(): Promise<SshKeyRef[]> {
    return (await this.api.sshKeys()).map(mapSshKey);
  }

  async addSshKey(name: string, publicKey: string): Promise<SshKeyRef> {
    return mapSshKey(await this.api.addSshKey(name, publicKey));
  }

  async listInstances(): Promise<Instance[]> {
    return (await this.api.instances()).map(mapInstance);
  }

  async getInstance(id: string): Promise<Instance | null> {
    try {
      return mapInstance(await this.api.instance(id));
    } catch (err) {
      // Terminated instances vanish from Lambda: 404 is "no such instance", not a failure.
      if (err instanceof ProviderError && err.kind === 'not-found') return null;
      throw err;
    }
  }

  /**
   * One launch call at a time, never blindly repeated. Before launching, the IDs that already
   * exist are noted; when an attempt's answer is lost (timeout, network fault, 5xx), the account
   * is searched for an instance with the request's unique name and a new ID, several times since
   * Lambda may still be creating it (about 15 s by default), and only when none appears is the
   * launch tried again. An unreadable answer is searched for the same way but never relaunched.
   * 429 means nothing was launched, so it is retried after the back-off.
   */
  async launch(req: LaunchRequest): Promise<Instance> {
    const before = new Set((await this.api.instances()).map((i) => i.id));
    const max = this.o.maxAttempts ?? 5;
    const body = {
      region_name: req.region,
      instance_type_name: req.type,
      ssh_key_names: [req.sshKey.name] as [string],
      name: req.name,
      ...(req.userData !== undefined ? { user_data: req.userData } : {}),
      ...(req.firewall?.ruleSetIds.length ? { firewall_rulesets: req.firewall.ruleSetIds.map((id) => ({ id })) } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      let failure: ProviderError;
      try {
        const ids = await this.api.launch(body);
        const id = ids[0];
        if (!id) throw new ProviderError('lambda', 'malformed', 'Lambda Cloud accepted the launch but returned no instance ID.');
        return (await this.getInstance(id)) ?? (await this.waitFor(req.name, before));
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        failure = err;
      }
      if (failure.kind === 'unavailable' || failure.kind === 'malformed') {
        const found = await this.findLaunched(req.name, before);
        if (found) return found;
        // An answer we could not read may still have launched one that is not listed yet: never
        // launch again on a guess.
        if (failure.kind === 'malformed') throw failure;
      } else if (failure.kind !== 'rate-limited') {
        throw failure;
      }
      if (attempt >= max) throw failure;
      const delayMs = this.delay(attempt);
      this.o.onRetry?.({ attempt, maxAttempts: max, delayMs, reason: failure.message });
      await this.sleep(delayMs);
    }
  }

  async terminate(id: string): Promise<void> {
    try {
      await this.api.terminate([id]);
    } catch (err) {
      // Already gone is what the caller wanted.
      if (err instanceof ProviderError && err.kind === 'not-found') return;
      throw err;
    }
  }

  /** The instance this request launched, if the account shows one: its name, an ID that is new. */
  private async findLaunched(name: string, before: Set<string>): Promise<Instance | null> {
    const checks = this.o.launchChecks ?? 5;
    for (let n = 1; n <= checks; n++) {
      const hit = (await this.api.instances()).find((i) => i.name === name && !before.has(i.id));
      if (hit) return mapInstance(hit);
      if (n < checks) await this.sleep(this.delay(n));
    }
    return null;
  }

  private async waitFor(name: string, before: Set<string>): Promise<Instance> {
    const found = await this.findLaunched(name, before);
    if (found) return found;
    throw new ProviderError('lambda', 'malformed', 'Lambda Cloud accepted the launch but does not list the new instance.');
  }

  private delay(attempt: number): number {
    const b = this.o.backoff ?? { baseMs: 1000, maxMs: 30_000 };
    return Math.min(b.maxMs, b.baseMs * 2 ** (attempt - 1));
  }

  private sleep(ms: number): Promise<void> {
    return (this.o.sleep ?? ((t) => new Promise((r) => setTimeout(r, t))))(ms);
  }
}
