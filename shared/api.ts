// The whole Moat API, declared once. Both transports (Electron IPC via the preload, and the
// headless host's WebSocket) carry exactly these methods and events; main implements `ApiHandlers`,
// the renderer calls through `createClient` (shared/client.ts).
import { z } from 'zod';
import type { ErrorPayload } from './errors';
import { OutputChunk, RunDetail, RunRecord, RunRequest, Settings, StatsSample, SystemStatus, Template } from './types';

const Empty = z.object({}).strict().optional();

/** Request/response methods: params schema (validated in main) and result schema. */
export const methods = {
  'system.status': { params: Empty, result: SystemStatus },
  'templates.list': { params: Empty, result: z.array(Template) },
  'sandbox.run': { params: RunRequest, result: z.object({ runId: z.string() }) },
  'sandbox.cancel': { params: z.object({ runId: z.string().min(1).max(64) }).strict(), result: z.object({ cancelled: z.boolean() }) },
  /** Runs not yet finished. */
  'sandbox.live': { params: Empty, result: z.array(RunRecord) },
  'runs.list': {
    params: z
      .object({ limit: z.number().int().min(1).max(1000).optional(), before: z.number().optional() })
      .strict()
      .optional(),
    result: z.array(RunRecord),
  },
  'runs.get': { params: z.object({ id: z.string().min(1).max(64) }).strict(), result: RunDetail },
  'settings.get': { params: Empty, result: Settings },
  'settings.update': { params: Settings.partial().strict(), result: Settings },
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type ParamsOf<M extends MethodName> = z.input<Methods[M]['params']>;
export type ResultOf<M extends MethodName> = z.infer<Methods[M]['result']>;

/** Events pushed from main to every connected UI. */
export const events = {
  'run.output': OutputChunk,
  'run.updated': RunRecord,
  'run.stats': StatsSample,
  'system.status': SystemStatus,
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventOf<E extends EventName> = z.infer<Events[E]>;

/** What main implements: one async function per method, params already validated. */
export type ApiHandlers = {
  [M in MethodName]: (params: z.infer<Methods[M]['params']>) => Promise<ResultOf<M>>;
};

/** Every answer crosses the boundary in this envelope. */
export type Envelope<T> = { ok: true; result: T } | { ok: false; error: ErrorPayload };
