// The lifecycle of one run in one sandbox: attach, start (cold) or reuse (warm, exactly once),
// send the program, stream output, enforce the wall-clock timeout and the output cap, and decide
// how it ended (outcome.ts). Every engine call has a deadline (engine.ts): a run holds its slot for
// at most its timeout plus the engine's grace, whatever the engine does. Removing the sandbox is
// the caller's (tracker.ts), after the result is recorded.
import type { Duplex } from 'node:stream';
import type { EndReason, Limits, StatsSample, StreamName } from '../../shared/types';
import { sampleSandbox } from '../metrics/container-stats';
import { engineErrorMessage, isConnectionError, type SandboxEngine } from './engine';
import type { ArtifactTrailer, CollectedArtifact } from './artifacts';
import { ExitMarker } from './exit-marker';
import type { OutputFilter } from '../egress/filter-worker';
import { DockerDemuxer, OutputSink, type CapturedOutput } from './output';
import { EndRace, decideOutcome, type StopReason } from './outcome';

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
  /** Highest task count seen in the sandbox's PID cgroup, where the engine can tell. */
  peakTasks?: number;
  /** The artifacts asked for, as they came out of the sandbox (unfiltered: the caller scans them). */
  artifacts?: CollectedArtifact[];
  /**
   * After an end by the exit marker: settles once the engine has seen the sandbox exit by itself
   * (its bootstrap exits right after the marker), or after EXIT_AFTER_MARKER_MS. Removing it after
   * that spares the engine a kill: under gVisor one more `runsc kill` process on its host.
   */
  sandboxExited?: Promise<void>;
}

export interface RunInput {
  engine: SandboxEngine;
  runId: string;
  /** A created container: fresh (cold) or a started warm one that has never run anything. */
  containerId: string;
  alreadyStarted: boolean;
  script: string;
  /** The marker the script prints when the program exits (see exit-marker.ts). */
  exitNonce: string;
  limits: Limits;
  gvisor: boolean;
  /** The sandbox's cgroup PID limit (profile.ts), to tell a backstop kill. */
  pidsLimit: number;
  hooks: RunHooks;
  /** The egress filter between the sandbox's streams and the sink; absent when the run opted out. */
  filter?: OutputFilter;
  /** Reads the artifacts the script prints after the stdout marker (artifacts.ts). */
  trailer?: ArtifactTrailer;
}

/** A handle to stop a run early. */
export interface RunControl {
  stop(reason: 'cancelled'): void;
}

// How long to keep reading output after the engine reports the exit (buffered tail).
const DRAIN_MS = 2000;
// An unexplained end is checked against the engine for this long: a daemon that is shutting down
// kills its containers first and closes its socket a moment later.
const ENGINE_LOSS_CHECK_MS = 1500;
// How long a removal waits for a sandbox to exit by itself once its program has (see sandboxExited).
const EXIT_AFTER_MARKER_MS = 2000;

type Ending =
  | { by: 'marker'; status: number | null }
  | { by: 'engine'; status: number }
  | { by: 'engine-error'; error: unknown }
  | { by: 'hung' }
  | { by: 'stop-unconfirmed' };

export function startRun(input: RunInput): { control: RunControl; done: Promise<RunOutcome> } {
  const race = new EndRace();
  let kill: (() => void) | null = null;
  let pendingStop = false;
  const requestStop = (reason: StopReason): void => {
    if (!race.record({ kind: 'stop', reason })) return;
    if (kill) kill();
    else pendingStop = true;
  };
  const control: RunControl = { stop: (reason) => requestStop(reason) };
  const done = execute(input, race, requestStop, (fn) => {
    kill = fn;
    if (pendingStop) fn();
  });
  return { control, done };
}

async function execute(
  input: RunInput,
  race: EndRace,
  requestStop: (reason: StopReason) => void,
  registerKill: (fn: () => void) => void,
): Promise<RunOutcome> {
  const { engine, containerId: id, limits, hooks } = input;
  const { graceMs, shortMs } = engine.deadlines;
  let peak = 0;
  let peakStatsTasks = 0;
  let startedAt: number | undefined;
  let stream: Duplex | null = null;
  let stopStats: (() => void) | null = null;
  let sandboxExited: Promise<void> | undefined;
  const timers: NodeJS.Timeout[] = [];
  // Ends the engine wait when the run is over, whichever way (the engine may never answer it).
  const waitCancel = new AbortController();
  const pids = engine.watchPids(id);
  let settle: (e: Ending) => void = () => {};
  const ending = new Promise<Ending>((resolve) => (settle = resolve));

  const sink = new OutputSink({
    capBytes: limits.outputBytes,
    emit: (s, d) => hooks.onOutput(s, d),
    onCap: () => {
      if (limits.onOutputLimit === 'stop') requestStop('output-limit');
    },
  });
  // Output goes through the egress filter when there is one: what it releases (redacted) is all
  // the sink, and so every viewer, the history and the caller, ever get. It scans in a worker
  // thread (filter-worker.ts), which releases held bytes by its own timer; while it is behind,
  // the attach stream is paused (see `attached` below).
  const filter = input.filter;
  let outputClosed = false;
  const write = (s: StreamName, data: Buffer): void => {
    if (outputClosed) return;
    // Past the output cap nothing more is shown, stored or returned (the sink only counts it), so
    // it is not scanned either: a flood costs the filter at most the cap.
    if (!filter || sink.captured.truncated) {
      sink.write(s, data);
      return;
    }
    filter.push(s, data);
  };
  filter?.onRelease((s, data) => sink.write(s, data));
  filter?.onStop((why) => {
    if (why === 'secret-found' || limits.onOutputLimit === 'stop') requestStop(why);
  });
  // A filter that fails ends the run `failed` (finish): nothing unscanned reaches the sink.
  filter?.onFailure(() => requestStop('cancelled'));

  try {
    stream = await engine.attach(id);
    let markerSeen: { status: number | null } | null = null;
    const marker = new ExitMarker(
      input.exitNonce,
      (status) => {
        markerSeen = { status };
        // Recorded here, synchronously: a timer cannot slip in between the exit and the decision.
        race.record({ kind: 'marker', status });
        settle({ by: 'marker', status });
      },
      input.trailer,
    );
    const demux = new DockerDemuxer((s, chunk) => {
      const data = marker.filter(s, chunk);
      if (data.length > 0) write(s, data);
    });
    // Always keep reading, even past the cap: a stalled attach stream can make `docker kill` hang.
    // The one pause is the filter's, while its worker is more than a few MiB behind; it resumes as
    // the worker catches up, fails, or the run ends or is stopped (pausing is off from then on).
    const attached = stream;
    let mayPause = true;
    filter?.onPressure((pause) => {
      if (pause && mayPause) attached.pause();
      else attached.resume();
    });
    const streamEnded = new Promise<void>((resolve) => {
      attached.on('data', (b: Buffer) => demux.push(b));
      attached.on('end', () => resolve());
      attached.on('close', () => resolve());
      attached.on('error', () => resolve());
    });

    const waited = engine.wait(
      id,
      input.alreadyStarted ? 'not-running' : 'next-exit',
      shortMs + limits.timeoutMs + graceMs,
      waitCancel.signal,
    );
    waited.then(
      (status) => {
        race.record({ kind: 'engine', status });
        settle({ by: 'engine', status });
      },
      (error: unknown) => settle({ by: 'engine-error', error }),
    );
    if (!input.alreadyStarted) await engine.start(id);

    registerKill(() => {
      mayPause = false;
      attached.resume();
      engine.kill(id).catch(() => {});
      // A stop the engine does not confirm within its grace still ends the run (the slot is
      // freed); the sandbox stays tracked and is removed once the engine answers.
      timers.push(setTimeout(() => settle({ by: 'stop-unconfirmed' }), graceMs));
    });
    stream.end(input.script);
    startedAt = Date.now();
    hooks.onStarted(startedAt);
    timers.push(setTimeout(() => requestStop('timeout'), limits.timeoutMs));
    stopStats = sampleSandbox(
      engine,
      id,
      input.runId,
      (s) => {
        peak = Math.max(peak, s.memoryBytes);
        peakStatsTasks = Math.max(peakStatsTasks, s.pids);
        hooks.onStats(s);
      },
      () => {
        // The engine sends stats about once a second; silence means it is busy or hung.
        void engine.ping().then((ok) => {
          if (!ok) settle({ by: 'hung' });
        });
      },
    );

    const end = await ending;
    const endedAt = Date.now();
    let engineStatus: number | null = end.by === 'engine' ? end.status : null;
    let oomKilled = false;
    let engineLost = false;

    if (end.by === 'marker') {
      // Fast path: the program exited and every output byte has arrived. Only a SIGKILL status
      // (possibly the OOM killer under runc) or an unreadable status needs the engine's word.
      if (end.status === null || end.status === 137) {
        engineStatus = await settled(waited, graceMs);
        if (end.status === 137) oomKilled = (await engine.inspect(id).catch(() => null))?.oomKilled ?? false;
      } else {
        // The engine's wait stays open a little longer: the caller removes the sandbox once it has exited.
        sandboxExited = settled(waited, EXIT_AFTER_MARKER_MS).then(() => waitCancel.abort());
      }
    } else if (end.by === 'engine') {
      await Promise.race([streamEnded, delay(DRAIN_MS)]);
      for (const s of ['stdout', 'stderr'] as const) {
        const held = marker.drain(s);
        if (held.length > 0) write(s, held);
      }
      if (race.stopReason === null) {
        const state = await engine.inspect(id).catch((err: unknown) => {
          if (isConnectionError(err)) engineLost = true;
          return null;
        });
        oomKilled = state?.oomKilled ?? false;
        if (!oomKilled && !engineLost) engineLost = await engineGone(engine);
      }
    } else if (race.stopReason === null) {
      const why =
        end.by === 'hung'
          ? `The Docker engine stopped answering while the program was running (no stats for ${Math.round(engine.deadlines.silenceMs / 1000)} s, and no answer to a ping).`
          : end.by === 'engine-error'
            ? `${engineErrorMessage(end.error)} The run was cut off from its sandbox while the program was running.`
            : 'The sandbox did not stop.';
      engine.kill(id).catch(() => {});
      return await finish({ endReason: 'failed', exitCode: null, error: why, startedAt, endedAt });
    }

    let first = race.winner!;
    // The engine's report can overtake the output on its own connection: a marker that arrived
    // while the output drained still says the program exited, and with which status.
    const seen = markerSeen as { status: number | null } | null;
    if (first.kind === 'engine' && seen) first = { kind: 'marker', status: seen.status };
    if (first.kind === 'stop' && (end.by === 'stop-unconfirmed' || end.by === 'engine-error')) {
      return await finish({
        endReason: first.reason,
        exitCode: null,
        error: 'The Docker engine did not confirm that the sandbox stopped; Moat removes it once the engine answers.',
        startedAt,
        endedAt,
      });
    }
    const outcome = decideOutcome({
      first,
      engineStatus,
      oomKilled,
      gvisor: input.gvisor,
      pids: { limitHit: pids.limitHit, peak: Math.max(pids.peak, peakStatsTasks), backstop: input.pidsLimit },
      engineLost,
      processes: limits.processes,
    });
    return await finish({ ...outcome, startedAt, endedAt });
  } catch (err) {
    const reason = race.stopReason;
    return await finish({
      endReason: 'failed',
      exitCode: null,
      error: reason ? `${engineErrorMessage(err)} (while stopping after ${reason})` : engineErrorMessage(err),
      startedAt,
      endedAt: Date.now(),
    });
  } finally {
    for (const t of timers) clearTimeout(t);
    if (!sandboxExited) waitCancel.abort();
    stopStats?.();
    pids.stop();
    stream?.destroy();
  }

  async function finish(o: Omit<RunOutcome, 'output' | 'peakMemoryBytes' | 'peakTasks' | 'artifacts'>): Promise<RunOutcome> {
    const closing = !outputClosed;
    outputClosed = true;
    let filterError: string | null = null;
    // The scanner's tail (and, for `block`, everything held) reaches the sink before it closes.
    if (filter && closing) await filter.end().catch((err: unknown) => (filterError = (err as Error).message));
    const tasks = Math.max(pids.peak, peakStatsTasks);
    return {
      ...o,
      ...(filterError ? { endReason: 'failed' as const, exitCode: null, error: `the egress filter failed: ${filterError}` } : {}),
      output: sink.close(),
      ...(peak > 0 ? { peakMemoryBytes: peak } : {}),
      ...(tasks > 0 ? { peakTasks: tasks } : {}),
      ...(input.trailer ? { artifacts: input.trailer.result() } : {}),
      ...(sandboxExited ? { sandboxExited } : {}),
    };
  }
}

/** The engine's answer, or null if it fails or takes longer than `ms`. */
async function settled<T>(p: Promise<T>, ms: number): Promise<T | null> {
  return Promise.race([p.catch(() => null), delay(ms).then(() => null)]);
}

/** True when the engine stops answering within a short while (it is shutting down or gone). */
async function engineGone(engine: SandboxEngine): Promise<boolean> {
  const until = Date.now() + ENGINE_LOSS_CHECK_MS;
  while (Date.now() < until) {
    if (!(await engine.ping())) return true;
    await delay(250);
  }
  return false;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
