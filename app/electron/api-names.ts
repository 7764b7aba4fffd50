// The method and event names the preload lets through, without importing shared/api at run time:
// that module builds zod schemas, which would put all of zod (~450 KB) into the sandboxed preload.
// The type checks below make `tsc` fail if these lists and shared/api ever differ, either way.
import type { EventName, MethodName } from '../../shared/api';

const METHODS = [
  'system.status',
  'templates.list',
  'sandbox.run',
  'sandbox.cancel',
  'sandbox.live',
  'runs.list',
  'runs.get',
  'settings.get',
  'settings.update',
] as const satisfies readonly MethodName[];

const EVENTS = ['run.output', 'run.updated', 'run.stats', 'system.status'] as const satisfies readonly EventName[];

type MissingMethod = Exclude<MethodName, (typeof METHODS)[number]>;
type MissingEvent = Exclude<EventName, (typeof EVENTS)[number]>;
const methodsComplete: [MissingMethod] extends [never] ? true : MissingMethod = true;
const eventsComplete: [MissingEvent] extends [never] ? true : MissingEvent = true;
void methodsComplete;
void eventsComplete;

const METHOD_SET: ReadonlySet<string> = new Set<string>(METHODS);
const EVENT_SET: ReadonlySet<string> = new Set<string>(EVENTS);

export function isMethodName(x: unknown): x is MethodName {
  return typeof x === 'string' && METHOD_SET.has(x);
}

export function isEventName(x: unknown): x is EventName {
  return typeof x === 'string' && EVENT_SET.has(x);
}
