// Batches: many run requests run with bounded concurrency (`moat batch`, the API's batch.*).
import { z } from 'zod';
import { EndReason } from './types';

/** How a batch item ended: a run's end reason, or 'invalid' for a line that is not a run request. */
export const BatchEnd = z.union([EndReason, z.literal('invalid')]);
export type BatchEnd = z.infer<typeof BatchEnd>;

export const BatchItemId = z.string().min(1).max(200);

/** One finished item, in completion order. */
export const BatchResult = z.object({
  id: z.string(),
  runId: z.string().optional(),
  endReason: BatchEnd,
  exitCode: z.number().int().nullable(),
  durationMs: z.number(),
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
  stdout: z.string(),
  stderr: z.string(),
  /** Output past the run's cap was dropped. */
  truncated: z.boolean(),
  /** Why it failed, or why the line is invalid. */
  error: z.string().optional(),
});
export type BatchResult = z.infer<typeof BatchResult>;

export const BatchRunRef = z.object({
  id: z.string(),
  runId: z.string().optional(),
  endReason: BatchEnd,
  exitCode: z.number().int().nullable(),
  durationMs: z.number(),
  error: z.string().optional(),
});
export type BatchRunRef = z.infer<typeof BatchRunRef>;

export const BatchStatus = z.enum(['running', 'done', 'cancelled']);

export const BatchSummary = z.object({
  batchId: z.string(),
  name: z.string().optional(),
  status: BatchStatus,
  concurrency: z.number().int(),
  total: z.number().int(),
  done: z.number().int(),
  /** Exited 0. */
  passed: z.number().int(),
  failed: z.number().int(),
  running: z.number().int(),
  /** Finished items a second since the batch started. */
  rate: z.number(),
  /** Estimated milliseconds left (null until one item has finished). */
  etaMs: z.number().nullable(),
  startedAt: z.number(),
  endedAt: z.number().optional(),
  /** The five slowest finished runs. */
  slowest: z.array(BatchRunRef),
  /** The first twenty that did not exit 0. */
  failing: z.array(BatchRunRef),
});
export type BatchSummary = z.infer<typeof BatchSummary>;

/** A batch's results with a preview of each output (runs.get has the whole). */
export const BatchDetail = z.object({
  summary: BatchSummary,
  results: z.array(BatchResult),
});
export type BatchDetail = z.infer<typeof BatchDetail>;

export const BATCH_MAX_ITEMS = 10_000;
export const BATCH_MAX_CONCURRENCY = 64;

export const BatchStartRequest = z
  .object({
    /** Run requests, each with an `id`; an item that is not one is reported as 'invalid'. */
    items: z.array(z.unknown()).min(1).max(BATCH_MAX_ITEMS),
    concurrency: z.number().int().min(1).max(BATCH_MAX_CONCURRENCY).optional(),
    name: z.string().max(200).optional(),
  })
  .strict();
