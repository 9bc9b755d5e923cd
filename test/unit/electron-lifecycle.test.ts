// The app's life with Electron replaced by the double and the station by a fake: one instance per user
// (a second launch focuses the window), the station started with the OS's user-data folder, the window
// hidden (not destroyed) on close, the tray and notifications following the change stream, and quitting
// stopping the station before the app exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runApp } from '../../electron/main/lifecycle.js';
import { IPC } from '../../shared/contract/station-api.js';
import { createElectronDouble, FakeStation, device, snapshot, task } from '../helpers/electron-double.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

function launch(t: Parameters<typeof tempDir>[0], opts: { gotLock?: boolean; failStart?: boolean; stopTimeoutMs?: number; hangStop?: boolean; noTray?: boolean } = {}) {
  const dir = tempDir(t);
  const e = createElectronDouble({ userData: path.join(dir, 'userData'), appPath: path.join(dir, 'app'), gotLock: opts.gotLock ?? true,
    trayUnavailable: opts.noTray ?? false });
  const station = new FakeStation(snapshot({ devices: [device()], tasks: [task()] }));
  const started: Array<{ dataDir: string }> = [];
  const log: string[] = [];
  const running = runApp(e.asElectron(), {
    startRuntime: async (o) => {
      started.push(o);
      if (opts.failStart) throw new Error('the station database is locked by another program');
      const runtime = station.runtime();
      return opts.hangStop ? { ...runtime, stop: () => new Promise<void>(() => {}) } : runtime;
    },
    log: (l) => log.push(l), saveDelayMs: 0, stopTimeoutMs: opts.stopTimeoutMs ?? 10_000,
  });
  e.ready();
  return { e, station, started, log, running, dir };
}

test('a second instance quits at once and starts nothing', async (t) => {
  const { e, started, running } = launch(t, { gotLock: false });
  assert.equal(await running, null);
  assert.equal(e.app.quitRequests, 1);
  assert.equal(started.length, 0);
  assert.equal(e.windows.length, 0);
});

test('a second launch brings the running window forward', async (t) => {
  const { e, running } = launch(t);
  const app = (await running)!;
  const win = e.windows[0]!;
  win.minimize();
  win.hide();
  e.app.secondLaunch(['dockhand']);
  assert.deepEqual([win.minimized, win.visible, win.focused], [false, true, true]);
  assert.equal(app.window() !== null, true);
});

test('the station runs in the main process with data in userData, sandboxed renderers, hardened session', async (t) => {
  const { e, started, running } = launch(t);
  await running;
  assert.deepEqual(started.map((s) => s.dataDir), [e.app.getPath('userData')]);
  assert.equal(e.app.sandboxed, true);
  assert.ok(e.session.defaultSession.permissionRequestHandler, 'permission handler installed');
  assert.ok(e.session.defaultSession.beforeRequest, 'request filter installed');
  const win = e.windows[0]!;
  assert.equal(win.loadedFile, path.join(e.app.getAppPath(), 'renderer', 'dist', 'index.html'));
  assert.equal(win.options.webPreferences!.preload, path.join(e.app.getAppPath(), 'dist', 'preload.cjs'));
  assert.equal(win.webContents.tryNavigate('https://example.com/'), false, 'every webContents is hardened as it is created');
});

test("IPC answers the window's own page and refuses others", async (t) => {
  const { e, station, running } = launch(t);
  await running;
  const win = e.windows[0]!;
  assert.equal(win.webContents.mainFrame.url, pathToFileURL(win.loadedFile!).href);
  const snap = await e.ipcMain.invoke(IPC.getSnapshot, win.webContents, win.webContents.mainFrame) as { devices: unknown[] };
  assert.equal(snap.devices.length, 1);
  await e.ipcMain.invoke(IPC.execute, win.webContents, win.webContents.mainFrame, { type: 'forgetDevice', id: 'dev-1' });
  assert.deepEqual(station.commands, [{ type: 'forgetDevice', id: 'dev-1' }]);
  win.webContents.mainFrame.url = 'https://evil.example/';
  await assert.rejects(e.ipcMain.invoke(IPC.getSnapshot, win.webContents, win.webContents.mainFrame), /refused/);
});

test('closing the window hides it: the station keeps running in the tray', async (t) => {
  const { e, station, running } = launch(t);
  await running;
  const win = e.windows[0]!;
  win.show();
  win.close();
  assert.equal(win.isDestroyed(), false);
  assert.equal(win.visible, false);
  assert.equal(station.stopped, false);
  e.trays[0]!.clickItem('Show Dockhand');
  assert.equal(win.visible, true);
});

test('without a tray, closing the window quits (and stops the station)', async (t) => {
  const { e, station, running, log } = launch(t, { noTray: true });
  const app = (await running)!;
  assert.equal(app.tray, null);
  assert.ok(log.some((l) => l.includes('no tray icon')));
  e.windows[0]!.close();
  await app.stopped;
  await waitFor('the app to quit', () => e.app.quitted);
  assert.equal(station.stopped, true);
});

test('the tray and notifications follow the change stream', async (t) => {
  const { e, station, running } = launch(t);
  const app = (await running)!;
  const tray = e.trays[0]!;
  assert.match(tray.tooltip, /Online · 1 device docked · 0 active transfers/);
  station.emit({ kind: 'devices', devices: [device({ lastResult: 'Inventory app 2.1 installed' })] });
  station.emit({ kind: 'tasks', tasks: [task({ state: 'done' })] });
  assert.equal(e.notifications.length, 1);
  assert.equal(e.notifications[0]!.options.title, 'Scanner 1: Inventory app finished');
  assert.equal(e.notifications[0]!.options.body, 'Inventory app 2.1 installed');
  station.emit({ kind: 'devices', devices: [] });
  assert.match(tray.tooltip, /0 devices docked/);
  assert.equal(app.view().devices.length, 0);
  e.notifications[0]!.emit('click');
  assert.equal(e.windows[0]!.visible, true, 'clicking the notification shows the window');
});

test('quitting stops the station first, then the app exits; the window may close for real', async (t) => {
  const { e, station, running } = launch(t);
  const app = (await running)!;
  e.trays[0]!.clickItem('Quit Dockhand');
  assert.equal(e.app.quitted, false, 'the first quit waits for the station');
  await app.stopped;
  await waitFor('the app to quit', () => e.app.quitted);
  assert.equal(station.stopped, true);
  assert.equal(station.listenerCount(), 0, 'no listener left on the station');
  assert.deepEqual(e.ipcMain.channels(), []);
  assert.equal(e.trays[0]!.destroyed, true);
  const win = e.windows[0]!;
  win.close();
  assert.equal(win.isDestroyed(), true);
});

test('a station that will not stop does not keep the app from quitting', async (t) => {
  const { e, running, log } = launch(t, { stopTimeoutMs: 50, hangStop: true });
  const app = (await running)!;
  e.app.quit();
  await app.stopped;
  await waitFor('the app to quit', () => e.app.quitted);
  assert.ok(log.some((l) => l.includes('did not stop in time')));
});

test('a station that cannot start is reported in a dialog and the app exits with an error', async (t) => {
  const { e, running, log } = launch(t, { failStart: true });
  assert.equal(await running, null);
  assert.equal(e.errorBoxes.length, 1);
  assert.match(e.errorBoxes[0]!.content, /locked by another program/);
  assert.equal(e.app.exitCode, 1);
  assert.equal(e.windows.length, 0);
  assert.ok(log.some((l) => l.includes('could not start')));
});
