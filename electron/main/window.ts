// The one main window: opened where it was last left, with the hardened preferences, showing the
// renderer's index.html from disk. Its place is saved when it moves or resizes (debounced, so a crash
// still remembers it) and when it closes.
import type { BrowserWindow, Screen } from 'electron';
import { hardenedWebPreferences, type Warn } from './security.js';
import { loadWindowState, MIN_HEIGHT, MIN_WIDTH, saveWindowState } from './window-state.js';

export interface MainWindowOptions {
  indexFile: string;
  preload: string;
  stateFile: string;
  icon?: string;
  warn: Warn;
  /** Delay before saving after a move or resize; tests pass 0. */
  saveDelayMs?: number;
}

type BrowserWindowClass = typeof BrowserWindow;

export function createMainWindow(
  e: { BrowserWindow: BrowserWindowClass; screen: Pick<Screen, 'getAllDisplays'> },
  opts: MainWindowOptions,
): BrowserWindow {
  const workAreas = e.screen.getAllDisplays().map((d) => d.workArea);
  const state = loadWindowState(opts.stateFile, workAreas, opts.warn);
  const win = new e.BrowserWindow({
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    width: state.width,
    height: state.height,
    minWidth: MIN_WIDTH,
    minHeight: MIN_HEIGHT,
    title: 'Dockhand',
    show: false,
    backgroundColor: '#1e1f22',
    ...(opts.icon ? { icon: opts.icon } : {}),
    webPreferences: hardenedWebPreferences(opts.preload),
  });
  if (state.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());

  const save = () => {
    if (win.isDestroyed()) return;
    try {
      // The normal bounds, so un-maximizing next time returns to the size the technician chose.
      saveWindowState(opts.stateFile, win.getNormalBounds(), win.isMaximized());
    } catch (err) {
      opts.warn(`window: could not remember the window's place: ${(err as Error).message}`);
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const saveSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(save, opts.saveDelayMs ?? 500);
  };
  for (const event of ['resize', 'move', 'maximize', 'unmaximize'] as const) win.on(event as 'resize', saveSoon);
  win.on('close', () => {
    clearTimeout(timer);
    save();
  });
  win.on('closed', () => clearTimeout(timer));

  void win.loadFile(opts.indexFile).catch((err: Error) => opts.warn(`window: could not load the UI: ${err.message}`));
  return win;
}

/** Brings the window to the front: shown, restored if minimized, focused (second launch, tray "Show"). */
export function revealWindow(win: BrowserWindow): void {
  if (win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  if (!win.isVisible()) win.show();
  win.focus();
}
