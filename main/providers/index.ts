// The one place a Provider is built from its kind, so the accounts service (and later instances
// and firewalls) never name a concrete client. The key is a function read per call: no Provider
// holds it in a field.
import { LambdaProvider, lambdaBaseUrl } from './lambda/provider';
import { LinodeProvider, linodeBaseUrl } from './linode';
import type { Provider, ProviderKind, ProviderOptions } from './provider';

export const PROVIDER_KINDS: readonly ProviderKind[] = ['lambda', 'linode'];

export function isProviderKind(v: string): v is ProviderKind {
  return (PROVIDER_KINDS as readonly string[]).includes(v);
}

/**
 * The API base URL: MOAT_LAMBDA_API_URL / MOAT_LINODE_API_URL when set (how tests reach the fakes),
 * else the one from settings when given, else the provider's own.
 */
export function providerBaseUrl(kind: ProviderKind, configured?: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = kind === 'lambda' ? env.MOAT_LAMBDA_API_URL?.trim() : env.MOAT_LINODE_API_URL?.trim();
  if (override) return override;
  if (configured?.trim()) return configured.trim();
  return kind === 'lambda' ? lambdaBaseUrl({}) : linodeBaseUrl({});
}

export type CreateProviderOptions = Omit<ProviderOptions, 'baseUrl'> & { baseUrl?: string };

export function createProvider(kind: ProviderKind, o: CreateProviderOptions): Provider {
  const opts: ProviderOptions = { ...o, baseUrl: o.baseUrl ?? providerBaseUrl(kind) };
  return kind === 'lambda' ? new LambdaProvider(opts) : new LinodeProvider(opts);
}
