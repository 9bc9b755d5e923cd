// A TEST DOUBLE of the parts of the `electron` module the shell uses — not Electron. The Electron runtime
// cannot be downloaded on the machines these tests run on, so electron/main takes `electron` as a
// parameter and these tests hand it this double instead. It behaves like Electron where the shell relies
// on it (events and preventDefault, ipcMain.handle turning throws into rejections, one handler per
// channel, the single-instance lock, quit → before-quit) and records everything else for assertions.
import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import type { ElectronMain } from '../../electron/main/lifecycle.js';
import type { Change, Command, CommandResult, Device, Snapshot, StationClient, Task, Transfer } from '../../shared/contract/station-api.js';

export interface Rect { x: number; y: number; width: number; height: number }

/** An event object with Electron's preventDefault()/defaultPrevented. */
export function makeEvent<T extends object>(extra?: T): T & { preventDefault(): void; defaultPrevented: boolean } {
  const e = { defaultPrevented: false, preventDefault() { e.defaultPrevented = true; }, ...(extra ?? {}) };
  return e as T & { preventDefault(): void; defaultPrevented: boolean };
}

export class FakeFrame {
  constructor(public url: string, public parent: FakeFrame | null = null) {}
}

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextContentsId++;
  mainFrame = new FakeFrame('about:blank');
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  windowOpenHandler: ((details: { url: string; frameName: string }) => { action: string }) | null = null;
  private destroyed = false;
  send(channel: string, ...args: unknown[]) { this.sent.push({ channel, args }); }
  setWindowOpenHandler(h: (details: { url: string; frameName: string }) => { action: string }) { this.windowOpenHandler = h; }
  isDestroyed() { return this.destroyed; }
  destroy() {
    this.destroyed = true;
    this.emit('destroyed');
  }
  /** Simulates a navigation attempt; returns whether the shell let it happen. */
  tryNavigate(url: string, event: 'will-navigate' | 'will-redirect' = 'will-navigate'): boolean {
    const e = makeEvent({ url });
    this.emit(event, e, url);
    return !e.defaultPrevented;
  }
}

export interface DoubleOptions {
  userData: string;
  appPath: string;
  logs?: string;
  /** false: another instance holds the lock. */
  gotLock?: boolean;
  displays?: Rect[];
  notificationsSupported?: boolean;
  /** The desktop has no tray (some Linux desktops): new Tray() throws. */
  trayUnavailable?: boolean;
}

export function createElectronDouble(opts: DoubleOptions) {
  const windows: FakeBrowserWindow[] = [];
  const trays: FakeTray[] = [];
  const notifications: FakeNotification[] = [];
  const errorBoxes: Array<{ title: string; content: string }> = [];
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const displays = opts.displays ?? [{ x: 0, y: 0, width: 1920, height: 1040 }];
  let markReady!: () => void;
  const ready = new Promise<void>((r) => { markReady = r; });

  class FakeBrowserWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    bounds: Rect;
    maximized = false;
    minimized = false;
    visible = false;
    focused = false;
    loadedFile: string | null = null;
    private destroyed = false;
    constructor(readonly options: Record<string, unknown> & { webPreferences?: Record<string, unknown> }) {
      super();
      const o = options as { x?: number; y?: number; width?: number; height?: number };
      this.bounds = { x: o.x ?? 100, y: o.y ?? 100, width: o.width ?? 800, height: o.height ?? 600 };
      windows.push(this);
      app.emit('web-contents-created', makeEvent(), this.webContents);
    }
    loadFile(file: string) {
      this.loadedFile = file;
      this.webContents.mainFrame.url = pathToFileURL(file).href;
      return Promise.resolve();
    }
    getNormalBounds() { return { ...this.bounds }; }
    setBounds(b: Partial<Rect>) {
      this.bounds = { ...this.bounds, ...b };
      this.emit('resize');
    }
    isMaximized() { return this.maximized; }
    maximize() { this.maximized = true; this.emit('maximize'); }
    isMinimized() { return this.minimized; }
    minimize() { this.minimized = true; this.focused = false; }
    restore() { this.minimized = false; }
    isVisible() { return this.visible; }
    show() { this.visible = true; }
    hide() { this.visible = false; this.focused = false; }
    focus() { this.focused = true; }
    isDestroyed() { return this.destroyed; }
    /** As the OS close button: 'close' (preventable), then 'closed'. */
    close() {
      const e = makeEvent();
      this.emit('close', e);
      if (e.defaultPrevented) return;
      this.destroyed = true;
      this.webContents.destroy();
      this.emit('closed');
      if (windows.every((w) => w.isDestroyed())) app.emit('window-all-closed');
    }
  }

  class FakeTray extends EventEmitter {
    tooltip = '';
    menu: { items: Array<{ label?: string; enabled?: boolean; type?: string; click?: () => void }> } | null = null;
    destroyed = false;
    constructor(readonly image: unknown) {
      super();
      if (opts.trayUnavailable) throw new Error('no status notifier on this desktop');
      trays.push(this);
    }
    setToolTip(t: string) { this.tooltip = t; }
    setContextMenu(m: FakeTray['menu']) { this.menu = m; }
    destroy() { this.destroyed = true; }
    /** Clicks the menu item with this label. */
    clickItem(label: string) {
      const item = this.menu?.items.find((i) => i.label === label);
      if (!item?.click) throw new Error(`no menu item '${label}'`);
      item.click();
    }
  }

  class FakeNotification extends EventEmitter {
    shown = false;
    static isSupported() { return opts.notificationsSupported ?? true; }
    constructor(readonly options: { title: string; body: string; urgency?: string }) {
      super();
      notifications.push(this);
    }
    show() { this.shown = true; }
  }

  const app = Object.assign(new EventEmitter(), {
    sandboxed: false,
    quitRequests: 0,
    quitted: false,
    exitCode: null as number | null,
    userModelId: null as string | null,
    enableSandbox() { app.sandboxed = true; },
    requestSingleInstanceLock() { return opts.gotLock ?? true; },
    setAppUserModelId(id: string) { app.userModelId = id; },
    whenReady() { return ready; },
    getAppPath() { return opts.appPath; },
    getPath(name: string) {
      if (name === 'userData') return opts.userData;
      if (name === 'logs') return opts.logs ?? `${opts.userData}/logs`;
      throw new Error(`the double has no path '${name}'`);
    },
    /** As Electron: 'before-quit' first; if nobody prevents it, the app quits. */
    quit() {
      app.quitRequests += 1;
      const e = makeEvent();
      app.emit('before-quit', e);
      if (!e.defaultPrevented) app.quitted = true;
    },
    exit(code = 0) { app.exitCode = code; app.quitted = true; },
    /** Another launch of the app while this one holds the lock. */
    secondLaunch(argv: string[] = []) { app.emit('second-instance', makeEvent(), argv, process.cwd()); },
  });

  type PermissionRequest = (wc: unknown, permission: string, cb: (ok: boolean) => void, details: unknown) => void;
  type BeforeRequest = (details: { url: string }, cb: (r: { cancel?: boolean }) => void) => void;
  type HeadersReceived = (details: { url: string; responseHeaders?: Record<string, string[]> },
    cb: (r: { responseHeaders?: Record<string, string[]> }) => void) => void;
  const session: {
    permissionRequestHandler: PermissionRequest | null;
    permissionCheckHandler: ((...args: unknown[]) => boolean) | null;
    beforeRequest: BeforeRequest | null;
    headersReceived: HeadersReceived | null;
    setPermissionRequestHandler(h: PermissionRequest): void;
    setPermissionCheckHandler(h: (...args: unknown[]) => boolean): void;
    webRequest: { onBeforeRequest(h: BeforeRequest): void; onHeadersReceived(h: HeadersReceived): void };
  } = {
    permissionRequestHandler: null,
    permissionCheckHandler: null,
    beforeRequest: null,
    headersReceived: null,
    setPermissionRequestHandler(h) { session.permissionRequestHandler = h; },
    setPermissionCheckHandler(h) { session.permissionCheckHandler = h; },
    webRequest: {
      onBeforeRequest(h) { session.beforeRequest = h; },
      onHeadersReceived(h) { session.headersReceived = h; },
    },
  };

  const ipcMain = {
    handle(channel: string, fn: (event: unknown, ...args: unknown[]) => unknown) {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, fn);
    },
    removeHandler(channel: string) { handlers.delete(channel); },
    channels: () => [...handlers.keys()],
    /** What ipcRenderer.invoke does: the handler's value, or a rejection when it throws. */
    async invoke(channel: string, sender: FakeWebContents, frame: FakeFrame | null, ...args: unknown[]): Promise<unknown> {
      const fn = handlers.get(channel);
      if (!fn) throw new Error(`No handler registered for '${channel}'`);
      return fn({ sender, senderFrame: frame, processId: 1, frameId: 1 }, ...args);
    },
  };

  const double = {
    app,
    BrowserWindow: FakeBrowserWindow,
    screen: { getAllDisplays: () => displays.map((workArea) => ({ workArea, bounds: workArea })) },
    session: { defaultSession: session },
    ipcMain,
    Tray: FakeTray,
    Menu: { buildFromTemplate: (items: NonNullable<FakeTray['menu']>['items']) => ({ items }) },
    nativeImage: { createFromPath: (path: string) => ({ path }) },
    Notification: FakeNotification,
    dialog: { showErrorBox: (title: string, content: string) => { errorBoxes.push({ title, content }); } },
    windows,
    trays,
    notifications,
    errorBoxes,
    /** Lets app.whenReady() resolve, as Electron does once it has initialised. */
    ready: () => markReady(),
    /** The double, typed as the real module for the code under test. */
    asElectron: () => double as unknown as ElectronMain,
  };
  return double;
}

export type ElectronDouble = ReturnType<typeof createElectronDouble>;

// ---- a double of the station service (the engine is tested elsewhere; here only the shell is) ----


export function device(over: Partial<Device> = {}): Device {
  return { id: 'dev-1', name: 'Scanner 1', port: '/dev/ttyUSB0', slot: '', state: 'docked', currentPackage: '', lastResult: '',
    lastDockedAt: null, undockReason: '', packages: [], history: [],
    verdict: { kind: 'done', title: 'Done', words: 'Done: nothing to install', detail: 'nothing to install', nextStep: '', packageId: '', percent: null, until: null },
    provisionedOffline: false, kitProfile: '', messagesWaiting: 0, ...over };
}

export function task(over: Partial<Task> = {}): Task {
  return { id: 'task-1', target: 'dev-1', targetName: 'Scanner 1', kind: 'download', package: 'PKG-1', packageName: 'Inventory app',
    state: 'running', nextRun: '2026-11-22T00:00:00.000Z', wait: { kind: 'none' }, waitingFor: '', attempts: 1, lastError: '', optional: false, ...over };
}

export function transfer(over: Partial<Transfer> = {}): Transfer {
  return { id: 'tr-1', target: 'dev-1', package: 'PKG-1', packageName: 'Inventory app', leg: 'download', state: 'active',
    bytesDone: 10, total: 100, resumePoint: 0, bytesPerSecond: 5, etaSeconds: 18, ...over };
}

export function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    station: { id: 'STATION-1', version: '0.1.0', demo: false, online: true, dataDir: '/tmp/x', root: '/tmp/x/root', contact: { state: 'ok', server: '127.0.0.1:1', problem: '', retryAt: null, waiting: 0 }, storageProblem: '', host: 'bench',
      fieldKit: { asOf: null, defaultProfile: null, profiles: [] } },
    devices: [], tasks: [], transfers: [], packages: [], activity: [],
    settings: { server: 'http://127.0.0.1:1/devicemgmt/server.aspx', pollIntervalMs: 60_000, rateLimit: 0, allowCommands: false,
      serialPorts: [], baudRate: 115_200, usb: [], concurrency: 8, profiles: [], defaultProfile: '' },
    ...over,
  };
}

/** A station service double: a fixed snapshot, changes pushed by the test, commands recorded. */
export class FakeStation implements StationClient {
  readonly commands: Command[] = [];
  private readonly listeners = new Set<(c: Change) => void>();
  answer: (c: Command) => Promise<CommandResult> = async () => ({ ok: true, message: 'done' });
  stopped = false;
  constructor(public view: Snapshot = snapshot()) {}
  async getSnapshot() { return this.view; }
  subscribe(listener: (c: Change) => void) {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }
  async execute(command: Command) {
    this.commands.push(command);
    return this.answer(command);
  }
  emit(change: Change) { for (const l of this.listeners) l(change); }
  listenerCount() { return this.listeners.size; }
  /** As the lead's StationRuntime, for runApp. */
  runtime() {
    return { service: this, serverUrl: 'http://127.0.0.1:1/devicemgmt/server.aspx', demo: false, stop: async () => { this.stopped = true; } };
  }
}
