// The window opens where it was left — unless that place is off every screen now, or the file is damaged,
// in which case it opens at the default size where the OS puts it. Real files in a temp folder; Electron
// is the double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createMainWindow } from '../../electron/main/window.js';
import { DEFAULT_WINDOW, isVisibleOn, loadWindowState, saveWindowState, windowStateFile } from '../../electron/main/window-state.js';
import { createElectronDouble, type Rect } from '../helpers/electron-double.js';
import { tempDir } from '../helpers/tmp.js';

const laptop: Rect = { x: 0, y: 0, width: 1440, height: 870 };
const external: Rect = { x: 1440, y: 0, width: 2560, height: 1400 };

function open(dir: string, displays: Rect[]) {
  const e = createElectronDouble({ userData: dir, appPath: dir, displays });
  const warnings: string[] = [];
  const win = createMainWindow(e.asElectron(), {
    indexFile: path.join(dir, 'index.html'), preload: path.join(dir, 'preload.cjs'), stateFile: windowStateFile(dir),
    warn: (m) => warnings.push(m), saveDelayMs: 0,
  });
  return { e, fake: e.windows[0]!, win, warnings };
}

test('the window is saved on close and reopens with the same bounds and maximized state', (t) => {
  const dir = tempDir(t);
  const first = open(dir, [laptop, external]);
  assert.deepEqual({ width: first.fake.bounds.width, height: first.fake.bounds.height }, { width: DEFAULT_WINDOW.width, height: DEFAULT_WINDOW.height });
  assert.equal(first.fake.options.x, undefined, 'first run: the OS places the window');
  first.fake.setBounds({ x: 1600, y: 120, width: 1300, height: 900 });
  first.fake.maximize();
  first.fake.close();
  const saved = JSON.parse(readFileSync(windowStateFile(dir), 'utf8'));
  assert.deepEqual(saved, { x: 1600, y: 120, width: 1300, height: 900, maximized: true });

  const second = open(dir, [laptop, external]);
  assert.deepEqual([second.fake.options.x, second.fake.options.y, second.fake.options.width, second.fake.options.height], [1600, 120, 1300, 900]);
  assert.equal(second.fake.maximized, true);
  assert.deepEqual(second.warnings, []);
});

test('a place on a monitor that is gone is ignored: default size, placed by the OS', (t) => {
  const dir = tempDir(t);
  saveWindowState(windowStateFile(dir), { x: 2000, y: 200, width: 1300, height: 900 }, false);
  const { fake, warnings } = open(dir, [laptop]); // the external screen was unplugged
  assert.equal(fake.options.x, undefined);
  assert.equal(fake.options.width, DEFAULT_WINDOW.width);
  assert.ok(warnings.some((w) => w.includes('off every screen')));
});

test('a damaged or tampered state file is ignored, never fatal', (t) => {
  const dir = tempDir(t);
  const file = windowStateFile(dir);
  const bad = ['{"x": 10, "y":', '[]', '{"x":"10","y":0,"width":900,"height":700,"maximized":false}',
    '{"x":0,"y":0,"width":5,"height":5,"maximized":false}', '{"x":1e9,"y":0,"width":900,"height":700,"maximized":false}', ''];
  for (const content of bad) {
    writeFileSync(file, content);
    const warnings: string[] = [];
    const state = loadWindowState(file, [laptop], (m) => warnings.push(m));
    assert.deepEqual(state, { ...DEFAULT_WINDOW }, content);
    assert.equal(warnings.length, 1, content);
  }
  assert.deepEqual(loadWindowState(path.join(dir, 'missing.json'), [laptop]), { ...DEFAULT_WINDOW });
});

test('moves and resizes are saved without waiting for close', async (t) => {
  const dir = tempDir(t);
  const { fake } = open(dir, [laptop]);
  fake.setBounds({ x: 40, y: 50, width: 1000, height: 700 });
  const file = windowStateFile(dir);
  const deadline = Date.now() + 5000;
  while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { x: 40, y: 50, width: 1000, height: 700, maximized: false });
});

test('visibility needs a real overlap with some screen', () => {
  assert.equal(isVisibleOn({ x: 100, y: 100, width: 800, height: 600 }, [laptop]), true);
  assert.equal(isVisibleOn({ x: 1400, y: 100, width: 800, height: 600 }, [laptop]), false, 'only a 40 px sliver');
  assert.equal(isVisibleOn({ x: -790, y: 100, width: 800, height: 600 }, [laptop]), false);
  assert.equal(isVisibleOn({ x: 3000, y: 500, width: 800, height: 600 }, [laptop, external]), true);
  assert.equal(isVisibleOn({ x: 100, y: 100, width: 800, height: 600 }, []), false);
});
