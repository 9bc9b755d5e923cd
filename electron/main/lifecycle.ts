// The app's life, from launch to quit. The engine runs here in the main process (the station does not
// stop when the window closes: closing hides the window and the tray keeps the app reachable); one app
// per user (a second launch brings the running window forward); quitting stops the station cleanly
// before Electron exits, so no task is left half-written.
//
//   launch ─► single-instance lock ─┬─ not ours ─► quit (the first instance shows its window)
//                                   └─ ours ─► ready ─► harden session ─► start station ─► window, IPC, tray
//   window close ─► hide (tray stays)          tray Quit / OS quit ─► before-quit ─► stop station ─► exit
//
// `electron` is a parameter so tests can run all of this against a double (no Electron runtime exists on
// the build machines); index.ts passes the real module.
import path from 'node:path';
import type { BrowserWindow, WebContents } from 'electron';
import type { Change, Snapshot, StationClient } from '../../shared/contract/station-api.js';
import { describeError } from '../../shared/model/errors.js';
import { registerStationIpc, type StationIpc } from './ipc.js';
import { createLog, type Log } from './log.js';
import { finishNotes, createNotifier } from './notifications.js';
import { hardenSession, hardenWebContents } from './security.js';
import { applyChange } from './station-view.js';
import { createStationTray, type StationTray } from './tray.js';
import { createMainWindow, revealWindow } from './window.js';
import { windowStateFile } from './window-state.js';

export type ElectronMain = Pick<typeof import('electron'),
  'app' | 'BrowserWindow' | 'screen' | 'session' | 'ipcMain' | 'Tray' | 'Menu' | 'nativeImage' | 'Notification' | 'dialog'>;

/** What the shell needs of the station (electron/station/runtime.ts provides it). */
export interface ShellRuntime { service: StationClient; serverUrl: string; demo: boolean; stop(): Promise<void> }
export type StartRuntime = (opts: { dataDir: string; log?: (line: string) => void }) => Promise<ShellRuntime>;

export interface AppOptions {
  startRuntime: StartRuntime;
  log?: Log;
  /** How long quitting waits for the station to stop before exiting anyway. */
  stopTimeoutMs?: number;
  saveDelayMs?: number;
}

export interface RunningApp {
  window(): BrowserWindow | null;
  view(): Snapshot;
  ipc: StationIpc;
  tray: StationTray | null;
  /** Resolves once the station has stopped after a quit. */
  stopped: Promise<void>;
}

/** Where the app's files are, relative to the app folder (the repository, or app.asar when installed). */
export function appPaths(appRoot: string) {
  const rendererDir = path.join(appRoot, 'renderer', 'dist');
  return {
    rendererDir,
    indexFile: path.join(rendererDir, 'index.html'),
    preload: path.join(appRoot, 'dist', 'preload.cjs'),
    trayIcon: path.join(appRoot, 'resources', 'tray', process.platform === 'darwin' ? 'trayTemplate.png' : 'tray.png'),
    appIcon: path.join(appRoot, 'resources', 'tray', 'app.png'),
  };
}

export async function runApp(e: ElectronMain, opts: AppOptions): Promise<RunningApp | null> {
  const { app } = e;
  const log = opts.log ?? createLog(safePath(() => app.getPath('logs')));
  const warn = (m: string) => log(`warning: ${m}`);
  app.enableSandbox(); // every renderer sandboxed, whatever a window's preferences say
  if (!app.requestSingleInstanceLock()) {
    log('Dockhand is already running; showing its window');
    app.quit();
    return null;
  }
  if (process.platform === 'win32') app.setAppUserModelId('org.dockhand.station'); // notifications need it

  const paths = appPaths(app.getAppPath());
  let win: BrowserWindow | null = null;
  let quitting = false;
  let finished = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => { resolveStopped = r; });
  const cleanups: Array<() => void> = [];
  let runtime: ShellRuntime | null = null;
  let tray: StationTray | null = null;

  app.on('web-contents-created', (_event, contents: WebContents) => hardenWebContents(contents, paths.indexFile, warn));
  app.on('second-instance', () => { if (win) revealWindow(win); });
  app.on('activate', () => { if (win) revealWindow(win); });
  // With a tray the station keeps running with no window; without one there would be no way back.
  app.on('window-all-closed', () => { if (!tray) app.quit(); });
  app.on('before-quit', (event) => {
    quitting = true;
    if (finished) return;
    event.preventDefault(); // first stop the station, then quit for real
    void shutdown();
  });

  const shutdown = async () => {
    for (const c of cleanups.splice(0)) {
      try { c(); } catch (err) { warn(`while quitting: ${describeError(err)}`); }
    }
    if (runtime) {
      const rt = runtime;
      runtime = null;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((r) => { timer = setTimeout(() => { warn('the station did not stop in time; quitting anyway'); r(); }, opts.stopTimeoutMs ?? 10_000); });
      await Promise.race([rt.stop().catch((err: unknown) => warn(`stopping the station: ${describeError(err)}`)), timeout]);
      clearTimeout(timer);
    }
    finished = true;
    resolveStopped();
    app.quit();
  };

  await app.whenReady();
  hardenSession(e.session.defaultSession, paths.rendererDir, warn);
  try {
    runtime = await opts.startRuntime({ dataDir: app.getPath('userData'), log });
  } catch (err) {
    const message = describeError(err);
    log(`the station could not start: ${message}`);
    e.dialog.showErrorBox('Dockhand could not start', `${message}\n\nThe log is in ${safePath(() => app.getPath('logs')) ?? 'the app folder'}.`);
    finished = true;
    resolveStopped();
    app.exit(1);
    return null;
  }
  if (finished) { // quit was asked for while the station was starting
    await runtime.stop().catch(() => {});
    return null;
  }
  const service = runtime.service;
  log(`station running against ${runtime.serverUrl}${runtime.demo ? ' (demo server)' : ''}; data in ${app.getPath('userData')}`);
  let view = await service.getSnapshot();

  win = createMainWindow(e, {
    indexFile: paths.indexFile, preload: paths.preload, stateFile: windowStateFile(app.getPath('userData')),
    icon: paths.appIcon, warn, ...(opts.saveDelayMs !== undefined ? { saveDelayMs: opts.saveDelayMs } : {}),
  });
  const mainWindow = win;
  const windowId = mainWindow.webContents.id;
  mainWindow.on('close', (event) => {
    if (quitting || !tray) return;
    event.preventDefault(); // closing hides; the station keeps provisioning devices
    mainWindow.hide();
  });
  mainWindow.on('closed', () => { win = null; });

  const ipc = registerStationIpc(e.ipcMain, service, {
    indexFile: paths.indexFile, warn, isOwnContents: (c) => c.id === windowId && !c.isDestroyed(),
  });
  cleanups.push(() => ipc.dispose());

  const show = () => { if (win) revealWindow(win); };
  try {
    tray = createStationTray(e, paths.trayIcon, { show, quit: () => app.quit() });
    tray.update(view);
    const t = tray;
    cleanups.push(() => t.destroy());
  } catch (err) {
    warn(`no tray icon on this desktop (${describeError(err)}); closing the window quits`);
  }
  const notifier = createNotifier(e, { icon: paths.appIcon, onClick: show });

  const onChange = (change: Change) => {
    const next = applyChange(view, change);
    const notes = finishNotes(view, next);
    view = next;
    tray?.update(view);
    for (const note of notes) notifier.notify(note);
  };
  cleanups.push(service.subscribe(onChange));

  return { window: () => win, view: () => view, ipc, tray, stopped };
}

function safePath(get: () => string): string | null {
  try {
    return get();
  } catch {
    return null;
  }
}
