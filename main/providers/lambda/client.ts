// A typed client for the Lambda Cloud endpoints Moat uses. It goes through the shared HttpClient
// (Bearer auth, deadline, bounded back-off) and validates every success body with zod, so nothing
// above it sees raw JSON; a body that does not match is 'malformed', never a crash later on.
import * as z from 'zod';
import { HttpClient, type HttpCall, type HttpClientOptions } from '../http';
import { ProviderError, type ProviderOptions } from '../provider';
import { classifyLambda } from './errors';
import {
  dataOf,
  firewallRuleSchema,
  firewallRulesetSchema,
  globalRulesetSchema,
  instanceSchema,
  instanceTypesSchema,
  launchSchema,
  regionSchema,
  sshKeySchema,
  terminateSchema,
  type LambdaFirewallRule,
  type LambdaFirewallRuleset,
  type LambdaGlobalRuleset,
  type LambdaInstance,
  type LambdaInstanceTypes,
  type LambdaRegion,
  type LambdaSshKey,
} from './schemas';

/** Configuration beyond ProviderOptions: how to back off and wait (short in tests). */
export type LambdaClientOptions = ProviderOptions & Pick<HttpClientOptions, 'backoff' | 'sleep'>;

export interface LaunchBody {
  region_name: string;
  instance_type_name: string;
  /** Lambda accepts exactly one. */
  ssh_key_names: [string];
  name: string;
  user_data?: string;
  /** Rulesets in the instance's region, attached at launch. */
  firewall_rulesets?: { id: string }[];
}

/** A rule as Lambda takes it: port_range only for tcp/udp/all. */
export interface LambdaRuleBody {
  protocol: 'tcp' | 'udp' | 'icmp' | 'all';
  port_range?: [number, number];
  source_network: string;
  description: string;
}

export class LambdaClient {
  private readonly http: HttpClient;

  constructor(o: LambdaClientOptions) {
    this.http = new HttpClient({ ...o, provider: 'lambda', classify: classifyLambda });
  }

  regions(): Promise<LambdaRegion[]> {
    return this.get('/regions', regionSchema.array());
  }
  instanceTypes(): Promise<LambdaInstanceTypes> {
    return this.get('/instance-types', instanceTypesSchema);
  }
  sshKeys(): Promise<LambdaSshKey[]> {
    return this.get('/ssh-keys', sshKeySchema.array());
  }
  addSshKey(name: string, publicKey: string): Promise<LambdaSshKey> {
    // Not retried: a lost answer to a successful add would make the retry a duplicate-name error.
    return this.call({ method: 'POST', path: '/ssh-keys', body: { name, public_key: publicKey }, retry: false }, sshKeySchema);
  }
  instances(): Promise<LambdaInstance[]> {
    return this.get('/instances', instanceSchema.array());
  }
  instance(id: string): Promise<LambdaInstance> {
    return this.get(`/instances/${encodeURIComponent(id)}`, instanceSchema);
  }
  /** One attempt only: launching is not idempotent (see LambdaProvider.launch). */
  async launch(body: LaunchBody): Promise<string[]> {
    const r = await this.call({ method: 'POST', path: '/instance-operations/launch', body, retry: false }, launchSchema);
    return r.instance_ids;
  }
  async terminate(ids: string[]): Promise<void> {
    await this.call({ method: 'POST', path: '/instance-operations/terminate', body: { instance_ids: ids } }, terminateSchema);
  }

  // The account-wide (global) rules. PUT replaces the whole list, so repeating it is harmless:
  // it is retried like a read.
  firewallRules(): Promise<LambdaFirewallRule[]> {
    return this.get('/firewall-rules', firewallRuleSchema.array());
  }
  putFirewallRules(rules: LambdaRuleBody[]): Promise<LambdaFirewallRule[]> {
    return this.call({ method: 'PUT', path: '/firewall-rules', body: { data: rules } }, firewallRuleSchema.array());
  }
  /** The same list as firewallRules(), through the newer rulesets API. */
  globalRuleset(): Promise<LambdaGlobalRuleset> {
    return this.get('/firewall-rulesets/global', globalRulesetSchema);
  }
  patchGlobalRuleset(rules: LambdaRuleBody[]): Promise<LambdaGlobalRuleset> {
    return this.call({ method: 'PATCH', path: '/firewall-rulesets/global', body: { rules } }, globalRulesetSchema);
  }
  rulesets(): Promise<LambdaFirewallRuleset[]> {
    return this.get('/firewall-rulesets', firewallRulesetSchema.array());
  }
  ruleset(id: string): Promise<LambdaFirewallRuleset> {
    return this.get(`/firewall-rulesets/${encodeURIComponent(id)}`, firewallRulesetSchema);
  }
  /** One attempt only: a lost answer must not become a second ruleset (see LambdaFirewall.createRuleSet). */
  createRuleset(body: { name: string; region: string; rules: LambdaRuleBody[] }): Promise<LambdaFirewallRuleset> {
    return this.call({ method: 'POST', path: '/firewall-rulesets', body, retry: false }, firewallRulesetSchema);
  }
  /** Sets the name and/or the whole rule list: repeating it is harmless, so it is retried. */
  patchRuleset(id: string, body: { name?: string; rules?: LambdaRuleBody[] }): Promise<LambdaFirewallRuleset> {
    return this.call({ method: 'PATCH', path: `/firewall-rulesets/${encodeURIComponent(id)}`, body }, firewallRulesetSchema);
  }
  async deleteRuleset(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/firewall-rulesets/${encodeURIComponent(id)}` }, z.object({}).passthrough());
  }

  private get<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>> {
    return this.call({ method: 'GET', path }, schema);
  }

  private async call<T extends z.ZodType>(c: HttpCall, schema: T): Promise<z.infer<T>> {
    const res = await this.http.request(c);
    const parsed = dataOf(schema).safeParse(res.json);
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join('.') || 'body';
      throw new ProviderError(
        'lambda',
        'malformed',
        `Lambda Cloud answered ${c.method} ${c.path.split('?')[0]} with an unexpected shape (at ${where}).`,
        {
          status: res.status,
        },
      );
    }
    return (parsed.data as { data: z.infer<T> }).data;
  }
}
