// The lifecycle of one run in one sandbox: attach, start (cold) or reuse (warm, exactly once),
// send the program, stream output, enforce the wall-clock timeout and the output cap, wait,
// classify how it ended, and remove the container on every path.
import type Dockerode from 'dockerode';
import type { Duplex } from 'node:stream';
import type { EndReason, Limits, StatsSample, StreamName } from '../../shared/types';
import { sampleContainer } from '../metrics/container-stats';
import { engineErrorMessage, withTimeout } from './engine';
import { ExitMarker } from './exit-marker';
import { DockerDemuxer, OutputSink, type CapturedOutput } from './output';

export interface RunHooks {
  onStarted(startedAt: number): void;
  onOutput(stream: StreamName, data: string): void;
  onStats(sample: StatsSample): void;
}

export interface RunOutcome {
  endReason: EndReason;
  exitCode: number | null;
  error?: string;
  startedAt?: number;
  endedAt: number;
  output: CapturedOutput;
  peakMemoryBytes?: number;
  /**
   * Removal of the container, started when the run ended (the result is not held back for it).
   * Resolves true when the container may still exist (engine gone): the caller retries later.
   */
  removal: Promise<boolean>;
}

export interface RunInput {
  docker: Dockerode;
  runId: string;
  /** A created container: fresh (cold) or a started warm one that has never run anything. */
  container: Dockerode.Container;
  alreadyStarted: boolean;
  script: string;
  /** The marker the script prints when the program exits (see exit-marker.ts). */
  exitNonce: string;
  limits: Limits;
  hooks: RunHooks;
}

/** A handle to stop a run early. */
export interface RunControl {
  stop(reason: 'cancelled'): void;
}

// How long to keep reading output after the engine reports the exit (buffered tail).
const DRAIN_MS = 2000;

export function startRun(input: RunInput): { control: RunControl; done: Promise<RunOutcome> } {
  let stopReason: EndReason | null = null;
  let killRequested: (() => void) | null = null;
  const control: RunControl = {
    stop(reason) {
      if (stopReason === null) stopReason = reason;
      killRequested?.();
    },
  };
  const done = execute(input, {
    reason: () => stopReason,
    setReason: (r) => {
      if (stopReason === null) stopReason = r;
    },
    registerKill: (fn) => {
      killRequested = fn;
      if (stopReason !== null) fn();
    },
  });
  return { control, done };
}

interface StopState {
  reason(): EndReason | null;
  setReason(r: EndReason): void;
  registerKill(fn: () => void): void;
}

async function execute(input: RunInput, stop: StopState): Promise<RunOutcome> {
  const { container, limits, hooks } = input;
  let peak = 0;
  let startedAt: number | undefined;
  let stream: Duplex | null = null;
  let stopStats: (() => void) | null = null;
  let timeout: NodeJS.Timeout | null = null;
  let streamEnded: Promise<void> = Promise.resolve();

  const kill = (): void => {
    // Kill first (fast, keeps the container for inspection); removal follows in `finally`.
    container.kill({ signal: 'SIGKILL' }).catch(() => {});
  };
  const sink = new OutputSink({
    capBytes: limits.outputBytes,
    emit: (s, d) => hooks.onOutput(s, d),
    onCap: () => {
      if (limits.onOutputLimit === 'stop') {
        stop.setReason('output-limit');
        kill();
      }
    },
  });

  let programExited: (status: number) => void = () => {};
  const markerExit = new Promise<number>((resolve) => (programExited = resolve));

  try {
    stream = (await withTimeout(
      container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }),
      10_000,
    )) as unknown as Duplex;
    const marker = new ExitMarker(input.exitNonce, (status) => programExited(status));
    const demux = new DockerDemuxer((s, chunk) => {
      const data = marker.filter(s, chunk);
      if (data.length > 0) sink.write(s, data);
    });
    // Always keep reading, even past the cap: a stalled attach stream can make `docker kill` hang.
    streamEnded = new Promise<void>((resolve) => {
      stream!.on('data', (b: Buffer) => demux.push(b));
      stream!.on('end', () => resolve());
      stream!.on('close', () => resolve());
      stream!.on('error', () => resolve());
    });

    const waited = container.wait({ condition: input.alreadyStarted ? 'not-running' : 'next-exit' }) as Promise<{ StatusCode: number }>;
    waited.catch(() => {});
    if (!input.alreadyStarted) await container.start();

    stop.registerKill(kill);
    stream.end(input.script);
    startedAt = Date.now();
    hooks.onStarted(startedAt);
    timeout = setTimeout(() => {
      stop.setReason('timeout');
      kill();
    }, limits.timeoutMs);
    stopStats = sampleContainer(container, input.runId, (s) => {
      peak = Math.max(peak, s.memoryBytes);
      hooks.onStats(s);
    });

    // Whichever comes first: the program's exit marker, or the engine reporting the sandbox gone
    // (killed, OOM, or the bootstrap itself failed).
    const first = await Promise.race([
      markerExit.then((status) => ({ by: 'marker' as const, status })),
      waited.then((r) => ({ by: 'engine' as const, status: r.StatusCode })),
    ]);
    const endedAt = Date.now();
    if (first.by === 'engine') {
      await Promise.race([streamEnded, delay(DRAIN_MS)]);
      for (const s of ['stdout', 'stderr'] as const) {
        const held = marker.drain(s);
        if (held.length > 0) sink.write(s, held);
      }
    }
    const exitCode = first.status;
    let endReason: EndReason = stop.reason() ?? 'exited';
    // The OOM killer's SIGKILL shows as 137; only then is the engine asked whether it was OOM.
    if (first.by === 'engine' && endReason === 'exited' && exitCode === 137) {
      const info = await withTimeout(container.inspect(), 10_000);
      if (info.State?.OOMKilled) endReason = 'oom';
    }
    return finish({ endReason, exitCode, startedAt, endedAt });
  } catch (err) {
    const reason = stop.reason();
    return finish({
      endReason: 'failed',
      exitCode: null,
      error: reason ? `${engineErrorMessage(err)} (while stopping after ${reason})` : engineErrorMessage(err),
      startedAt,
      endedAt: Date.now(),
    });
  } finally {
    if (timeout) clearTimeout(timeout);
    stopStats?.();
    stream?.destroy();
  }

  function finish(o: Omit<RunOutcome, 'output' | 'peakMemoryBytes' | 'removal'>): RunOutcome {
    return { ...o, output: sink.close(), ...(peak > 0 ? { peakMemoryBytes: peak } : {}), removal: removeContainer(container) };
  }
}

/** Force-removes a container; returns true if it may still exist (engine unreachable). */
export async function removeContainer(container: Dockerode.Container): Promise<boolean> {
  try {
    await withTimeout(container.remove({ force: true, v: true }), 15_000);
    return false;
  } catch (err) {
    const code = (err as { statusCode?: number }).statusCode;
    // 404: already gone. 409: removal already in progress.
    return !(code === 404 || code === 409);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
