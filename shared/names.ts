// The API's method and event names as plain data. shared/api builds zod schemas at load time;
// the preload (sandboxed, one small file) and the renderer's client need only the names.
// The type checks below make `tsc` fail if these lists and shared/api ever differ, either way.
import type { EventName, MethodName } from './api';

export const METHOD_NAMES = [
  'system.status',
  'templates.list',
  'sandbox.run',
  'sandbox.cancel',
  'sandbox.live',
  'runs.list',
  'runs.get',
  'settings.get',
  'settings.update',
  'keychain.status',
  'accounts.list',
  'accounts.add',
  'accounts.rotate',
  'accounts.remove',
  'instances.list',
  'instances.options',
  'instances.launch',
  'instances.terminate',
  'audit.list',
  'alerts.list',
  'alerts.counts',
  'alerts.ack',
  'alerts.suppressions',
  'alerts.suppress',
  'alerts.unsuppress',
  'egress.allowForTemplate',
  'egress.test',
  'firewall.overview',
  'firewall.show',
  'firewall.detectAddress',
  'firewall.plan',
  'firewall.apply',
  'targets.list',
  'hosts.add',
  'hosts.addInstance',
  'hosts.remove',
  'hosts.check',
  'hosts.prepare',
  'usage.watch',
  'usage.providerStats',
  'idle.get',
  'idle.set',
  'batch.start',
  'batch.list',
  'batch.get',
  'batch.results',
  'batch.cancel',
] as const satisfies readonly MethodName[];

export const EVENT_NAMES = [
  'run.output',
  'run.updated',
  'run.stats',
  'system.status',
  'instances.updated',
  'instances.launch',
  'audit.appended',
  'accounts.updated',
  'firewall.updated',
  'usage.sample',
  'hosts.prepare',
  'alerts.appended',
  'alerts.counts',
  'alerts.suppressions',
  'batch.progress',
  'ui.open',
] as const satisfies readonly EventName[];

type MissingMethod = Exclude<MethodName, (typeof METHOD_NAMES)[number]>;
type MissingEvent = Exclude<EventName, (typeof EVENT_NAMES)[number]>;
const methodsComplete: [MissingMethod] extends [never] ? true : MissingMethod = true;
const eventsComplete: [MissingEvent] extends [never] ? true : MissingEvent = true;
void methodsComplete;
void eventsComplete;

const METHOD_SET: ReadonlySet<string> = new Set<string>(METHOD_NAMES);
const EVENT_SET: ReadonlySet<string> = new Set<string>(EVENT_NAMES);

export function isMethodName(x: unknown): x is MethodName {
  return typeof x === 'string' && METHOD_SET.has(x);
}

export function isEventName(x: unknown): x is EventName {
  return typeof x === 'string' && EVENT_SET.has(x);
}
