// The window's size and place, remembered between launches in <data dir>/window.json. Pure logic
// (what to restore given the displays there are now) plus a small file store; no 'electron'
// import, so test/window-state.test.ts covers it without the binary.
//
// What is restored must be usable: a window saved on a monitor that is gone, or larger than the
// screen it lands on, is moved and shrunk onto a display that exists; a file that is missing,
// unreadable or corrupt gives the defaults (and is overwritten on the next save), never an error.
import fs from 'node:fs';
import path from 'node:path';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  /** The normal (not maximized) bounds; absent until the window was first saved. */
  bounds?: Rect;
  maximized: boolean;
}

export const DEFAULT_SIZE = { width: 1280, height: 820 };
export const MIN_SIZE = { width: 900, height: 600 };
/** At least this much of the title bar must be on a display for a saved position to be kept. */
const MIN_VISIBLE = 64;

export const WINDOW_STATE_FILE = 'window.json';

/** Parses the file's text; anything that is not a sane state gives the defaults. */
export function parseWindowState(text: string): WindowState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { maximized: false };
  }
  if (typeof raw !== 'object' || raw === null) return { maximized: false };
  const r = raw as Record<string, unknown>;
  const maximized = r.maximized === true;
  const b = r.bounds as Record<string, unknown> | undefined;
  if (typeof b !== 'object' || b === null) return { maximized };
  const nums = [b.x, b.y, b.width, b.height];
  if (!nums.every((n) => typeof n === 'number' && Number.isFinite(n) && Math.abs(n) < 1_000_000)) return { maximized };
  const bounds = {
    x: Math.round(b.x as number),
    y: Math.round(b.y as number),
    width: Math.round(b.width as number),
    height: Math.round(b.height as number),
  };
  if (bounds.width <= 0 || bounds.height <= 0) return { maximized };
  return { bounds, maximized };
}

/**
 * The bounds to open the window with, given the saved state and the work areas of the displays
 * connected now (the first is the primary). No saved position, or one no longer on any display:
 * the default size centred on the primary display. Always at most the size of the display it is
 * on and at least the minimum size (unless the display itself is smaller).
 */
export function restoreBounds(saved: WindowState, displays: Rect[]): Rect {
  const primary = displays[0] ?? { x: 0, y: 0, width: DEFAULT_SIZE.width, height: DEFAULT_SIZE.height };
  const b = saved.bounds;
  const home = b ? displays.find((d) => titleBarVisibleOn(b, d)) : undefined;
  if (!b || !home) {
    const size = fit(b ?? DEFAULT_SIZE, primary);
    return {
      ...size,
      x: primary.x + Math.round((primary.width - size.width) / 2),
      y: primary.y + Math.round((primary.height - size.height) / 2),
    };
  }
  const size = fit(b, home);
  // Pull it fully inside the display it was mostly on.
  const x = clamp(b.x, home.x, home.x + home.width - size.width);
  const y = clamp(b.y, home.y, home.y + home.height - size.height);
  return { x, y, ...size };
}

/** Whether enough of the window's top edge (where it is dragged from) lies on the display. */
function titleBarVisibleOn(b: Rect, d: Rect): boolean {
  const overlapX = Math.min(b.x + b.width, d.x + d.width) - Math.max(b.x, d.x);
  const topInside = b.y >= d.y - MIN_VISIBLE / 2 && b.y < d.y + d.height - MIN_VISIBLE / 2;
  return overlapX >= MIN_VISIBLE && topInside;
}

function fit(size: { width: number; height: number }, d: Rect): { width: number; height: number } {
  return {
    width: Math.min(Math.max(size.width, Math.min(MIN_SIZE.width, d.width)), d.width),
    height: Math.min(Math.max(size.height, Math.min(MIN_SIZE.height, d.height)), d.height),
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(v, Math.max(lo, hi)));
}

/** Reads <dataDir>/window.json; the defaults when it is missing or bad. */
export function loadWindowState(dataDir: string): WindowState {
  try {
    return parseWindowState(fs.readFileSync(path.join(dataDir, WINDOW_STATE_FILE), 'utf8'));
  } catch {
    return { maximized: false };
  }
}

/** Writes the state atomically (temporary file, then rename), readable only by the user. */
export function saveWindowState(dataDir: string, state: WindowState): void {
  const file = path.join(dataDir, WINDOW_STATE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}
