// `<app binary> --cli ARGS...`: the packaged app runs the `moat` command line instead of its
// window. The packaged Electron has the RunAsNode fuse off (ELECTRON_RUN_AS_NODE is ignored, so
// the binary cannot be used as `node`), and users of the .dmg, the AppImage or the Windows
// installer may have no Node at all; this mode gives them the CLI from the app they installed.
// Where Node >= 20.19 is on PATH the .deb's /usr/bin/moat runs the CLI with it instead (faster to
// start: no Chromium), see build/linux/moat.sh.
//
// It runs before anything else in main: no single-instance lock (a CLI call while the window is
// open must not be captured by it and focus the window), no data-directory claim, no window. The
// CLI is the same bundle `npm run build` makes (dist/cli/moat.mjs, inside app.asar), imported in
// this process; its stdout, stderr and exit status are the command's.
//
// No 'electron' import here: main.ts passes what it needs, and test/electron-cli-mode.test.ts
// drives the rest.

export const CLI_FLAG = '--cli';

/**
 * The CLI's arguments when the app was started as `... --cli ARGS`, else null. Whatever comes
 * before `--cli` (the app path in development, Chromium switches) is not the CLI's.
 */
export function cliArguments(argv: readonly string[]): string[] | null {
  const i = argv.indexOf(CLI_FLAG);
  if (i === -1) return null;
  // After a `--`, `--cli` is somebody's argument, not ours (`moat run -- prog --cli`).
  const dashdash = argv.indexOf('--');
  if (dashdash !== -1 && dashdash < i) return null;
  return argv.slice(i + 1);
}

/** A count per resource type, from process.getActiveResourcesInfo(). */
function tally(resources: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of resources) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/** Whether `now` holds any resource beyond those of `baseline` (type by type). */
export function beyondBaseline(baseline: readonly string[], now: readonly string[]): boolean {
  const base = tally(baseline);
  for (const [type, n] of tally(now)) if (n > (base.get(type) ?? 0)) return true;
  return false;
}

export interface DrainOptions {
  /** What keeps the event loop alive now (process.getActiveResourcesInfo). */
  resources: () => string[];
  /** The same, taken before the CLI was loaded: Electron's own handles. */
  baseline: readonly string[];
  /** Waits without keeping the loop alive itself (an unref'd timer). */
  sleep: (ms: number) => Promise<void>;
  intervalMs?: number;
  /** Consecutive idle polls before the command counts as done. */
  settle?: number;
}

/**
 * Resolves once the CLI has nothing left that would keep plain Node running. Node exits when its
 * event loop is empty; Electron's main process does not (Chromium's loop keeps it up), so this is
 * where `moat history` and the like end. Commands that serve (`serve`, `daemon run`, `mcp`) keep
 * their sockets open and end by process.exit, as under Node.
 */
export async function waitForDrain(o: DrainOptions): Promise<void> {
  const interval = o.intervalMs ?? 25;
  const settle = o.settle ?? 2;
  let quiet = 0;
  while (quiet < settle) {
    await o.sleep(interval);
    quiet = beyondBaseline(o.baseline, o.resources()) ? 0 : quiet + 1;
  }
}

export interface CliRunOptions {
  args: string[];
  /** dist/cli/moat.mjs (inside app.asar when packaged). */
  entry: string;
  /** Loads the entry (a dynamic import); it parses process.argv as it loads. */
  load: (entry: string) => Promise<unknown>;
  exit: (code: number) => void;
  resources?: () => string[];
  /** Default: an unref'd timer (tests pass a ref'd one). */
  sleep?: (ms: number) => Promise<void>;
}

/** Runs the CLI with `args` as its command line, then exits with its status. */
export async function runCli(o: CliRunOptions): Promise<void> {
  const resources = o.resources ?? (() => process.getActiveResourcesInfo());
  const baseline = resources();
  // The CLI reads process.argv the way Node sets it: [node, script, ...args].
  process.argv = [process.execPath, o.entry, ...o.args];
  try {
    await o.load(o.entry);
  } catch (err) {
    process.stderr.write(`moat: could not load the command line (${o.entry}): ${err instanceof Error ? err.message : String(err)}\n`);
    o.exit(2);
    return;
  }
  await waitForDrain({
    resources,
    baseline,
    sleep: o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref())),
  });
  const code = process.exitCode;
  o.exit(typeof code === 'number' ? code : code === undefined || code === null ? 0 : Number(code) || 0);
}
