// Batches: many run requests run with bounded concurrency (`moat batch`, the API's batch.*).
import * as z from 'zod';
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

/** How long a batch.results call may wait for something new. */
export const BATCH_WAIT_MAX_MS = 30_000;

export const BatchStartRequest = z
  .object({
    /**
     * Run requests, each with an `id`; an item that is not one is reported as 'invalid'. An item
     * `{id, invalid: reason}` is reported as 'invalid' with that reason: `moat batch` sends the lines
     * of its file it could not read that way, so that the batch's counts are its file's.
     */
    items: z.array(z.unknown()).min(1).max(BATCH_MAX_ITEMS),
    concurrency: z.number().int().min(1).max(BATCH_MAX_CONCURRENCY).optional(),
    name: z.string().max(200).optional(),
    /**
     * Cancel the batch when nobody has asked for its results (batch.results) for this long: a
     * client that follows its batch (`moat batch`) and is killed does not leave it running.
     */
    cancelIfUnfollowedMs: z.number().int().min(1000).max(3_600_000).optional(),
  })
  .strict();

export const BatchResultsRequest = z
  .object({
    id: z.string().min(1).max(64),
    /** Results from this index on (completion order); results are never reordered or removed. */
    from: z.number().int().min(0),
    /** Wait up to this long for a result past `from` (or the batch's end) before answering. */
    waitMs: z.number().int().min(0).max(BATCH_WAIT_MAX_MS).optional(),
  })
  .strict();

/** A batch's summary and its results from an index on (each output a short preview; runs.get has the whole). */
export const BatchResultsPage = z.object({
  summary: BatchSummary,
  from: z.number().int(),
  results: z.array(BatchResult),
});
export type BatchResultsPage = z.infer<typeof BatchResultsPage>;
