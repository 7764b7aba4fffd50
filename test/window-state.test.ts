// The window's remembered size and place (app/electron/window-state.ts): restored onto displays
// that exist, at a usable size; a missing or corrupt file gives the defaults; saves are atomic
// and owner-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_SIZE,
  loadWindowState,
  parseWindowState,
  restoreBounds,
  saveWindowState,
  WINDOW_STATE_FILE,
  type Rect,
} from '../app/electron/window-state';

const LAPTOP: Rect = { x: 0, y: 0, width: 1440, height: 900 };
const RIGHT_MONITOR: Rect = { x: 1440, y: 0, width: 2560, height: 1440 };

test('no saved place: the default size, centred on the primary display', () => {
  assert.deepEqual(restoreBounds({ maximized: false }, [LAPTOP]), {
    x: (1440 - DEFAULT_SIZE.width) / 2,
    y: (900 - DEFAULT_SIZE.height) / 2,
    ...DEFAULT_SIZE,
  });
  // No display reported at all: still a sane window.
  assert.deepEqual(restoreBounds({ maximized: false }, []), { x: 0, y: 0, ...DEFAULT_SIZE });
});

test('a saved place on a display that is there is restored as it was', () => {
  const b = { x: 1600, y: 100, width: 1300, height: 900 };
  assert.deepEqual(restoreBounds({ bounds: b, maximized: false }, [LAPTOP, RIGHT_MONITOR]), b);
});

test('a saved place on a monitor that is gone lands centred on the primary, shrunk to fit', () => {
  const b = { x: 1600, y: 100, width: 2000, height: 1200 };
  assert.deepEqual(restoreBounds({ bounds: b, maximized: false }, [LAPTOP]), { x: 0, y: 0, width: 1440, height: 900 });
  const small = { x: 3000, y: 200, width: 1000, height: 700 };
  assert.deepEqual(restoreBounds({ bounds: small, maximized: false }, [LAPTOP]), { x: 220, y: 100, width: 1000, height: 700 });
});

test('partly off its display: pulled inside it; a title bar above the top edge does not count as visible', () => {
  // Hanging off the right edge of the laptop by 300 px.
  assert.deepEqual(restoreBounds({ bounds: { x: 740, y: 50, width: 1000, height: 700 }, maximized: false }, [LAPTOP]), {
    x: 440,
    y: 50,
    width: 1000,
    height: 700,
  });
  // Title bar far above the display: not reachable, so treated as off-screen.
  assert.deepEqual(restoreBounds({ bounds: { x: 100, y: -500, width: 1000, height: 700 }, maximized: false }, [LAPTOP]), {
    x: 220,
    y: 100,
    width: 1000,
    height: 700,
  });
  // Only a sliver (under 64 px) across the edge: off-screen too.
  assert.deepEqual(restoreBounds({ bounds: { x: 1400, y: 100, width: 1000, height: 700 }, maximized: false }, [LAPTOP]), {
    x: 220,
    y: 100,
    width: 1000,
    height: 700,
  });
});

test('never smaller than the minimum size, unless the display itself is', () => {
  assert.deepEqual(restoreBounds({ bounds: { x: 10, y: 10, width: 200, height: 100 }, maximized: false }, [LAPTOP]), {
    x: 10,
    y: 10,
    width: 900,
    height: 600,
  });
  const tiny: Rect = { x: 0, y: 0, width: 800, height: 480 };
  assert.deepEqual(restoreBounds({ bounds: { x: 0, y: 0, width: 200, height: 100 }, maximized: false }, [tiny]), tiny);
});

test('parse: corrupt, partial or absurd files give the defaults, keeping what is sound', () => {
  assert.deepEqual(parseWindowState(''), { maximized: false });
  assert.deepEqual(parseWindowState('{"bounds": {"x": 1'), { maximized: false });
  assert.deepEqual(parseWindowState('null'), { maximized: false });
  assert.deepEqual(parseWindowState('[1,2]'), { maximized: false });
  assert.deepEqual(parseWindowState('{"maximized": true}'), { maximized: true });
  assert.deepEqual(parseWindowState('{"maximized": "yes", "bounds": {"x": 0, "y": 0, "width": -5, "height": 10}}'), { maximized: false });
  assert.deepEqual(parseWindowState('{"bounds": {"x": "0", "y": 0, "width": 800, "height": 600}}'), { maximized: false });
  assert.deepEqual(parseWindowState('{"bounds": {"x": 1e300, "y": 0, "width": 800, "height": 600}}'), { maximized: false });
  assert.deepEqual(parseWindowState('{"bounds": {"x": 10.4, "y": 20.6, "width": 800, "height": 600}, "maximized": true}'), {
    bounds: { x: 10, y: 21, width: 800, height: 600 },
    maximized: true,
  });
});

test('save and load: atomic, owner-only, and a corrupt file is tolerated then replaced', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-window-state-'));
  try {
    assert.deepEqual(loadWindowState(dir), { maximized: false }, 'no file yet');
    fs.writeFileSync(path.join(dir, WINDOW_STATE_FILE), '\u0000garbage');
    assert.deepEqual(loadWindowState(dir), { maximized: false });

    const state = { bounds: { x: 5, y: 6, width: 1000, height: 700 }, maximized: true };
    saveWindowState(dir, state);
    assert.deepEqual(loadWindowState(dir), state);
    if (process.platform !== 'win32') assert.equal(fs.statSync(path.join(dir, WINDOW_STATE_FILE)).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir), [WINDOW_STATE_FILE], 'no temporary file left behind');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
